package tiles_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/tiles"
	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

func TestTileFeaturesIDsAndProperties(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	tile := centreTile(16)
	c := tile.Center()
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, name, levels, ratio, meter, opened, secret) VALUES
		(11, $1, 'Дом', 5, 0.5, true, '2020-05-01', 'hidden'),
		(12, $2, NULL, 2, NULL, false, NULL, 'hidden')`,
		square(c[0]-0.001, c[1]-0.0005, 0.0004), square(c[0]+0.0005, c[1], 0.0003))

	res, ls := f.get(t, "t_poly", tile)
	if res.ETag == "" || !strings.HasPrefix(res.ETag, `W/"`) {
		t.Errorf("ETag = %q, want a weak entity tag", res.ETag)
	}
	if len(ls) != 1 || ls[0].Name != "t_poly" {
		t.Fatalf("layers = %v, want one named t_poly", names(ls))
	}
	if ls[0].Extent != tiles.Extent {
		t.Errorf("extent = %d, want %d", ls[0].Extent, tiles.Extent)
	}
	got := map[uint64]map[string]any{}
	for _, ft := range ls[0].Features {
		fid, ok := ft.ID.(float64) // orb decodes ids as float64
		if !ok || fid != float64(uint64(fid)) {
			t.Fatalf("feature id %v (%T) is not an integer", ft.ID, ft.ID)
		}
		id := uint64(fid)
		if _, ok := ft.Geometry.(orb.Polygon); !ok {
			t.Errorf("feature %d geometry is %T, want a polygon", id, ft.Geometry)
		}
		got[id] = map[string]any(ft.Properties)
	}
	want := map[uint64]map[string]any{
		// Popup attributes plus name, typed as in the table; "secret" (no popup) never.
		11: {"name": "Дом", "levels": 5.0, "ratio": 0.5, "meter": true, "opened": "2020-05-01"},
		12: {"levels": 2.0, "meter": false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("features (-want +got):\n%s", diff)
	}
}

func names(ls mvt.Layers) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

func TestTileClipsToBuffer(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	tile := centreTile(16)
	c := tile.Center()
	// A street running through ten tiles east to west.
	f.exec(t, `INSERT INTO layer.t_line (id, geom, kind) VALUES (1, ST_GeomFromText($1, 4326), 'primary')`,
		fmt.Sprintf("LINESTRING(%s, %s)", ll(c[0]-0.03, c[1]), ll(c[0]+0.03, c[1])))
	_, ls := f.get(t, "t_line", tile)
	l := layerNamed(ls, "t_line")
	if l == nil || len(l.Features) != 1 {
		t.Fatalf("want one feature in t_line, got %v", ls)
	}
	var minX, maxX float64 = 1e9, -1e9
	for _, p := range l.Features[0].Geometry.(orb.LineString) {
		minX, maxX = min(minX, p[0]), max(maxX, p[0])
	}
	// Clipped at the tile's buffer: 256 units beyond each edge of the 4096 extent.
	if minX != -tiles.Buffer || maxX != tiles.Extent+tiles.Buffer {
		t.Errorf("line spans x %v..%v in tile units, want it clipped to %d..%d", minX, maxX, -tiles.Buffer, tiles.Extent+tiles.Buffer)
	}
	if got := l.Features[0].Properties["kind"]; got != "primary" {
		t.Errorf("kind = %v", got)
	}
}

func TestTileSimplifiesAtLowZoom(t *testing.T) {
	// A circle of 4,000 vertices, about 1.4 km across.
	const circle = `INSERT INTO layer.t_poly (id, geom, levels)
		SELECT 1, ST_MakePolygon(ST_MakeLine(array_agg(ST_SetSRID(ST_MakePoint(
			$1 + 0.01 * cos(2 * pi() * i / 4000), $2 + 0.0064 * sin(2 * pi() * i / 4000)), 4326) ORDER BY i))), 1
		FROM generate_series(0, 4000) AS i`
	vertices := func(f *fixture, z maptile.Zoom) int {
		_, ls := f.get(t, "t_poly", centreTile(z))
		l := layerNamed(ls, "t_poly")
		if l == nil || len(l.Features) != 1 {
			t.Fatalf("z%d: want one feature, got %v", z, ls)
		}
		n := 0
		for _, r := range l.Features[0].Geometry.(orb.Polygon) {
			n += len(r)
		}
		return n
	}
	plain := newFixture(t, tiles.Options{SimplifyBelow: -1})
	plain.exec(t, circle, cLon, cLat)
	simple := newFixture(t, tiles.Options{})
	simple.exec(t, circle, cLon, cLat)

	z12plain, z12 := vertices(plain, 12), vertices(simple, 12)
	if z12 > 200 || z12 < 8 {
		t.Errorf("simplified circle at z12 has %d vertices, want 8..200", z12)
	}
	if z12plain < 5*z12 {
		t.Errorf("unsimplified circle at z12 has %d vertices, simplified %d: want many more without simplification", z12plain, z12)
	}
}

