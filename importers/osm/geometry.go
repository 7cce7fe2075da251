package osm

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// assembleAreas joins the member ways of a multipolygon (or boundary) relation into closed
// rings and nests them by containment: rings at even depth are outer rings, each ring at odd
// depth a hole of the ring around it (the member roles are not trusted; mappers get them
// wrong). An island in a hole is an outer ring again. A ring that does not close is an error.
func assembleAreas(lines []orb.LineString) (orb.MultiPolygon, error) {
	rings, err := joinRings(lines)
	if err != nil {
		return nil, err
	}
	type ringInfo struct {
		r      orb.Ring
		area   float64
		b      orb.Bound
		depth  int
		parent int
		poly   int
	}
	rs := make([]ringInfo, len(rings))
	for i, r := range rings {
		rs[i] = ringInfo{r: r, area: math.Abs(planar.Area(r)), b: r.Bound(), parent: -1, poly: -1}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].area > rs[j].area })
	for i := range rs {
		for j := i - 1; j >= 0; j-- {
			if rs[j].b.Contains(rs[i].b.Min) && rs[j].b.Contains(rs[i].b.Max) && ringInside(rs[i].r, rs[j].r) {
				rs[i].depth, rs[i].parent = rs[j].depth+1, j
				break
			}
		}
	}
	var mp orb.MultiPolygon
	for i := range rs {
		if rs[i].depth%2 == 0 {
			rs[i].poly = len(mp)
			mp = append(mp, orb.Polygon{rs[i].r})
		}
	}
	for i := range rs {
		if rs[i].depth%2 == 1 {
			p := rs[rs[i].parent].poly
			mp[p] = append(mp[p], rs[i].r)
		}
	}
	return mp, nil
}

// ringInside reports whether ring a lies inside ring b, judged by a vertex of a that is not a
// vertex of b (rings of one relation may touch at shared nodes).
func ringInside(a, b orb.Ring) bool {
	shared := make(map[orb.Point]bool, len(b))
	for _, p := range b {
		shared[p] = true
	}
	for _, p := range a {
		if !shared[p] {
			return planar.RingContains(b, p)
		}
	}
	// Every vertex shared: test the middle of an edge.
	for i := 0; i+1 < len(a); i++ {
		m := orb.Point{(a[i][0] + a[i+1][0]) / 2, (a[i][1] + a[i+1][1]) / 2}
		if !shared[m] {
			return planar.RingContains(b, m)
		}
	}
	return false
}

// joinRings chains ways end to end into closed rings.
func joinRings(lines []orb.LineString) ([]orb.Ring, error) {
	var rings []orb.Ring
	byEnd := map[orb.Point][]int{}
	used := make([]bool, len(lines))
	for i, l := range lines {
		if len(l) < 2 {
			used[i] = true
			continue
		}
		if l[0] == l[len(l)-1] {
			used[i] = true
			if len(l) < 4 {
				return nil, fmt.Errorf("a closed way of %d nodes is no ring", len(l))
			}
			rings = append(rings, orb.Ring(l))
			continue
		}
		byEnd[l[0]] = append(byEnd[l[0]], i)
		byEnd[l[len(l)-1]] = append(byEnd[l[len(l)-1]], i)
	}
	for i, l := range lines {
		if used[i] {
			continue
		}
		used[i] = true
		ring := append(orb.LineString{}, l...)
		for ring[0] != ring[len(ring)-1] {
			end := ring[len(ring)-1]
			next := -1
			for _, k := range byEnd[end] {
				if !used[k] {
					next = k
					break
				}
			}
			if next < 0 {
				return nil, fmt.Errorf("ring not closed: it ends at %.7f %.7f", end[0], end[1])
			}
			used[next] = true
			n := lines[next]
			if n[0] == end {
				ring = append(ring, n[1:]...)
			} else {
				for j := len(n) - 2; j >= 0; j-- {
					ring = append(ring, n[j])
				}
			}
		}
		if len(ring) < 4 {
			return nil, fmt.Errorf("a ring of %d nodes", len(ring))
		}
		rings = append(rings, orb.Ring(ring))
	}
	if len(rings) == 0 {
		return nil, fmt.Errorf("no ring")
	}
	return rings, nil
}

// pointOf is the point a line or area becomes in a point layer: the centroid of an area (or
// of its largest part when the centroid falls outside), the middle of a line.
func pointOf(g orb.Geometry) orb.Point {
	switch x := g.(type) {
	case orb.Point:
		return x
	case orb.LineString:
		return halfway(x)
	case orb.Polygon:
		c, _ := planar.CentroidArea(x)
		if !planar.PolygonContains(x, c) && len(x) > 0 {
			return halfway(orb.LineString(x[0]))
		}
		return c
	case orb.MultiPolygon:
		c, _ := planar.CentroidArea(x)
		if !planar.MultiPolygonContains(x, c) && len(x) > 0 {
			big := 0
			for i := range x {
				if planar.Area(x[i]) > planar.Area(x[big]) {
					big = i
				}
			}
			return pointOf(x[big])
		}
		return c
	}
	c, _ := planar.CentroidArea(g)
	return c
}

func halfway(l orb.LineString) orb.Point {
	total := planar.Length(l)
	if total == 0 {
		return l[0]
	}
	half, run := total/2, 0.0
	for i := 0; i+1 < len(l); i++ {
		d := planar.Distance(l[i], l[i+1])
		if run+d >= half && d > 0 {
			t := (half - run) / d
			return orb.Point{l[i][0] + t*(l[i+1][0]-l[i][0]), l[i][1] + t*(l[i+1][1]-l[i][1])}
		}
		run += d
	}
	return l[len(l)-1]
}
