package demo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
)

var testNow = time.Date(2026, 5, 9, 10, 0, 0, 0, time.UTC)

func generate(t *testing.T, seed int64) *City {
	t.Helper()
	c, err := Generate(Options{Seed: seed, Now: testNow})
	if err != nil {
		t.Fatalf("Generate(seed %d): %v", seed, err)
	}
	return c
}

// fingerprint hashes every layer's rows: geometry as EWKB and attribute values as printed.
func fingerprint(t *testing.T, c *City) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range c.Layers {
		h := sha256.New()
		fmt.Fprintf(h, "%s %v %v\n", l.Slug, l.Demo, l.Columns)
		for _, r := range l.Rows {
			g, err := ewkb.Marshal(r.Geom, 4326)
			if err != nil {
				t.Fatalf("%s: %v", l.Slug, err)
			}
			h.Write(g)
			fmt.Fprintln(h, r.Values...)
		}
		out[l.Slug] = fmt.Sprintf("%d/%x", len(l.Rows), h.Sum(nil))
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := fingerprint(t, generate(t, 7)), fingerprint(t, generate(t, 7))
	if !reflect.DeepEqual(a, b) {
		for slug := range a {
			if a[slug] != b[slug] {
				t.Errorf("seed 7 twice: layer %s differs", slug)
			}
		}
		t.Fatal("the same seed gave two different cities")
	}
	c := fingerprint(t, generate(t, 8))
	for _, slug := range []string{"streets", "buildings", "cameras", "bus_stops", "districts"} {
		if a[slug] == c[slug] {
			t.Errorf("seeds 7 and 8 gave the same %s", slug)
		}
	}
	// the reference layers are the real data whatever the seed
	for _, slug := range []string{"city_boundary", "places"} {
		if a[slug] != c[slug] {
			t.Errorf("seeds 7 and 8 gave different %s", slug)
		}
	}
}

func TestGenerateCounts(t *testing.T) {
	c := generate(t, DefaultSeed)
	want := map[string][2]int{ // slug: min, max
		"city_boundary": {1, 1}, "districts": {2, 2}, "places": {26, 26},
		"streets": {2000, 9000}, "buildings": {20000, 40000}, "cameras": {700, 700},
		"bus_stops": {1300, 1700}, "bus_routes": {35, 40}, "schools": {110, 120}, "clinics": {55, 60},
		"ramps": {800, 1000}, "sports_grounds": {250, 350}, "biotoilets": {70, 90}, "street_lights": {3000, 15000},
	}
	for slug, mm := range want {
		l := c.Layer(slug)
		if l == nil {
			t.Errorf("no layer %s", slug)
			continue
		}
		if n := len(l.Rows); n < mm[0] || n > mm[1] {
			t.Errorf("%s: %d features, want %d..%d", slug, n, mm[0], mm[1])
		}
	}
	if len(c.Layers) != 25 {
		t.Errorf("%d layers, want the 25 of the catalog", len(c.Layers))
	}
	if d := math.Abs(float64(c.Residents-TargetResidents)) / TargetResidents; d > 0.05 {
		t.Errorf("residents %d, want about %d", c.Residents, TargetResidents)
	}
	installed, planned := 0, 0
	for _, r := range c.Layer("cameras").Rows {
		switch r.Values[1] {
		case "installed":
			installed++
		case "planned":
			planned++
		}
	}
	if installed != CamerasInstalled || planned != CamerasPlanned {
		t.Errorf("cameras %d installed, %d planned; want %d, %d", installed, planned, CamerasInstalled, CamerasPlanned)
	}
	// every stop serves at least one route and every route has stops
	served := map[string]bool{}
	for _, r := range c.Layer("bus_stops").Rows {
		if r.Values[2] == "" {
			t.Fatalf("stop %v serves no route", r.Values[0])
		}
		for _, ref := range strings.Split(r.Values[2].(string), ", ") {
			served[ref] = true
		}
	}
	for _, r := range c.Layer("bus_routes").Rows {
		if !served[r.Values[0].(string)] {
			t.Errorf("route %s has no stop", r.Values[0])
		}
	}
}

