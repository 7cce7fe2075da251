package analysis

import (
	"context"
	"math"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/paulmach/orb"
)

// MaxWalk bounds the walk that Walking searches, in metres: farther places are "not reachable on
// foot" (a resident's "nearest to me" is never an hour and a half away).
const MaxWalk = 8000.0

// Walking gives the walking distance in metres from one point to each of the points to (all
// lon/lat), along the same street graph as the coverage and siting analyses' network method:
// straight to the nearest street (within SnapRadius), along layer.streets, straight to the
// place. A place off the network or more than MaxWalk away is +Inf. A start more than
// SnapRadius from any street is a bad request (EINVALID) saying so.
//
// The graph is built once, with the residents snapshot it is kept beside, and reused until the
// streets or the buildings change; one call is then a Dijkstra bounded by the farthest walk
// asked for.
func (s *Store) Walking(ctx context.Context, from orb.Point, to []orb.Point) ([]float64, error) {
	p, err := s.population(ctx)
	if err != nil {
		return nil, err
	}
	sn, err := s.network(ctx, p)
	if err != nil {
		return nil, err
	}
	start := sn.net.Snap(p.proj.Forward(from), SnapRadius)
	if start.Edge < 0 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "the point %.5f, %.5f is more than %.0f m from any street: no walking distance from it", from[0], from[1], SnapRadius)
	}
	targets := make([]coverage.Snap, len(to))
	for i, q := range to {
		targets[i] = sn.net.Snap(p.proj.Forward(q), SnapRadius)
	}
	sources := []coverage.Snap{start}
	nodes, err := sn.net.Distances(ctx, sources, MaxWalk)
	if err != nil {
		return nil, err
	}
	onEdge := coverage.OnEdge(sources)
	out := make([]float64, len(to))
	for i, t := range targets {
		d := sn.net.DistanceTo(nodes, onEdge, t)
		if d > MaxWalk {
			d = math.Inf(1)
		}
		out[i] = d
	}
	return out, nil
}
