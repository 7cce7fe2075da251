package ogc_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/ogc"
	"github.com/go-chi/chi/v5"
)

// The fixture layer ogc_points has 250 points on a 25 x 10 grid from 57.00 E 50.20 N, 0.01°
// apart; point i (id i+1) has status installed/planned/broken for i%3 = 0/1/2, population 10*i,
// seen_at 2024-01-01T00:00Z + i hours and opened 2024-01-01 + i days.
const fixtureCount = 250

func fixtureLayers(t *testing.T, s *web.Server) {
	t.Helper()
	ctx := context.Background()
	t3 := func(s string) layers.Titles { return layers.Titles{EN: s, RU: s + " (ru)", KK: s + " (kk)"} }
	err := s.Layers.CreateLayer(ctx, nil, layers.Layer{
		Slug: "ogc_points", Title: layers.Titles{EN: "Test points", RU: "Тестовые точки", KK: "Сынақ нүктелері"},
		Direction: 1, GeometryType: "Point", TimeColumn: "seen_at",
		Attributes: []layers.Attribute{
			{Name: "name", Type: "text", Title: t3("Name")},
			{Name: "status", Type: "text", Title: t3("Status")},
			{Name: "population", Type: "integer", Title: t3("Population")},
			{Name: "height", Type: "double", Title: t3("Height")},
			{Name: "active", Type: "boolean", Title: t3("Active")},
			{Name: "opened", Type: "date", Title: t3("Opened")},
			{Name: "seen_at", Type: "timestamptz", Title: t3("Seen")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO layer.ogc_points (id, geom, name, status, population, height, active, opened, seen_at)
		SELECT i + 1, ST_SetSRID(ST_MakePoint(57.0 + (i % 25) * 0.01, 50.2 + (i / 25) * 0.01), 4326), 'P' || i,
		       (ARRAY['installed','planned','broken'])[i % 3 + 1], i * 10, i / 4.0, i % 2 = 0,
		       date '2024-01-01' + i, timestamptz '2024-01-01T00:00:00Z' + i * interval '1 hour'
		FROM generate_series(0, $1 - 1) AS i`, fixtureCount); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `SELECT setval(pg_get_serial_sequence('layer.ogc_points', 'id'), $1)`, fixtureCount); err != nil {
		t.Fatal(err)
	}
	err = s.Layers.CreateLayer(ctx, nil, layers.Layer{Slug: "ogc_secret", Title: t3("Secret"), Direction: 4,
		GeometryType: "LineString", Visibility: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO layer.ogc_secret (geom) VALUES (ST_GeomFromText('LINESTRING(57 50, 58 51)', 4326))`); err != nil {
		t.Fatal(err)
	}
}

// newOGCTest serves /ogc with the staff decision fixed, and the full handler (real auth) too.
func newOGCTest(t *testing.T, staff bool) (ogcSrv *httptest.Server, full *httptest.Server, s *web.Server) {
	t.Helper()
	s = web.NewServer(slog.New(slog.DiscardHandler), dbtest.New(t))
	fixtureLayers(t, s)
	r := chi.NewRouter()
	r.Route("/ogc", func(r chi.Router) {
		s.OGCRoutes(r, func(*http.Request) bool { return staff }, func(*http.Request) error {
			if staff {
				return nil
			}
			return geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in")
		})
	})
	ogcSrv = httptest.NewServer(r)
	full = httptest.NewServer(s.Handler())
	t.Cleanup(ogcSrv.Close)
	t.Cleanup(full.Close)
	return ogcSrv, full, s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, u string, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("not JSON (%v): %.500s", err, r.body)
	}
	return v
}

type featureCollection struct {
	Type     string `json:"type"`
	Features []struct {
		ID         int64          `json:"id"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	NumberMatched  int64      `json:"numberMatched"`
	NumberReturned int        `json:"numberReturned"`
	TimeStamp      string     `json:"timeStamp"`
	Links          []ogc.Link `json:"links"`
}

func (fc featureCollection) link(rel string) string {
	for _, l := range fc.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

// items GETs an items URL and decodes the collection, failing unless the status is 200.
func items(t *testing.T, u string) featureCollection {
	t.Helper()
	r := do(t, "GET", u, "")
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", u, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != ogc.MediaGeoJSON {
		t.Fatalf("GET %s: Content-Type %q", u, ct)
	}
	var fc featureCollection
	if err := json.Unmarshal(r.body, &fc); err != nil {
		t.Fatalf("GET %s: %v: %.300s", u, err, r.body)
	}
	if fc.Type != "FeatureCollection" || fc.NumberReturned != len(fc.Features) {
		t.Fatalf("GET %s: type %q, numberReturned %d for %d features", u, fc.Type, fc.NumberReturned, len(fc.Features))
	}
	if _, err := time.Parse(time.RFC3339, fc.TimeStamp); err != nil {
		t.Fatalf("timeStamp %q: %v", fc.TimeStamp, err)
	}
	return fc
}

// wantError checks an OGC exception response.
func wantError(t *testing.T, r response, status int, says string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var e struct{ Code, Description string }
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" {
		t.Fatalf("not an OGC exception: %s", r.body)
	}
	if !strings.Contains(e.Description, says) {
		t.Fatalf("description %q does not say %q", e.Description, says)
	}
}

func TestOGCLandingConformanceAPI(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	r := do(t, "GET", full.URL+"/ogc/", "")
	if r.status != 200 {
		t.Fatalf("landing %d %s", r.status, r.body)
	}
	rels := map[string]string{}
	for _, l := range r.json(t)["links"].([]any) {
		m := l.(map[string]any)
		rels[m["rel"].(string)] = m["href"].(string)
	}
	for _, rel := range []string{"self", "alternate", "service-desc", "service-doc", "conformance", "data"} {
		if rels[rel] == "" {
			t.Errorf("landing page has no %s link: %v", rel, rels)
		}
	}
	api := do(t, "GET", rels["service-desc"], "")
	if api.status != 200 || !strings.HasPrefix(api.header.Get("Content-Type"), "application/vnd.oai.openapi+json") {
		t.Fatalf("service-desc: %d %s", api.status, api.header.Get("Content-Type"))
	}
	if v, _ := api.json(t)["openapi"].(string); !strings.HasPrefix(v, "3.0") {
		t.Errorf("openapi version %q", v)
	}
	conf := do(t, "GET", rels["conformance"], "").json(t)["conformsTo"].([]any)
	have := map[string]bool{}
	for _, c := range conf {
		have[c.(string)] = true
	}
	for _, c := range []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
		"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
		"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	} {
		if !have[c] {
			t.Errorf("conformance lacks %s", c)
		}
	}
	// HTML by f=html and by Accept; in the language asked for.
	h := do(t, "GET", full.URL+"/ogc/?f=html&lang=kk", "")
	if h.status != 200 || !strings.HasPrefix(h.header.Get("Content-Type"), "text/html") || !strings.Contains(string(h.body), "Ақтөбе геопорталы") {
		t.Fatalf("kk html landing: %d %s %.300s", h.status, h.header.Get("Content-Type"), h.body)
	}
	h = do(t, "GET", full.URL+"/ogc/collections", "", "Accept", "text/html,application/xhtml+xml", "Accept-Language", "ru-RU,ru;q=0.9")
	if !strings.HasPrefix(h.header.Get("Content-Type"), "text/html") || !strings.Contains(string(h.body), "Тестовые точки") {
		t.Fatalf("ru html collections: %s %.300s", h.header.Get("Content-Type"), h.body)
	}
	wantError(t, do(t, "GET", full.URL+"/ogc/?f=xml", ""), 400, "unsupported format")
	wantError(t, do(t, "GET", full.URL+"/ogc/conformance?foo=bar", ""), 400, "unknown query parameter(s): foo")
	wantError(t, do(t, "GET", full.URL+"/ogc/?lang=de", ""), 400, "unsupported lang")
}

func TestOGCCollectionsAndVisibility(t *testing.T) {
	api, full, _ := newOGCTest(t, false)
	body := do(t, "GET", full.URL+"/ogc/collections", "").json(t)
	var found map[string]any
	for _, c := range body["collections"].([]any) {
		m := c.(map[string]any)
		if m["id"] == "ogc_secret" {
			t.Fatal("anonymous client sees the staff-only layer")
		}
		if m["id"] == "ogc_points" {
			found = m
		}
	}
	if found == nil {
		t.Fatal("ogc_points not listed")
	}
	if found["itemType"] != "feature" || found["title"] != "Test points" {
		t.Errorf("collection %v", found)
	}
	bbox := found["extent"].(map[string]any)["spatial"].(map[string]any)["bbox"].([]any)[0].([]any)
	if math.Abs(bbox[0].(float64)-57.0) > 1e-5 || math.Abs(bbox[3].(float64)-50.29) > 1e-5 {
		t.Errorf("extent %v", bbox)
	}
	if crs := found["crs"].([]any); len(crs) != 4 {
		t.Errorf("crs list %v", crs)
	}
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/ogc_secret", ""), 404, "not found")
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/ogc_secret/items", ""), 404, "not found")
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/ogc_secret/items/1", ""), 404, "not found")
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/nope", ""), 404, "not found")
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/ogc_points/items/abc", ""), 404, "not found")
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/ogc_points/items/99999", ""), 404, "not found")
	_ = api

	staffOGC, _, _ := newOGCTest(t, true)
	if r := do(t, "GET", staffOGC.URL+"/ogc/collections/ogc_secret/items", ""); r.status != 200 {
		t.Fatalf("staff cannot read the staff-only layer: %d %s", r.status, r.body)
	}
}

func TestOGCQueryables(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	r := do(t, "GET", full.URL+"/ogc/collections/ogc_points/queryables", "")
	if r.status != 200 || r.header.Get("Content-Type") != ogc.MediaSchema {
		t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
	}
	props := r.json(t)["properties"].(map[string]any)
	for name, typ := range map[string]string{"name": "string", "population": "integer", "height": "number", "active": "boolean"} {
		p, ok := props[name].(map[string]any)
		if !ok || p["type"] != typ {
			t.Errorf("queryable %s: %v", name, props[name])
		}
	}
	if props["seen_at"].(map[string]any)["format"] != "date-time" || props["geom"].(map[string]any)["format"] != "geometry-point" {
		t.Errorf("queryables %v", props)
	}
}

func TestOGCItemsPaging(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	u := full.URL + "/ogc/collections/ogc_points/items"
	first := items(t, u)
	if first.NumberReturned != 10 || first.NumberMatched != fixtureCount {
		t.Fatalf("default page: returned %d matched %d", first.NumberReturned, first.NumberMatched)
	}
	f := first.Features[0]
	if f.ID != 1 || f.Properties["name"] != "P0" || f.Properties["status"] != "installed" || f.Geometry["type"] != "Point" {
		t.Errorf("first feature %+v", f)
	}
	if c := f.Geometry["coordinates"].([]any); c[0].(float64) != 57 || c[1].(float64) != 50.2 {
		t.Errorf("CRS84 coordinates %v", c)
	}
	if first.link("prev") != "" {
		t.Error("first page has a prev link")
	}
	// Follow next links through the whole layer.
	seen := map[int64]bool{}
	next := u + "?limit=60&status=installed"
	pages := 0
	var last featureCollection
	for next != "" {
		fc := items(t, next)
		if pages > 0 && fc.link("prev") == "" {
			t.Errorf("page %d has no prev link", pages)
		}
		if fc.NumberMatched != 84 {
			t.Errorf("numberMatched %d, want 84 installed", fc.NumberMatched)
		}
		for _, ft := range fc.Features {
			if seen[ft.ID] || ft.Properties["status"] != "installed" {
				t.Fatalf("feature %d repeated or not installed", ft.ID)
			}
			seen[ft.ID] = true
		}
		next = fc.link("next")
		pages++
		last = fc
		if pages > 10 {
			t.Fatal("next links do not end")
		}
	}
	if len(seen) != 84 || pages != 2 || last.NumberReturned != 24 {
		t.Errorf("%d features over %d pages (last %d)", len(seen), pages, last.NumberReturned)
	}
	if !strings.Contains(first.link("next"), "cursor=10") {
		t.Errorf("default-order next link %q has no keyset cursor", first.link("next"))
	}
	// With sortby, pages go by offset.
	sorted := map[int64]bool{}
	for next := u + "?limit=100&sortby=-population"; next != ""; {
		fc := items(t, next)
		if strings.Contains(fc.link("next"), "cursor=") {
			t.Fatalf("sorted next link %q has a cursor", fc.link("next"))
		}
		for _, ft := range fc.Features {
			sorted[ft.ID] = true
		}
		next = fc.link("next")
	}
	if len(sorted) != fixtureCount {
		t.Errorf("sorted paging saw %d features", len(sorted))
	}
	prev := items(t, last.link("prev"))
	if prev.Features[0].ID != 1 || prev.NumberReturned != 60 {
		t.Errorf("prev page starts at %d with %d", prev.Features[0].ID, prev.NumberReturned)
	}
	// Above the maximum the page is capped, not refused.
	all := items(t, u+"?limit=20000")
	if all.NumberReturned != fixtureCount || all.link("next") != "" {
		t.Errorf("limit=20000: %d returned", all.NumberReturned)
	}
	// Offsets beyond the end still say how many match.
	if fc := items(t, u+"?offset=1000"); fc.NumberReturned != 0 || fc.NumberMatched != fixtureCount {
		t.Errorf("offset past end: %d returned, %d matched", fc.NumberReturned, fc.NumberMatched)
	}
	for q, says := range map[string]string{
		"limit=0": "limit", "limit=ten": "limit", "offset=-1": "offset", "foo=1": "unknown query parameter(s): foo",
		"population=many": "not an integer", "sortby=colour": `"colour" is not a sortable property`,
		"properties=name,colour": `"colour" is not a property`, "geom=1": "unknown query parameter",
		"cursor=x": "not a cursor", "cursor=5&sortby=name": "default order",
	} {
		wantError(t, do(t, "GET", u+"?"+q, ""), 400, says)
	}
}

func TestOGCSortAndProperties(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	u := full.URL + "/ogc/collections/ogc_points/items"
	fc := items(t, u+"?sortby=-population&limit=3")
	if fc.Features[0].Properties["population"].(float64) != 2490 || fc.Features[2].Properties["population"].(float64) != 2470 {
		t.Errorf("sortby=-population: %v", fc.Features[0].Properties)
	}
	fc = items(t, u+"?sortby=%2Bstatus,-id&limit=1")
	if fc.Features[0].Properties["status"] != "broken" || fc.Features[0].ID != 249 {
		t.Errorf("sortby=+status,-id: %d %v", fc.Features[0].ID, fc.Features[0].Properties)
	}
	fc = items(t, u+"?properties=name,active&limit=1")
	if p := fc.Features[0].Properties; len(p) != 2 || p["name"] != "P0" || p["active"] != true {
		t.Errorf("properties=name,active: %v", p)
	}
	fc = items(t, u+"?properties=&limit=1")
	if len(fc.Features[0].Properties) != 0 {
		t.Errorf("properties=: %v", fc.Features[0].Properties)
	}
}

// mercator projects lon/lat to EPSG:3857.
func mercator(lon, lat float64) (float64, float64) {
	const r = 6378137.0
	return r * lon * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
}

func TestOGCItemsBBox(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	u := full.URL + "/ogc/collections/ogc_points/items?limit=1000&"
	// Columns 57.00..57.04 (5) by rows 50.20 and 50.21 (2).
	want := func(q string, n int) {
		t.Helper()
		fc := items(t, u+q)
		if fc.NumberReturned != n {
			t.Errorf("%s: %d features, want %d", q, fc.NumberReturned, n)
		}
	}
	want("bbox=57.0,50.2,57.045,50.215", 10)
	want("bbox=56.995,50.195,0,57.045,50.215,100", 10)
	want("bbox=50.195,56.995,50.215,57.045&bbox-crs="+url.QueryEscape(layers.EPSG4326.URI), 10)
	x0, y0 := mercator(56.995, 50.195)
	x1, y1 := mercator(57.045, 50.215)
	want("bbox="+url.QueryEscape(strings.Join([]string{ftoa(x0), ftoa(y0), ftoa(x1), ftoa(y1)}, ","))+
		"&bbox-crs="+url.QueryEscape(layers.EPSG3857.URI), 10)
	want("bbox=10,10,11,11", 0)
	want("bbox=170,50.195,-170,50.205", 0) // antimeridian-crossing box, far away
	for q, says := range map[string]string{
		"bbox=1,2,3":                "4 numbers",
		"bbox=a,b,c,d":              "not a number",
		"bbox=57,51,58,50":          "south",
		"bbox=1,2,3,4&bbox-crs=foo": "unsupported CRS",
	} {
		wantError(t, do(t, "GET", u+q, ""), 400, says)
	}
}

func ftoa(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestOGCItemsDatetime(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	u := full.URL + "/ogc/collections/ogc_points/items?limit=1000&datetime="
	for q, n := range map[string]int{
		"2024-01-01T00:00:00Z/2024-01-01T09:00:00Z": 10,
		"../2024-01-01T04:00:00Z":                   5,
		"/2024-01-01T04:00:00Z":                     5,
		"2024-01-10T00:00:00Z/..":                   34,
		"2024-01-01T05:00:00Z":                      1,
		"2024-01-02":                                24,
		"2024-01-02/2024-01-03":                     48,
	} {
		if fc := items(t, u+url.QueryEscape(q)); fc.NumberReturned != n {
			t.Errorf("datetime=%s: %d features, want %d", q, fc.NumberReturned, n)
		}
	}
	wantError(t, do(t, "GET", u+"yesterday", ""), 400, "bad datetime")
	wantError(t, do(t, "GET", u+"../..", ""), 400, "bad datetime") // hostile input (treecheck:allow)
	wantError(t, do(t, "GET", u+"2024-02-01/2024-01-01", ""), 400, "ends before it starts")
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/schools/items?datetime=2024-01-01", ""), 400, "no time property")
}

func TestOGCCRS(t *testing.T) {
	_, full, s := newOGCTest(t, false)
	item := full.URL + "/ogc/collections/ogc_points/items/26" // 57.00 E 50.21 N
	coords := func(q string) ([]float64, string) {
		r := do(t, "GET", item+q, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		var f struct {
			Geometry struct{ Coordinates []float64 }
		}
		json.Unmarshal(r.body, &f)
		return f.Geometry.Coordinates, r.header.Get("Content-Crs")
	}
	c, h := coords("")
	if c[0] != 57 || c[1] != 50.21 || h != "<"+layers.CRS84.URI+">" {
		t.Errorf("CRS84: %v %s", c, h)
	}
	c, h = coords("?crs=" + url.QueryEscape(layers.EPSG4326.URI))
	if c[0] != 50.21 || c[1] != 57 || h != "<"+layers.EPSG4326.URI+">" {
		t.Errorf("EPSG:4326 must be latitude first: %v %s", c, h)
	}
	c, _ = coords("?crs=" + url.QueryEscape(layers.EPSG3857.URI))
	x, y := mercator(57, 50.21)
	if math.Abs(c[0]-x) > 0.01 || math.Abs(c[1]-y) > 0.01 {
		t.Errorf("EPSG:3857 %v, want %g %g", c, x, y)
	}
	c, _ = coords("?crs=" + url.QueryEscape(layers.EPSG32640.URI))
	var ux, uy float64
	s.Pool.QueryRow(context.Background(), `SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(57, 50.21), 4326), 32640) g) x`).Scan(&ux, &uy)
	if math.Abs(c[0]-ux) > 0.01 || math.Abs(c[1]-uy) > 0.01 || ux < 400000 || ux > 600000 {
		t.Errorf("EPSG:32640 %v, want %g %g", c, ux, uy)
	}
	fc := items(t, full.URL+"/ogc/collections/ogc_points/items?limit=1&crs="+url.QueryEscape(layers.EPSG4326.URI))
	if c := fc.Features[0].Geometry["coordinates"].([]any); c[0].(float64) != 50.2 {
		t.Errorf("items in EPSG:4326: %v", c)
	}
	wantError(t, do(t, "GET", item+"?crs=EPSG:9999", ""), 400, "unsupported CRS")
	wantError(t, do(t, "GET", item+"?limit=5", ""), 400, "unknown query parameter(s): limit")
}

func TestOGCFilter(t *testing.T) {
	_, full, s := newOGCTest(t, false)
	u := full.URL + "/ogc/collections/ogc_points/items?limit=1000&"
	count := func(q string) int {
		t.Helper()
		return items(t, u+q).NumberReturned
	}
	text := func(f string) string { return "filter=" + url.QueryEscape(f) }
	for f, n := range map[string]int{
		`status = 'planned' AND population < 1000`:           33,
		`status IN ('planned', 'broken') OR name LIKE 'P1_'`: 166 + 3,
		`population BETWEEN 100 AND 200`:                     11,
		`NOT active = TRUE`:                                  125,
		`height > 60`:                                        9,
		`opened >= DATE('2024-09-01')`:                       6,
		`seen_at < TIMESTAMP('2024-01-01T03:00:00Z')`:        3,
		`name IS NULL`:                                       0,
		`S_INTERSECTS(geom, POLYGON((56.995 50.195, 57.015 50.195, 57.015 50.215, 56.995 50.215, 56.995 50.195)))`: 4,
		`S_WITHIN(geom, BBOX(56.995,50.195,57.005,50.205))`:                                                        1,
		`DWITHIN(geom, POINT(57.0 50.2), 1200, meters)`:                                                            3,
		`DWITHIN(geom, POINT(57.0 50.2), 1.2, kilometers) AND status = 'installed'`:                                1,
		`name = 'x''; DROP TABLE layer.ogc_points; --'`:                                                            0,
	} {
		if got := count(text(f)); got != n {
			t.Errorf("filter %s: %d features, want %d", f, got, n)
		}
	}
	js := `{"op":"and","args":[{"op":"=","args":[{"property":"status"},"planned"]},{"op":"<","args":[{"property":"population"},1000]}]}`
	if got := count("filter-lang=cql2-json&filter=" + url.QueryEscape(js)); got != 33 {
		t.Errorf("cql2-json: %d", got)
	}
	// filter-crs EPSG:4326 reads latitude first.
	if got := count(text(`S_INTERSECTS(geom, BBOX(50.195,56.995,50.205,57.005))`) + "&filter-crs=" + url.QueryEscape(layers.EPSG4326.URI)); got != 1 {
		t.Errorf("filter-crs EPSG:4326: %d", got)
	}
	x0, y0 := mercator(56.995, 50.195)
	x1, y1 := mercator(57.005, 50.205)
	bb := strings.Join([]string{ftoa(x0), ftoa(y0), ftoa(x1), ftoa(y1)}, ",")
	if got := count(text(`S_INTERSECTS(geom, BBOX(`+bb+`))`) + "&filter-crs=" + url.QueryEscape(layers.EPSG3857.URI)); got != 1 {
		t.Errorf("filter-crs EPSG:3857: %d", got)
	}
	// Filters combine with bbox and equality parameters.
	if got := count(text(`population < 300`) + "&bbox=56.9,50.1,57.1,50.205&status=installed"); got != 4 {
		t.Errorf("filter+bbox+status: %d", got)
	}
	for q, says := range map[string]string{
		text(`colour = 'red'`):                                          `unknown property "colour"`,
		text(`population = 'many'`):                                     "cannot compare",
		text(`name = 'x`):                                               "unterminated string",
		text(`"name; DROP TABLE x" = 1`):                                "unknown property",
		text(`name = 1; DROP TABLE layer.ogc_points`):                   "unexpected character ';'",
		"filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"="}`): `without an "args" array`,
		"filter-lang=sql&" + text("1=1"):                                "filter-lang",
		"filter-crs=EPSG:1&" + text("TRUE"):                             "unsupported CRS",
		"filter-lang=cql2-text":                                         "need a filter",
	} {
		wantError(t, do(t, "GET", u+q, ""), 400, says)
	}
	var n int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM layer.ogc_points`).Scan(&n); err != nil || n != fixtureCount {
		t.Fatalf("the layer changed under injection attempts: %d %v", n, err)
	}
}

func TestOGCHTMLEscapes(t *testing.T) {
	_, full, s := newOGCTest(t, false)
	if _, err := s.Pool.Exec(context.Background(), `UPDATE layer.ogc_points SET name = '<script>alert(1)</script>' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/items?f=html", "/items/1?f=html", "?f=html"} {
		r := do(t, "GET", full.URL+"/ogc/collections/ogc_points"+p, "")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", p, r.status, r.header.Get("Content-Type"))
		}
		if strings.Contains(string(r.body), "<script>alert") {
			t.Fatalf("%s: unescaped attribute value", p)
		}
	}
	r := do(t, "GET", full.URL+"/ogc/collections/ogc_points/items?f=html", "")
	if !strings.Contains(string(r.body), "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(string(r.body), `rel="next"`) {
		t.Errorf("items page: %.1000s", r.body)
	}
}

