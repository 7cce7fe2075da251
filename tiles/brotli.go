package tiles

import (
	"bytes"

	"github.com/andybalholm/brotli"
)

// Brotli: tiles are compressed with brotli (quality brotliQuality) lazily, off the request path,
// once a client that accepts it asks for a cached tile (RequestBrotli); until then such clients
// get gzip. Brotli is slower to compress in Go than gzip, and a tile worth it is one that is
// asked for again.
const brotliQuality = 5

// brotliQueue bounds the tiles waiting for brotli; beyond it requests are dropped (the tile is
// asked for again later).
const brotliQueue = 256

// RequestBrotli asks for the brotli form of a tile answered from the cache (t.Brotli nil); it
// is made in the background and served from the next request on.
func (t *Tiler) RequestBrotli(tile *Tile) {
	e := tile.entry
	if e == nil || len(e.raw) == 0 || e.br.Load() != nil || !e.brPending.CompareAndSwap(false, true) {
		return
	}
	t.brotliOnce.Do(func() {
		t.brotliJobs = make(chan *entry, brotliQueue)
		go t.brotliWorker()
	})
	select {
	case t.brotliJobs <- e:
	default:
		e.brPending.Store(false)
	}
}

// brotliWorker compresses the queued tiles one at a time (one core at most).
func (t *Tiler) brotliWorker() {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(nil, brotliQuality)
	for e := range t.brotliJobs {
		buf.Reset()
		w.Reset(&buf)
		_, err := w.Write(e.raw)
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			t.logger.Warn("tiles: brotli failed", "tile", e.key, "error", err)
			continue
		}
		br := bytes.Clone(buf.Bytes())
		t.cache.setBrotli(e, br)
	}
}
