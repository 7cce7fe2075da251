package tiles

import (
	"fmt"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func cacheEntry(slug string, t maptile.Tile, version int64, size int) *entry {
	return &entry{key: fmt.Sprintf("%s/%d/%d/%d", slug, t.Z, t.X, t.Y), tile: t, slugs: []string{slug},
		versions: []int64{version}, fingerprints: []string{""}, raw: make([]byte, size), etag: "x"}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache(cacheShards * 10_000) // 10 kB per shard
	// All keys of one shard: fill it past its budget.
	var same []*entry
	for i := 0; len(same) < 6; i++ {
		e := cacheEntry("l", maptile.New(uint32(i), 0, 20), 1, 2000)
		if c.shard(e.key) == c.shard("l/20/0/0") {
			same = append(same, e)
		}
	}
	for _, e := range same[:4] {
		c.put(e)
	}
	if c.get(same[0].key) == nil { // now the most recently used
		t.Fatal("first tile missing before the budget is reached")
	}
	c.put(same[4])
	c.put(same[5]) // 6 x ~2.2 kB > 10 kB: the least recently used go
	if c.get(same[1].key) != nil {
		t.Error("least recently used tile kept over the budget")
	}
	if c.get(same[0].key) == nil || c.get(same[5].key) == nil {
		t.Error("recently used tiles evicted")
	}
	if _, bytes := c.stats(); bytes > 10_000*cacheShards {
		t.Errorf("cache holds %d bytes, over its budget", bytes)
	}
	// A tile bigger than a shard's budget is not kept.
	big := cacheEntry("l", maptile.New(1, 1, 3), 1, 20_000)
	c.put(big)
	if c.get(big.key) != nil {
		t.Error("tile larger than the budget was cached")
	}
}

func TestCacheInvalidatesByAreaAndVersion(t *testing.T) {
	c := NewCache(1 << 20)
	p := orb.Point{57.17, 50.28}
	here, there := maptile.At(p, 16), maptile.At(orb.Point{57.3, 50.2}, 16)
	world := maptile.New(0, 0, 0)
	for _, e := range []*entry{
		cacheEntry("a", here, 5, 10), cacheEntry("a", there, 5, 10), cacheEntry("a", world, 5, 10),
		cacheEntry("b", here, 5, 10), cacheEntry("a", maptile.At(p, 17), 7, 10), // built after the change
	} {
		c.put(e)
	}
	n := c.invalidate("a", 6, &orb.Bound{Min: p, Max: p})
	if n != 2 {
		t.Errorf("dropped %d tiles, want 2 (a's tile here and a's world tile)", n)
	}
	for key, want := range map[string]bool{"a/16/" + fmt.Sprint(here.X) + "/" + fmt.Sprint(here.Y): false,
		"a/0/0/0": false, "a/16/" + fmt.Sprint(there.X) + "/" + fmt.Sprint(there.Y): true,
		"b/16/" + fmt.Sprint(here.X) + "/" + fmt.Sprint(here.Y): true} {
		if got := c.get(key) != nil; got != want {
			t.Errorf("%s cached = %v, want %v", key, got, want)
		}
	}
	if c.invalidate("a", 0, nil) != 2 { // every version, everywhere: "there" and the z17 tile
		t.Error("dropping a whole layer missed tiles")
	}
}
