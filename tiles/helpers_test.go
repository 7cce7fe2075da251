package tiles_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/tiles"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
)

// fixture is a fresh database with the test layers and a tiler over it.
type fixture struct {
	pool  *pgxpool.Pool
	tiler *tiles.Tiler
	reg   *prometheus.Registry
}

// Test layers, created in every fixture database.
const fixtureLayers = `
SELECT geoportal.create_layer('{"slug": "t_poly", "direction": 0, "geometry_type": "Polygon",
  "title_en": "Test polygons", "title_ru": "Тест", "title_kk": "Тест", "min_zoom": 0, "max_zoom": 20,
  "attribution": "Test data",
  "attributes": [
    {"name": "name", "type": "text", "title": {"en": "Name", "ru": "Имя", "kk": "Аты"}, "popup": false},
    {"name": "levels", "type": "integer", "title": {"en": "Levels", "ru": "Этажи", "kk": "Қабат"}, "popup": true},
    {"name": "ratio", "type": "double", "title": {"en": "Ratio", "ru": "Доля", "kk": "Үлес"}, "popup": true},
    {"name": "meter", "type": "boolean", "title": {"en": "Meter", "ru": "Счётчик", "kk": "Есептегіш"}, "popup": true},
    {"name": "opened", "type": "date", "title": {"en": "Opened", "ru": "Открыт", "kk": "Ашылды"}, "popup": true},
    {"name": "secret", "type": "text", "title": {"en": "Note", "ru": "Заметка", "kk": "Ескерту"}, "popup": false}
  ]}'::jsonb);
SELECT geoportal.create_layer('{"slug": "t_line", "direction": 0, "geometry_type": "LineString",
  "title_en": "Test lines", "title_ru": "Тест", "title_kk": "Тест", "attribution": "Other data",
  "attributes": [{"name": "kind", "type": "text", "title": {"en": "Kind", "ru": "Тип", "kk": "Түрі"}, "popup": true}]}'::jsonb);
SELECT geoportal.create_layer('{"slug": "t_point", "direction": 1, "geometry_type": "Point",
  "title_en": "Test points", "title_ru": "Тест", "title_kk": "Тест",
  "attributes": [{"name": "name", "type": "text", "title": {"en": "Name", "ru": "Имя", "kk": "Аты"}, "popup": true}]}'::jsonb);
SELECT geoportal.create_layer('{"slug": "t_staff", "direction": 1, "geometry_type": "Point", "visibility": "staff",
  "title_en": "Staff points", "title_ru": "Тест", "title_kk": "Тест", "attributes": []}'::jsonb);
SELECT geoportal.create_layer('{"slug": "t_live", "direction": 4, "geometry_type": "Point", "live": true,
  "title_en": "Live points", "title_ru": "Тест", "title_kk": "Тест", "attributes": []}'::jsonb);
SELECT geoportal.create_layer('{"slug": "t_high", "direction": 0, "geometry_type": "Point", "min_zoom": 14,
  "max_zoom": 18, "title_en": "High zoom", "title_ru": "Тест", "title_kk": "Тест", "attributes": []}'::jsonb);
`

// Aktobe's centre and the z16 tile holding it.
const (
	cLon = 57.17
	cLat = 50.28
)

func centreTile(z maptile.Zoom) maptile.Tile { return maptile.At([2]float64{cLon, cLat}, z) }

func newFixture(t *testing.T, opts tiles.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, fixtureLayers); err != nil {
		t.Fatalf("create test layers: %v", err)
	}
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tl := tiles.New(pool, layers.NewStore(pool), logger, reg, opts)
	return &fixture{pool: pool, tiler: tl, reg: reg}
}

// listen runs the fixture's invalidator for the rest of the test and waits until it is connected.
func (f *fixture) listen(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.tiler.Invalidator().Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-f.tiler.Invalidator().Connected():
	case <-time.After(20 * time.Second):
		t.Fatal("invalidator did not connect")
	}
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// get fetches a tile and decodes it; an empty tile decodes to no layers.
func (f *fixture) get(t *testing.T, list string, tile maptile.Tile) (*tiles.Tile, mvt.Layers) {
	t.Helper()
	res, err := f.tiler.Tile(context.Background(), list, int(tile.Z), int(tile.X), int(tile.Y), false)
	if err != nil {
		t.Fatalf("tile %s %v: %v", list, tile, err)
	}
	if res.Empty() {
		return res, nil
	}
	ls, err := mvt.Unmarshal(res.Raw)
	if err != nil {
		t.Fatalf("decode tile %s %v: %v", list, tile, err)
	}
	gz, err := mvt.UnmarshalGzipped(res.Gzip)
	if err != nil || len(gz) != len(ls) {
		t.Fatalf("decode gzipped tile %s %v: %v (%d layers, want %d)", list, tile, err, len(gz), len(ls))
	}
	return res, ls
}

func layerNamed(ls mvt.Layers, name string) *mvt.Layer {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// square is a WKT polygon of side d degrees with its south-west corner at lon, lat.
func square(lon, lat, d float64) string {
	return "SRID=4326;POLYGON((" + ll(lon, lat) + "," + ll(lon+d, lat) + "," + ll(lon+d, lat+d) + "," +
		ll(lon, lat+d) + "," + ll(lon, lat) + "))"
}

func ll(lon, lat float64) string {
	return ftoa(lon) + " " + ftoa(lat)
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
