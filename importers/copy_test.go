package importers

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/twpayne/go-geos"
)

// TestCoerceCollection: a GeometryCollection goes into no layer (the COPY writer would take it,
// the layers' geometry types do not).
func TestCoerceCollection(t *testing.T) {
	for _, want := range []string{"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"} {
		if _, err := coerce(orb.Collection{orb.Point{1, 2}}, want); err == nil {
			t.Errorf("a GeometryCollection went into a %s layer", want)
		}
	}
}

// geosValid is GEOS's verdict, the reference certainlyValid must never contradict.
func geosValid(t *testing.T, ctx *geos.Context, g orb.Geometry) bool {
	t.Helper()
	b, err := wkb.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	gg, err := ctx.NewGeomFromWKB(b)
	if err != nil {
		return false // GEOS cannot even build it (e.g. a ring of 3 points)
	}
	defer gg.Destroy()
	return gg.IsValid()
}

// TestCertainlyValid checks the pure-Go fast path on hand-made cases and on many random
// polygons on a coarse grid (where touching, collinear and crossing edges are common): it
// may leave any polygon to GEOS, but whatever it calls valid GEOS must call valid too.
func TestCertainlyValid(t *testing.T) {
	sq := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}
	for _, tc := range []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"square", orb.Polygon{sq}, true},
		{"square clockwise", orb.Polygon{{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}}, true},
		{"triangle", orb.Polygon{{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}, true},
		{"building", orb.Polygon{{{57.2099256, 50.2867992}, {57.2098621, 50.2869823}, {57.2094735, 50.2869272}, {57.209537, 50.2867442}, {57.2099256, 50.2867992}}}, true},
		{"bow tie", orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, false},
		{"self-touching", orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {1, 0}, {0, 2}, {0, 0}}}, false},
		{"collinear spike", orb.Polygon{{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}}, false},
		{"collapsed", orb.Polygon{{{0, 0}, {1, 0}, {2, 0}, {0, 0}}}, false},
		{"not closed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, false},
		{"too few points", orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}, false},
		{"repeated point", orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 0}}}, false},
		{"with a hole", orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}, {{1, 1}, {2, 1}, {2, 2}, {1, 1}}}, false},
		{"two apart", orb.MultiPolygon{{sq}, {{{2, 2}, {3, 2}, {3, 3}, {2, 2}}}}, true},
		{"two touching", orb.MultiPolygon{{sq}, {{{1, 0}, {2, 0}, {2, 1}, {1, 0}}}}, false},
		{"two overlapping", orb.MultiPolygon{{sq}, {{{0.5, 0.5}, {2, 0.5}, {2, 2}, {0.5, 0.5}}}}, false},
		{"infinite", orb.Polygon{{{0, 0}, {math.Inf(1), 0}, {1, 1}, {0, 0}}}, false},
		{"a point", orb.Point{1, 2}, false},
	} {
		if got := certainlyValid(tc.g); got != tc.want {
			t.Errorf("%s: certainlyValid = %v, want %v", tc.name, got, tc.want)
		}
	}

	ctx := geos.NewContext()
	rnd := rand.New(rand.NewPCG(5, 1))
	fast := 0
	const n = 20000
	for i := 0; i < n; i++ {
		var g orb.Geometry
		ring := func(ox, oy float64) orb.Ring {
			k := 3 + rnd.IntN(6)
			r := make(orb.Ring, 0, k+1)
			for j := 0; j < k; j++ {
				r = append(r, orb.Point{ox + float64(rnd.IntN(5)), oy + float64(rnd.IntN(5))})
			}
			return append(r, r[0])
		}
		switch i % 4 {
		case 0, 1:
			g = orb.Polygon{ring(0, 0)}
		case 2: // tiny perturbations: near-collinear points
			r := ring(0, 0)
			for j := range r[:len(r)-1] {
				r[j][0] += float64(rnd.IntN(3)-1) * 1e-15
			}
			r[len(r)-1] = r[0]
			g = orb.Polygon{r}
		case 3:
			g = orb.MultiPolygon{{ring(0, 0)}, {ring(float64(rnd.IntN(8)), float64(rnd.IntN(8)))}}
		}
		if certainlyValid(g) {
			fast++
			if !geosValid(t, ctx, g) {
				t.Fatalf("certainlyValid says valid, GEOS says invalid: %v", g)
			}
		}
	}
	// The fast path must actually be taken, or this test proves nothing.
	if fast < n/20 {
		t.Errorf("only %d of %d random polygons proven valid", fast, n)
	}
	t.Logf("%d of %d random polygons proven valid without GEOS", fast, n)
}

