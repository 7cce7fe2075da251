package coverage_test

import (
	"context"
	"fmt"

	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/paulmach/orb"
)

// Three blocks of flats along a street, one bus stop at the west end, and three places a new
// stop could go: which one serves the most people not yet within 400 m of a stop?
func ExampleGreedy() {
	proj := coverage.NewLocal(57.17, 50.28)
	blocks := proj.ForwardAll([]orb.Point{{57.160, 50.280}, {57.170, 50.280}, {57.180, 50.280}})
	residents := []float64{300, 500, 200}
	stops := proj.ForwardAll([]orb.Point{{57.161, 50.280}})
	candidates := proj.ForwardAll([]orb.Point{{57.163, 50.281}, {57.171, 50.279}, {57.182, 50.280}})

	ctx := context.Background()
	covered, _ := coverage.CoveredStraight(ctx, blocks, stops, 400)
	covers, _ := coverage.CoverSets(ctx, blocks, candidates, 400)
	res, _ := coverage.Greedy(ctx, coverage.Siting{Weights: residents, Covers: covers, Covered: covered}, 2)
	for _, p := range res.Picks {
		fmt.Printf("candidate %d adds %.0f residents (%.0f served)\n", p.Candidate, p.Gain, p.Covered)
	}
	fmt.Printf("best possible addition at most %.0f\n", res.Upper)
	// Output:
	// candidate 1 adds 500 residents (800 served)
	// candidate 2 adds 200 residents (1000 served)
	// best possible addition at most 700
}
