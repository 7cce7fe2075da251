package tiles

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
)

// TestGoDrawnPolygonsMatchSTAsMVTGeom draws the same tiles twice, once with the polygons inside
// the tile drawn in Go (sqlLinearFast) and once all by ST_AsMVTGeom (sqlLinear): the same
// features come out, with the same shapes to the unit and the same orientation. The data mixes
// buildings of every size (down to ones that collapse when snapped), thin slivers, a polygon with
// a hole, a multipolygon, a self-crossing ring and polygons across tile edges.
func TestGoDrawnPolygonsMatchSTAsMVTGeom(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, `SELECT geoportal.create_layer('{"slug": "fp", "direction": 0,
		"geometry_type": "Polygon", "title_en": "F", "title_ru": "F", "title_kk": "F", "attributes": [
		{"name": "name", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true}]}'::jsonb)`); err != nil {
		t.Fatal(err)
	}
	// Rotated rectangles of 0.3 m to 80 m around Aktobe's centre, a few thousand of them.
	if _, err := pool.Exec(ctx, `SELECT setseed(0.42);
		INSERT INTO layer.fp (geom, name)
		SELECT ST_Rotate(ST_MakeEnvelope(x, y, x + w, y + h, 4326), a, ST_MakePoint(x, y)), 'b' || i
		FROM (SELECT i, 57.155 + random() * 0.03 AS x, 50.275 + random() * 0.015 AS y,
			power(10, -5.5 + random() * 2.5) AS w, power(10, -5.5 + random() * 2.5) AS h,
			CASE WHEN random() < 0.5 THEN 0 ELSE random() * 3.1416 END AS a
			FROM generate_series(1, 3000) AS i) AS r;
		INSERT INTO layer.fp (geom, name) VALUES
			(ST_MakePolygon(ST_MakeLine(ARRAY[ST_MakePoint(57.17, 50.28), ST_MakePoint(57.171, 50.28),
				ST_MakePoint(57.17, 50.281), ST_MakePoint(57.171, 50.281), ST_MakePoint(57.17, 50.28)])), 'bowtie'),
			(ST_SetSRID(ST_MakePolygon(ST_ExteriorRing(ST_MakeEnvelope(57.172, 50.282, 57.174, 50.2835)),
				ARRAY[ST_ExteriorRing(ST_MakeEnvelope(57.1725, 50.2825, 57.1735, 50.283))]), 4326), 'hole'),
			(ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[ST_MakePoint(57.168, 50.279), ST_MakePoint(57.169, 50.279),
				ST_MakePoint(57.168, 50.2790001), ST_MakePoint(57.168, 50.279)])), 4326), 'sliver')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE layer.fp ALTER COLUMN geom TYPE geometry(Geometry, 4326);
		INSERT INTO layer.fp (geom, name) VALUES (ST_Multi(ST_MakeEnvelope(57.166, 50.283, 57.1665, 50.2833, 4326)), 'multi'),
			(ST_Collect(ST_MakeEnvelope(57.1662, 50.2837, 57.1664, 50.2839, 4326), ST_MakeEnvelope(57.1666, 50.2837, 57.1668, 50.2839, 4326)), 'multi2')`); err != nil {
		t.Fatal(err)
	}
	ls, err := layers.NewStore(pool).Layers(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var d *layerDef
	for _, l := range ls {
		if l.Slug == "fp" {
			d, _ = compileLayer(l)
		}
	}
	if d == nil || d.sqlLinearFast == "" {
		t.Fatal("no fast query for a polygon layer")
	}
	tl := New(pool, layers.NewStore(pool), slog.New(slog.DiscardHandler), prometheus.NewRegistry(), Options{})
	draw := func(tile maptile.Tile, fast bool) map[uint64]orb.Polygon {
		lb, fb := geo.LonLatBound(tile, 0), geo.LonLatBound(tile, bufferFraction)
		args := []any{"fp", lb.Min[0], lb.Min[1], lb.Max[0], lb.Max[1], fb.Min[0], fb.Min[1], fb.Max[0], fb.Max[1], 100000}
		sql, fd := d.sqlLinear, (*fastDraw)(nil)
		if fast {
			ib := fastBound(lb)
			sql, fd = d.sqlLinearFast, &fastDraw{m: newLonLatMap(lb), exactSQL: d.sqlLinearIDs}
			args = append(args, ib.Min[0], ib.Min[1], ib.Max[0], ib.Max[1])
		}
		_, _, raw, err := tl.query(ctx, sql, args, d.props, "fp", fd)
		if err != nil {
			t.Fatal(err)
		}
		out := map[uint64]orb.Polygon{}
		if len(raw) == 0 {
			return out
		}
		layers, err := mvt.Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range layers[0].Features {
			if f.Properties["name"] == nil {
				t.Errorf("feature %v lost its name", f.ID)
			}
			switch g := f.Geometry.(type) {
			case orb.Polygon:
				out[uint64(f.ID.(float64))] = g
			case orb.MultiPolygon:
				for _, p := range g {
					out[uint64(f.ID.(float64))] = append(out[uint64(f.ID.(float64))], p...)
				}
			}
		}
		return out
	}
	// Most polygons must be drawn in Go, and the ones it hands back are the odd ones.
	for _, z := range []maptile.Zoom{14, 16} {
		tile := maptile.At(orb.Point{57.17, 50.28}, z)
		lb, fb := geo.LonLatBound(tile, 0), geo.LonLatBound(tile, bufferFraction)
		ib := fastBound(lb)
		rows, err := pool.Query(ctx, d.sqlLinearFast, "fp", lb.Min[0], lb.Min[1], lb.Max[0], lb.Max[1],
			fb.Min[0], fb.Min[1], fb.Max[0], fb.Max[1], 100000, ib.Min[0], ib.Min[1], ib.Max[0], ib.Max[1])
		if err != nil {
			t.Fatal(err)
		}
		enc := newLayerEncoder()
		drawn, handed := 0, map[string]bool{}
		for rows.Next() {
			vals := rows.RawValues()
			if vals[3] == nil {
				continue
			}
			if err := enc.drawPolygon(vals[3], newLonLatMap(lb)); errors.Is(err, errNeedsExact) {
				handed[string(vals[4])] = true
			} else if err != nil {
				t.Fatal(err)
			} else {
				drawn++
			}
		}
		rows.Close()
		odd := handed["bowtie"] && (z > 14 || handed["hole"] && handed["multi2"]) && !handed["multi"]
		if drawn < 10*len(handed) || !odd {
			t.Errorf("z%d: %d polygons drawn in Go, %d handed to ST_AsMVTGeom (%v)", z, drawn, len(handed), handed)
		}
		t.Logf("z%d: %d polygons drawn in Go, %d handed to ST_AsMVTGeom", z, drawn, len(handed))
	}

	compared := 0
	for _, z := range []maptile.Zoom{14, 15, 16, 18} {
		tile := maptile.At(orb.Point{57.17, 50.28}, z)
		exact, ours := draw(tile, false), draw(tile, true)
		if len(exact) == 0 {
			t.Fatalf("z%d: no features", z)
		}
		for id, pe := range exact {
			po, ok := ours[id]
			if !ok {
				t.Errorf("z%d feature %d: drawn by ST_AsMVTGeom %v, missing when drawn in Go", z, id, pe)
				continue
			}
			if len(pe) != len(po) {
				t.Errorf("z%d feature %d: %d rings by ST_AsMVTGeom, %d in Go", z, id, len(pe), len(po))
				continue
			}
			for i := range pe {
				ae, ao := ringArea(pe[i]), ringArea(po[i])
				if math.Signbit(ae) != math.Signbit(ao) || math.Abs(ae-ao) > 1 {
					t.Errorf("z%d feature %d ring %d: area %v by ST_AsMVTGeom, %v in Go", z, id, i, ae, ao)
				}
				if d := ringDistance(pe[i], po[i]); d > 0 {
					t.Errorf("z%d feature %d ring %d: %v by ST_AsMVTGeom, %v in Go (%v units apart)", z, id, i, pe[i], po[i], d)
				}
			}
			compared++
		}
		for id, po := range ours {
			if _, ok := exact[id]; !ok {
				t.Errorf("z%d feature %d: drawn in Go %v, left out by ST_AsMVTGeom", z, id, po)
			}
		}
	}
	if compared < 1000 {
		t.Errorf("only %d features compared", compared)
	}
}

