package tiles

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/paulmach/orb/maptile"
)

// The disk tier (Options.DiskDir) keeps single-layer tiles as files that outlive the process:
//
//	DIR/<layer>/<definition hash>-<data version>/<z>/<x>/<y>.mvt.gz
//
// holding the gzip-compressed tile (an empty file for an empty tile). A file is only ever read
// for the layer's current data version and definition, which any change of the layer moves on,
// so it is never stale: an edit retires all the layer's files at once (the memory tier drops
// only the tiles the edit touches), and the directories of older versions are removed when the
// first tile of a new version is written. Files are written to a temporary name and renamed, so
// several processes may share the directory. Live layers are not kept on disk.
type diskTier struct {
	dir  string
	made sync.Map // version directories known to exist
}

// versionDir is the directory of a layer's tiles for one definition and data version.
func (dt *diskTier) versionDir(d *layerDef, version int64) string {
	h := fnv.New64a()
	io.WriteString(h, d.fingerprint)
	return filepath.Join(dt.dir, d.Slug, strconv.FormatUint(h.Sum64(), 16)+"-"+strconv.FormatInt(version, 10))
}

func tileFile(dir string, tile maptile.Tile) string {
	return filepath.Join(dir, strconv.Itoa(int(tile.Z)), strconv.Itoa(int(tile.X)), strconv.Itoa(int(tile.Y))+".mvt.gz")
}

// fromDisk returns the layer's tile from the disk tier when it holds it for the layer's current
// version (as the change listener knows it), or nil.
func (t *Tiler) fromDisk(d *layerDef, tile maptile.Tile, key string) *entry {
	if t.disk == nil || d.Live {
		return nil
	}
	version, ok := t.inv.version(d.Slug)
	if !ok {
		return nil
	}
	gz, err := os.ReadFile(tileFile(t.disk.versionDir(d, version), tile))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.logger.Warn("tiles: disk tier read failed", "tile", key, "error", err)
		}
		return nil
	}
	e := &entry{key: key, tile: tile, slugs: []string{d.Slug}, versions: []int64{version},
		fingerprints: []string{d.fingerprint}, disk: true}
	if len(gz) == 0 {
		e.etag = `W/"0-0"`
		return e
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err == nil {
		e.raw, err = io.ReadAll(zr)
	}
	if err != nil || len(gz) < 8 {
		t.logger.Warn("tiles: disk tier file unreadable, ignored", "tile", key, "error", err)
		return nil
	}
	e.gz = gz
	crc := binary.LittleEndian.Uint32(gz[len(gz)-8:])
	e.etag = `W/"` + strconv.FormatUint(uint64(crc), 16) + "-" + strconv.FormatUint(uint64(len(e.raw)), 16) + `"`
	return e
}

// toDisk writes a single-layer tile that entered the memory tier to the disk tier, when it was
// built from the layer's current version.
func (t *Tiler) toDisk(d *layerDef, e *entry) {
	if t.disk == nil || d.Live || len(e.versions) != 1 {
		return
	}
	if v, ok := t.inv.version(d.Slug); !ok || v != e.versions[0] {
		return
	}
	dir := t.disk.versionDir(d, e.versions[0])
	if _, ok := t.disk.made.Load(dir); !ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.logger.Warn("tiles: disk tier unavailable", "dir", dir, "error", err)
			return
		}
		t.disk.made.Store(dir, true)
		go t.disk.removeOthers(dir)
	}
	path := tileFile(dir, e.tile)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.logger.Warn("tiles: disk tier write failed", "tile", e.key, "error", err)
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tile-*")
	if err == nil {
		_, err = f.Write(e.gz)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}
	if err != nil {
		t.logger.Warn("tiles: disk tier write failed", "tile", e.key, "error", err)
	}
}

// removeOthers removes the other definitions' and versions' directories of dir's layer.
func (dt *diskTier) removeOthers(dir string) {
	parent, keep := filepath.Dir(dir), filepath.Base(dir)
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, de := range ents {
		if de.Name() != keep && de.IsDir() {
			old := filepath.Join(parent, de.Name())
			dt.made.Delete(old)
			os.RemoveAll(old)
		}
	}
}