// The streets form one network: every segment can be reached from every other.
func TestStreetNetworkIsConnected(t *testing.T) {
	c := generate(t, DefaultSeed)
	parent := map[orb.Point]orb.Point{}
	var find func(p orb.Point) orb.Point
	find = func(p orb.Point) orb.Point {
		if q, ok := parent[p]; ok && q != p {
			r := find(q)
			parent[p] = r
			return r
		}
		parent[p] = p
		return p
	}
	for _, r := range c.Layer("streets").Rows {
		ls := r.Geom.(orb.LineString)
		a, b := find(ls[0]), find(ls[len(ls)-1])
		parent[a] = b
	}
	roots := map[orb.Point]bool{}
	for p := range parent {
		roots[find(p)] = true
	}
	if len(roots) != 1 {
		t.Fatalf("the street network has %d separate pieces, want 1", len(roots))
	}
}

// loaded returns a fresh database with the demo city of the seed loaded.
func loaded(t *testing.T, seed int64) (*pgxpool.Pool, Summary) {
	t.Helper()
	pool := dbtest.New(t)
	sum, err := Load(context.Background(), pool, Options{Seed: seed, Now: testNow}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("loaded seed %d: %d features, generated in %v, written in %v", seed, sum.Features, sum.Generate, sum.Write)
	for _, l := range sum.Layers {
		t.Logf("  %-18s %6d  %v", l.Slug, l.Count, l.Duration)
	}
	return pool, sum
}

type catalogRow struct {
	slug, geomType string
	count          int64
}

func catalog(t *testing.T, pool *pgxpool.Pool) []catalogRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT slug, geometry_type, feature_count FROM geoportal.layers ORDER BY slug`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalogRow, error) {
		var c catalogRow
		err := r.Scan(&c.slug, &c.geomType, &c.count)
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func scalar[T any](t *testing.T, pool *pgxpool.Pool, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func table(slug string) string { return pgx.Identifier{"layer", slug}.Sanitize() }

func TestLoad(t *testing.T) {
	pool, sum := loaded(t, DefaultSeed)
	ctx := context.Background()
	counts := map[string]int{}
	for _, l := range sum.Layers {
		counts[l.Slug] = l.Count
	}

	t.Run("every catalog layer has features, counted right", func(t *testing.T) {
		cat := catalog(t, pool)
		if len(cat) < 25 {
			t.Fatalf("catalog has %d layers, want at least 25", len(cat))
		}
		for _, c := range cat {
			n := scalar[int64](t, pool, `SELECT count(*) FROM `+table(c.slug))
			if c.count != n {
				t.Errorf("%s: catalog says %d features, table has %d", c.slug, c.count, n)
			}
			if _, ours := counts[c.slug]; !ours {
				continue // a layer another part of the portal added
			}
			if n == 0 {
				t.Errorf("%s: no features", c.slug)
			}
			if int64(counts[c.slug]) != n {
				t.Errorf("%s: summary says %d, table has %d", c.slug, counts[c.slug], n)
			}
			types := scalar[[]string](t, pool, `SELECT coalesce(array_agg(DISTINCT ST_GeometryType(geom)), '{}') FROM `+table(c.slug))
			if len(types) != 1 || types[0] != "ST_"+c.geomType {
				t.Errorf("%s: geometry types %v, want %s", c.slug, types, c.geomType)
			}
		}
		if len(counts) != 25 {
			t.Errorf("loaded %d layers, want 25", len(counts))
		}
	})

	t.Run("demo rows are labelled, reference rows are not", func(t *testing.T) {
		for slug := range counts {
			notDemo := scalar[int64](t, pool, `SELECT count(*) FROM `+table(slug)+` WHERE NOT is_demo`)
			want := int64(0)
			if slug == "city_boundary" || slug == "places" {
				want = int64(counts[slug])
			}
			if notDemo != want {
				t.Errorf("%s: %d rows not marked demo, want %d", slug, notDemo, want)
			}
		}
	})

	t.Run("every demo feature lies within the city boundary", func(t *testing.T) {
		for slug := range counts {
			if slug == "city_boundary" || slug == "places" {
				continue
			}
			outside := scalar[int64](t, pool, `SELECT count(*) FROM `+table(slug)+` f
				WHERE NOT EXISTS (SELECT 1 FROM layer.city_boundary b WHERE ST_CoveredBy(f.geom, b.geom))`)
			if outside != 0 {
				t.Errorf("%s: %d features outside the city boundary", slug, outside)
			}
			invalid := scalar[int64](t, pool, `SELECT count(*) FROM `+table(slug)+` WHERE NOT ST_IsValid(geom)`)
			if invalid != 0 {
				t.Errorf("%s: %d invalid geometries", slug, invalid)
			}
		}
	})

	t.Run("districts split the boundary", func(t *testing.T) {
		ratio := scalar[float64](t, pool, `SELECT (SELECT sum(ST_Area(geom)) FROM layer.districts) / (SELECT ST_Area(geom) FROM layer.city_boundary)`)
		if math.Abs(ratio-1) > 1e-6 {
			t.Errorf("districts cover %.6f of the boundary, want 1", ratio)
		}
		overlap := scalar[float64](t, pool, `SELECT ST_Area(ST_Intersection(a.geom, b.geom)) FROM layer.districts a, layer.districts b WHERE a.id < b.id`)
		if overlap > 1e-9 {
			t.Errorf("districts overlap by %g square degrees", overlap)
		}
		pop := scalar[int64](t, pool, `SELECT sum(population) FROM layer.districts`)
		if pop != int64(sum.Residents) {
			t.Errorf("districts' population %d, want the buildings' %d", pop, sum.Residents)
		}
	})

	t.Run("cameras 240 installed and 460 planned", func(t *testing.T) {
		for status, want := range map[string]int64{"installed": CamerasInstalled, "planned": CamerasPlanned} {
			if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.cameras WHERE status = $1`, status); n != want {
				t.Errorf("%s cameras: %d, want %d", status, n, want)
			}
		}
	})

	t.Run("about 570,000 residents", func(t *testing.T) {
		n := scalar[int64](t, pool, `SELECT sum(residents) FROM layer.buildings`)
		if math.Abs(float64(n)-TargetResidents)/TargetResidents > 0.05 {
			t.Errorf("residents %d, want %d ± 5%%", n, TargetResidents)
		}
		att := scalar[int64](t, pool, `SELECT sum(attached_population) FROM layer.clinics`)
		if att != n {
			t.Errorf("clinics' attached population %d, want every resident (%d)", att, n)
		}
	})

	t.Run("the map is plausible", func(t *testing.T) {
		if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.buildings b JOIN layer.streets s ON ST_Intersects(b.geom, s.geom)`); n != 0 {
			t.Errorf("%d buildings overlap streets", n)
		}
		if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.buildings a JOIN layer.buildings b
			ON a.id < b.id AND ST_Intersects(a.geom, b.geom)`); n != 0 {
			t.Errorf("%d pairs of buildings overlap", n)
		}
		if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.bus_stops p WHERE NOT EXISTS
			(SELECT 1 FROM layer.streets s WHERE s.geom && ST_Expand(p.geom, 0.001)
			AND ST_DWithin(s.geom::geography, p.geom::geography, 25))`); n != 0 {
			t.Errorf("%d bus stops farther than 25 m from any street", n)
		}
		if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.bus_routes r WHERE NOT EXISTS
			(SELECT 1 FROM layer.bus_stops p WHERE r.ref = ANY(string_to_array(p.routes, ', '))
			AND ST_DWithin(r.geom::geography, p.geom::geography, 30))`); n != 0 {
			t.Errorf("%d bus routes with no stop along them", n)
		}
		// points outdoors are not inside buildings (schools, clinics and pharmacies are)
		for _, slug := range []string{"cameras", "bus_stops", "ramps", "street_lights", "biotoilets", "waste_sites",
			"playgrounds", "sports_grounds", "smart_crossings", "vehicles", "leisure_places"} {
			if n := scalar[int64](t, pool, `SELECT count(*) FROM `+table(slug)+` p JOIN layer.buildings b ON ST_Intersects(b.geom, p.geom)`); n != 0 {
				t.Errorf("%s: %d inside buildings", slug, n)
			}
		}
		if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.parks p JOIN layer.buildings b ON ST_Intersects(b.geom, p.geom)`); n != 0 {
			t.Errorf("%d buildings in parks", n)
		}
		if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.schools s JOIN layer.buildings b
			ON ST_Intersects(b.geom, s.geom) AND b.use = 'school'`); n != int64(counts["schools"]) {
			t.Errorf("%d of %d schools stand in a school building", n, counts["schools"])
		}
		if n := scalar[int64](t, pool, `SELECT count(*) FROM layer.streets WHERE abs(length_m - ST_Length(geom::geography)) > 0.5`); n != 0 {
			t.Errorf("%d streets whose length_m is not their length", n)
		}
	})

	before := snapshot(t, pool)
	t.Run("loading again leaves the same data", func(t *testing.T) {
		if _, err := Load(ctx, pool, Options{Seed: DefaultSeed, Now: testNow}, nil); err != nil {
			t.Fatal(err)
		}
		if after := snapshot(t, pool); !reflect.DeepEqual(before, after) {
			t.Errorf("reload changed the data:\n before %v\n after  %v", before, after)
		}
		for _, c := range catalog(t, pool) {
			if n := scalar[int64](t, pool, `SELECT count(*) FROM `+table(c.slug)); c.count != n {
				t.Errorf("%s: catalog says %d features after reload, table has %d", c.slug, c.count, n)
			}
		}
	})

	t.Run("a load that fails midway leaves the previous data", func(t *testing.T) {
		before := snapshot(t, pool)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		opts := Options{Seed: 99, Now: testNow, beforeLayer: func(slug string) error {
			if slug == "schools" {
				cancel() // the layers before this one are already replaced inside the transaction
			}
			return nil
		}}
		_, err := Load(cctx, pool, opts, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Load with a cancelled context = %v, want context.Canceled", err)
		}
		if after := snapshot(t, pool); !reflect.DeepEqual(before, after) {
			t.Errorf("failed load changed the data:\n before %v\n after  %v", before, after)
		}

		boom := errors.New("boom")
		opts.beforeLayer = func(slug string) error {
			if slug == "vehicles" {
				return boom
			}
			return nil
		}
		if _, err := Load(ctx, pool, opts, nil); !errors.Is(err, boom) {
			t.Fatalf("Load = %v, want boom", err)
		}
		if after := snapshot(t, pool); !reflect.DeepEqual(before, after) {
			t.Errorf("failed load changed the data:\n before %v\n after  %v", before, after)
		}
	})
}

