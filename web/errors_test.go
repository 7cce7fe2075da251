package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/webtest"
)

// TestJSONAPIErrors: the map's JSON API answers every error through reply.Classify, as
// {"error": {"code", "message"}}.
func TestJSONAPIErrors(t *testing.T) {
	t.Run("database down", func(t *testing.T) {
		ts := webtest.DatabaseDown(t)
		webtest.WantUnavailable(t, ts.URL, "/api/layers", `"error":{"code":"unavailable"`)
		webtest.WantUnavailable(t, ts.URL, "/tiles/sec_pub/0/0/0.mvt", ``)
	})

	env := webtest.NewReports(t)
	ctx := context.Background()
	u, err := env.Srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: "citizen@example.kz", Name: "Citizen",
		Role: accounts.Citizen, Password: "a long enough password 1"})
	if err != nil {
		t.Fatal(err)
	}
	citizenKey, _, err := env.Srv.Accounts.CreateKey(ctx, u.ID, "admin scope, citizen role", []accounts.Scope{accounts.ScopeAdmin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     string
	}{
		{"body too large", "POST", "/api/analysis/siting", `{"layer":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, "too_large"},
		{"not found", "GET", "/api/layers/no_such_layer", "", nil, 404, "not_found"},
		{"forbidden", "GET", "/api/admin/users", "", []string{"X-API-Key", citizenKey}, 403, "forbidden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, env.TS.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(c.header); i += 2 {
				req.Header.Set(c.header[i], c.header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(b), `"code":"`+c.code+`"`) {
				t.Errorf("%s %s: %d %.300s, want %d with code %s", c.method, c.path, resp.StatusCode, b, c.status, c.code)
			}
		})
	}

	t.Run("canceled", func(t *testing.T) {
		logs := &webtest.Logs{}
		w := webtest.ServeCanceled(webtest.NewServer(t, logs.Logger()).Handler(), "GET", "/api/layers")
		if w.Body.Len() != 0 {
			t.Errorf("a canceled request was answered %d %.200s", w.Code, w.Body)
		}
		if l := logs.String(); strings.Contains(l, "request failed") || strings.Contains(l, "request refused") {
			t.Errorf("a canceled request was logged: %s", l)
		}
	})
}
