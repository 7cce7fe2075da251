package importers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
)

// pointsFile writes a CP1251 shapefile of points with an "id" key, names and a count.
func pointsFile(t *testing.T, dir, base string, rows [][3]any) string {
	t.Helper()
	var feats []string
	for i, r := range rows {
		feats = append(feats, fmt.Sprintf(`{"type":"Feature","properties":{"code":%d,"NAME":%q,"Visits":%d},
			"geometry":{"type":"Point","coordinates":[%v,50.28]}}`, r[0], r[1], r[2], 57.1+float64(i)/100))
	}
	src := filepath.Join(dir, base+".geojson")
	os.WriteFile(src, []byte(`{"type":"FeatureCollection","features":[`+strings.Join(feats, ",")+`]}`), 0o644)
	shp := filepath.Join(dir, base+".shp")
	ogr2ogr(t, "-f", "ESRI Shapefile", "-lco", "ENCODING=CP1251", shp, src)
	return shp
}

func layerRows(t *testing.T, im *Importer, q string) []string {
	t.Helper()
	rows, err := im.Pool.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestModes runs create, append, replace and upsert on one layer and checks its rows.
func TestModes(t *testing.T) {
	pool := dbtest.New(t)
	im := New(pool, nil)
	ctx := context.Background()
	dir := t.TempDir()
	run := func(path string, req Request) *Report {
		t.Helper()
		src, err := Open([]string{path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		rep, err := im.Import(ctx, src, req)
		if err != nil {
			t.Fatalf("%s: %v", req.Mode, err)
		}
		return rep
	}
	v1 := pointsFile(t, dir, "v1", [][3]any{{1, "Школа №1", 10}, {2, "Емхана", 20}, {3, "Дәріхана", 30}})
	v2 := pointsFile(t, dir, "v2", [][3]any{{2, "Емхана (жаңа)", 21}, {3, "Дәріхана", 31}, {4, "Саябақ", 40}})
	q := `SELECT code || ':' || visits FROM layer.pois ORDER BY code, id`

	rep := run(v1, Request{Layer: "pois", Direction: 5})
	if rep.Inserted != 3 {
		t.Fatalf("create inserted %d", rep.Inserted)
	}
	var gt string
	var dir5 int
	pool.QueryRow(ctx, `SELECT geometry_type, direction FROM geoportal.layers WHERE slug = 'pois'`).Scan(&gt, &dir5)
	if gt != "Point" || dir5 != 5 {
		t.Errorf("layer is %s in direction %d", gt, dir5)
	}
	rep = run(v2, Request{Layer: "pois", Mode: ModeAppend})
	if got := layerRows(t, im, q); len(got) != 6 || rep.Inserted != 3 {
		t.Errorf("after append: %v", got)
	}
	rep = run(v1, Request{Layer: "pois", Mode: ModeReplace})
	if got := layerRows(t, im, `SELECT code || ':' || visits FROM layer.pois ORDER BY code`); strings.Join(got, " ") != "1:10 2:20 3:30" ||
		rep.Deleted != 6 || rep.Inserted != 3 {
		t.Errorf("after replace: %v (deleted %d, inserted %d)", got, rep.Deleted, rep.Inserted)
	}
	if got := layerRows(t, im, `SELECT name FROM layer.pois WHERE code = 1`); len(got) != 1 || got[0] != "Школа №1" {
		t.Errorf("CP1251 name = %v", got)
	}
	rep = run(v2, Request{Layer: "pois", Mode: ModeUpsert, Key: "code"})
	if rep.Updated != 2 || rep.Inserted != 1 {
		t.Errorf("upsert updated %d, inserted %d; want 2 and 1", rep.Updated, rep.Inserted)
	}
	got := layerRows(t, im, `SELECT code || ':' || visits FROM layer.pois ORDER BY code`)
	if strings.Join(got, " ") != "1:10 2:21 3:31 4:40" {
		t.Errorf("after upsert: %v", got)
	}
	var versions int
	pool.QueryRow(ctx, `SELECT count(*) FROM geoportal.imports WHERE layer = 'pois' AND status = 'ok'`).Scan(&versions)
	if versions != 4 {
		t.Errorf("%d imports in the history, want 4", versions)
	}
}

// TestFieldMapAndCoercion imports county polygons into the built-in "yards" layer (Polygon)
// and "parks" layer (MultiPolygon) with a field mapping.
func TestFieldMapAndCoercion(t *testing.T) {
	corpus := corpusDir(t)
	pool := dbtest.New(t)
	im := New(pool, nil)
	ctx := context.Background()
	nc := filepath.Join(corpus, "debian-r-cran-sf/nc.shp")
	multi := -1 // multi-part counties, counted in the MultiPolygon layer
	for _, tc := range []struct {
		layer        string
		written      int
		multiRejects int
	}{{"parks", 100, 0}, {"yards", -1, -1}} {
		t.Run(tc.layer, func(t *testing.T) {
			if tc.written < 0 {
				if multi <= 0 {
					t.Fatalf("parks import found %d multi-part counties", multi)
				}
				tc.written, tc.multiRejects = 100-multi, multi
			}
			src, err := Open([]string{nc}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			rep, err := im.Import(ctx, src, Request{Layer: tc.layer, Mode: ModeReplace,
				FieldMap: map[string]string{"NAME": "name", "FIPS": "-"}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Written != tc.written || rep.Rejected != tc.multiRejects {
				t.Fatalf("written %d rejected %d, want %d and %d: %+v", rep.Written, rep.Rejected, tc.written, tc.multiRejects, rep.Rejections)
			}
			for _, r := range rep.Rejections {
				if !strings.Contains(r.Reason, "cannot go into a Polygon layer") {
					t.Errorf("rejection %+v", r)
				}
			}
			if tc.layer == "parks" {
				if err := pool.QueryRow(ctx, `SELECT count(*) FROM layer.parks WHERE ST_NumGeometries(geom) > 1`).Scan(&multi); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM layer.`+tc.layer+` WHERE name IS NOT NULL`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.written {
				t.Errorf("%d rows with a mapped name, want %d", n, tc.written)
			}
			var ash int
			pool.QueryRow(ctx, `SELECT count(*) FROM layer.`+tc.layer+` WHERE name = 'Ashe' AND ST_Within(ST_PointOnSurface(geom), ST_MakeEnvelope(-81.8, 36.2, -81.2, 36.6, 4326))`).Scan(&ash)
			if ash != 1 {
				t.Errorf("Ashe county not found where it is (reprojected from NAD27)")
			}
		})
	}
}
