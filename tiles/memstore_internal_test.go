package tiles

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const memTestLayers = `
SELECT geoportal.create_layer('{"slug": "mp", "direction": 0, "geometry_type": "Polygon",
  "title_en": "M", "title_ru": "M", "title_kk": "M", "attributes": [
    {"name": "name", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true},
    {"name": "levels", "type": "integer", "title": {"en": "L", "ru": "L", "kk": "L"}, "popup": true},
    {"name": "ratio", "type": "double", "title": {"en": "R", "ru": "R", "kk": "R"}, "popup": true},
    {"name": "flag", "type": "boolean", "title": {"en": "F", "ru": "F", "kk": "F"}, "popup": true},
    {"name": "opened", "type": "date", "title": {"en": "O", "ru": "O", "kk": "O"}, "popup": true},
    {"name": "secret", "type": "text", "title": {"en": "S", "ru": "S", "kk": "S"}, "popup": false}]}'::jsonb);
SELECT geoportal.create_layer('{"slug": "ml", "direction": 0, "geometry_type": "LineString",
  "title_en": "L", "title_ru": "L", "title_kk": "L", "attributes": [
    {"name": "name", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true},
    {"name": "lanes", "type": "integer", "title": {"en": "L", "ru": "L", "kk": "L"}, "popup": true}]}'::jsonb);
SELECT geoportal.create_layer('{"slug": "mpt", "direction": 1, "geometry_type": "Point",
  "title_en": "P", "title_ru": "P", "title_kk": "P", "attributes": [
    {"name": "name", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true},
    {"name": "kind", "type": "text", "title": {"en": "K", "ru": "K", "kk": "K"}, "popup": true}]}'::jsonb);
`

