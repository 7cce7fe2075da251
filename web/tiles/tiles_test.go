package tiles_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/web"
	"github.com/andybalholm/brotli"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

const tileTestLayers = `
SELECT geoportal.create_layer('{"slug": "w_poly", "direction": 0, "geometry_type": "Polygon",
  "title_en": "Web polygons", "title_ru": "Тест", "title_kk": "Тест", "attribution": "Test data", "max_zoom": 18,
  "attributes": [{"name": "levels", "type": "integer", "title": {"en": "Levels", "ru": "Этажи", "kk": "Қабат"}, "popup": true}]}'::jsonb);
SELECT geoportal.create_layer('{"slug": "w_live", "direction": 4, "geometry_type": "Point", "live": true,
  "title_en": "Web live", "title_ru": "Тест", "title_kk": "Тест", "attributes": []}'::jsonb);
SELECT geoportal.create_layer('{"slug": "w_staff", "direction": 1, "geometry_type": "Point", "visibility": "staff",
  "title_en": "Web staff", "title_ru": "Тест", "title_kk": "Тест", "attributes": []}'::jsonb);
INSERT INTO layer.w_poly (id, geom, levels) VALUES
  (5, ST_MakeEnvelope(57.1700, 50.2800, 57.1705, 50.2803, 4326), 4);
INSERT INTO layer.w_live (id, geom) VALUES (9, ST_SetSRID(ST_MakePoint(57.1702, 50.2801), 4326));
`

var tileTestTile = maptile.At([2]float64{57.1702, 50.2801}, 16)

