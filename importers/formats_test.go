package importers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"golang.org/x/text/encoding/charmap"
)

// TestOtherFormats converts a corpus shapefile with ogr2ogr to GeoJSON and CSV and checks that
// each imports to the same features as the shapefile itself.
func TestOtherFormats(t *testing.T) {
	corpus := corpusDir(t)
	pool := dbtest.New(t)
	im := New(pool, nil)
	dir := t.TempDir()
	nc := filepath.Join(corpus, "debian-r-cran-sf/nc.shp")
	ogr2ogr(t, "-f", "GeoJSON", "-t_srs", "EPSG:4326", filepath.Join(dir, "nc.geojson"), nc)
	ogr2ogr(t, "-f", "GeoJSON", "-t_srs", "EPSG:3857", filepath.Join(dir, "nc3857.geojson"), nc)
	ogr2ogr(t, "-f", "CSV", "-t_srs", "EPSG:4326", "-lco", "GEOMETRY=AS_WKT", filepath.Join(dir, "ncwkt.csv"), nc)
	ogr2ogr(t, "-f", "KML", "-t_srs", "EPSG:4326", "-nln", "nc", "-dsco", "NameField=NAME", filepath.Join(dir, "nc.kml"), nc)
	ogr2ogr(t, "-f", "GPKG", filepath.Join(dir, "nc.gpkg"), nc) // keeps NAD27
	storms := filepath.Join(corpus, "debian-r-cran-sf/storms_xyz.shp")
	ogr2ogr(t, "-f", "GPKG", "-a_srs", "EPSG:4326", filepath.Join(dir, "storms.gpkg"), storms) // LineString Z
	ogr2ogr(t, "-f", "GPKG", filepath.Join(dir, "two.gpkg"), nc)
	ogr2ogr(t, "-f", "GPKG", "-update", "-a_srs", "EPSG:4326", "-nln", "storms", filepath.Join(dir, "two.gpkg"), storms)
	pts := filepath.Join(corpus, "debian-geopandas/naturalearth_cities/naturalearth_cities.shp")
	ogr2ogr(t, "-f", "CSV", "-lco", "GEOMETRY=AS_XY", filepath.Join(dir, "cities.csv"), pts)

	// A CP1251, semicolon-separated CSV as Excel writes it in Aktobe.
	body := "Название;Широта;Долгота;Этажей\nШкола №5;50,2839;57,1669;3\nЕмхана;50,29;57,2;\n"
	enc, _ := charmap.Windows1251.NewEncoder().String(body)
	os.WriteFile(filepath.Join(dir, "schools.csv"), []byte(enc), 0o644)

	want := func(t *testing.T, slug string) []string {
		return layerRows(t, im, `SELECT name || ':' || round(ST_X(ST_PointOnSurface(geom))::numeric, 3) FROM layer.`+slug+` ORDER BY id`)
	}
	rep, _ := importFile(t, pool, nc, "nc_shp", Options{})
	if rep.Written != 100 {
		t.Fatalf("shapefile: %d", rep.Written)
	}
	ref := want(t, "nc_shp")
	for _, tc := range []struct{ file, slug string }{{"nc.geojson", "nc_geojson"}, {"nc3857.geojson", "nc_3857"}, {"ncwkt.csv", "nc_csv"}, {"nc.kml", "nc_kml"}, {"nc.gpkg", "nc_gpkg"}} {
		t.Run(tc.file, func(t *testing.T) {
			rep, info := importFile(t, pool, filepath.Join(dir, tc.file), tc.slug, Options{})
			if rep.Written != 100 || rep.Rejected != 0 {
				t.Fatalf("written %d rejected %d: %+v", rep.Written, rep.Rejected, rep.Rejections)
			}
			if tc.slug == "nc_3857" && info.CRS.EPSG != 3857 {
				t.Errorf("crs %s, want EPSG:3857 from the crs member", info.CRS)
			}
			if got := want(t, tc.slug); strings.Join(got, ",") != strings.Join(ref, ",") {
				t.Errorf("features differ from the shapefile's:\n%v\n%v", got[:3], ref[:3])
			}
		})
	}
	t.Run("3-D GeoPackage", func(t *testing.T) {
		rep, info := importFile(t, pool, filepath.Join(dir, "storms.gpkg"), "storms", Options{})
		if rep.Written != 71 || info.GeometryType != "MultiLineString" {
			t.Fatalf("written %d, type %s: %+v", rep.Written, info.GeometryType, rep.Rejections)
		}
	})
	t.Run("GeoPackage with two tables", func(t *testing.T) {
		if _, err := Open([]string{filepath.Join(dir, "two.gpkg")}, Options{}); err == nil || !strings.Contains(err.Error(), "nc, storms") {
			t.Errorf("err = %v, want the tables named", err)
		}
		src, err := Open([]string{filepath.Join(dir, "two.gpkg")}, Options{Layer: "storms"})
		if err != nil {
			t.Fatal(err)
		}
		if n := src.Info().Count; n != 71 {
			t.Errorf("storms table: %d rows", n)
		}
		src.Close()
	})
	t.Run("cities.csv", func(t *testing.T) {
		rep, info := importFile(t, pool, filepath.Join(dir, "cities.csv"), "cities", Options{})
		if rep.Written != 243 || info.GeometryType != "Point" {
			t.Fatalf("written %d, type %s", rep.Written, info.GeometryType)
		}
	})
	t.Run("cp1251 csv", func(t *testing.T) {
		rep, info := importFile(t, pool, filepath.Join(dir, "schools.csv"), "csv_schools", Options{})
		if rep.Written != 2 || info.Encoding != "CP1251" {
			t.Fatalf("written %d, encoding %s", rep.Written, info.Encoding)
		}
		got := layerRows(t, im, `SELECT nazvanie || ':' || coalesce(etazhei::text, 'NULL') || ':' || ST_AsText(geom) FROM layer.csv_schools ORDER BY id`)
		if strings.Join(got, " ") != "Школа №5:3:POINT(57.1669 50.2839) Емхана:NULL:POINT(57.2 50.29)" {
			t.Errorf("rows: %v", got)
		}
	})
}