func memTestDef(t *testing.T, pool *pgxpool.Pool, slug string) *layerDef {
	t.Helper()
	ls, err := layers.NewStore(pool).Layers(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Slug == slug {
			d, err := compileLayer(l)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatalf("no layer %s", slug)
	return nil
}

// memTileArgs are, for a tile of d, the database's query drawing it wholly by ST_AsMVTGeom with
// its arguments, and memTile's arguments, as build makes them.
func memTileArgs(d *layerDef, tile maptile.Tile) (string, []any, tileArgs) {
	lb, fb, mb := geo.LonLatBound(tile, 0), geo.LonLatBound(tile, bufferFraction), geo.MercatorBound(tile, 0)
	if tile.Z >= linearFromZoom {
		args := []any{d.Slug, lb.Min[0], lb.Min[1], lb.Max[0], lb.Max[1], fb.Min[0], fb.Min[1], fb.Max[0], fb.Max[1], 100000}
		return d.sqlLinear, args, tileArgs{filter: fb, inner: fastBound(lb), m: newLonLatMap(lb), exactSQL: d.sqlLinearIDs, exactArgs: args}
	}
	args := []any{d.Slug, mb.Min[0], mb.Min[1], mb.Max[0], mb.Max[1], fb.Min[0], fb.Min[1], fb.Max[0], fb.Max[1], 100000}
	if d.sqlSimplifyIDs != "" {
		args = append(args, geo.TileSizeMercator(tile.Z)/1024)
		return d.sqlSimplify, args, tileArgs{filter: fb, m: newMercatorMap(mb), tol: Extent / 1024, exactSQL: d.sqlSimplifyIDs, exactArgs: args}
	}
	return d.sqlPlain, args, tileArgs{filter: fb, m: newMercatorMap(mb), exactSQL: d.sqlPlainIDs, exactArgs: args}
}

// TestMemoryTilesMatchSTAsMVTGeom draws the same tiles from the layer's copy in memory and wholly
// by ST_AsMVTGeom: the same features come out, with the same properties (text, numbers, booleans,
// dates, nulls), the same points, and the same polygons — to the unit inside the tile's buffer,
// within a unit where Go cut them to the buffer's edge. The polygons are rotated rectangles and L
// shapes of every size around tile corners, so that many cross the buffer's edge, plus a bow tie,
// a polygon with a hole and a sliver.
func TestMemoryTilesMatchSTAsMVTGeom(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, memTestLayers); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `SELECT setseed(0.17);
		INSERT INTO layer.mp (geom, name, levels, ratio, flag, opened, secret)
		SELECT ST_Rotate(CASE WHEN i % 5 = 0
				THEN ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[ST_MakePoint(x, y), ST_MakePoint(x + w, y),
					ST_MakePoint(x + w, y + h / 3), ST_MakePoint(x + w / 3, y + h / 3), ST_MakePoint(x + w / 3, y + h),
					ST_MakePoint(x, y + h), ST_MakePoint(x, y)])), 4326)
				ELSE ST_MakeEnvelope(x, y, x + w, y + h, 4326) END, a, ST_MakePoint(x, y)),
			CASE WHEN i % 7 = 0 THEN NULL ELSE 'дом ' || (i % 50) END,
			CASE WHEN i % 3 = 0 THEN NULL ELSE i % 12 END,
			CASE WHEN i % 4 = 0 THEN NULL ELSE round((random() * 100)::numeric, 2)::float8 END,
			CASE WHEN i % 6 = 0 THEN NULL ELSE i % 2 = 0 END,
			CASE WHEN i % 5 = 1 THEN NULL ELSE date '2020-01-01' + i % 400 END,
			'hidden'
		FROM (SELECT i, 57.163 + random() * 0.014 AS x, 50.276 + random() * 0.008 AS y,
			power(10, -5.3 + random() * 2.8) AS w, power(10, -5.3 + random() * 2.8) AS h,
			CASE WHEN random() < 0.5 THEN 0 ELSE random() * 3.1416 END AS a
			FROM generate_series(1, 4000) AS i) AS r;
		INSERT INTO layer.mp (geom, name) VALUES
			(ST_MakePolygon(ST_MakeLine(ARRAY[ST_MakePoint(57.17, 50.28), ST_MakePoint(57.171, 50.28),
				ST_MakePoint(57.17, 50.281), ST_MakePoint(57.171, 50.281), ST_MakePoint(57.17, 50.28)])), 'bowtie'),
			(ST_SetSRID(ST_MakePolygon(ST_ExteriorRing(ST_MakeEnvelope(57.172, 50.282, 57.174, 50.2835)),
				ARRAY[ST_ExteriorRing(ST_MakeEnvelope(57.1725, 50.2825, 57.1735, 50.283))]), 4326), 'hole'),
			(ST_MakeEnvelope(57.10, 50.20, 57.30, 50.35, 4326), 'huge');
		INSERT INTO layer.ml (geom, name, lanes)
		SELECT ST_SetSRID(ST_MakeLine(ARRAY(
				SELECT ST_MakePoint(x + sum(dx) OVER (ORDER BY k), y + sum(dy) OVER (ORDER BY k))
				FROM (SELECT k, (random() - 0.5) * len AS dx, (random() - 0.5) * len AS dy
					FROM generate_series(1, 2 + i % 7) AS k) AS steps)), 4326),
			CASE WHEN i % 5 = 0 THEN NULL ELSE 'улица ' || (i % 40) END, i % 4
		FROM (SELECT i, 57.163 + random() * 0.014 AS x, 50.276 + random() * 0.008 AS y,
			power(10, -5 + random() * 3) AS len FROM generate_series(1, 1500) AS i) AS r;
		INSERT INTO layer.mpt (geom, name, kind)
		SELECT ST_SetSRID(ST_MakePoint(57.163 + random() * 0.014, 50.276 + random() * 0.008), 4326),
			CASE WHEN i % 9 = 0 THEN NULL ELSE 'stop ' || i END, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END
		FROM generate_series(1, 2000) AS i`); err != nil {
		t.Fatal(err)
	}
	tl := New(pool, layers.NewStore(pool), slog.New(slog.DiscardHandler), prometheus.NewRegistry(), Options{})
	compared, clipped, tiles := 0, 0, 0
	for _, slug := range []string{"mp", "ml", "mpt"} {
		d := memTestDef(t, pool, slug)
		if d.sqlMemAll == "" {
			t.Fatalf("%s: no query for the copy in memory", slug)
		}
		ml := &memLayer{store: tl.mem, slug: slug, fingerprint: d.fingerprint}
		if err := tl.mem.read(ctx, d, ml, nil); err != nil {
			t.Fatal(err)
		}
		// A 3×3 block of tiles around the centre at each zoom: features cross every edge.
		// Below z14 each latitude is projected to Web Mercator and polygons are simplified (z12
		// points are clustered by the database, not drawn from memory).
		zooms := []maptile.Zoom{12, 13, 14, 15, 16, 18}
		if slug == "mpt" {
			zooms = zooms[1:]
		}
		for _, z := range zooms {
			c := maptile.At(orb.Point{57.17, 50.28}, z)
			for dx := -1; dx <= 1; dx++ {
				for dy := -1; dy <= 1; dy++ {
					tile := maptile.New(uint32(int(c.X)+dx), uint32(int(c.Y)+dy), z)
					sql, args, ta := memTileArgs(d, tile)
					_, _, exactRaw, err := tl.query(ctx, sql, args, d.props, slug, nil)
					if err != nil {
						t.Fatal(err)
					}
					_, _, memRaw, done, err := tl.memQuery(ctx, d, ml, ta, d.props)
					if err != nil || !done {
						t.Fatalf("memQuery: done %v, %v", done, err)
					}
					n, c := compareTiles(t, fmt.Sprintf("%s z%d %+d%+d", slug, z, dx, dy), exactRaw, memRaw, ta.tol)
					compared += n
					clipped += c
					tiles++
				}
			}
		}
	}
	if compared < 5000 || clipped < 200 {
		t.Errorf("only %d features compared, %d of them cut to the buffer", compared, clipped)
	}
	t.Logf("%d features compared, %d cut to the buffer's edge or simplified", compared, clipped)
	if n := counterValue(tl.metrics.memTiles); n != float64(tiles) {
		t.Errorf("%v tiles drawn from memory, want %d", n, tiles)
	}
}

