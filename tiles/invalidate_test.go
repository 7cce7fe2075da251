package tiles_test

import (
	"context"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// levelsOf returns the "levels" property of feature id in the t_poly layer of a tile (-1: absent).
func levelsOf(t *testing.T, f *fixture, tile maptile.Tile, id float64) (levels float64, hit bool) {
	t.Helper()
	res, ls := f.get(t, "t_poly", tile)
	if l := layerNamed(ls, "t_poly"); l != nil {
		for _, ft := range l.Features {
			if ft.ID == id {
				return ft.Properties["levels"].(float64), res.Hit
			}
		}
	}
	return -1, res.Hit
}

// eventually polls cond every 20 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInvalidationDropsExactlyTheChangedTiles(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	f.listen(t)
	near := centreTile(16)
	c := near.Center()
	farPoint := orb.Point{c[0] + 0.05, c[1] - 0.02}
	far := maptile.At(farPoint, 16)
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (1, $1, 4), (2, $2, 6)`,
		square(c[0], c[1], 0.001), square(farPoint[0], farPoint[1], 0.001))
	low := centreTile(10) // holds both
	if maptile.At(farPoint, 10) != low {
		t.Fatal("fixture: both squares should share the z10 tile")
	}

	// Build and cache the three tiles; the second fetch of each is a cache hit.
	for _, tl := range []maptile.Tile{near, far, low} {
		levelsOf(t, f, tl, 1)
		if _, hit := levelsOf(t, f, tl, 1); !hit {
			t.Fatalf("tile %v was not cached", tl)
		}
	}

	before, _ := f.get(t, "t_poly", near)
	f.exec(t, `UPDATE layer.t_poly SET levels = 9 WHERE id = 1`)
	eventually(t, "the edited tile shows the new value", func() bool {
		v, _ := levelsOf(t, f, near, 1)
		return v == 9
	})
	if after, _ := f.get(t, "t_poly", near); after.ETag == before.ETag {
		t.Errorf("ETag %s did not change with the tile's content", after.ETag)
	}
	if v, hit := levelsOf(t, f, low, 1); v != 9 || hit {
		t.Errorf("z10 tile: levels %v (cache hit %v), want 9 rebuilt", v, hit)
	}
	if v, hit := levelsOf(t, f, far, 2); v != 6 || !hit {
		t.Errorf("far z16 tile: levels %v (cache hit %v), want 6 still cached", v, hit)
	}

	// Inserts and deletes invalidate too.
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (3, $1, 2)`, square(farPoint[0]+0.002, farPoint[1], 0.0005))
	eventually(t, "the new feature shows", func() bool { v, _ := levelsOf(t, f, far, 3); return v == 2 })
	f.exec(t, `DELETE FROM layer.t_poly WHERE id = 3`)
	eventually(t, "the deleted feature goes", func() bool { v, _ := levelsOf(t, f, far, 3); return v == -1 })
	f.exec(t, `TRUNCATE layer.t_poly`)
	eventually(t, "the truncated layer's tiles empty", func() bool {
		res, _ := f.get(t, "t_poly", near)
		return res.Empty()
	})
	if got := counter(t, f, "geoportal_tile_cache_invalidated_total"); got < 3 {
		t.Errorf("invalidated tiles counter = %v, want at least 3", got)
	}
}