func ringArea(r orb.Ring) float64 {
	var a float64
	for i := range r {
		p, q := r[i], r[(i+1)%len(r)]
		a += p[0]*q[1] - q[0]*p[1]
	}
	return a / 2
}

// ringDistance is how far the farthest vertex of either ring lies from the other ring's outline
// (0 when they draw the same outline, whatever their starting points and collinear vertices).
func ringDistance(a, b orb.Ring) float64 {
	far := 0.0
	for _, pair := range [2][2]orb.Ring{{a, b}, {b, a}} {
		for _, p := range pair[0] {
			best := math.Inf(1)
			r := pair[1]
			for i := range r {
				best = min(best, segmentDistance(p, r[i], r[(i+1)%len(r)]))
			}
			far = max(far, best)
		}
	}
	return far
}

func segmentDistance(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = max(0, min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

// TestSimpleRing checks the self-intersection test on small rings.
func TestSimpleRing(t *testing.T) {
	for _, tc := range []struct {
		ring []pt
		want bool
	}{
		{[]pt{{0, 0}, {4, 0}, {4, 4}, {0, 4}}, true},
		{[]pt{{0, 0}, {4, 0}, {0, 4}, {4, 4}}, false},         // bow tie
		{[]pt{{0, 0}, {4, 0}, {2, 0}, {2, 3}}, false},         // spike folding back along an edge
		{[]pt{{0, 0}, {4, 0}, {4, 4}, {2, 0}, {0, 4}}, false}, // vertex on another edge
		{[]pt{{0, 0}, {2, 0}, {4, 0}, {4, 4}, {0, 4}}, true},  // collinear vertex
		{[]pt{{0, 0}, {6, 0}, {6, 6}, {3, 1}, {0, 6}}, true},  // concave
	} {
		if got := simpleRing(tc.ring); got != tc.want {
			t.Errorf("simpleRing(%v) = %v, want %v", tc.ring, got, tc.want)
		}
	}
}