// catalogState checks what the insert trigger would have made of a new layer loaded bare:
// the count, the extent and its notice, the primary key, the spatial index, the id sequence,
// and the trigger itself, enabled again.
func checkNewLayer(t *testing.T, pool *pgxpool.Pool, slug string) {
	t.Helper()
	ctx := context.Background()
	var count, rows, minID, maxID int64
	var sameBox, hasPkey, hasGist, trigger bool
	err := pool.QueryRow(ctx, `SELECT l.feature_count, x.n, x.min_id, x.max_id,
			(l.bbox IS NULL AND x.ext IS NULL) OR ST_Equals(l.bbox, ST_SetSRID(ST_Envelope(ST_Expand(x.ext::geometry, 1e-7)), 4326)),
			EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ('layer.' || quote_ident($1))::regclass AND contype = 'p'),
			EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'layer' AND tablename = $1 AND indexdef LIKE '%USING gist (geom)%'),
			EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = ('layer.' || quote_ident($1))::regclass AND tgname = 'layer_changed_ins' AND tgenabled = 'O')
		FROM geoportal.layers l,
		LATERAL (SELECT count(*) AS n, ST_Extent(geom) AS ext, coalesce(min(id), 0) AS min_id, coalesce(max(id), 0) AS max_id
			FROM `+fmt.Sprintf("layer.%q", slug)+`) x
		WHERE l.slug = $1`, slug).Scan(&count, &rows, &minID, &maxID, &sameBox, &hasPkey, &hasGist, &trigger)
	if err != nil {
		t.Fatal(err)
	}
	if count != rows || !sameBox || !hasPkey || !hasGist || !trigger {
		t.Errorf("layer %s: feature_count %d for %d rows, bbox = extent %v, primary key %v, gist index %v, trigger %v",
			slug, count, rows, sameBox, hasPkey, hasGist, trigger)
	}
	if rows > 0 && (minID != 1 || maxID != rows) {
		t.Errorf("layer %s: ids %d..%d for %d rows", slug, minID, maxID, rows)
	}
}

// TestNewLayerLoadedBare imports points, lines and polygons into new layers and checks that
// the work left out during the load (index, key, trigger, ids) is all there afterwards, that
// an insert afterwards continues the ids and fires the trigger, and that typed values,
// including jsonb and timestamps, are written as their columns' types.
func TestNewLayerLoadedBare(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	dir := t.TempDir()
	corpus := corpusDir(t)
	for _, tc := range []struct{ rel, slug string }{
		{"debian-r-cran-sf/nc.shp", "bare_polygons"},
		{"debian-geopandas/naturalearth_cities/naturalearth_cities.shp", "bare_points"},
		{"debian-r-cran-sf/storms_xyz.shp", "bare_lines"},
	} {
		importFile(t, pool, filepath.Join(corpus, tc.rel), tc.slug, Options{SRID: 4326})
		checkNewLayer(t, pool, tc.slug)
	}
	var id int64
	var count int64
	if err := pool.QueryRow(ctx, `INSERT INTO layer.bare_points (geom) VALUES ('SRID=4326;POINT(57 50)') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT feature_count FROM geoportal.layers WHERE slug = 'bare_points'`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if id != 244 || count != 244 {
		t.Errorf("insert after the import: id %d, feature_count %d; want 244 and 244", id, count)
	}

	gj := filepath.Join(dir, "typed.geojson")
	os.WriteFile(gj, []byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"Ақтөбе","n":3,"big":9000000000,"x":1.5,"ok":true,"day":"2024-05-01","at":"2024-05-01T10:20:30+05:00","tags":{"a":[1,2]}},"geometry":{"type":"Point","coordinates":[57.1,50.2]}},
		{"type":"Feature","properties":{"name":null,"n":null,"big":null,"x":null,"ok":false,"day":null,"at":null,"tags":null},"geometry":{"type":"Point","coordinates":[57.2,50.3]}}]}`), 0o644)
	_, info := importFile(t, pool, gj, "typed", Options{})
	types := map[string]string{}
	for _, f := range info.Fields {
		types[f.Name] = f.Type
	}
	t.Logf("inferred types: %v", types)
	checkNewLayer(t, pool, "typed")
	// A timestamptz attribute of an existing layer, filled by an append.
	if _, err := pool.Exec(ctx, `ALTER TABLE layer.typed ADD COLUMN stamp timestamptz`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE geoportal.layers SET attributes = attributes || '[{"name":"stamp","type":"timestamptz","title":{"kk":"","ru":"","en":""}}]' WHERE slug = 'typed'`); err != nil {
		t.Fatal(err)
	}
	src, err := Open([]string{gj}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := New(pool, nil).Import(ctx, src, Request{Layer: "typed", Mode: ModeAppend, FieldMap: map[string]string{"at": "stamp"}}); err != nil {
		t.Fatal(err)
	}
	got := layerRows(t, &Importer{Pool: pool}, `SELECT concat_ws('|', id, name, n, big, x, ok, day, at, stamp AT TIME ZONE 'UTC', tags, pg_typeof(tags), ST_AsText(geom)) FROM layer.typed ORDER BY id`)
	want := []string{
		"1|Ақтөбе|3|9000000000|1.5|t|2024-05-01|2024-05-01T10:20:30+05:00|{\"a\": [1, 2]}|jsonb|POINT(57.1 50.2)",
		"2|f|jsonb|POINT(57.2 50.3)",
		"3|Ақтөбе|3|9000000000|1.5|t|2024-05-01|2024-05-01 05:20:30|{\"a\": [1, 2]}|jsonb|POINT(57.1 50.2)",
		"4|f|jsonb|POINT(57.2 50.3)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
