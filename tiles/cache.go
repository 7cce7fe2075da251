package tiles

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/aktobe/geoportal/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// entry is one cached tile: a single layer's or a composite's.
type entry struct {
	key      string
	tile     maptile.Tile
	slugs    []string // layers in the tile, in request order
	versions []int64  // data version of each layer the tile was built from
	// fingerprints of the layers' definitions the tile was built with
	fingerprints []string
	raw          []byte // the MVT, uncompressed (empty: no features)
	gz           []byte // the MVT, gzip-compressed (nil when raw is empty)
	etag         string
	disk         bool                   // read from the disk tier
	br           atomic.Pointer[[]byte] // the MVT, brotli-compressed, once made (brotli.go)
	brPending    atomic.Bool            // brotli requested

	prev, next *entry // LRU list of the shard, most recent first
}

func (e *entry) size() int64 {
	n := int64(len(e.raw)+len(e.gz)+len(e.key)+len(e.etag)) + 64*int64(len(e.slugs)) + 160
	if br := e.br.Load(); br != nil {
		n += int64(len(*br))
	}
	return n
}

// brotli returns the brotli form of the tile, or nil.
func (e *entry) brotli() []byte {
	if br := e.br.Load(); br != nil {
		return *br
	}
	return nil
}

// setBrotli adds the brotli form to a cached tile (counted in the budget); a tile that left the
// cache meanwhile is left alone.
func (c *Cache) setBrotli(e *entry, br []byte) {
	s := c.shard(e.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[e.key] != e {
		return
	}
	before := e.size()
	e.br.Store(&br)
	s.bytes += e.size() - before
	for s.bytes > s.budget && s.tail != nil {
		s.remove(s.tail)
	}
}

// Cache is an in-memory LRU of tiles with a byte budget, sharded to keep lock hold times short
// under many concurrent readers. Besides lookups by key it finds the tiles of a layer that lie in
// an area, for invalidation.
type Cache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const cacheShards = 16

type cacheShard struct {
	mu      sync.Mutex
	budget  int64
	bytes   int64
	entries map[string]*entry
	byLayer map[string]map[*entry]struct{}
	head    *entry // most recently used
	tail    *entry // least recently used
}

// NewCache returns a cache holding at most budget bytes of tiles.
func NewCache(budget int64) *Cache {
	c := &Cache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i] = cacheShard{
			budget:  budget / cacheShards,
			entries: map[string]*entry{},
			byLayer: map[string]map[*entry]struct{}{},
		}
	}
	return c
}

func (c *Cache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// get returns the tile stored under key and marks it recently used.
func (c *Cache) get(key string) *entry {
	s := c.shard(key)
	s.mu.Lock()
	e := s.entries[key]
	if e != nil && s.head != e {
		s.unlink(e)
		s.pushFront(e)
	}
	s.mu.Unlock()
	return e
}

// getBytes is get for a key built in a byte buffer (no string is allocated; maphash.Bytes and
// maphash.String agree on the same content).
func (c *Cache) getBytes(key []byte) *entry {
	s := &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
	s.mu.Lock()
	e := s.entries[string(key)]
	if e != nil && s.head != e {
		s.unlink(e)
		s.pushFront(e)
	}
	s.mu.Unlock()
	return e
}

// put stores e, replacing any tile under the same key and evicting the least recently used
// tiles beyond the budget. A tile larger than a shard's budget is not stored.
func (c *Cache) put(e *entry) {
	s := c.shard(e.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.entries[e.key]; old != nil {
		s.remove(old)
	}
	if e.size() > s.budget {
		return
	}
	s.entries[e.key] = e
	s.pushFront(e)
	s.bytes += e.size()
	for _, slug := range e.slugs {
		m := s.byLayer[slug]
		if m == nil {
			m = map[*entry]struct{}{}
			s.byLayer[slug] = m
		}
		m[e] = struct{}{}
	}
	for s.bytes > s.budget && s.tail != nil {
		s.remove(s.tail)
	}
}

// invalidate drops the tiles holding layer slug built from a version older than version (any
// version when version is 0) whose area, grown by the invalidation margin, touches bbox (any
// area when bbox is nil). It returns how many tiles it dropped.
func (c *Cache) invalidate(slug string, version int64, bbox *orb.Bound) int {
	var ranges [geo.MaxZoom + 1]geo.TileRange
	if bbox != nil {
		for z := range ranges {
			ranges[z] = geo.TilesCovering(*bbox, maptile.Zoom(z), invalidationMargin)
		}
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for e := range s.byLayer[slug] {
			if version > 0 && e.versionOf(slug) >= version {
				continue // built after the change
			}
			if bbox != nil && !ranges[e.tile.Z].Contains(e.tile) {
				continue
			}
			s.remove(e)
			n++
		}
		s.mu.Unlock()
	}
	return n
}

// flush drops every tile.
func (c *Cache) flush() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.entries = map[string]*entry{}
		s.byLayer = map[string]map[*entry]struct{}{}
		s.head, s.tail, s.bytes = nil, nil, 0
		s.mu.Unlock()
	}
}

// stats returns the number of tiles and bytes held.
func (c *Cache) stats() (tiles int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		tiles += len(s.entries)
		bytes += s.bytes
		s.mu.Unlock()
	}
	return tiles, bytes
}

func (e *entry) versionOf(slug string) int64 {
	for i, s := range e.slugs {
		if s == slug {
			return e.versions[i]
		}
	}
	return 0
}

func (s *cacheShard) remove(e *entry) {
	if s.entries[e.key] != e {
		return
	}
	delete(s.entries, e.key)
	s.unlink(e)
	s.bytes -= e.size()
	for _, slug := range e.slugs {
		if m := s.byLayer[slug]; m != nil {
			delete(m, e)
			if len(m) == 0 {
				delete(s.byLayer, slug)
			}
		}
	}
}

func (s *cacheShard) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (s *cacheShard) pushFront(e *entry) {
	e.next = s.head
	e.prev = nil
	if s.head != nil {
		s.head.prev = e
	}
	s.head = e
	if s.tail == nil {
		s.tail = e
	}
}