func TestOGCLargePageStreams(t *testing.T) {
	_, full, s := newOGCTest(t, false)
	if _, err := s.Pool.Exec(context.Background(), `INSERT INTO layer.ogc_points (geom, name, status)
		SELECT ST_SetSRID(ST_MakePoint(57 + random() * 0.3, 50.2 + random() * 0.2), 4326), 'bulk ' || i, 'planned'
		FROM generate_series(1, 11000) AS i`); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(full.URL + "/ogc/collections/ogc_points/items?limit=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 {
		t.Errorf("a 10,000-feature page has a Content-Length (%d): it was buffered, not streamed", resp.ContentLength)
	}
	var fc featureCollection
	if err := json.NewDecoder(resp.Body).Decode(&fc); err != nil {
		t.Fatal(err)
	}
	if fc.NumberReturned != 10000 || len(fc.Features) != 10000 || fc.NumberMatched != 11250 || fc.link("next") == "" {
		t.Errorf("returned %d matched %d next %q", fc.NumberReturned, fc.NumberMatched, fc.link("next"))
	}
}

func TestOGCWrites(t *testing.T) {
	api, full, s := newOGCTest(t, true)
	ctx := context.Background()
	version := func() int64 {
		l, err := s.Layers.Layer(ctx, "ogc_points", true)
		if err != nil {
			t.Fatal(err)
		}
		return l.Version
	}
	items := api.URL + "/ogc/collections/ogc_points/items"
	gj := []string{"Content-Type", ogc.MediaGeoJSON}
	v0 := version()
	r := do(t, "POST", items, `{"type":"Feature","geometry":{"type":"Point","coordinates":[57.2,50.3]},
		"properties":{"name":"New","status":"planned","population":7,"height":1.5,"active":true,"opened":"2025-03-01","seen_at":"2025-03-01T10:00:00Z"}}`, gj...)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, api.URL+"/ogc/collections/ogc_points/items/") {
		t.Fatalf("Location %q", loc)
	}
	if v := version(); v <= v0 {
		t.Errorf("layer version %d after create, was %d: tiles would not be invalidated", v, v0)
	}
	got := do(t, "GET", loc, "").json(t)
	if p := got["properties"].(map[string]any); p["name"] != "New" || p["population"].(float64) != 7 || p["opened"] != "2025-03-01" {
		t.Errorf("created feature %v", p)
	}
	// Content-Crs: EPSG:4326 bodies are latitude first.
	v1 := version()
	r = do(t, "PUT", loc, `{"type":"Feature","geometry":{"type":"Point","coordinates":[50.31,57.21]},"properties":{"name":"Replaced"}}`,
		"Content-Type", ogc.MediaGeoJSON, "Content-Crs", "<"+layers.EPSG4326.URI+">")
	if r.status != 204 {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	got = do(t, "GET", loc, "").json(t)
	p := got["properties"].(map[string]any)
	c := got["geometry"].(map[string]any)["coordinates"].([]any)
	if p["name"] != "Replaced" || p["status"] != nil || c[0].(float64) != 57.21 || c[1].(float64) != 50.31 {
		t.Errorf("replaced feature %v %v", p, c)
	}
	if version() <= v1 {
		t.Error("replace did not bump the layer version")
	}
	r = do(t, "PATCH", loc, `{"properties":{"status":"installed"}}`, "Content-Type", "application/merge-patch+json")
	if r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	got = do(t, "GET", loc, "").json(t)
	if p := got["properties"].(map[string]any); p["name"] != "Replaced" || p["status"] != "installed" {
		t.Errorf("patched feature %v", p)
	}
	// Bad writes change nothing.
	v2 := version()
	for _, tc := range []struct{ method, url, body, says string }{
		{"POST", items, `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[57,50],[58,51]]},"properties":{}}`, "must be a Point, not a LineString"},
		{"POST", items, `{"type":"Feature","geometry":{"type":"Point","coordinates":[57,50]},"properties":{"colour":"red"}}`, `"colour" is not a property`},
		{"POST", items, `{"type":"Feature","geometry":{"type":"Point","coordinates":[57,50]},"properties":{"population":"many"}}`, `"population" must be an integer`},
		{"POST", items, `{"type":"Feature","geometry":{"type":"Point","coordinates":[57,50]},"properties":{"population":3000000000}}`, `"population" must be an integer in range`},
		{"POST", items, `{"type":"Feature","geometry":{"type":"Point","coordinates":[57,50]},"properties":{"opened":"March"}}`, `"opened" must be a date`},
		{"POST", items, `{"type":"Feature","properties":{"name":"x"}}`, "needs a geometry"},
		{"POST", items, `{"type":"FeatureCollection","features":[]}`, "type Feature"},
		{"POST", items, `not json`, "not a GeoJSON feature"},
		{"PUT", items + "/999999", `{"type":"Feature","geometry":{"type":"Point","coordinates":[57,50]},"properties":{}}`, "not found"},
		{"PATCH", loc, `{"geometry":{"type":"Point","coordinates":[57]}}`, "at least 2 numbers"},
		{"DELETE", items + "/999999", "", "not found"},
	} {
		r := do(t, tc.method, tc.url, tc.body, gj...)
		if r.status != 400 && r.status != 404 {
			t.Errorf("%s %s: %d %s", tc.method, tc.body, r.status, r.body)
			continue
		}
		wantError(t, r, r.status, tc.says)
	}
	wantError(t, do(t, "POST", items, `{}`, "Content-Type", "text/plain"), 400, "Content-Type")
	if v := version(); v != v2 {
		t.Errorf("refused writes bumped the version %d -> %d", v2, v)
	}
	if r := do(t, "DELETE", loc, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantError(t, do(t, "GET", loc, ""), 404, "not found")
	if version() <= v2 {
		t.Error("delete did not bump the layer version")
	}
	// Through the real router an anonymous caller may not write.
	wantError(t, do(t, "POST", full.URL+"/ogc/collections/ogc_points/items",
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[57,50]},"properties":{}}`, gj...), 401, "sign in")
	wantError(t, do(t, "DELETE", full.URL+"/ogc/collections/ogc_points/items/1", ""), 401, "sign in")
}

// TestOGCWithGDAL reads the service with Debian's GDAL as a GIS client would.
func TestOGCWithGDAL(t *testing.T) {
	for _, tool := range []string{"ogrinfo", "ogr2ogr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (apt-get install gdal-bin; scripts/deps.sh installs it): %v", tool, err)
		}
	}
	_, _, s := newOGCTest(t, false)
	// Count item requests, to see that GDAL followed the next links.
	var itemRequests atomic.Int64
	h := s.Handler()
	full := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ogc_points/items") {
			itemRequests.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	defer full.Close()
	root := "OAPIF:" + full.URL + "/ogc"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=60", "CPL_VSIL_CURL_ALLOWED_EXTENSIONS=", "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("ogrinfo", "-ro", "-q", root)
	for _, want := range []string{"ogc_points", "schools", "cameras"} {
		if !strings.Contains(out, want) {
			t.Errorf("ogrinfo does not list %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ogc_secret") {
		t.Errorf("ogrinfo lists the staff-only layer:\n%s", out)
	}
	dst := filepath.Join(t.TempDir(), "out.json")
	// A page of 40 makes GDAL follow seven next links for the 250 features.
	run("ogr2ogr", "-f", "GeoJSON", dst, root, "ogc_points", "-oo", "PAGE_SIZE=40")
	raw, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	var fc featureCollection
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != fixtureCount {
		t.Fatalf("ogr2ogr copied %d features, want %d", len(fc.Features), fixtureCount)
	}
	if n := itemRequests.Load(); n < fixtureCount/40 {
		t.Errorf("GDAL made %d item requests for 250 features in pages of 40", n)
	}
	names := map[string]bool{}
	for _, f := range fc.Features {
		names[f.Properties["name"].(string)] = true
	}
	if len(names) != fixtureCount || !names["P0"] || !names["P249"] {
		t.Errorf("copied %d distinct names", len(names))
	}
	// ogrinfo with a feature count and an attribute filter the driver passes on.
	out = run("ogrinfo", "-ro", "-so", root, "ogc_points")
	if !strings.Contains(out, "Feature Count: 250") {
		t.Errorf("ogrinfo -so:\n%s", out)
	}
	// An attribute filter and a spatial filter, as a GIS user sets them.
	out = run("ogrinfo", "-ro", "-so", root, "ogc_points", "-where", "status = 'installed'")
	if !strings.Contains(out, "Feature Count: 84") {
		t.Errorf("ogrinfo -where:\n%s", out)
	}
	out = run("ogrinfo", "-ro", "-so", root, "ogc_points", "-spat", "57.0", "50.2", "57.045", "50.215")
	if !strings.Contains(out, "Feature Count: 10") {
		t.Errorf("ogrinfo -spat:\n%s", out)
	}
}

// TestOGCWritesWithRoles goes through the real router and accounts: API keys of a GIS staff
// member and of a planner, both with the features:write scope.
func TestOGCWritesWithRoles(t *testing.T) {
	_, full, s := newOGCTest(t, false)
	ctx := context.Background()
	key := func(email string, role accounts.Role, scopes ...accounts.Scope) string {
		u, err := s.Accounts.CreateUser(ctx, accounts.NewUser{Email: email, Name: email, Role: role,
			Password: "a long enough test password 42"})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := s.Accounts.CreateKey(ctx, u.ID, "test", scopes, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	gis := key("gis@example.kz", accounts.GISStaff, accounts.ScopeFeaturesWrite, accounts.ScopeRead)
	planner := key("planner@example.kz", accounts.Planner, accounts.ScopeFeaturesWrite, accounts.ScopeRead)
	items := full.URL + "/ogc/collections/ogc_points/items"
	body := `{"type":"Feature","geometry":{"type":"Point","coordinates":[57.1,50.25]},"properties":{"name":"by key"}}`
	r := do(t, "POST", items, body, "Content-Type", ogc.MediaGeoJSON, "X-API-Key", gis)
	if r.status != 201 {
		t.Fatalf("gis_staff create: %d %s", r.status, r.body)
	}
	wantError(t, do(t, "POST", items, body, "Content-Type", ogc.MediaGeoJSON, "X-API-Key", planner), 403, "may not edit")
	// Staff see staff-only layers; anonymous clients do not.
	if r := do(t, "GET", full.URL+"/ogc/collections/ogc_secret/items", "", "X-API-Key", planner); r.status != 200 {
		t.Errorf("planner reading a staff-only layer: %d %s", r.status, r.body)
	}
	wantError(t, do(t, "GET", full.URL+"/ogc/collections/ogc_secret/items", ""), 404, "not found")
}

// BenchmarkOGCItems measures a 10,000-feature GeoJSON page and a 10-feature CQL2-filtered page
// over HTTP on 127.0.0.1.
func BenchmarkOGCItems(b *testing.B) {
	s := web.NewServer(slog.New(slog.DiscardHandler), dbtest.New(b))
	ctx := context.Background()
	if err := s.Layers.CreateLayer(ctx, nil, layers.Layer{Slug: "bench_points", Title: layers.Titles{EN: "B", RU: "B", KK: "B"},
		GeometryType: "Point", Attributes: []layers.Attribute{{Name: "name", Type: "text"}, {Name: "n", Type: "integer"}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO layer.bench_points (geom, name, n)
		SELECT ST_SetSRID(ST_MakePoint(57 + random() * 0.3, 50.2 + random() * 0.2), 4326), 'point ' || i, i
		FROM generate_series(1, 100000) AS i; ANALYZE layer.bench_points`); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, bc := range []struct{ name, query string }{
		{"page10000", "?limit=10000"},
		{"filter10", "?filter=" + url.QueryEscape(`n BETWEEN 5000 AND 60000 AND S_INTERSECTS(geom, BBOX(57.1,50.25,57.2,50.35))`)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var bytes int64
			for b.Loop() {
				resp, err := http.Get(ts.URL + "/ogc/collections/bench_points/items" + bc.query)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				bytes += n
			}
			b.SetBytes(bytes / int64(b.N))
		})
	}
}