// snapshot is a fingerprint of every layer: its catalog count and a hash of the geometry and
// attributes of its rows (not ids or timestamps, which a reload changes).
func snapshot(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range catalog(t, pool) {
		attrs := scalar[[]string](t, pool, `SELECT coalesce(array_agg(a->>'name'), '{}') FROM geoportal.layers,
			jsonb_array_elements(attributes) a WHERE slug = $1`, c.slug)
		cols := "geom, is_demo"
		for _, a := range attrs {
			cols += ", " + pgx.Identifier{a}.Sanitize()
		}
		h := scalar[string](t, pool, `SELECT count(*) || ':' || coalesce(md5(string_agg(h, '' ORDER BY h COLLATE "C")), '')
			FROM (SELECT md5(ROW(`+cols+`)::text) AS h FROM `+table(c.slug)+`) rows`)
		out[c.slug] = fmt.Sprintf("%d/%s", c.count, h)
	}
	return out
}

func TestLoadIfEmpty(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	sum, err := LoadIfEmpty(ctx, pool, Options{Seed: 3, Now: testNow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped || sum.Features == 0 {
		t.Fatalf("LoadIfEmpty on an empty database: skipped=%v features=%d", sum.Skipped, sum.Features)
	}
	before := snapshot(t, pool)
	sum, err = LoadIfEmpty(ctx, pool, Options{Seed: 4, Now: testNow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Skipped {
		t.Fatal("LoadIfEmpty loaded over existing features")
	}
	if after := snapshot(t, pool); !reflect.DeepEqual(before, after) {
		t.Error("LoadIfEmpty changed a database that had features")
	}
}

// A catalog without one of the demo layers gets a clear error and nothing is written.
func TestLoadMissingLayer(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `SELECT geoportal.drop_layer('ramps')`); err != nil {
		t.Fatal(err)
	}
	_, err := Load(ctx, pool, Options{Seed: 1, Now: testNow}, nil)
	if err == nil || !strings.Contains(err.Error(), "ramps") {
		t.Fatalf("Load without the ramps layer = %v, want an error naming it", err)
	}
	if n := scalar[int64](t, pool, `SELECT coalesce(sum(feature_count), 0)::bigint FROM geoportal.layers`); n != 0 {
		t.Errorf("a failed load left %d features", n)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(Options{Seed: DefaultSeed, Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures a whole load (generation plus the transaction) into a database that
// already holds the demo, as `geoportal demo` run a second time does.
func BenchmarkLoad(b *testing.B) {
	pool := dbtest.New(b)
	ctx := context.Background()
	if _, err := Load(ctx, pool, Options{Seed: DefaultSeed, Now: testNow}, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(ctx, pool, Options{Seed: DefaultSeed, Now: testNow}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
