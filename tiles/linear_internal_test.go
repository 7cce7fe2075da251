package tiles

import (
	"context"
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

// TestLinearTileMatchesProjectedTile draws the same tiles with PROJ's Web Mercator and with the
// tile's linear map (used from linearFromZoom on): every vertex lands on the same unit of the
// tile extent, or the next one, at the city's latitude and far north.
func TestLinearTileMatchesProjectedTile(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, `SELECT geoportal.create_layer('{"slug": "lin", "direction": 0,
		"geometry_type": "Polygon", "title_en": "L", "title_ru": "L", "title_kk": "L", "attributes": []}'::jsonb)`); err != nil {
		t.Fatal(err)
	}
	// Irregular polygons (random vertex jitter) over two areas: Aktobe and 70° N.
	if _, err := pool.Exec(ctx, `INSERT INTO layer.lin (geom)
		SELECT ST_MakePolygon(ST_MakeLine(ARRAY[
			ST_MakePoint(x, y), ST_MakePoint(x + 0.0004 + random() * 0.0003, y + random() * 0.0001),
			ST_MakePoint(x + 0.0005, y + 0.0003 + random() * 0.0002), ST_MakePoint(x - random() * 0.0001, y + 0.0004),
			ST_MakePoint(x, y)]))::geometry(Polygon, 4326)
		FROM (SELECT ST_SetSRID(ST_MakePoint(0, 0), 4326)) AS dummy,
			LATERAL (SELECT c.lon + (i % 40) * 0.0011 AS x, c.lat + (i / 40) * 0.0009 AS y
				FROM generate_series(0, 1599) AS i,
				(VALUES (57.15, 50.27), (20.0, 70.0)) AS c(lon, lat)) AS pts`); err != nil {
		t.Fatal(err)
	}
	ls, err := layers.NewStore(pool).Layers(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var d *layerDef
	for _, l := range ls {
		if l.Slug == "lin" {
			d, _ = compileLayer(l)
		}
	}
	tl := New(pool, layers.NewStore(pool), slog.New(slog.DiscardHandler), prometheus.NewRegistry(), Options{})
	draw := func(sql string, bounds orb.Bound, tile maptile.Tile) map[uint64]orb.Polygon {
		fb := geo.LonLatBound(tile, bufferFraction)
		_, _, raw, err := tl.query(ctx, sql, []any{"lin", bounds.Min[0], bounds.Min[1], bounds.Max[0], bounds.Max[1],
			fb.Min[0], fb.Min[1], fb.Max[0], fb.Max[1], 100000}, d.props, "lin", nil)
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
			out[uint64(f.ID.(float64))] = f.Geometry.(orb.Polygon)
		}
		return out
	}
	compared := 0
	for _, c := range []orb.Point{{57.17, 50.28}, {20.02, 70.02}} {
		for _, z := range []maptile.Zoom{14, 15, 16, 18} {
			tile := maptile.At(c, z)
			exact := draw(d.sqlPlain, geo.MercatorBound(tile, 0), tile)
			linear := draw(d.sqlLinear, geo.LonLatBound(tile, 0), tile)
			if len(exact) == 0 || len(exact) != len(linear) {
				t.Fatalf("z%d at %v: %d features projected, %d linear", z, c, len(exact), len(linear))
			}
			for id, pe := range exact {
				pl := linear[id]
				// Vertices inside the tile must match; in the buffer the two maps differ by
				// design (the linear one extrapolates), and a ring may start elsewhere.
				for _, p := range pe[0] {
					if p[0] < 0 || p[0] > Extent || p[1] < 0 || p[1] > Extent {
						continue
					}
					best := math.Inf(1)
					for _, r := range pl {
						for _, q := range r {
							best = min(best, math.Max(math.Abs(p[0]-q[0]), math.Abs(p[1]-q[1])))
						}
					}
					if best > 1 {
						t.Errorf("z%d feature %d: projected vertex %v is %v units from the linear drawing %v", z, id, p, best, pl)
					}
				}
				compared++
			}
		}
	}
	if compared < 100 {
		t.Errorf("only %d features compared", compared)
	}
}
