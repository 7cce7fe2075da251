package api_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/webtest"
)

func newReverseServer(t *testing.T) *httptest.Server {
	t.Helper()
	pool := dbtest.New(t)
	for _, s := range []string{
		`INSERT INTO layer.city_boundary (id, geom, name) VALUES (1, ST_Multi(ST_MakeEnvelope(57.10, 50.20, 57.30, 50.35, 4326)), 'Актобе')`,
		`INSERT INTO layer.streets (id, geom, name, name_kk) VALUES
			(1, ST_SetSRID(ST_MakeLine(ST_MakePoint(57.170, 50.280), ST_MakePoint(57.180, 50.280)), 4326), 'ул. Курмангазы', 'Құрманғазы көшесі')`,
		`INSERT INTO layer.buildings (id, geom, address) VALUES (1, ST_MakeEnvelope(57.1720, 50.2803, 57.1723, 50.2806, 4326), 'ул. Курмангазы, 1')`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(web.NewServer(slog.New(slog.DiscardHandler), pool).Handler())
	t.Cleanup(ts.Close)
	return ts
}

func TestReverseAPI(t *testing.T) {
	ts := newReverseServer(t)
	for _, tc := range []struct{ lang, want string }{
		{"ru", "ул. Курмангазы, 1"}, {"kk", "Құрманғазы көшесі, 1"}, {"", "ул. Курмангазы, 1"},
	} {
		code, body := webtest.GetJSON(t, ts.URL+"/api/reverse?lon=57.17215&lat=50.28045&lang="+tc.lang)
		if code != 200 {
			t.Fatalf("lang %q: status %d %v", tc.lang, code, body)
		}
		p := body["place"].(map[string]any)
		if p["address"] != tc.want || p["kind"] != "building" || p["distance_m"] != 0.0 {
			t.Errorf("lang %q: place %v, want %q", tc.lang, p, tc.want)
		}
	}
}

func TestReverseAPIBadInput(t *testing.T) {
	ts := newReverseServer(t)
	tests := []struct {
		name, query string
		code        int
		mention     string
	}{
		{"lon missing", "lat=50.28", 400, "lon"},
		{"lat missing", "lon=57.17", 400, "lat"},
		{"lon empty", "lon=&lat=50.28", 400, "lon"},
		{"lon not a number", "lon=abc&lat=50.28", 400, "lon"},
		{"lon NaN", "lon=NaN&lat=50.28", 400, "lon"},
		{"lat infinite", "lon=57.17&lat=Inf", 400, "lat"},
		{"lon out of range", "lon=200&lat=50.28", 400, "lon"},
		{"lat out of range", "lon=57.17&lat=-90.5", 400, "lat"},
		{"lon twice", "lon=57.17&lon=57.18&lat=50.28", 400, "lon"},
		{"lang unknown", "lon=57.17&lat=50.28&lang=de", 400, "lang"},
		{"far outside the city", "lon=0&lat=0", 400, "outside the city"},
		{"nothing near", "lon=57.29&lat=50.34", 404, "no address"},
		{"lon 20 KB", "lon=" + strings.Repeat("9", 20000) + "x&lat=50.28", 400, "lon"},
		{"lang 20 KB", "lon=57.17&lat=50.28&lang=" + strings.Repeat("ә", 10000), 400, "lang"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := webtest.GetJSON(t, ts.URL+"/api/reverse?"+tc.query)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, body)
			}
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if !strings.Contains(msg, tc.mention) {
				t.Errorf("message %q does not mention %q", msg, tc.mention)
			}
			if len(msg) > 200 {
				t.Errorf("message of %d bytes echoes the value: %.100s…", len(msg), msg)
			}
		})
	}
}