// cellCentre is the centre of cluster cell (i, j) of 16 x 16 in tile t, in degrees.
func cellCentre(t maptile.Tile, i, j int) orb.Point {
	b := geo.MercatorBound(t, 0)
	w := (b.Max[0] - b.Min[0]) / 16
	lon, lat := geo.MercatorToLonLat(b.Min[0]+(float64(i)+0.5)*w, b.Max[1]-(float64(j)+0.5)*w)
	return orb.Point{lon, lat}
}

func TestPointsClusterAtLowZoom(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	t10 := centreTile(10)
	p := cellCentre(t10, 7, 8)
	lone := cellCentre(t10, 3, 3)
	f.exec(t, `INSERT INTO layer.t_point (id, geom, name)
		SELECT i, ST_SetSRID(ST_MakePoint($1 + (i % 7) * 0.00001, $2 + (i / 7) * 0.00001), 4326), 'p' || i
		FROM generate_series(1, 40) AS i`, p[0], p[1])
	f.exec(t, `INSERT INTO layer.t_point (id, geom, name) VALUES (100, ST_SetSRID(ST_MakePoint($1, $2), 4326), 'lone')`,
		lone[0], lone[1])

	_, ls := f.get(t, "t_point", t10)
	l := layerNamed(ls, "t_point")
	if l == nil || len(l.Features) != 2 {
		t.Fatalf("z10: want a cluster and a lone point, got %v", ls)
	}
	for _, ft := range l.Features {
		switch ft.ID {
		case 1.0: // the cluster takes its smallest member's id
			want := map[string]any{"cluster": true, "point_count": 40.0}
			if diff := cmp.Diff(want, map[string]any(ft.Properties)); diff != "" {
				t.Errorf("cluster properties (-want +got):\n%s", diff)
			}
		case 100.0:
			want := map[string]any{"name": "lone"}
			if diff := cmp.Diff(want, map[string]any(ft.Properties)); diff != "" {
				t.Errorf("lone point properties (-want +got):\n%s", diff)
			}
		default:
			t.Errorf("unexpected feature %v %v", ft.ID, ft.Properties)
		}
	}

	_, ls = f.get(t, "t_point", maptile.At(p, 16))
	l = layerNamed(ls, "t_point")
	if l == nil || len(l.Features) != 40 {
		t.Fatalf("z16: want the 40 points one by one, got %v", ls)
	}
	for _, ft := range l.Features {
		if _, ok := ft.Properties["point_count"]; ok || ft.Properties["name"] == nil {
			t.Errorf("z16 feature %v is clustered: %v", ft.ID, ft.Properties)
		}
	}
}

func TestFeatureCapTruncatesWithMetric(t *testing.T) {
	f := newFixture(t, tiles.Options{MaxFeatures: 10})
	c := centreTile(16).Center()
	f.exec(t, `INSERT INTO layer.t_point (geom, name)
		SELECT ST_SetSRID(ST_MakePoint($1 + i * 0.00001, $2), 4326), 'p' FROM generate_series(1, 30) AS i`, c[0], c[1])
	_, ls := f.get(t, "t_point", centreTile(16))
	if l := layerNamed(ls, "t_point"); l == nil || len(l.Features) != 10 {
		t.Fatalf("want 10 features (the cap), got %v", ls)
	}
	if got := counter(t, f, "geoportal_tile_features_truncated_total"); got < 1 {
		t.Errorf("truncated features counter = %v, want at least 1", got)
	}
	// The same from the layer's copy in memory (loaded in the background after the first tile;
	// nothing is cached without the listener, so each get builds the tile).
	deadline := time.Now().Add(20 * time.Second)
	for counter(t, f, "geoportal_tile_memory_loads_total") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the layer was not loaded into memory")
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := counter(t, f, "geoportal_tile_features_truncated_total")
	_, ls = f.get(t, "t_point", centreTile(16))
	if l := layerNamed(ls, "t_point"); l == nil || len(l.Features) != 10 {
		t.Fatalf("from memory: want 10 features (the cap), got %v", ls)
	}
	if got := counter(t, f, "geoportal_tile_memory_builds_total"); got != 1 {
		t.Errorf("%v tiles drawn from memory, want 1", got)
	}
	if got := counter(t, f, "geoportal_tile_features_truncated_total"); got <= before {
		t.Errorf("from memory: truncated features counter = %v, want more than %v", got, before)
	}
}

