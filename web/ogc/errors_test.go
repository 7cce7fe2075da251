package ogc_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/ogc"
	"github.com/aktobe/geoportal/web/webtest"
	"github.com/go-chi/chi/v5"
)

// TestOGCErrors: the OGC face answers every error through reply.Classify, in the OGC exception
// shape {"code", "description"}.
func TestOGCErrors(t *testing.T) {
	t.Run("database down", func(t *testing.T) {
		// Before: OGC items answered 500 (other routes 503 with Retry-After): the OGC writer did
		// not classify the error as the JSON API did.
		ts := webtest.DatabaseDown(t)
		webtest.WantUnavailable(t, ts.URL, "/ogc/collections/sec_pub/items", `"code":"ServiceUnavailable"`)
		webtest.WantUnavailable(t, ts.URL, "/ogc/collections/sec_pub/items/1", `"code":"ServiceUnavailable"`)
	})

	logs := &webtest.Logs{}
	s := web.NewServer(logs.Logger(), dbtest.New(t))
	fixtureLayers(t, s)
	t.Cleanup(s.Transit.Close)
	forbidden := chi.NewRouter()
	forbidden.Route("/ogc", func(r chi.Router) {
		s.OGCRoutes(r, func(*http.Request) bool { return false }, func(*http.Request) error {
			return geoportal.Errorf(geoportal.EFORBIDDEN, "role citizen may not edit features")
		})
	})
	full := httptest.NewServer(s.Handler())
	t.Cleanup(full.Close)
	items := "/ogc/collections/ogc_points/items"

	t.Run("body too large", func(t *testing.T) {
		// A GIS staff key writes a feature past the 16 MiB a feature may take, with no
		// Content-Length: the limit holds while the body is read.
		ctx := context.Background()
		u, err := s.Accounts.CreateUser(ctx, accounts.NewUser{Email: "gis@example.kz", Name: "GIS", Role: accounts.GISStaff,
			Password: "a long enough test password 42"})
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := s.Accounts.CreateKey(ctx, u.ID, "test", []accounts.Scope{accounts.ScopeFeaturesWrite}, nil)
		if err != nil {
			t.Fatal(err)
		}
		big := `{"type":"Feature","geometry":{"type":"Point","coordinates":[57.1,50.25]},"properties":{"name":"` +
			strings.Repeat("x", ogc.MaxFeatureBody) + `"}}`
		req, _ := http.NewRequest("POST", full.URL+items, io.NopCloser(strings.NewReader(big)))
		req.Header.Set("Content-Type", ogc.MediaGeoJSON)
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := response{resp.StatusCode, resp.Header, b}
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("a feature past the limit: %d %.200s, want 413", r.status, r.body)
		}
		wantCode(t, r, "PayloadTooLarge")
	})
	t.Run("not found", func(t *testing.T) {
		r := do(t, "GET", full.URL+"/ogc/collections/nope", "")
		wantError(t, r, http.StatusNotFound, "not found")
		wantCode(t, r, "NotFound")
	})
	t.Run("forbidden", func(t *testing.T) {
		fs := httptest.NewServer(forbidden)
		t.Cleanup(fs.Close)
		r := do(t, "DELETE", fs.URL+items+"/1", "")
		wantError(t, r, http.StatusForbidden, "may not edit")
		wantCode(t, r, "Forbidden")
	})
	t.Run("canceled", func(t *testing.T) {
		before := logs.String()
		w := webtest.ServeCanceled(s.Handler(), "GET", items+"?limit=5")
		if w.Body.Len() != 0 {
			t.Errorf("a canceled request was answered %d %.200s", w.Code, w.Body)
		}
		if after := logs.String()[len(before):]; strings.Contains(after, "request failed") || strings.Contains(after, "request refused") {
			t.Errorf("a canceled request was logged: %s", after)
		}
	})
}

func wantCode(t *testing.T, r response, code string) {
	t.Helper()
	if !strings.Contains(strings.ReplaceAll(string(r.body), " ", ""), `"code":"`+code+`"`) {
		t.Errorf("body %.300s, want the OGC exception with code %s", r.body, code)
	}
}