// compareTiles compares a tile drawn by ST_AsMVTGeom with one drawn from memory and returns how
// many features it compared and how many of them reach the buffer's edge.
func compareTiles(t *testing.T, name string, exactRaw, memRaw []byte, tol float64) (compared, clipped int) {
	t.Helper()
	exact, ours := features(t, exactRaw), features(t, memRaw)
	// Whether a tiny polygon survives simplification and snapping may differ by a unit's rounding.
	tiny := 2.0
	if tol > 0 {
		tiny = 4 * tol * tol
	}
	for id, fe := range exact {
		fo, ok := ours[id]
		if !ok {
			if a := geomArea(fe.Geometry) + lineLength(fe.Geometry); a > tiny {
				t.Errorf("%s feature %d: drawn by ST_AsMVTGeom (area %v), missing from memory: %v", name, id, a, fe.Geometry)
			}
			continue
		}
		if !reflect.DeepEqual(fe.Properties, fo.Properties) {
			t.Errorf("%s feature %d: properties %v by the database, %v from memory", name, id, fe.Properties, fo.Properties)
		}
		if _, ok := fe.Properties["secret"]; ok {
			t.Errorf("%s feature %d: a property not meant for tiles", name, id)
		}
		compared++
		switch fe.Geometry.(type) {
		case orb.Point:
			if fe.Geometry != fo.Geometry {
				t.Errorf("%s point %d: %v by the database, %v from memory", name, id, fe.Geometry, fo.Geometry)
			}
		case orb.Polygon, orb.MultiPolygon:
			re, ro := rings(fe.Geometry), rings(fo.Geometry)
			if tol > 0 {
				// Simplified: the database simplifies in metres before snapping, Go in tile
				// units; a point kept by one and not the other moves the outline by up to the
				// tolerance.
				clipped++
				if d := visibleDistance(re, ro); d > tol+1 {
					t.Errorf("%s feature %d: %v by the database, %v from memory: %v apart", name, id, fe.Geometry, fo.Geometry, d)
				}
				continue
			}
			if !reachesEdge(re) {
				// Inside the buffer Go draws what ST_AsMVTGeom draws, to the unit.
				if len(re) != len(ro) {
					t.Errorf("%s feature %d: %v by the database, %v from memory", name, id, fe.Geometry, fo.Geometry)
					continue
				}
				for i := range re {
					ae, ao := ringArea(re[i]), ringArea(ro[i])
					if d := ringDistance(re[i], ro[i]); math.Signbit(ae) != math.Signbit(ao) || d > 0 || math.Abs(ae-ao) > 1 {
						t.Errorf("%s feature %d ring %d: %v by the database, %v from memory, %v apart", name, id, i, re[i], ro[i], d)
					}
				}
				continue
			}
			// Cut to the buffer's edge: Go cuts before snapping, wagyu after, so the outlines may
			// part where they run through the buffer (steep edges move by several units along
			// its edge, a sliver pinched by snapping may be split in two); what is drawn on the
			// tile itself must agree to the unit.
			clipped++
			if d := visibleDistance(re, ro); d > 1 {
				t.Errorf("%s feature %d: %v by the database, %v from memory: %v apart on the tile", name, id, fe.Geometry, fo.Geometry, d)
			}
			// A unit's move of a point on the edge changes a long sliver's area by half its length.
			outline := 0.0
			for _, r := range re {
				outline += perimeter(r)
			}
			if ae, ao := geomArea(fe.Geometry), geomArea(fo.Geometry); math.Abs(ae-ao) > 1+outline {
				t.Errorf("%s feature %d: area %v by the database, %v from memory: %v, %v", name, id, ae, ao, fe.Geometry, fo.Geometry)
			}
		case orb.LineString, orb.MultiLineString:
			le, lo := lines(fe.Geometry), lines(fo.Geometry)
			if tol == 0 && !linesReachEdge(le) && !linesReachEdge(lo) {
				// Inside the buffer: the same points.
				if !reflect.DeepEqual(le, lo) {
					t.Errorf("%s line %d: %v by the database, %v from memory", name, id, le, lo)
				}
				continue
			}
			// Cut or simplified: the same on the tile, within the tolerance.
			clipped++
			if d := visibleLineDistance(le, lo); d > tol+1 {
				t.Errorf("%s line %d: %v by the database, %v from memory: %v apart", name, id, le, lo, d)
			}
		default:
			if !reflect.DeepEqual(fe.Geometry, fo.Geometry) {
				t.Errorf("%s feature %d: %v by the database, %v from memory", name, id, fe.Geometry, fo.Geometry)
			}
		}
	}
	for id, fo := range ours {
		if _, ok := exact[id]; !ok {
			if a := geomArea(fo.Geometry) + lineLength(fo.Geometry); a > tiny || fo.Geometry.GeoJSONType() == "Point" {
				t.Errorf("%s feature %d: drawn from memory %v, left out by ST_AsMVTGeom", name, id, fo.Geometry)
			}
		}
	}
	return compared, clipped
}