// counter sums a metric's samples in the fixture's registry.
func counter(t *testing.T, f *fixture, name string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.Counter != nil {
				sum += m.Counter.GetValue()
			}
			if m.Histogram != nil {
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func TestEmptyTilesAndZoomRange(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	c := centreTile(16).Center()
	f.exec(t, `INSERT INTO layer.t_high (geom) VALUES (ST_SetSRID(ST_MakePoint($1, $2), 4326))`, c[0], c[1])
	for _, tc := range []struct {
		name  string
		layer string
		tile  maptile.Tile
		empty bool
	}{
		{"far from any data", "t_high", maptile.New(0, 0, 16), true},
		{"below the layer's min zoom", "t_high", centreTile(13), true},
		{"above the layer's max zoom", "t_high", centreTile(19), true},
		{"inside the zoom range", "t_high", centreTile(14), false},
		{"layer without rows", "t_poly", centreTile(14), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.tiler.Tile(context.Background(), tc.layer, int(tc.tile.Z), int(tc.tile.X), int(tc.tile.Y), false)
			if err != nil {
				t.Fatal(err)
			}
			if res.Empty() != tc.empty {
				t.Errorf("empty = %v, want %v", res.Empty(), tc.empty)
			}
		})
	}
}

func TestCompositeTile(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	tile := centreTile(15)
	c := tile.Center()
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (7, $1, 3)`, square(c[0], c[1], 0.0003))
	f.exec(t, `INSERT INTO layer.t_line (id, geom) VALUES (8, ST_GeomFromText($1, 4326))`,
		fmt.Sprintf("LINESTRING(%s, %s)", ll(c[0], c[1]), ll(c[0]+0.001, c[1]+0.001)))
	_, ls := f.get(t, "t_line,t_poly,t_high", tile) // t_high starts at z14 but has no rows: no layer
	if diff := cmp.Diff([]string{"t_line", "t_poly"}, names(ls)); diff != "" {
		t.Fatalf("layers (-want +got):\n%s", diff)
	}
	if id := layerNamed(ls, "t_poly").Features[0].ID; id != 7.0 {
		t.Errorf("t_poly feature id = %v", id)
	}
	if id := layerNamed(ls, "t_line").Features[0].ID; id != 8.0 {
		t.Errorf("t_line feature id = %v", id)
	}
	// The layers come in the order asked for.
	_, ls = f.get(t, "t_poly,t_line", tile)
	if diff := cmp.Diff([]string{"t_poly", "t_line"}, names(ls)); diff != "" {
		t.Errorf("layers (-want +got):\n%s", diff)
	}
}

func TestTileBadInput(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	for _, tc := range []struct {
		name    string
		layers  string
		z, x, y int
		code    string
	}{
		{"zoom too deep", "t_poly", 23, 0, 0, geoportal.EINVALID},
		{"negative zoom", "t_poly", -1, 0, 0, geoportal.EINVALID},
		{"x beyond the zoom", "t_poly", 3, 8, 0, geoportal.EINVALID},
		{"negative y", "t_poly", 3, 0, -1, geoportal.EINVALID},
		{"unknown layer", "nope", 1, 0, 0, geoportal.ENOTFOUND},
		{"SQL in the name", "t_poly;DROP TABLE layer.t_poly", 1, 0, 0, geoportal.ENOTFOUND},
		{"quoted SQL in the name", `t_poly" WHERE 1=1 --`, 1, 0, 0, geoportal.ENOTFOUND},
		{"upper case", "T_POLY", 1, 0, 0, geoportal.ENOTFOUND},
		{"staff-only layer to anonymous", "t_staff", 1, 0, 0, geoportal.ENOTFOUND},
		{"staff-only layer in a composite", "t_poly,t_staff", 1, 0, 0, geoportal.ENOTFOUND},
		{"too many layers", strings.Repeat("t_poly,", 12) + "t_line", 1, 0, 0, geoportal.EINVALID},
		{"layer twice", "t_poly,t_poly", 1, 0, 0, geoportal.EINVALID},
		{"empty name in a list", "t_poly,", 1, 0, 0, geoportal.EINVALID},
		{"no layer", "", 1, 0, 0, geoportal.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.tiler.Tile(context.Background(), tc.layers, tc.z, tc.x, tc.y, false)
			if got := geoportal.ErrorCode(err); got != tc.code {
				t.Fatalf("error %v has code %q, want %q", err, got, tc.code)
			}
			if msg := geoportal.ErrorMessage(err); msg == "" || msg == "internal error" {
				t.Errorf("message %q does not say what is wrong", msg)
			}
		})
	}
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM layer.t_poly`).Scan(&n); err != nil {
		t.Fatalf("t_poly is gone: %v", err)
	}
	// Staff see staff-only layers.
	if _, err := f.tiler.Tile(context.Background(), "t_staff", 1, 0, 0, true); err != nil {
		t.Errorf("staff: %v", err)
	}
}

func TestLiveLayerIsMarked(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	for list, live := range map[string]bool{"t_live": true, "t_point": false, "t_point,t_live": true} {
		res, err := f.tiler.Tile(context.Background(), list, 3, 5, 2, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Live != live {
			t.Errorf("%s: live = %v, want %v", list, res.Live, live)
		}
	}
}

func TestTileJSON(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	f.exec(t, `INSERT INTO layer.t_poly (geom, levels) VALUES ($1, 1)`, square(57.1, 50.2, 0.1))
	tj, err := f.tiler.TileJSON(context.Background(), "t_poly,t_line", false, "http://example.test:8080")
	if err != nil {
		t.Fatal(err)
	}
	if tj.TileJSON != "3.0.0" || tj.Scheme != "xyz" {
		t.Errorf("tilejson %q scheme %q", tj.TileJSON, tj.Scheme)
	}
	if diff := cmp.Diff([]string{"http://example.test:8080/tiles/t_poly,t_line/{z}/{x}/{y}.mvt"}, tj.Tiles); diff != "" {
		t.Errorf("tiles (-want +got):\n%s", diff)
	}
	if tj.MinZoom != 0 || tj.MaxZoom != 22 {
		t.Errorf("zooms %d..%d, want 0..22 (t_poly 0..20, t_line 0..22)", tj.MinZoom, tj.MaxZoom)
	}
	if tj.Attribution != "Test data; Other data" {
		t.Errorf("attribution %q", tj.Attribution)
	}
	if tj.Bounds[0] > 57.1 || tj.Bounds[0] < 57.09 || tj.Bounds[3] < 50.3 || tj.Bounds[3] > 50.31 {
		t.Errorf("bounds %v, want about [57.1 50.2 57.2 50.3]", tj.Bounds)
	}
	want := []tiles.VectorLayer{
		{ID: "t_poly", Description: "Test polygons", MinZoom: 0, MaxZoom: 20, Fields: map[string]string{
			"name": "String", "levels": "Number", "ratio": "Number", "meter": "Boolean", "opened": "String"}},
		{ID: "t_line", Description: "Test lines", MinZoom: 0, MaxZoom: 22, Fields: map[string]string{"kind": "String"}},
	}
	if diff := cmp.Diff(want, tj.VectorLayers); diff != "" {
		t.Errorf("vector_layers (-want +got):\n%s", diff)
	}
	if _, err := f.tiler.TileJSON(context.Background(), "t_staff", false, "http://x"); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("staff-only layer's TileJSON to anonymous: %v", err)
	}
}

// The map labels features in the reader's language (name_kk, name_ru, name_en, falling back to
// name) and buildings by house number, and colours bus routes by their own colour: those
// attributes go into tiles even when popups leave them out; other attributes without a popup
// still never do.
func TestTileCarriesLabelAttributes(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	f.exec(t, `SELECT geoportal.create_layer('{"slug": "t_named", "direction": 0, "geometry_type": "Polygon",
  "title_en": "Named", "title_ru": "Тест", "title_kk": "Тест", "max_zoom": 20,
  "attributes": [
    {"name": "name", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": true},
    {"name": "name_kk", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": false},
    {"name": "name_ru", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": false},
    {"name": "name_en", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": false},
    {"name": "housenumber", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": false},
    {"name": "color", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": false},
    {"name": "secret", "type": "text", "title": {"en": "N", "ru": "N", "kk": "N"}, "popup": false}]}'::jsonb)`)
	f.exec(t, `INSERT INTO layer.t_named (id, geom, name, name_kk, name_ru, name_en, housenumber, color, secret) VALUES
  (1, ST_Buffer(ST_SetSRID(ST_MakePoint($1, $2), 4326), 0.0005), 'Ақтөбе', 'Ақтөбе', 'Актобе', 'Aktobe', '12А', '#e53935', 'x')`, cLon, cLat)
	want := map[string]any{"name": "Ақтөбе", "name_kk": "Ақтөбе", "name_ru": "Актобе", "name_en": "Aktobe", "housenumber": "12А",
		"color": "#e53935"}
	for _, z := range []maptile.Zoom{10, 16} {
		_, ls := f.get(t, "t_named", centreTile(z))
		l := layerNamed(ls, "t_named")
		if l == nil || len(l.Features) != 1 {
			t.Fatalf("z%d: want one feature in t_named, got %v", z, ls)
		}
		if diff := cmp.Diff(want, map[string]any(l.Features[0].Properties)); diff != "" {
			t.Errorf("z%d properties (-want +got):\n%s", z, diff)
		}
	}
}
