package tiles_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/aktobe/geoportal/tiles"
	"github.com/andybalholm/brotli"
)

// TestCachedAnswersOnlyPublicHits checks the lean lookup of cache hits: it answers only what the
// cache holds, never a tile with a staff-only layer in it, and follows edits and catalog changes.
func TestCachedAnswersOnlyPublicHits(t *testing.T) {
	f := newFixture(t, tiles.Options{CatalogTTL: 50 * time.Millisecond})
	f.listen(t)
	tile := centreTile(16)
	z, x, y := int(tile.Z), int(tile.X), int(tile.Y)
	f.exec(t, `INSERT INTO layer.t_point (id, geom, name) VALUES (1, ST_SetSRID(ST_MakePoint($1, $2), 4326), 'a')`, cLon, cLat)
	f.exec(t, `INSERT INTO layer.t_staff (id, geom) VALUES (2, ST_SetSRID(ST_MakePoint($1, $2), 4326))`, cLon, cLat)

	if _, ok := f.tiler.Cached("t_point", z, x, y); ok {
		t.Fatal("Cached answered before the tile was built")
	}
	built, _ := f.get(t, "t_point", tile)
	got, ok := f.tiler.Cached("t_point", z, x, y)
	if !ok || !got.Hit || !bytes.Equal(got.Raw, built.Raw) || !bytes.Equal(got.Gzip, built.Gzip) || got.ETag != built.ETag {
		t.Fatalf("Cached after a build: ok %v, hit %v, same tile %v", ok, got.Hit, bytes.Equal(got.Raw, built.Raw))
	}
	if _, ok := f.tiler.Cached("t_point", z, x+1, y); ok {
		t.Error("Cached answered for a neighbouring tile never built")
	}

	// Staff-only layers: cached for staff, never answered by the lean lookup.
	ctx := context.Background()
	for _, list := range []string{"t_staff", "t_point,t_staff"} {
		for i := 0; i < 2; i++ {
			res, err := f.tiler.Tile(ctx, list, z, x, y, true)
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 && !res.Hit {
				t.Fatalf("%s: not cached for staff", list)
			}
		}
		if _, ok := f.tiler.Cached(list, z, x, y); ok {
			t.Errorf("Cached answered %s, which holds a staff-only layer", list)
		}
	}
	// Lists the full path refuses are not answered either.
	for _, list := range []string{"t_point,t_point", "nope", "", "t_point,", ",t_point"} {
		if _, ok := f.tiler.Cached(list, z, x, y); ok {
			t.Errorf("Cached answered %q", list)
		}
	}
	// A composite of public layers is answered once built.
	f.get(t, "t_point,t_line", tile)
	if _, ok := f.tiler.Cached("t_point,t_line", z, x, y); !ok {
		t.Error("Cached did not answer a built composite of public layers")
	}

	// An edit drops the tile.
	f.exec(t, `UPDATE layer.t_point SET name = 'b' WHERE id = 1`)
	eventually(t, "the edited tile leaves the cache", func() bool {
		_, ok := f.tiler.Cached("t_point", z, x, y)
		return !ok
	})
	// A layer that becomes staff-only is no longer answered.
	f.get(t, "t_point", tile)
	if _, ok := f.tiler.Cached("t_point", z, x, y); !ok {
		t.Fatal("rebuilt tile not cached")
	}
	f.exec(t, `UPDATE geoportal.layers SET visibility = 'staff' WHERE slug = 't_point'`)
	eventually(t, "the lean lookup follows the visibility change", func() bool {
		_, ok := f.tiler.Cached("t_point", z, x, y)
		return !ok
	})
}

// TestBrotliMadeOffTheRequestPath: a cached tile gets its brotli form once asked for, and it
// decodes to the tile.
func TestBrotliMadeOffTheRequestPath(t *testing.T) {
	f := newFixture(t, tiles.Options{})
	f.listen(t)
	tile := centreTile(16)
	z, x, y := int(tile.Z), int(tile.X), int(tile.Y)
	f.exec(t, `INSERT INTO layer.t_point (id, geom, name) VALUES (1, ST_SetSRID(ST_MakePoint($1, $2), 4326), 'a')`, cLon, cLat)
	built, _ := f.get(t, "t_point", tile)
	if built.Brotli != nil {
		t.Fatal("brotli made before anyone asked")
	}
	hit, _ := f.tiler.Cached("t_point", z, x, y)
	f.tiler.RequestBrotli(&hit)
	var br []byte
	eventually(t, "the brotli form is made", func() bool {
		res, _ := f.tiler.Cached("t_point", z, x, y)
		br = res.Brotli
		return br != nil
	})
	raw, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	if err != nil || !bytes.Equal(raw, built.Raw) {
		t.Errorf("brotli form decodes to %d bytes (%v), want the %d-byte tile", len(raw), err, len(built.Raw))
	}
	// The full path hands it out too.
	if res, _ := f.get(t, "t_point", tile); !bytes.Equal(res.Brotli, br) {
		t.Error("Tile's hit lacks the brotli form")
	}
}