func features(t *testing.T, raw []byte) map[uint64]*geojsonFeature {
	t.Helper()
	out := map[uint64]*geojsonFeature{}
	if len(raw) == 0 {
		return out
	}
	ls, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ls[0].Features {
		id := uint64(f.ID.(float64))
		if _, dup := out[id]; dup {
			t.Errorf("feature %d twice in one tile", id)
		}
		out[id] = &geojsonFeature{Geometry: f.Geometry, Properties: f.Properties}
	}
	return out
}

type geojsonFeature struct {
	Geometry   orb.Geometry
	Properties map[string]any
}

func geomArea(g orb.Geometry) float64 {
	var a float64
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			a += ringArea(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			a += geomArea(p)
		}
	}
	return math.Abs(a)
}

func reachesEdge(rs []orb.Ring) bool {
	for _, r := range rs {
		for _, q := range r {
			if q[0] <= -Buffer+1 || q[0] >= Extent+Buffer-1 || q[1] <= -Buffer+1 || q[1] >= Extent+Buffer-1 {
				return true
			}
		}
	}
	return false
}

// TestMemoryFollowsChanges: after the layer is held in memory, every change (insert, attribute
// update, move, delete, truncate) is in the very next tile built, by the database while the copy
// catches up and from memory once it has; the copy catches up from the notifications alone.
func TestMemoryFollowsChanges(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, memTestLayers); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO layer.mp (id, geom, name) OVERRIDING SYSTEM VALUE VALUES
		(1, ST_MakeEnvelope(57.1700, 50.2800, 57.1702, 50.2801, 4326), 'one'),
		(2, ST_MakeEnvelope(57.1705, 50.2803, 57.1707, 50.2804, 4326), 'two'),
		(3, ST_MakeEnvelope(57.1710, 50.2806, 57.1712, 50.2807, 4326), 'three')`)
	tl := New(pool, layers.NewStore(pool), slog.New(slog.DiscardHandler), prometheus.NewRegistry(), Options{})
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { tl.Invalidator().Run(lctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-tl.Invalidator().Connected():
	case <-time.After(20 * time.Second):
		t.Fatal("invalidator did not connect")
	}
	tile := maptile.At(orb.Point{57.1705, 50.2803}, 16)
	// Through the front door once, so that the tiler holds the catalog, as when serving.
	if _, err := tl.Tile(ctx, "mp", int(tile.Z), int(tile.X), int(tile.Y), false); err != nil {
		t.Fatal(err)
	}
	d := tl.catalog.Load().defs["mp"]
	build := func() map[uint64]*geojsonFeature {
		t.Helper()
		e, err := tl.build(ctx, d, tile, "mp/test")
		if err != nil {
			t.Fatal(err)
		}
		return features(t, e.raw)
	}
	names := func(fs map[uint64]*geojsonFeature) map[uint64]string {
		out := map[uint64]string{}
		for id, f := range fs {
			out[id], _ = f.Properties["name"].(string)
		}
		return out
	}
	// caughtUp waits until the copy holds the layer's current version.
	caughtUp := func() {
		t.Helper()
		var v int64
		if err := pool.QueryRow(ctx, `SELECT version FROM geoportal.layers WHERE slug = 'mp'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			tl.mem.mu.Lock()
			ml := tl.mem.layers["mp"]
			tl.mem.mu.Unlock()
			if ml == nil {
				tl.mem.layer(d) // dropped (truncate): loaded again
			} else {
				ml.mu.RLock()
				ok := ml.ready && ml.version == v
				ml.mu.RUnlock()
				if ok {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the copy did not reach version %d", v)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	want := func(step string, got map[uint64]string, w map[uint64]string) {
		t.Helper()
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: tile holds %v, want %v", step, got, w)
		}
	}
	fromMemory := func(step string, f func() map[uint64]*geojsonFeature) map[uint64]*geojsonFeature {
		t.Helper()
		before := counterValue(tl.metrics.memTiles)
		fs := f()
		if counterValue(tl.metrics.memTiles) != before+1 {
			t.Errorf("%s: the tile was not drawn from memory", step)
		}
		return fs
	}

	want("before the copy", names(build()), map[uint64]string{1: "one", 2: "two", 3: "three"})
	caughtUp()
	want("loaded", names(fromMemory("loaded", build)), map[uint64]string{1: "one", 2: "two", 3: "three"})

	steps := []struct {
		name string
		sql  string
		want map[uint64]string
	}{
		{"insert", `INSERT INTO layer.mp (id, geom, name) OVERRIDING SYSTEM VALUE VALUES
			(4, ST_MakeEnvelope(57.1703, 50.2801, 57.1704, 50.2802, 4326), 'four')`,
			map[uint64]string{1: "one", 2: "two", 3: "three", 4: "four"}},
		{"attribute", `UPDATE layer.mp SET name = 'uno' WHERE id = 1`,
			map[uint64]string{1: "uno", 2: "two", 3: "three", 4: "four"}},
		{"move away", `UPDATE layer.mp SET geom = ST_Translate(geom, 0.05, 0) WHERE id = 2`,
			map[uint64]string{1: "uno", 3: "three", 4: "four"}},
		{"delete", `DELETE FROM layer.mp WHERE id = 3`,
			map[uint64]string{1: "uno", 4: "four"}},
		{"two statements", `UPDATE layer.mp SET geom = ST_Translate(geom, -0.05, 0) WHERE id = 2;
			UPDATE layer.mp SET name = 'dos' WHERE id = 2`,
			map[uint64]string{1: "uno", 2: "dos", 4: "four"}},
		{"truncate", `TRUNCATE layer.mp`, map[uint64]string{}},
		{"after truncate", `INSERT INTO layer.mp (id, geom, name) OVERRIDING SYSTEM VALUE VALUES
			(5, ST_MakeEnvelope(57.1703, 50.2801, 57.1704, 50.2802, 4326), 'five')`,
			map[uint64]string{5: "five"}},
	}
	for _, s := range steps {
		loads := counterValue(tl.metrics.memLoads)
		exec(s.sql)
		// At once: whichever way the tile is drawn, it holds the change.
		want(s.name+", at once", names(build()), s.want)
		caughtUp()
		want(s.name+", caught up", names(fromMemory(s.name, build)), s.want)
		// The copy followed the change by reading the changed extent, not the whole layer
		// (TRUNCATE names no extent: the copy is read again).
		reloaded := counterValue(tl.metrics.memLoads) > loads
		if reloaded != (s.name == "truncate") {
			t.Errorf("%s: the whole layer read again: %v", s.name, reloaded)
		}
	}
	// A dropped layer is not found, not an error, even while its copy is held.
	exec(`SELECT geoportal.drop_layer('mp')`)
	if _, err := tl.build(ctx, d, tile, "mp/test"); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("tile of a dropped layer: %v, want not found", err)
	}
}

