package coverage

import (
	"context"

	"github.com/paulmach/orb"
)

// CoveredStraight reports, for every demand point, whether a facility lies within d metres of it
// in a straight line. Points are in metres (see Local).
func CoveredStraight(ctx context.Context, demand, facilities []orb.Point, d float64) ([]bool, error) {
	g := NewGrid(facilities, max(d, 1))
	out := make([]bool, len(demand))
	for i, p := range demand {
		if err := canceled(ctx, i); err != nil {
			return nil, err
		}
		out[i] = g.Any(p, d)
	}
	return out, nil
}

// Share sums weights and the weights of covered entries.
func Share(weights []float64, covered []bool) (total, cov float64) {
	for i, w := range weights {
		total += w
		if covered[i] {
			cov += w
		}
	}
	return total, cov
}
