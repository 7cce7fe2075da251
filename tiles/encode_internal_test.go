package tiles

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/layers"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
)

// TestEncoderMatchesSTAsMVT encodes the same features of every geometry type with our encoder
// and with PostGIS's ST_AsMVT and compares the decoded tiles: ids, geometries, properties.
func TestEncoderMatchesSTAsMVT(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	attrs := `[{"name": "name", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": false},
		{"name": "n", "type": "integer", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true},
		{"name": "big", "type": "bigint", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true},
		{"name": "r", "type": "double", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true},
		{"name": "ok", "type": "boolean", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true}]`
	// Geometries around the tile's centre, in degrees, of each type.
	tile := maptile.At([2]float64{57.17, 50.28}, 15)
	c := tile.Center()
	pt := func(dx, dy float64) string { return fmt.Sprintf("%v %v", c[0]+dx, c[1]+dy) }
	ring := func(x, y, d float64) string {
		return "(" + pt(x, y) + "," + pt(x+d, y) + "," + pt(x+d, y+d) + "," + pt(x, y+d) + "," + pt(x, y) + ")"
	}
	geoms := map[string][]string{
		"Point":           {"POINT(" + pt(0, 0) + ")", "POINT(" + pt(-0.003, 0.001) + ")"},
		"MultiPoint":      {"MULTIPOINT(" + pt(0, 0) + "," + pt(0.001, 0.001) + "," + pt(-0.002, 0) + ")"},
		"LineString":      {"LINESTRING(" + pt(-0.01, 0) + "," + pt(0, 0.0005) + "," + pt(0.001, -0.001) + ")"},
		"MultiLineString": {"MULTILINESTRING((" + pt(-0.001, 0) + "," + pt(0, 0.0005) + "),(" + pt(0.001, 0.001) + "," + pt(0.002, 0.0012) + "))"},
		"Polygon": {"POLYGON(" + ring(-0.001, -0.001, 0.002) + "," + ring(-0.0005, -0.0005, 0.0005) + ")",
			"POLYGON(" + ring(0.0015, 0.0015, 0.01) + ")"}, // crosses the tile edge: clipped
		"MultiPolygon": {"MULTIPOLYGON((" + ring(-0.002, -0.002, 0.0005) + "),(" + ring(0.001, 0.001, 0.0004) + "))"},
	}
	props := []string{"'Дом «1»', 5, 9007199254740993, 0.25, true", "NULL, -3, -1, -1e10, false"}
	tl := New(pool, layers.NewStore(pool), slog.New(slog.DiscardHandler), prometheus.NewRegistry(), Options{})
	for gtype, gs := range geoms {
		t.Run(gtype, func(t *testing.T) {
			slug := "enc_" + map[string]string{"Point": "pt", "MultiPoint": "mpt", "LineString": "ln",
				"MultiLineString": "mln", "Polygon": "pg", "MultiPolygon": "mpg"}[gtype]
			if _, err := pool.Exec(ctx, fmt.Sprintf(`SELECT geoportal.create_layer('{"slug": "%s", "direction": 0,
				"geometry_type": "%s", "title_en": "E", "title_ru": "E", "title_kk": "E", "attributes": %s}'::jsonb)`,
				slug, gtype, attrs)); err != nil {
				t.Fatal(err)
			}
			for i, g := range gs {
				if _, err := pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (id, geom, name, n, big, r, ok)
					VALUES (%d, ST_GeomFromText($1, 4326), %s)`, pgx.Identifier{"layer", slug}.Sanitize(), i+1,
					props[i%len(props)]), g); err != nil {
					t.Fatal(err)
				}
			}
			ls, err := layers.NewStore(pool).Layer(ctx, slug, true)
			if err != nil {
				t.Fatal(err)
			}
			d, err := compileLayer(ls)
			if err != nil {
				t.Fatal(err)
			}
			mb, fb := geo.MercatorBound(tile, 0), geo.LonLatBound(tile, bufferFraction)
			args := []any{slug, mb.Min[0], mb.Min[1], mb.Max[0], mb.Max[1], fb.Min[0], fb.Min[1], fb.Max[0], fb.Max[1], 1000}
			_, n, ours, err := tl.query(ctx, d.sqlPlain, args, d.props, slug, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(gs) {
				t.Errorf("%d features, want %d", n, len(gs))
			}
			var theirs []byte
			if err := pool.QueryRow(ctx, `SELECT ST_AsMVT(q, $1, 4096, 'geom', 'id') FROM (
				SELECT t.id, ST_AsMVTGeom(ST_Transform(t.geom, 3857), ST_MakeEnvelope($2, $3, $4, $5, 3857), 4096, 256, true) AS geom,
					t.name, t.n, t.big, t.r, t.ok
				FROM `+pgx.Identifier{"layer", slug}.Sanitize()+` t) q`, args[:5]...).Scan(&theirs); err != nil {
				t.Fatal(err)
			}
			a, err := mvt.Unmarshal(ours)
			if err != nil {
				t.Fatalf("our tile does not decode: %v", err)
			}
			b, err := mvt.Unmarshal(theirs)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != 1 || len(b) != 1 || a[0].Name != slug || a[0].Extent != 4096 || a[0].Version != 2 {
				t.Fatalf("layers: ours %v, ST_AsMVT's %v", a, b)
			}
			sortByID := func(l *mvt.Layer) {
				sort.Slice(l.Features, func(i, j int) bool { return l.Features[i].ID.(float64) < l.Features[j].ID.(float64) })
			}
			sortByID(a[0])
			sortByID(b[0])
			if diff := cmp.Diff(b[0].Features, a[0].Features); diff != "" {
				t.Errorf("features (-ST_AsMVT +ours):\n%s", diff)
			}
		})
	}
}