// TestMemoryBudget: a layer that does not fit the budget stays in the database.
func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, memTestLayers+`
		INSERT INTO layer.mpt (geom, name) SELECT ST_SetSRID(ST_MakePoint(57.17 + i * 1e-5, 50.28), 4326), 'p' || i
		FROM generate_series(1, 5000) AS i`); err != nil {
		t.Fatal(err)
	}
	tl := New(pool, layers.NewStore(pool), slog.New(slog.DiscardHandler), prometheus.NewRegistry(), Options{MemoryBytes: 100 << 10})
	d := memTestDef(t, pool, "mpt")
	if tl.mem.layer(d) != nil {
		t.Fatal("the copy was ready before it was loaded")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		tl.mem.mu.Lock()
		ml := tl.mem.layers["mpt"]
		tl.mem.mu.Unlock()
		if ml != nil && ml.tooBig.Load() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the layer was not found too big")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e, err := tl.build(ctx, d, maptile.At(orb.Point{57.17, 50.28}, 16), "mpt/test")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(features(t, e.raw)); n == 0 {
		t.Error("no features from the database")
	}
	if n := counterValue(tl.metrics.memTiles); n != 0 {
		t.Errorf("%v tiles drawn from memory over the budget", n)
	}
	if used := tl.mem.usedBytes(); used != 0 {
		t.Errorf("%d bytes counted for a layer not held", used)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func perimeter(r orb.Ring) float64 {
	var p float64
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		p += math.Hypot(b[0]-a[0], b[1]-a[1])
	}
	return p
}

