package coverage

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// Network.CoverSets gives, for every candidate, exactly the demand points CoveredNetwork finds
// within the distance of that candidate alone.
func TestNetworkCoverSetsMatchCoveredNetwork(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// A 6×6 grid of 100 m blocks with a few streets missing and one detached street.
	var lines [][]orb.Point
	for i := 0; i <= 5; i++ {
		for j := 0; j < 5; j++ {
			if r.IntN(6) > 0 {
				lines = append(lines, []orb.Point{{float64(j) * 100, float64(i) * 100}, {float64(j+1) * 100, float64(i) * 100}})
			}
			if r.IntN(6) > 0 {
				lines = append(lines, []orb.Point{{float64(i) * 100, float64(j) * 100}, {float64(i) * 100, float64(j+1) * 100}})
			}
		}
	}
	lines = append(lines, []orb.Point{{800, 0}, {900, 0}})
	n := NewNetwork(lines, 0.5)
	var demand, cands []Snap
	for i := 0; i < 300; i++ {
		demand = append(demand, n.Snap(orb.Point{r.Float64()*1000 - 50, r.Float64()*600 - 50}, 40))
	}
	for i := 0; i < 60; i++ {
		cands = append(cands, n.Snap(orb.Point{r.Float64() * 950, r.Float64() * 550}, 40))
	}
	cands = append(cands, Snap{Edge: -1})
	for _, d := range []float64{40, 120, 230} {
		sets, err := n.CoverSets(context.Background(), demand, cands, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkCoverSets(t, n, demand, cands, sets, d)
	}
}

func checkCoverSets(t *testing.T, n *Network, demand, cands []Snap, sets [][]int32, d float64) {
	t.Helper()
	total := 0
	for j, c := range cands {
		covered, err := CoveredNetwork(context.Background(), n, demand, []Snap{c}, d)
		if err != nil {
			t.Fatal(err)
		}
		var want []int32
		for i, ok := range covered {
			if ok {
				want = append(want, int32(i))
			}
		}
		if !slices.Equal(sets[j], want) {
			t.Errorf("d %v, candidate %d %+v: covers %v, want %v", d, j, c, sets[j], want)
		}
		total += len(want)
	}
	if total == 0 {
		t.Fatal("no candidate covers anything: the test tests nothing")
	}
}
