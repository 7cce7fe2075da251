package importers

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	kazakhText  = "Ақтөбе: Әйтеке би, Ғабит, Қонаев, Ңң Өө Ұлы Үй Һһ Іі"
	russianText = "Улица Ёлкина, дом 5 (щ, ъ, э)"
	latinText   = "Tårneby i Solør, México"
)

// ogr2ogr runs GDAL's ogr2ogr and fails the test when it fails.
func ogr2ogr(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ogr2ogr", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ogr2ogr %v: %v\n%s", args, err, out)
	}
}

// writeGeoJSON writes a one-feature GeoJSON file for ogr2ogr to convert.
func writeGeoJSON(t *testing.T, dir string, lon, lat float64, name, ru string) string {
	t.Helper()
	p := filepath.Join(dir, "src.geojson")
	body := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":%q,"ru":%q,"n":7},
		"geometry":{"type":"Point","coordinates":[%v,%v]}}]}`, name, ru, lon, lat)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func importFile(t *testing.T, pool *pgxpool.Pool, path, slug string, opt Options) (*Report, *Info) {
	t.Helper()
	src, err := Open([]string{path}, opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer src.Close()
	rep, err := New(pool, nil).Import(context.Background(), src, Request{Layer: slug})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep, src.Info()
}

// TestEncodings writes shapefiles with ogr2ogr in the code pages of Kazakhstan and checks that
// the text reaches the layer intact, whether the code page comes from the .cpg, the DBF
// language byte, the --encoding flag or the default.
func TestEncodings(t *testing.T) {
	pool := dbtest.New(t)
	cases := []struct {
		name       string
		gdalEnc    string
		dropCPG    bool
		ldid       byte // written into the DBF header when not 0
		opt        Options
		wantName   string
		wantRU     string
		wantEnc    string
		wantSource string
	}{
		{name: "cp1251 cpg", gdalEnc: "CP1251", wantRU: russianText, wantEnc: "CP1251", wantSource: EncodingFromCPG},
		{name: "cp866 cpg", gdalEnc: "CP866", wantRU: russianText, wantEnc: "CP866", wantSource: EncodingFromCPG},
		{name: "koi8-r cpg", gdalEnc: "KOI8-R", wantRU: russianText, wantEnc: "KOI8-R", wantSource: EncodingFromCPG},
		{name: "utf-8 cpg", gdalEnc: "UTF-8", wantName: kazakhText, wantRU: russianText, wantEnc: "UTF-8", wantSource: EncodingFromCPG},
		{name: "pt154 cpg", gdalEnc: "PT154", wantName: kazakhText, wantRU: russianText, wantEnc: "PT154", wantSource: EncodingFromCPG},
		{name: "pt154 flag", gdalEnc: "PT154", dropCPG: true, opt: Options{Encoding: "ptcp154"}, wantName: kazakhText, wantRU: russianText, wantEnc: "PT154", wantSource: EncodingFromFlag},
		{name: "pt154 default", gdalEnc: "PT154", dropCPG: true, opt: Options{DefaultEncoding: "PT154"}, wantName: kazakhText, wantRU: russianText, wantEnc: "PT154", wantSource: EncodingFromDefault},
		{name: "cp1251 language byte", gdalEnc: "CP1251", dropCPG: true, ldid: 0xC9, opt: Options{DefaultEncoding: "latin1"}, wantRU: russianText, wantEnc: "CP1251", wantSource: EncodingFromLDID},
		{name: "cp866 language byte", gdalEnc: "CP866", dropCPG: true, ldid: 0x65, wantRU: russianText, wantEnc: "CP866", wantSource: EncodingFromLDID},
		{name: "cp1251 default", gdalEnc: "CP1251", dropCPG: true, wantRU: russianText, wantEnc: "CP1251", wantSource: EncodingFromDefault},
		{name: "latin1 language byte", gdalEnc: "ISO-8859-1", dropCPG: true, ldid: 0x57, wantName: latinText, wantEnc: "ISO-8859-1", wantSource: EncodingFromLDID},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name, ru := tc.wantName, tc.wantRU
			if name == "" {
				name = "-"
			}
			if ru == "" {
				ru = "-"
			}
			src := writeGeoJSON(t, dir, 57.166, 50.283, name, ru)
			shp := filepath.Join(dir, "out.shp")
			ogr2ogr(t, "-f", "ESRI Shapefile", "-lco", "ENCODING="+tc.gdalEnc, shp, src)
			if tc.dropCPG {
				os.Remove(filepath.Join(dir, "out.cpg"))
			}
			if tc.ldid != 0 {
				setLDID(t, filepath.Join(dir, "out.dbf"), tc.ldid)
			}
			slug := fmt.Sprintf("enc_%d", i)
			rep, info := importFile(t, pool, shp, slug, tc.opt)
			if info.Encoding != tc.wantEnc || info.EncodingSource != tc.wantSource {
				t.Errorf("encoding %s from %s, want %s from %s", info.Encoding, info.EncodingSource, tc.wantEnc, tc.wantSource)
			}
			if rep.Written != 1 {
				t.Fatalf("written %d, want 1 (%+v)", rep.Written, rep.Rejections)
			}
			var gotName, gotRU string
			if err := pool.QueryRow(context.Background(), `SELECT name, ru FROM `+pgx.Identifier{"layer", slug}.Sanitize()).Scan(&gotName, &gotRU); err != nil {
				t.Fatal(err)
			}
			if tc.wantName != "" && gotName != tc.wantName {
				t.Errorf("name = %q, want %q", gotName, tc.wantName)
			}
			if tc.wantRU != "" && gotRU != tc.wantRU {
				t.Errorf("ru = %q, want %q", gotRU, tc.wantRU)
			}
		})
	}
}

func setLDID(t *testing.T, dbf string, ldid byte) {
	t.Helper()
	f, err := os.OpenFile(dbf, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{ldid}, 29); err != nil {
		t.Fatal(err)
	}
}

// TestCRS writes shapefiles reprojected by ogr2ogr into the coordinate systems used around
// Aktobe and checks that the .prj is identified and the points come back where they were.
func TestCRS(t *testing.T) {
	pool := dbtest.New(t)
	cases := []struct {
		name     string
		epsg     int
		lon, lat float64
		dropPrj  bool // then --srid
		tol      float64
		same     int // an EPSG code with an identical definition, also right
	}{
		{name: "WGS 84", epsg: 4326, lon: 57.166, lat: 50.283, tol: 1e-9},
		{name: "UTM 40N", epsg: 32640, lon: 57.166, lat: 50.283, tol: 1e-7},
		{name: "UTM 41N", epsg: 32641, lon: 61.5, lat: 48.9, tol: 1e-7},
		{name: "Pulkovo 1942 GK zone 10", epsg: 28410, lon: 57.166, lat: 50.283, tol: 1e-6},
		{name: "Pulkovo 1942 GK zone 11", epsg: 28411, lon: 63.6, lat: 47.8, tol: 1e-6},
		{name: "Pulkovo 1942 GK 10N", epsg: 28470, lon: 57.166, lat: 50.283, tol: 1e-6, same: 2500}, // = GK CM 57E
		{name: "Pulkovo 1942 CS63 zone K3", epsg: 2940, lon: 57.166, lat: 50.283, tol: 1e-6},
		{name: "Pulkovo 1942 geographic", epsg: 4284, lon: 57.166, lat: 50.283, tol: 1e-6},
		{name: "Web Mercator", epsg: 3857, lon: 57.166, lat: 50.283, tol: 1e-7},
		{name: "UTM 40N with --srid", epsg: 32640, lon: 57.2, lat: 50.3, dropPrj: true, tol: 1e-7},
		{name: "GK zone 10 with --srid", epsg: 28410, lon: 57.2, lat: 50.3, dropPrj: true, tol: 1e-6},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := writeGeoJSON(t, dir, tc.lon, tc.lat, "x", "x")
			shp := filepath.Join(dir, "crs.shp")
			ogr2ogr(t, "-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8", "-t_srs", fmt.Sprintf("EPSG:%d", tc.epsg), shp, src)
			var opt Options
			if tc.dropPrj {
				os.Remove(filepath.Join(dir, "crs.prj"))
				opt.SRID = tc.epsg
			}
			slug := fmt.Sprintf("crs_%d", i)
			_, info := importFile(t, pool, shp, slug, opt)
			if info.CRS.EPSG != tc.epsg && (tc.same == 0 || info.CRS.EPSG != tc.same) {
				t.Errorf("CRS identified as %s, want EPSG:%d", info.CRS, tc.epsg)
			}
			var x, y float64
			if err := pool.QueryRow(context.Background(), `SELECT ST_X(geom), ST_Y(geom) FROM `+
				pgx.Identifier{"layer", slug}.Sanitize()).Scan(&x, &y); err != nil {
				t.Fatal(err)
			}
			if math.Abs(x-tc.lon) > tc.tol || math.Abs(y-tc.lat) > tc.tol {
				t.Errorf("point at %.9f %.9f, want %.9f %.9f (±%g)", x, y, tc.lon, tc.lat, tc.tol)
			}
		})
	}
}
