package tiles_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/tiles"
	"github.com/prometheus/client_golang/prometheus"
)

// TestDiskTierSurvivesRestartAndFollowsVersions: a second tiler on the same directory (a
// restarted process) answers from the files the first one wrote; after an edit of the layer, a
// fresh tiler builds the tile again and the old version's files go.
func TestDiskTierSurvivesRestartAndFollowsVersions(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, tiles.Options{DiskDir: dir})
	f.listen(t)
	start := func() *tiles.Tiler {
		tl := tiles.New(f.pool, layers.NewStore(f.pool), slog.New(slog.NewTextHandler(io.Discard, nil)),
			prometheus.NewRegistry(), tiles.Options{DiskDir: dir})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { tl.Invalidator().Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		select {
		case <-tl.Invalidator().Connected():
		case <-time.After(20 * time.Second):
			t.Fatal("invalidator did not connect")
		}
		return tl
	}
	get := func(tl *tiles.Tiler, list string, z, x, y int) *tiles.Tile {
		t.Helper()
		res, err := tl.Tile(context.Background(), list, z, x, y, false)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	tile := centreTile(16)
	z, x, y := int(tile.Z), int(tile.X), int(tile.Y)
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (1, $1::geometry, 3)`, square(cLon, cLat, 0.0002))
	f.exec(t, `INSERT INTO layer.t_live (id, geom) VALUES (1, ST_SetSRID(ST_MakePoint($1, $2), 4326))`, cLon, cLat)

	first := get(f.tiler, "t_poly", z, x, y)
	empty := get(f.tiler, "t_poly", z, 0, 0)
	get(f.tiler, "t_live", z, x, y)
	if first.Empty() || first.Disk || !empty.Empty() {
		t.Fatalf("first build: empty %v, from disk %v; empty tile empty %v", first.Empty(), first.Disk, empty.Empty())
	}
	polyDirs, _ := filepath.Glob(filepath.Join(dir, "t_poly", "*"))
	liveDirs, _ := filepath.Glob(filepath.Join(dir, "t_live", "*"))
	if len(polyDirs) != 1 || len(liveDirs) != 0 {
		t.Fatalf("disk tier holds %v for t_poly and %v for the live layer; want one version directory and none", polyDirs, liveDirs)
	}

	// A restarted process answers from disk, byte for byte.
	second := start()
	again := get(second, "t_poly", z, x, y)
	if !again.Disk || !bytes.Equal(again.Raw, first.Raw) || !bytes.Equal(again.Gzip, first.Gzip) || again.ETag != first.ETag {
		t.Errorf("after a restart: from disk %v, same tile %v, ETag %s (want %s)", again.Disk, bytes.Equal(again.Raw, first.Raw), again.ETag, first.ETag)
	}
	if res := get(second, "t_poly", z, 0, 0); !res.Disk || !res.Empty() {
		t.Errorf("empty tile after a restart: from disk %v, empty %v", res.Disk, res.Empty())
	}
	if res := get(second, "t_poly", z, x, y); !res.Hit {
		t.Error("a tile read from disk did not enter the memory cache")
	}

	// An edit anywhere in the layer retires its files: a fresh process builds the tile again
	// (the same content, as the edit is elsewhere) and removes the old version's directory.
	f.exec(t, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (2, $1::geometry, 5)`, square(cLon+0.5, cLat+0.3, 0.0002))
	third := start()
	eventually(t, "the fresh process builds the edited layer's tile", func() bool {
		res := get(third, "t_poly", z, x, y)
		return !res.Disk && bytes.Equal(res.Raw, first.Raw)
	})
	eventually(t, "the old version's files are removed", func() bool {
		_, err := os.Stat(polyDirs[0])
		return os.IsNotExist(err)
	})
	fourth := start()
	if res := get(fourth, "t_poly", z, x, y); !res.Disk {
		t.Error("the tile of the new version was not kept on disk")
	}
}
