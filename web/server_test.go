package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/data/pgcluster"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/webtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := web.NewServer(slog.New(slog.DiscardHandler), dbtest.New(t))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

var get = webtest.GetJSON

func TestHealthAndReadiness(t *testing.T) {
	ts := newTestServer(t)
	if code, _ := get(t, ts.URL+"/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, body := get(t, ts.URL+"/readyz"); code != 200 {
		t.Errorf("readyz %d %v", code, body)
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t)
	get(t, ts.URL+"/api/layers")
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `geoportal_http_requests_total{route="/api/layers",status="200"}`) {
		t.Fatalf("metrics do not count the catalog request:\n%.2000s", b)
	}
}

func TestLayersAPI(t *testing.T) {
	ts := newTestServer(t)
	code, body := get(t, ts.URL+"/api/layers")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	ls, _ := body["layers"].([]any)
	if len(ls) < 20 {
		t.Fatalf("%d layers, want the city's layers", len(ls))
	}
	for _, l := range ls {
		m := l.(map[string]any)
		if m["visibility"] != "public" {
			t.Errorf("anonymous catalog lists %v (%v)", m["slug"], m["visibility"])
		}
		title := m["title"].(map[string]any)
		for _, lang := range []string{"kk", "ru", "en"} {
			if s, _ := title[lang].(string); s == "" {
				t.Errorf("%v has no %s title", m["slug"], lang)
			}
		}
	}
	code, one := get(t, ts.URL+"/api/layers/cameras")
	if code != 200 || one["slug"] != "cameras" {
		t.Fatalf("cameras: %d %v", code, one)
	}
}

func TestUnknownLayerIs404JSON(t *testing.T) {
	ts := newTestServer(t)
	for _, path := range []string{"/api/layers/nope", "/api/layers/utility_networks", "/api/layers/%27%3B%20drop", "/no/such/path"} {
		code, body := get(t, ts.URL+path)
		if code != 404 {
			t.Errorf("%s: status %d, want 404", path, code)
		}
		if e, ok := body["error"].(map[string]any); !ok || e["message"] == "" {
			t.Errorf("%s: no JSON error: %v", path, body)
		}
	}
}

// The database restarting under a running server turns readiness red, then green again, without
// restarting the service.
func TestReadinessFollowsDatabaseRestart(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "restart-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	cluster := pgcluster.New(dir, nil)
	t.Cleanup(func() { cluster.Stop(); os.RemoveAll(dir) })
	url, err := cluster.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := data.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(web.NewServer(slog.New(slog.DiscardHandler), pool).Handler())
	defer ts.Close()

	waitFor := func(want int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			code, _ := get(t, ts.URL+"/readyz")
			if code == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("readyz stayed %d, want %d", code, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor(200)
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(503)
	if code, _ := get(t, ts.URL+"/api/layers"); code != 500 && code != 503 {
		t.Errorf("catalog with the database down: %d", code)
	}
	if _, err := pgcluster.New(dir, nil).Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(200)
	if code, _ := get(t, ts.URL+"/api/layers"); code != 200 {
		t.Errorf("catalog after the restart: %d", code)
	}
}

// The catalog carries an entity tag: asked again with it, an unchanged catalog is 304 without a
// body; a changed one comes whole with a new tag.
func TestLayersAPIRevalidation(t *testing.T) {
	pool := dbtest.New(t)
	ts := httptest.NewServer(web.NewServer(slog.New(slog.DiscardHandler), pool).Handler())
	t.Cleanup(ts.Close)
	fetch := func(etag string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/layers", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := fetch("")
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || len(body) == 0 || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("first answer: %d, ETag %q, Cache-Control %q, %d bytes", resp.StatusCode, etag, resp.Header.Get("Cache-Control"), len(body))
	}
	if resp, body := fetch(etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("same catalog: %d with %d bytes, want 304 without a body", resp.StatusCode, len(body))
	}
	if _, err := pool.Exec(context.Background(), `SELECT geoportal.create_layer('{"slug": "new_wells", "direction": 4,
		"geometry_type": "Point", "title_en": "Wells", "title_ru": "Колодцы", "title_kk": "Құдықтар", "attributes": []}'::jsonb)`); err != nil {
		t.Fatal(err)
	}
	resp, body = fetch(etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag || !strings.Contains(string(body), "new_wells") {
		t.Errorf("changed catalog: %d, ETag %q (was %q), new layer listed: %v", resp.StatusCode, resp.Header.Get("ETag"), etag,
			strings.Contains(string(body), "new_wells"))
	}
}