// newTileServer serves a fresh database with the tile test layers, with the tile listener running.
func newTileServer(t *testing.T) *httptest.Server {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := pool.Exec(context.Background(), tileTestLayers); err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Tiles.Invalidator().Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-srv.Tiles.Invalidator().Connected():
	case <-time.After(20 * time.Second):
		t.Fatal("tile listener did not connect")
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// tileGet sends a GET with the given headers; the transport's automatic gzip is off so that
// the test sees the encoding on the wire.
func tileGet(t *testing.T, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func tilePath(layers string, tl maptile.Tile) string {
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layers, tl.Z, tl.X, tl.Y)
}

func TestTileHTTP(t *testing.T) {
	ts := newTileServer(t)
	u := ts.URL + tilePath("w_poly", tileTestTile)

	resp, body := tileGet(t, u, "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/vnd.mapbox-vector-tile", "Content-Encoding": "gzip",
		"Cache-Control": "public, max-age=60", "Vary": "Accept-Encoding",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	ls, err := mvt.UnmarshalGzipped(body)
	if err != nil || len(ls) != 1 || ls[0].Name != "w_poly" || len(ls[0].Features) != 1 {
		t.Fatalf("gzipped tile: %v %v", err, ls)
	}
	if ft := ls[0].Features[0]; ft.ID != 5.0 || ft.Properties["levels"] != 4.0 {
		t.Errorf("feature %v %v, want id 5 with levels 4", ft.ID, ft.Properties)
	}
	etag := resp.Header.Get("Etag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	// Without Accept-Encoding: the plain tile, same entity tag.
	resp, body = tileGet(t, u)
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Etag") != etag {
		t.Errorf("identity answer: encoding %q etag %q (want none, %q)", resp.Header.Get("Content-Encoding"), resp.Header.Get("Etag"), etag)
	}
	if ls, err := mvt.Unmarshal(body); err != nil || len(ls) != 1 {
		t.Errorf("plain tile: %v %v", err, ls)
	}
	// gzip;q=0 refuses gzip.
	if resp, _ = tileGet(t, u, "Accept-Encoding", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}

	// Revalidation.
	for _, inm := range []string{etag, `"other", ` + etag, strings.TrimPrefix(etag, "W/")} {
		resp, body = tileGet(t, u, "If-None-Match", inm)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %s: status %s, %d bytes; want 304 and no body", inm, resp.Status, len(body))
		}
	}
	if resp, _ = tileGet(t, u, "If-None-Match", `W/"stale"`); resp.StatusCode != http.StatusOK {
		t.Errorf("stale If-None-Match: status %s, want 200", resp.Status)
	}
	if resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("X-Cache = %q on a repeated request, want HIT", resp.Header.Get("X-Cache"))
	}

	// Empty tile.
	resp, body = tileGet(t, ts.URL+"/tiles/w_poly/16/0/0.mvt", "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Errorf("empty tile: status %s, %d bytes; want 204", resp.Status, len(body))
	}

	// Live layers are cached briefly.
	resp, _ = tileGet(t, ts.URL+tilePath("w_live", tileTestTile))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=2" {
		t.Errorf("live tile: status %s, Cache-Control %q", resp.Status, resp.Header.Get("Cache-Control"))
	}

	// Composite.
	resp, body = tileGet(t, ts.URL+tilePath("w_poly,w_live", tileTestTile))
	ls, err = mvt.Unmarshal(body)
	if resp.StatusCode != http.StatusOK || err != nil || len(ls) != 2 || ls[0].Name != "w_poly" || ls[1].Name != "w_live" {
		t.Errorf("composite: status %s, %v, %v", resp.Status, err, ls)
	}
	if resp.Header.Get("Cache-Control") != "public, max-age=2" {
		t.Errorf("composite with a live layer: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}

	// Metrics.
	_, body = tileGet(t, ts.URL+"/metrics")
	for _, m := range []string{`geoportal_tiles_served_total{status="200"}`, `geoportal_tiles_served_total{status="304"}`,
		"geoportal_tile_cache_hits_total", "geoportal_tile_cache_misses_total", "geoportal_tile_generation_seconds_bucket",
		"geoportal_tiles_sent_bytes_total", "geoportal_tile_cache_bytes"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestTileHTTPBadInput(t *testing.T) {
	ts := newTileServer(t)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/tiles/w_poly/a/0/0.mvt", 400},
		{"/tiles/w_poly/1/0/x.mvt", 400},
		{"/tiles/w_poly/1/0.5/0.mvt", 400},
		{"/tiles/w_poly/99999999999999999999/0/0.mvt", 400},
		{"/tiles/w_poly/23/0/0.mvt", 400},
		{"/tiles/w_poly/2/4/0.mvt", 400},
		{"/tiles/w_poly/2/0/-1.mvt", 400},
		{"/tiles/nope/1/0/0.mvt", 404},
		{"/tiles/w_staff/1/0/0.mvt", 404},
		{"/tiles/w_poly;DELETE%20FROM%20layer.w_poly/1/0/0.mvt", 404},
		{"/tiles/w_poly'--/1/0/0.mvt", 404},
		{"/tiles/" + strings.Repeat("w_poly,", 20) + "w_live/1/0/0.mvt", 400},
		{"/tiles/w_poly,w_poly/1/0/0.mvt", 400},
		{"/tiles/w_poly/1/0/0.png", 404},
		{"/tiles/nope.json", 404},
		{"/tiles/w_staff.json", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := tileGet(t, ts.URL+tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %s, want %d: %s", resp.Status, tc.status, body)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
				t.Errorf("body %q is not a JSON error: %v", body, err)
			}
		})
	}
	resp, body := tileGet(t, ts.URL+tilePath("w_poly", tileTestTile))
	if ls, err := mvt.Unmarshal(body); resp.StatusCode != 200 || err != nil || len(ls) != 1 || len(ls[0].Features) != 1 {
		t.Errorf("w_poly after the bad requests: %s %v %v", resp.Status, err, ls)
	}
}

func TestTileJSONAndCatalogHTTP(t *testing.T) {
	ts := newTileServer(t)
	resp, body := tileGet(t, ts.URL+"/tiles/w_poly,w_live.json")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	var tj struct {
		TileJSON     string     `json:"tilejson"`
		Tiles        []string   `json:"tiles"`
		MinZoom      int        `json:"minzoom"`
		MaxZoom      int        `json:"maxzoom"`
		Bounds       [4]float64 `json:"bounds"`
		Attribution  string     `json:"attribution"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal(body, &tj); err != nil {
		t.Fatal(err)
	}
	if want := ts.URL + "/tiles/w_poly,w_live/{z}/{x}/{y}.mvt"; len(tj.Tiles) != 1 || tj.Tiles[0] != want {
		t.Errorf("tiles %v, want [%s]", tj.Tiles, want)
	}
	if tj.TileJSON != "3.0.0" || tj.MaxZoom != 22 || tj.Attribution != "Test data" || len(tj.VectorLayers) != 2 ||
		tj.VectorLayers[0].ID != "w_poly" || tj.VectorLayers[0].Fields["levels"] != "Number" {
		t.Errorf("TileJSON %s", body)
	}
	if tj.Bounds[0] < 57.16 || tj.Bounds[2] > 57.18 {
		t.Errorf("bounds %v, want around the test features", tj.Bounds)
	}

	resp, body = tileGet(t, ts.URL+"/tiles")
	if resp.StatusCode != 200 {
		t.Fatalf("catalog: %s", resp.Status)
	}
	var cat struct {
		Layers []struct {
			Slug, Tiles, TileJSON string
			Live                  bool
		}
	}
	if err := json.Unmarshal(body, &cat); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range cat.Layers {
		seen[l.Slug] = true
		if l.Slug == "w_live" && (!l.Live || l.TileJSON != ts.URL+"/tiles/w_live.json") {
			t.Errorf("catalog entry %+v", l)
		}
	}
	if !seen["w_poly"] || !seen["w_live"] || seen["w_staff"] {
		t.Errorf("catalog lists %v; want w_poly and w_live, not the staff-only w_staff", seen)
	}
}

// TestTileLeanPath checks that cache hits answered ahead of the middleware look like the answers
// through it (security headers, metrics) and that what needs the middleware still gets it.
func TestTileLeanPath(t *testing.T) {
	ts := newTileServer(t)
	u := ts.URL + tilePath("w_poly", tileTestTile)
	miss, missBody := tileGet(t, u, "Accept-Encoding", "gzip")
	hit, hitBody := tileGet(t, u, "Accept-Encoding", "gzip")
	if miss.Header.Get("X-Cache") != "MISS" || hit.Header.Get("X-Cache") != "HIT" || !bytes.Equal(missBody, hitBody) {
		t.Fatalf("X-Cache %q then %q, same body %v", miss.Header.Get("X-Cache"), hit.Header.Get("X-Cache"), bytes.Equal(missBody, hitBody))
	}
	for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
		"Cache-Control", "Etag", "Vary", "Content-Type", "Content-Encoding", "Content-Length"} {
		if hit.Header.Get(k) == "" || hit.Header.Get(k) != miss.Header.Get(k) {
			t.Errorf("%s: %q on the hit, %q on the miss", k, hit.Header.Get(k), miss.Header.Get(k))
		}
	}
	if resp, _ := tileGet(t, u, "If-None-Match", hit.Header.Get("Etag")); resp.StatusCode != http.StatusNotModified ||
		resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("cached revalidation: %s, X-Cache %q", resp.Status, resp.Header.Get("X-Cache"))
	}
	// A bad API key is refused even when the tile is cached.
	if resp, _ := tileGet(t, u, "X-API-Key", "not-a-key"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad API key on a cached tile: %s, want 401", resp.Status)
	}
	if resp, _ := tileGet(t, u, "Authorization", "Bearer not-a-key"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad bearer key on a cached tile: %s, want 401", resp.Status)
	}
	// The staff-only layer stays hidden however often it is asked for.
	for i := 0; i < 2; i++ {
		if resp, _ := tileGet(t, ts.URL+tilePath("w_staff", tileTestTile)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("staff-only tile for an anonymous client: %s, want 404", resp.Status)
		}
	}
	// Both answers are counted under the tile route.
	_, body := tileGet(t, ts.URL+"/metrics")
	var n200, n304 float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, `geoportal_http_requests_total{route="/tiles/{layers}/{z}/{x}/{y}.mvt",`) {
			continue
		}
		var v float64
		fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
		switch {
		case strings.Contains(line, `status="200"`):
			n200 = v
		case strings.Contains(line, `status="304"`):
			n304 = v
		}
	}
	if n200 != 2 || n304 != 1 {
		t.Errorf("tile route counted %v answers 200 and %v answers 304, want 2 and 1", n200, n304)
	}

	// Brotli: gzip until the background compression is done, then br, decoding to the tile.
	_, plain := tileGet(t, u)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := tileGet(t, u, "Accept-Encoding", "gzip, deflate, br")
		enc := resp.Header.Get("Content-Encoding")
		if enc == "br" {
			got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(body)))
			if err != nil || !bytes.Equal(got, plain) || resp.Header.Get("Etag") != hit.Header.Get("Etag") {
				t.Errorf("br answer decodes to %d bytes (%v), want %d; ETag %s", len(got), err, len(plain), resp.Header.Get("Etag"))
			}
			break
		}
		if enc != "gzip" || time.Now().After(deadline) {
			t.Fatalf("Content-Encoding %q while brotli is being made (want gzip, then br)", enc)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, _ := tileGet(t, u, "Accept-Encoding", "gzip, br;q=0"); resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("br;q=0: Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
}
