package transit

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// RouteShapes returns the distinct shapes of a route's trips (route_id or short name) as lon/lat
// lines, for drawing a vehicle's line under its track.
func (n *Network) RouteShapes(route string) []orb.LineString {
	seen := map[*path]bool{}
	var ids []string
	byID := map[string]*path{}
	for _, t := range n.tripsByRoute[route] {
		if t.shape != nil && !seen[t.shape] {
			seen[t.shape] = true
			ids = append(ids, t.ShapeID)
			byID[t.ShapeID] = t.shape
		}
	}
	sort.Strings(ids)
	out := make([]orb.LineString, 0, len(ids))
	for _, id := range ids {
		out = append(out, byID[id].lonLat())
	}
	return out
}

// lonLat turns the path's local metres back into lon/lat.
func (p *path) lonLat() orb.LineString {
	ls := make(orb.LineString, len(p.xy))
	ky := earthRadius * math.Pi / 180
	for i, q := range p.xy {
		ls[i] = orb.Point{p.lon0 + q[0]/p.kx, p.lat0 + q[1]/ky}
	}
	return ls
}
