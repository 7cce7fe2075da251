package osm

import (
	"math/rand/v2"
	"testing"
)

// TestNodeStore finds every node, in order or not, across blocks, and no other.
func TestNodeStore(t *testing.T) {
	for _, shuffled := range []bool{false, true} {
		s := newNodeStore()
		ids := make([]int64, 3*blockSize+17)
		for i := range ids {
			ids[i] = int64(i)*3 + 1
		}
		if shuffled {
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		}
		for _, id := range ids {
			s.add(id, float64(id%360)-180+0.1234567, float64(id%170)-85)
		}
		s.seal()
		for _, id := range ids {
			p, ok := s.get(id)
			if !ok || p[0] != float64(id%360)-180+0.1234567 || p[1] != float64(id%170)-85 {
				t.Fatalf("shuffled %v: node %d: %v %v", shuffled, id, p, ok)
			}
			if _, ok := s.get(id + 1); ok {
				t.Fatalf("node %d found but never added", id+1)
			}
		}
		if _, ok := s.get(0); ok {
			t.Fatal("node 0 found")
		}
		if b := s.bytes(); b > 16*len(ids)+16*blockSize+1024 {
			t.Errorf("%d bytes for %d nodes", b, len(ids))
		}
	}
}