// rings lists the rings of a polygon or multipolygon.
func rings(g orb.Geometry) []orb.Ring {
	switch g := g.(type) {
	case orb.Polygon:
		return g
	case orb.MultiPolygon:
		var out []orb.Ring
		for _, p := range g {
			out = append(out, p...)
		}
		return out
	}
	return nil
}

// visibleDistance is how far the farthest vertex on the tile itself (not in its buffer) of either
// outline lies from the other outline.
func visibleDistance(a, b []orb.Ring) float64 {
	far := 0.0
	for _, pair := range [2][2][]orb.Ring{{a, b}, {b, a}} {
		for _, r := range pair[0] {
			for _, p := range r {
				if p[0] < 0 || p[0] > Extent || p[1] < 0 || p[1] > Extent {
					continue
				}
				best := math.Inf(1)
				for _, o := range pair[1] {
					for i := range o {
						best = min(best, segmentDistance(p, o[i], o[(i+1)%len(o)]))
					}
				}
				far = max(far, best)
			}
		}
	}
	return far
}

// TestVersionGate: a caller always gets versions read after it asked, and callers asking while a
// read runs share the next one.
func TestVersionGate(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	reads := 0
	release := make(chan struct{})
	g := versionGate{read: func(context.Context) (map[string]int64, error) {
		mu.Lock()
		reads++
		n := reads
		mu.Unlock()
		if n == 1 {
			<-release // the first read is slow
		}
		return map[string]int64{"a": int64(n)}, nil
	}}
	first := make(chan map[string]int64)
	go func() { v, _ := g.get(ctx); first <- v }()
	// Wait until the first read runs, then ask ten times while it does.
	for start := time.Now(); time.Since(start) < 10*time.Second; {
		mu.Lock()
		n := reads
		mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	got := make([]int64, 10)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := g.get(ctx)
			if err != nil {
				t.Error(err)
			}
			got[i] = v["a"]
		}()
	}
	// Release the slow read once all ten have joined the next one.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		n := 0
		if g.next != nil {
			n = g.next.joined
		}
		g.mu.Unlock()
		if n == 10 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release) // (if they did not all join, the checks below say so)
	wg.Wait()
	if v := <-first; v["a"] != 1 {
		t.Errorf("first caller got read %d", v["a"])
	}
	for i, v := range got {
		// Asked while read 1 ran: they must not get it (it may predate a commit they follow).
		if v != 2 {
			t.Errorf("caller %d got read %d, want the shared read 2", i, v)
		}
	}
	if v, _ := g.get(ctx); v["a"] != 3 {
		t.Errorf("a later caller got read %d, want a new read (3)", v["a"])
	}
}