func TestCompositeInvalidatedByEitherLayer(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	f.listen(t)
	tile := centreTile(15)
	c := tile.Center()
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (1, $1, 1)`, square(c[0], c[1], 0.0002))
	get := func() (*tiles.Tile, int) {
		res, ls := f.get(t, "t_poly,t_point", tile)
		n := 0
		if l := layerNamed(ls, "t_point"); l != nil {
			n = len(l.Features)
		}
		return res, n
	}
	get()
	if res, _ := get(); !res.Hit {
		t.Fatal("composite tile was not cached")
	}
	f.exec(t, `INSERT INTO layer.t_point (geom, name) VALUES (ST_SetSRID(ST_MakePoint($1, $2), 4326), 'new')`, c[0], c[1])
	eventually(t, "the composite shows the new point", func() bool { _, n := get(); return n == 1 })
}

func TestListenerReconnects(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	f.listen(t)
	tile := centreTile(16)
	c := tile.Center()
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (1, $1, 1)`, square(c[0], c[1], 0.0002))
	ctx := context.Background()
	listenerPID := func() int {
		var pid int
		err := f.pool.QueryRow(ctx, `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, tiles.ListenerName).Scan(&pid)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	old := listenerPID()
	if old == 0 {
		t.Fatal("no listener connection in pg_stat_activity")
	}
	levelsOf(t, f, tile, 1)
	if _, hit := levelsOf(t, f, tile, 1); !hit {
		t.Fatal("tile was not cached")
	}

	// The database drops the listener's connection (as in a restart).
	f.exec(t, `SELECT pg_terminate_backend($1)`, old)
	eventually(t, "the listener reconnects", func() bool { p := listenerPID(); return p != 0 && p != old })
	eventually(t, "caching resumes", func() bool {
		levelsOf(t, f, tile, 1)
		_, hit := levelsOf(t, f, tile, 1)
		return hit
	})
	f.exec(t, `UPDATE layer.t_poly SET levels = 5 WHERE id = 1`)
	eventually(t, "the edit shows after the reconnection", func() bool { v, _ := levelsOf(t, f, tile, 1); return v == 5 })
}

func TestNothingCachedWithoutListener(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	tile := centreTile(16)
	levelsOf(t, f, tile, 1)
	if _, hit := levelsOf(t, f, tile, 1); hit {
		t.Error("a tile was cached while no listener could keep it fresh")
	}
}

func TestCatalogChangesReachTiles(t *testing.T) {
	f := newFixture(t, tiles.Options{CatalogTTL: 50 * time.Millisecond})
	f.listen(t)
	tile := centreTile(14)
	c := tile.Center()
	f.exec(t, `INSERT INTO layer.t_high (geom) VALUES (ST_SetSRID(ST_MakePoint($1, $2), 4326))`, c[0], c[1])
	first, _ := f.get(t, "t_high", tile)
	if res, _ := f.get(t, "t_high", tile); first.Empty() || !res.Hit {
		t.Fatalf("z14 tile: empty %v, cached %v; want features, cached", first.Empty(), res.Hit)
	}
	// The layer's zoom range changes: its cached tiles go.
	f.exec(t, `UPDATE geoportal.layers SET min_zoom = 15 WHERE slug = 't_high'`)
	eventually(t, "the tile follows the new min_zoom", func() bool {
		res, _ := f.get(t, "t_high", tile)
		return res.Empty()
	})

	// A layer created after the catalog was read is served at once.
	f.exec(t, `SELECT geoportal.create_layer('{"slug": "t_new", "direction": 0, "geometry_type": "Point",
		"title_en": "New", "title_ru": "Новый", "title_kk": "Жаңа", "attributes": []}'::jsonb)`)
	f.exec(t, `INSERT INTO layer.t_new (id, geom) VALUES (42, ST_SetSRID(ST_MakePoint($1, $2), 4326))`, c[0], c[1])
	_, ls := f.get(t, "t_new", maptile.At(c, 16))
	if l := layerNamed(ls, "t_new"); l == nil || len(l.Features) != 1 || l.Features[0].ID != 42.0 {
		t.Errorf("new layer's tile: %v", ls)
	}
}

func TestDroppedLayerIsNotFound(t *testing.T) {
	f := newFixture(t, tiles.Options{CatalogTTL: time.Hour})
	tile := centreTile(16)
	f.get(t, "t_line", tile) // the catalog snapshot now holds t_line
	f.exec(t, `SELECT geoportal.drop_layer('t_line')`)
	_, err := f.tiler.Tile(context.Background(), "t_line", int(tile.Z), int(tile.X), int(tile.Y), false)
	if code := geoportal.ErrorCode(err); code != geoportal.ENOTFOUND {
		t.Errorf("tile of a dropped layer: %v (code %q), want not found", err, code)
	}
}
