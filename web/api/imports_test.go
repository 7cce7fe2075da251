package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/webtest"
)

// ncZip zips the North Carolina counties shapefile of the corpus in testdata/shapefiles.
func ncZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, ext := range []string{".shp", ".shx", ".dbf", ".prj"} {
		b, err := os.ReadFile(testfiles.Path(t, "shapefiles", "debian-r-cran-sf", "nc"+ext))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create("nc" + ext)
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

// importServer is a server (and its test listener) on a fresh database with a GIS staff member's and a planner's API
// keys, and post, which uploads files with form fields to /api/import.
func importServer(t *testing.T) (s *web.Server, ts *httptest.Server, gis, planner string, post func(apiKey string, fields map[string]string, files map[string][]byte) (int, []byte)) {
	t.Helper()
	s = web.NewServer(slog.New(slog.DiscardHandler), dbtest.New(t))
	s.Security.Upload = guard.RateLimit{PerMinute: 600, Burst: 100} // the default (burst 5) is for people
	ts = httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	ctx := context.Background()
	key := func(email string, role accounts.Role) string {
		u, err := s.Accounts.CreateUser(ctx, accounts.NewUser{Email: email, Name: email, Role: role, Password: "a long enough test password 42"})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := s.Accounts.CreateKey(ctx, u.ID, "test", []accounts.Scope{accounts.ScopeImport, accounts.ScopeRead}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	gis, planner = key("gis@example.kz", accounts.GISStaff), key("planner@example.kz", accounts.Planner)
	post = func(apiKey string, fields map[string]string, files map[string][]byte) (int, []byte) {
		t.Helper()
		ct, body := webtest.MultipartBody(t, fields, files)
		req, _ := http.NewRequest("POST", ts.URL+"/api/import", body)
		req.Header.Set("Content-Type", ct)
		if apiKey != "" {
			req.Header.Set("X-API-Key", apiKey)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	return s, ts, gis, planner, post
}

func TestImportAPI(t *testing.T) {
	s, ts, gis, planner, post := importServer(t)
	ctx := context.Background()
	zipBytes := ncZip(t)
	files := map[string][]byte{"nc.zip": zipBytes}

	if code, b := post("", map[string]string{"layer": "nc"}, files); code != 401 {
		t.Errorf("anonymous upload: %d %s", code, b)
	}
	if code, b := post(planner, map[string]string{"layer": "nc"}, files); code != 403 {
		t.Errorf("planner upload: %d %s", code, b)
	}

	// Preview: detected encoding, CRS, schema and the first features; nothing written.
	code, b := post(gis, map[string]string{"preview": "1"}, files)
	if code != 200 {
		t.Fatalf("preview: %d %s", code, b)
	}
	var p struct {
		Info struct {
			Encoding string `json:"encoding"`
			CRS      struct {
				EPSG int `json:"epsg"`
			} `json:"crs"`
			Fields []struct{ Name string } `json:"fields"`
		} `json:"info"`
		Features struct {
			Features []json.RawMessage `json:"features"`
		} `json:"features"`
	}
	json.Unmarshal(b, &p)
	if p.Info.CRS.EPSG != 4267 || len(p.Info.Fields) != 14 || len(p.Features.Features) != 50 || p.Info.Encoding != "ISO-8859-1" {
		t.Errorf("preview: %s", b[:min(len(b), 400)])
	}
	if _, err := s.Layers.Layer(ctx, "nc", true); err == nil {
		t.Error("preview created the layer")
	}

	// Import, streamed.
	code, b = post(gis, map[string]string{"layer": "nc", "stream": "1", "title_kk": "Округтер", "title_ru": "Округа", "title_en": "nc"}, files)
	if code != 200 {
		t.Fatalf("import: %d %s", code, b)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var last struct {
		Report struct {
			Written int    `json:"written"`
			Status  string `json:"status"`
		} `json:"report"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last.Report.Written != 100 || last.Report.Status != "ok" {
		t.Fatalf("import report: %s", lines[len(lines)-1])
	}
	l, err := s.Layers.Layer(ctx, "nc", true)
	if err != nil || l.FeatureCount != 100 || l.Title.RU != "Округа" || l.Title.EN != "nc" {
		t.Errorf("layer after import: %+v %v", l, err)
	}

	// Bad input: clear 4xx errors.
	for _, tc := range []struct {
		name   string
		fields map[string]string
		files  map[string][]byte
		code   int
		want   string
	}{
		{"exists", map[string]string{"layer": "nc", "title_kk": "a", "title_ru": "b", "title_en": "c"}, files, 409, "already exists"},
		{"no Kazakh title", map[string]string{"layer": "x5", "title_ru": "Округа", "title_en": "Counties"}, files, 400, "title_kk is empty"},
		{"blank English title", map[string]string{"layer": "x6", "title_kk": "Округтер", "title_ru": "Округа", "title_en": "  "}, files, 400, "title_en is empty"},
		{"no Russian title, dry run", map[string]string{"layer": "x7", "title_kk": "Округтер", "title_en": "Counties", "dry_run": "1"}, files, 400, "title_ru is empty"},
		{"not a zip", map[string]string{"layer": "x1"}, map[string][]byte{"data.zip": []byte("<html>hello</html>")}, 400, "not a zip"},
		{"bad mode", map[string]string{"layer": "nc", "mode": "merge"}, files, 400, "unknown mode"},
		{"no file", map[string]string{"layer": "x2"}, nil, 400, "no file"},
		{"bad srid", map[string]string{"layer": "x3", "srid": "abc"}, files, 400, "srid"},
		{"sneaky name", map[string]string{"layer": "x4"}, map[string][]byte{"../../etc/x.shp": []byte("x")}, 400, "x.shp"}, // hostile entry name (treecheck:allow)
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := post(gis, tc.fields, tc.files)
			if code != tc.code || !strings.Contains(string(b), tc.want) {
				t.Errorf("%d %s; want %d %q", code, b, tc.code, tc.want)
			}
		})
	}
	t.Run("oversized", func(t *testing.T) {
		s.ImportMaxBytes = 16 << 10
		defer func() { s.ImportMaxBytes = 0 }()
		code, b := post(gis, map[string]string{"layer": "big"}, files)
		if code != 413 {
			t.Errorf("%d %s; want 413", code, b)
		}
		if _, err := s.Layers.Layer(ctx, "big", true); err == nil {
			t.Error("oversized upload created a layer")
		}
	})

	// History.
	req, _ := http.NewRequest("GET", ts.URL+"/api/imports?layer=nc", nil)
	req.Header.Set("X-API-Key", gis)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var hist struct {
		Imports []struct{ Status string } `json:"imports"`
	}
	json.Unmarshal(hb, &hist)
	if resp.StatusCode != 200 || len(hist.Imports) != 1 || hist.Imports[0].Status != "ok" {
		t.Errorf("history: %d %s", resp.StatusCode, hb)
	}

	// Export, read back by GDAL.
	for _, format := range []string{"geojson", "csv", "zip"} {
		t.Run("export "+format, func(t *testing.T) {
			resp, err := http.Get(ts.URL + "/api/layers/nc/export." + format + "?bbox=-84.5,33,-75,37")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			p := filepath.Join(t.TempDir(), "nc."+format)
			os.WriteFile(p, b, 0o644)
			if format == "zip" {
				p = "/vsizip/" + p
			}
			out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", p).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Feature Count: 100") {
				t.Errorf("ogrinfo: %v\n%s", err, out)
			}
		})
	}
	for _, tc := range []struct{ path, want string }{
		{"/api/layers/utility_networks/export.geojson", "404"}, // staff-only layer, anonymous caller
		{"/api/layers/nc/export.pdf", "404"},
		{"/api/layers/nc/export.csv?bbox=1,2,3", "400"},
	} {
		resp, err := http.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Status[:3]; got != tc.want {
			t.Errorf("GET %s: %s, want %s", tc.path, resp.Status, tc.want)
		}
	}
}

// TestImportOutsideCity: nine points about 4,500 km from Aktobe (testdata/import) are previewed
// with where they lie against the city and the city's outline, refused (409, naming
// confirm_outside) and nothing is stored, then imported once confirmed; a dry run warns.
func TestImportOutsideCity(t *testing.T) {
	s, _, gis, _, post := importServer(t)
	ctx := context.Background()
	// The city boundary: a box around Aktobe.
	if _, err := s.Pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name) VALUES
		(ST_Multi(ST_MakeEnvelope(56.95, 50.15, 57.35, 50.40, 4326)), 'Aktobe')`); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(testfiles.Path(t, "import", "outside_city.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"outside_city.geojson": b}
	titles := map[string]string{"layer": "far", "title_kk": "Алыс нүктелер", "title_ru": "Далёкие точки", "title_en": "Far points"}
	with := func(extra ...string) map[string]string {
		m := map[string]string{}
		for k, v := range titles {
			m[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	type place struct {
		Known        bool    `json:"known"`
		Checked      int     `json:"checked"`
		Outside      int     `json:"outside"`
		Share        float64 `json:"share"`
		MaxDistanceM float64 `json:"max_distance_m"`
	}
	// From (0°, −5°) to the box's south-west corner (56.95° E, 50.15° N): about 7,600 km on the
	// spheroid; the nearest point (8°, 3°) is about 6,600 km away. The farthest counts.
	far := func(p place) bool { return p.MaxDistanceM > 7_000_000 && p.MaxDistanceM < 8_500_000 }

	code, out := post(gis, map[string]string{"preview": "1"}, files)
	var pv struct {
		Place *place          `json:"place"`
		City  json.RawMessage `json:"city"`
	}
	json.Unmarshal(out, &pv)
	if code != 200 || pv.Place == nil || !pv.Place.Known || pv.Place.Checked != 9 || pv.Place.Outside != 9 || pv.Place.Share != 1 || !far(*pv.Place) {
		t.Errorf("preview: %d %s", code, out)
	}
	if !strings.Contains(string(pv.City), `"MultiPolygon"`) && !strings.Contains(string(pv.City), `"Polygon"`) {
		t.Errorf("preview without the city outline: %s", pv.City)
	}

	code, out = post(gis, with("dry_run", "1"), files)
	var rep struct {
		Status   string   `json:"status"`
		Written  int      `json:"written"`
		Warnings []string `json:"warnings"`
		Place    *place   `json:"place"`
	}
	json.Unmarshal(out, &rep)
	if code != 200 || rep.Status != "dry_run" || rep.Place == nil || rep.Place.Outside != 9 ||
		!strings.Contains(strings.Join(rep.Warnings, " "), "9 of 9 features (100 %) lie outside the city boundary") {
		t.Errorf("dry run: %d %s", code, out)
	}

	code, out = post(gis, with(), files)
	if code != 409 || !strings.Contains(string(out), "9 of 9 features (100 %) lie outside the city boundary, up to") ||
		!strings.Contains(string(out), "confirm_outside=1") {
		t.Errorf("unconfirmed import: %d %s; want 409 naming confirm_outside", code, out)
	}
	if _, err := s.Layers.Layer(ctx, "far", true); err == nil {
		t.Error("the refused import created the layer")
	}
	var hist int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM geoportal.imports WHERE layer = 'far'`).Scan(&hist); err != nil || hist != 0 {
		t.Errorf("the refusal (a question, not a failure) is in the import history: %d %v", hist, err)
	}

	code, out = post(gis, with("confirm_outside", "1"), files)
	rep = struct {
		Status   string   `json:"status"`
		Written  int      `json:"written"`
		Warnings []string `json:"warnings"`
		Place    *place   `json:"place"`
	}{}
	json.Unmarshal(out, &rep)
	if code != 200 || rep.Status != "ok" || rep.Written != 9 || rep.Place == nil || !far(*rep.Place) {
		t.Errorf("confirmed import: %d %s", code, out)
	}
	if l, err := s.Layers.Layer(ctx, "far", true); err != nil || l.FeatureCount != 9 || l.Title.KK != "Алыс нүктелер" {
		t.Errorf("layer after the confirmed import: %+v %v", l, err)
	}

	// Inside the city: no place in the report, no warning.
	in := []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"centre"},"geometry":{"type":"Point","coordinates":[57.17,50.28]}}]}`)
	code, out = post(gis, map[string]string{"layer": "near", "title_kk": "Жақын", "title_ru": "Рядом", "title_en": "Near"}, map[string][]byte{"near.geojson": in})
	if code != 200 || strings.Contains(string(out), `"place"`) {
		t.Errorf("import inside the city: %d %s", code, out)
	}
}