func lines(g orb.Geometry) []orb.LineString {
	switch g := g.(type) {
	case orb.LineString:
		return []orb.LineString{g}
	case orb.MultiLineString:
		return g
	}
	return nil
}

func lineLength(g orb.Geometry) float64 {
	var n float64
	for _, l := range lines(g) {
		for i := 1; i < len(l); i++ {
			n += math.Hypot(l[i][0]-l[i-1][0], l[i][1]-l[i-1][1])
		}
	}
	return n
}

func linesReachEdge(ls []orb.LineString) bool {
	for _, l := range ls {
		for _, q := range l {
			if q[0] <= -Buffer+1 || q[0] >= Extent+Buffer-1 || q[1] <= -Buffer+1 || q[1] >= Extent+Buffer-1 {
				return true
			}
		}
	}
	return false
}

// visibleLineDistance is how far the farthest point on the tile itself of either drawing lies
// from the other drawing.
func visibleLineDistance(a, b []orb.LineString) float64 {
	far := 0.0
	for _, pair := range [2][2][]orb.LineString{{a, b}, {b, a}} {
		for _, l := range pair[0] {
			for _, p := range l {
				if p[0] < 0 || p[0] > Extent || p[1] < 0 || p[1] > Extent {
					continue
				}
				best := math.Inf(1)
				for _, o := range pair[1] {
					for i := 1; i < len(o); i++ {
						best = min(best, segmentDistance(p, o[i-1], o[i]))
					}
					if len(o) == 1 {
						best = min(best, math.Hypot(p[0]-o[0][0], p[1]-o[0][1]))
					}
				}
				far = max(far, best)
			}
		}
	}
	return far
}
