package importers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
)

func gdalCount(t *testing.T, path string) (int, string) {
	t.Helper()
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", path, err, out)
	}
	m := regexp.MustCompile(`Feature Count: (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("ogrinfo %s: no count\n%s", path, out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n, string(out)
}

// TestExport exports a layer as GeoJSON, CSV and zipped shapefile, reads each with GDAL, and
// imports the shapefile back.
func TestExport(t *testing.T) {
	corpus := corpusDir(t)
	pool := dbtest.New(t)
	im := New(pool, nil)
	ctx := context.Background()
	dir := t.TempDir()
	importFile(t, pool, filepath.Join(corpus, "debian-r-cran-sf/nc.shp"), "nc", Options{})
	// Kazakh text, dates and booleans survive the round trip.
	src := writeGeoJSON(t, dir, 57.166, 50.283, kazakhText, russianText)
	importFile(t, pool, src, "kz", Options{})
	if _, err := pool.Exec(ctx, `ALTER TABLE layer.kz ADD COLUMN opened date, ADD COLUMN ok boolean`); err != nil {
		t.Fatal(err)
	}
	pool.Exec(ctx, `UPDATE geoportal.layers SET attributes = attributes || '[{"name":"opened","type":"date","title":{"kk":"","ru":"","en":""}},{"name":"ok","type":"boolean","title":{"kk":"","ru":"","en":""}}]' WHERE slug = 'kz'`)
	pool.Exec(ctx, `UPDATE layer.kz SET opened = '2024-05-01', ok = true`)

	for _, tc := range []struct {
		layer, format string
		bbox          []float64
		want          int
		gdal          func(p string) string
	}{
		{"nc", ExportGeoJSON, nil, 100, func(p string) string { return p }},
		{"nc", ExportCSV, nil, 100, func(p string) string { return p }},
		{"nc", ExportShapefile, nil, 100, func(p string) string { return "/vsizip/" + p }},
		{"nc", ExportShapefile, []float64{-80, 35, -78, 36}, -1, func(p string) string { return "/vsizip/" + p }},
		{"kz", ExportShapefile, nil, 1, func(p string) string { return "/vsizip/" + p }},
	} {
		t.Run(tc.layer+"."+tc.format, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.layer+"."+tc.format)
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			err = im.Export(ctx, f, ExportRequest{Layer: tc.layer, Format: tc.format, BBox: tc.bbox})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			n, out := gdalCount(t, tc.gdal(p))
			want := tc.want
			if want < 0 {
				pool.QueryRow(ctx, `SELECT count(*) FROM layer.nc WHERE geom && ST_MakeEnvelope(-80, 35, -78, 36, 4326)`).Scan(&want)
				if want == 0 || want >= 100 {
					t.Fatalf("bbox holds %d counties", want)
				}
			}
			if n != want {
				t.Errorf("GDAL reads %d features, want %d", n, want)
			}
			if tc.format == ExportShapefile && !strings.Contains(out, "WGS 84") && !strings.Contains(out, "WGS_1984") {
				t.Errorf("no WGS 84 CRS in GDAL's view:\n%s", out)
			}
			if tc.layer == "kz" {
				full, _ := exec.Command("ogrinfo", "-ro", "-al", "-q", tc.gdal(p)).CombinedOutput()
				for _, want := range []string{"NAME (String) = " + kazakhText, "RU (String) = " + russianText, "OPENED (Date) = 2024/05/01", "N (Integer64) = 7"} {
					if !strings.Contains(string(full), want) {
						t.Errorf("GDAL does not show %q:\n%s", want, full)
					}
				}
				// And back in: the exported zip imports as the same feature.
				rep, info := importFile(t, pool, p, "kz_again", Options{})
				if rep.Written != 1 || info.Encoding != "UTF-8" || info.CRS.EPSG != 4326 {
					t.Fatalf("re-import: %+v %+v", rep, info)
				}
				var name string
				pool.QueryRow(ctx, `SELECT name FROM layer.kz_again`).Scan(&name)
				if name != kazakhText {
					t.Errorf("re-imported name %q", name)
				}
			}
		})
	}
}
