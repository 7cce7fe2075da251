package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/webtest"
)

func newSearchServer(t *testing.T) *httptest.Server {
	t.Helper()
	pool := dbtest.New(t)
	_, err := pool.Exec(context.Background(), `INSERT INTO layer.clinics (id, geom, name, address) VALUES
		(1, ST_SetSRID(ST_MakePoint(57.170, 50.280), 4326), 'Поликлиника №1', 'проспект Абилкайыр хана, 40'),
		(2, ST_SetSRID(ST_MakePoint(57.200, 50.300), 4326), '<img src=x onerror=alert(1)> Поликлиника', 'улица "Тест" & Ко')`)
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	srv.Map = api.MapConfig{BasemapURL: "http://127.0.0.1:1/{z}/{x}/{y}.png", BasemapAttribution: "test basemap"}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func getRaw(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestSearchAPI(t *testing.T) {
	ts := newSearchServer(t)
	code, body := webtest.GetJSON(t, ts.URL+"/api/search?q="+url.QueryEscape("поликлинника")+"&lang=en")
	if code != 200 {
		t.Fatalf("status %d %v", code, body)
	}
	res := body["results"].([]any)
	if len(res) != 2 {
		t.Fatalf("results %v", res)
	}
	first := res[0].(map[string]any)
	for _, k := range []string{"layer", "id", "name", "point", "layer_title"} {
		if first[k] == nil {
			t.Errorf("result lacks %s: %v", k, first)
		}
	}
	if first["layer"] != "clinics" || first["layer_title"].(map[string]any)["kk"] != "Емханалар" {
		t.Errorf("first %v", first)
	}
}

// HTML and SQL in the query and in the data come back as JSON text with <, > and & escaped.
func TestSearchAPIEscapes(t *testing.T) {
	ts := newSearchServer(t)
	for _, q := range []string{"<img src=x onerror=alert(1)>", "'; DROP TABLE layer.clinics; --", `" OR 1=1 --`, `\`, "%_%"} {
		t.Run(q, func(t *testing.T) {
			resp, body := getRaw(t, ts.URL+"/api/search?q="+url.QueryEscape(q))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if strings.ContainsAny(body, "<>") {
				t.Errorf("unescaped < or > in %s", body)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("content type %s", resp.Header.Get("Content-Type"))
			}
		})
	}
	_, body := getRaw(t, ts.URL+"/api/search?q="+url.QueryEscape("<img"))
	if !strings.Contains(body, `\u003cimg src=x onerror=alert(1)\u003e`) {
		t.Errorf("HTML feature name not found escaped: %s", body)
	}
	if code, _ := webtest.GetJSON(t, ts.URL+"/api/search?q=x"); code != 200 {
		t.Errorf("clinics table harmed by the queries above: %d", code)
	}
}

func TestSearchAndNearestAPIBadInput(t *testing.T) {
	ts := newSearchServer(t)
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/api/search", 400, "empty"},
		{"/api/search?q=a&lang=xx", 400, "lang"},
		{"/api/search?q=a&limit=abc", 400, "limit"},
		{"/api/search?q=a&limit=-1", 400, "limit"},
		{"/api/search?q=" + strings.Repeat("x", 101), 400, "longer"},
		{"/api/nearest?lon=57&lat=50", 400, "layer"},
		{"/api/nearest?layer=clinics&lat=50", 400, "lon"},
		{"/api/nearest?layer=clinics&lon=abc&lat=50", 400, "lon"},
		{"/api/nearest?layer=clinics&lon=NaN&lat=50", 400, "lon"},
		{"/api/nearest?layer=clinics&lon=Inf&lat=50", 400, "lon"},
		{"/api/nearest?layer=clinics&lon=200&lat=50", 400, "lon"},
		{"/api/nearest?layer=clinics&lon=57&lat=95", 400, "lat"},
		{"/api/nearest?layer=clinics&lon=57&lat=50&limit=0", 400, "limit"},
		{"/api/nearest?layer=clinics&lon=57&lat=50&limit=1e9", 400, "limit"},
		{"/api/nearest?layer=nope&lon=57&lat=50", 404, "nope"},
		{"/api/nearest?layer=utility_networks&lon=57&lat=50", 404, "utility_networks"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			code, body := webtest.GetJSON(t, ts.URL+tc.path)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, body)
			}
			e, _ := body["error"].(map[string]any)
			if msg, _ := e["message"].(string); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not name %q", msg, tc.want)
			}
		})
	}
}

func TestNearestAPI(t *testing.T) {
	ts := newSearchServer(t)
	code, body := webtest.GetJSON(t, ts.URL+"/api/nearest?layer=clinics&lon=57.2001&lat=50.3001&limit=1&lang=kk")
	if code != 200 {
		t.Fatalf("status %d %v", code, body)
	}
	res := body["results"].([]any)
	if len(res) != 1 {
		t.Fatalf("results %v", res)
	}
	r := res[0].(map[string]any)
	if r["id"].(float64) != 2 || r["distance_m"].(float64) > 20 {
		t.Errorf("nearest %v", r)
	}
}

func TestMapConfigAPI(t *testing.T) {
	ts := newSearchServer(t)
	code, body := webtest.GetJSON(t, ts.URL+"/api/config")
	if code != 200 || body["basemap_url"] != "http://127.0.0.1:1/{z}/{x}/{y}.png" || body["basemap_attribution"] != "test basemap" {
		t.Fatalf("config %d %v", code, body)
	}
}

// The page is served from the embedded bundle when it was built (make build), and a clear
// message says how to build it otherwise.
func TestIndexPage(t *testing.T) {
	ts := newSearchServer(t)
	resp, body := getRaw(t, ts.URL+"/")
	want, err := os.ReadFile("../dist/index.html")
	if err != nil {
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "make build") {
			t.Fatalf("no bundle: status %d %q", resp.StatusCode, body)
		}
		return
	}
	if resp.StatusCode != 200 || body != string(want) {
		t.Fatalf("index: status %d, body differs from dist/index.html", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %s", ct)
	}
	// Every asset the page names is served with a long cache lifetime.
	for _, part := range strings.Split(body, `"/assets/`)[1:] {
		name := part[:strings.IndexByte(part, '"')]
		r, _ := getRaw(t, ts.URL+"/assets/"+name)
		if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("asset %s: %d %s", name, r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
	if r, _ := getRaw(t, ts.URL+"/assets/no-such-file.js"); r.StatusCode != 404 {
		t.Errorf("missing asset: %d", r.StatusCode)
	}
	// Scripts (the MapLibre worker is an .mjs module) are served gzipped as JavaScript.
	entries, err := os.ReadDir("../dist/assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), "js") {
			continue
		}
		want, err := os.ReadFile("../dist/assets/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", ts.URL+"/assets/"+e.Name(), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("%s: not gzip (%s): %v", e.Name(), resp.Header.Get("Content-Encoding"), err)
		}
		got, err := io.ReadAll(zr)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: gzipped body differs from the file (%v)", e.Name(), err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("%s: content type %q", e.Name(), ct)
		}
	}
}

func TestSearchAPIBadInput(t *testing.T) {
	ts := newSearchServer(t)
	tests := []struct{ name, query, want string }{
		{"empty", "q=", "q"},
		{"10 KB", "q=" + url.QueryEscape(strings.Repeat("емхана ", 1500)), "q"},
		{"control characters", "q=" + url.QueryEscape("шко\x07ла"), "q"},
		{"bad lang", "q=a&lang=de", "lang"},
		{"bad limit", "q=a&limit=x", "limit"},
		{"zero limit", "q=a&limit=0", "limit"},
		{"bad offset", "q=a&offset=-5", "offset"},
		{"offset not a number", "q=a&offset=1e3", "offset"},
		{"bad lon", "q=a&lon=abc&lat=50", "lon"},
		{"lon out of range", "q=a&lon=190&lat=50", "lon"},
		{"lon without lat", "q=a&lon=57.1", "lat"},
		{"bad lat", "q=a&lon=57&lat=NaN", "lat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := getRaw(t, ts.URL+"/api/search?"+tc.query)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d body %s, want 400 naming %q", resp.StatusCode, body, tc.want)
			}
		})
	}
}

func TestSearchAPIPage(t *testing.T) {
	ts := newSearchServer(t)
	code, body := webtest.GetJSON(t, ts.URL+"/api/search?q=emhana&lang=kk&limit=1&lon=57.2&lat=50.3")
	if code != 200 {
		t.Fatalf("status %d %v", code, body)
	}
	res := body["results"].([]any)
	if body["total"].(float64) != 2 || len(res) != 1 || body["categories"].([]any)[0] != "clinics" {
		t.Fatalf("body %v", body)
	}
	if h := res[0].(map[string]any); h["id"].(float64) != 2 || h["distance_m"] == nil {
		t.Fatalf("nearest clinic first: %v", h)
	}
	_, body = webtest.GetJSON(t, ts.URL+"/api/search?q=emhana&lang=kk&limit=1&offset=1&lon=57.2&lat=50.3")
	if h := body["results"].([]any)[0].(map[string]any); h["id"].(float64) != 1 {
		t.Fatalf("page 2: %v", body)
	}
}
