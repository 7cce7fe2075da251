package coverage

import (
	"container/heap"
	"context"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Network is a walkable street graph in metres. Each input line becomes one edge between its
// first and last vertex; line ends closer than the snapping tolerance become one node, so streets
// digitised with small gaps still connect. Interior vertices keep the edge's shape and length.
type Network struct {
	Nodes []orb.Point
	Edges []Edge
	adj   [][]int32 // node -> edges touching it
	segs  *segIndex
}

// Edge is one street line between two nodes.
type Edge struct {
	U, V   int32
	Length float64
	Line   []orb.Point // from U to V
	Source int         // index of the input line
}

// NewNetwork builds the graph from lines in metres, merging line ends within tol metres.
// Lines with fewer than two points or zero length are skipped.
func NewNetwork(lines [][]orb.Point, tol float64) *Network {
	if tol <= 0 {
		tol = 0.01
	}
	n := &Network{}
	type key struct{ x, y int64 }
	buckets := map[key][]int32{}
	node := func(p orb.Point) int32 {
		kx, ky := int64(math.Floor(p[0]/tol)), int64(math.Floor(p[1]/tol))
		best, bestD := int32(-1), math.Inf(1)
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for _, id := range buckets[key{kx + dx, ky + dy}] {
					if d := dist(p, n.Nodes[id]); d <= tol && d < bestD {
						best, bestD = id, d
					}
				}
			}
		}
		if best >= 0 {
			return best
		}
		id := int32(len(n.Nodes))
		n.Nodes = append(n.Nodes, p)
		n.adj = append(n.adj, nil)
		buckets[key{kx, ky}] = append(buckets[key{kx, ky}], id)
		return id
	}
	for i, l := range lines {
		if len(l) < 2 {
			continue
		}
		length := lineLength(l)
		if length == 0 {
			continue
		}
		u, v := node(l[0]), node(l[len(l)-1])
		e := int32(len(n.Edges))
		n.Edges = append(n.Edges, Edge{U: u, V: v, Length: length, Line: l, Source: i})
		n.adj[u] = append(n.adj[u], e)
		if v != u {
			n.adj[v] = append(n.adj[v], e)
		}
	}
	n.segs = newSegIndex(n.Edges)
	return n
}

func lineLength(l []orb.Point) float64 {
	s := 0.0
	for i := 1; i < len(l); i++ {
		s += dist(l[i-1], l[i])
	}
	return s
}

// Degree is the number of edge ends at node i.
func (n *Network) Degree(i int) int {
	d := 0
	for _, e := range n.adj[i] {
		ed := n.Edges[e]
		if ed.U == int32(i) {
			d++
		}
		if ed.V == int32(i) {
			d++
		}
	}
	return d
}

// Intersections returns the nodes where three or more street ends meet.
func (n *Network) Intersections() []orb.Point {
	var out []orb.Point
	for i, p := range n.Nodes {
		if n.Degree(i) >= 3 {
			out = append(out, p)
		}
	}
	return out
}

// Midpoints returns the point halfway along every edge.
func (n *Network) Midpoints() []orb.Point {
	out := make([]orb.Point, len(n.Edges))
	for i, e := range n.Edges {
		out[i] = pointAlong(e.Line, e.Length/2)
	}
	return out
}

func pointAlong(l []orb.Point, s float64) orb.Point {
	for i := 1; i < len(l); i++ {
		d := dist(l[i-1], l[i])
		if s <= d && d > 0 {
			t := s / d
			return orb.Point{l[i-1][0] + t*(l[i][0]-l[i-1][0]), l[i-1][1] + t*(l[i][1]-l[i-1][1])}
		}
		s -= d
	}
	return l[len(l)-1]
}

// Snap places a point on the network: the nearest point of edge Edge, At metres along it from
// its U end, reached by Offset metres of straight walking from the point. Edge is -1 when the
// network is empty or nothing lies within the search radius.
type Snap struct {
	Edge   int
	At     float64
	Offset float64
}

// Snap finds the nearest edge to p within maxR metres.
func (n *Network) Snap(p orb.Point, maxR float64) Snap {
	return n.segs.nearest(p, maxR, n.Edges)
}

// Distances runs a multi-source Dijkstra from the snapped sources and returns every node's
// walking distance to the nearest source, +Inf beyond limit metres. Each source reaches its
// edge's two ends after its offset plus the walk along the edge.
func (n *Network) Distances(ctx context.Context, sources []Snap, limit float64) ([]float64, error) {
	d := make([]float64, len(n.Nodes))
	for i := range d {
		d[i] = math.Inf(1)
	}
	q := &nodeHeap{}
	push := func(v int32, dv float64) {
		if dv <= limit && dv < d[v] {
			d[v] = dv
			heap.Push(q, nodeDist{v, dv})
		}
	}
	for _, s := range sources {
		if s.Edge < 0 {
			continue
		}
		e := n.Edges[s.Edge]
		push(e.U, s.Offset+s.At)
		push(e.V, s.Offset+e.Length-s.At)
	}
	if err := n.relax(q, d, push, func(i int) error { return canceled(ctx, i) }); err != nil {
		return nil, err
	}
	return d, nil
}

// relax runs Dijkstra's loop over what push has queued in q: each node settled at its distance
// in dist offers the far ends of its edges to push, which keeps what improves (and what lies
// within the caller's limit). check, when set, runs before each step (cancellation).
func (n *Network) relax(q *nodeHeap, dist []float64, push func(v int32, dv float64), check func(step int) error) error {
	for i := 0; q.Len() > 0; i++ {
		if check != nil {
			if err := check(i); err != nil {
				return err
			}
		}
		it := heap.Pop(q).(nodeDist)
		if it.d > dist[it.v] {
			continue
		}
		for _, ei := range n.adj[it.v] {
			e := n.Edges[ei]
			other := e.V
			if other == it.v {
				other = e.U
			}
			push(other, it.d+e.Length)
		}
	}
	return nil
}

// OnEdge groups sources by edge, for walks that never leave a shared edge.
func OnEdge(sources []Snap) map[int][]Snap {
	m := map[int][]Snap{}
	for _, s := range sources {
		if s.Edge >= 0 {
			m[s.Edge] = append(m[s.Edge], s)
		}
	}
	return m
}

// DistanceTo is the walking distance from the nearest source to a snapped point, given the node
// distances from Distances and the sources grouped by OnEdge: through either end of its edge, or
// straight along the edge from a source on the same edge.
func (n *Network) DistanceTo(nodeDist []float64, onEdge map[int][]Snap, p Snap) float64 {
	if p.Edge < 0 {
		return math.Inf(1)
	}
	e := n.Edges[p.Edge]
	best := min(nodeDist[e.U]+p.At, nodeDist[e.V]+e.Length-p.At)
	for _, s := range onEdge[p.Edge] {
		best = min(best, s.Offset+math.Abs(s.At-p.At))
	}
	return best + p.Offset
}

// CoveredNetwork reports, for every snapped demand point, whether a facility is within d metres
// of walking (straight to the nearest street, along streets, straight to the facility).
func CoveredNetwork(ctx context.Context, n *Network, demand, facilities []Snap, d float64) ([]bool, error) {
	nd, err := n.Distances(ctx, facilities, d)
	if err != nil {
		return nil, err
	}
	on := OnEdge(facilities)
	out := make([]bool, len(demand))
	for i, p := range demand {
		if err := canceled(ctx, i); err != nil {
			return nil, err
		}
		out[i] = n.DistanceTo(nd, on, p) <= d
	}
	return out, nil
}

type nodeDist struct {
	v int32
	d float64
}

type nodeHeap []nodeDist

func (h nodeHeap) Len() int           { return len(h) }
func (h nodeHeap) Less(i, j int) bool { return h[i].d < h[j].d }
func (h nodeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)        { *h = append(*h, x.(nodeDist)) }
func (h *nodeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// segIndex is a bucket index over the straight pieces of lines, for nearest-line queries.
type segIndex struct {
	cell       float64
	minX, minY float64
	buckets    map[[2]int32][]segRef
	bound      orb.Bound
	empty      bool
}

type segRef struct {
	line int32 // edge or line index
	seg  int32 // piece i goes from Line[i] to Line[i+1]
	at   float64
}

func newSegIndex(edges []Edge) *segIndex {
	lines := make([][]orb.Point, len(edges))
	for i, e := range edges {
		lines[i] = e.Line
	}
	return newLineIndex(lines, 100)
}

func newLineIndex(lines [][]orb.Point, cell float64) *segIndex {
	s := &segIndex{cell: cell, buckets: map[[2]int32][]segRef{}, empty: true}
	for li, l := range lines {
		at := 0.0
		for i := 1; i < len(l); i++ {
			a, b := l[i-1], l[i]
			if s.empty {
				s.bound = orb.Bound{Min: a, Max: a}
				s.empty = false
			}
			s.bound = s.bound.Extend(a).Extend(b)
			x0, x1 := s.key(min(a[0], b[0])), s.key(max(a[0], b[0]))
			y0, y1 := s.key(min(a[1], b[1])), s.key(max(a[1], b[1]))
			for x := x0; x <= x1; x++ {
				for y := y0; y <= y1; y++ {
					k := [2]int32{x, y}
					s.buckets[k] = append(s.buckets[k], segRef{int32(li), int32(i - 1), at})
				}
			}
			at += dist(a, b)
		}
	}
	return s
}

func (s *segIndex) key(v float64) int32 { return int32(math.Floor(v / s.cell)) }

// visit calls fn for every piece in the buckets overlapping the square of half-side r around p;
// a piece may be visited more than once.
func (s *segIndex) visit(p orb.Point, r float64, fn func(segRef)) {
	if s.empty {
		return
	}
	// Clamp the search square to the indexed extent so a huge radius stays cheap.
	x0 := s.key(max(p[0]-r, s.bound.Min[0]))
	x1 := s.key(min(p[0]+r, s.bound.Max[0]))
	y0 := s.key(max(p[1]-r, s.bound.Min[1]))
	y1 := s.key(min(p[1]+r, s.bound.Max[1]))
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			for _, ref := range s.buckets[[2]int32{x, y}] {
				fn(ref)
			}
		}
	}
}

func (s *segIndex) nearest(p orb.Point, maxR float64, edges []Edge) Snap {
	best := Snap{Edge: -1, Offset: math.Inf(1)}
	if s.empty {
		return best
	}
	// Furthest any indexed point can be from p: stop widening past it.
	reach := math.Sqrt(max(dist2(p, s.bound.Min), dist2(p, s.bound.Max),
		dist2(p, orb.Point{s.bound.Min[0], s.bound.Max[1]}), dist2(p, orb.Point{s.bound.Max[0], s.bound.Min[1]})))
	for r := s.cell; ; r *= 2 {
		rr := min(r, maxR)
		s.visit(p, rr, func(ref segRef) {
			l := edges[ref.line].Line
			q, t := closestOnSegment(p, l[ref.seg], l[ref.seg+1])
			d := dist(p, q)
			if d < best.Offset || (d == best.Offset && int(ref.line) < best.Edge) {
				best = Snap{Edge: int(ref.line), At: ref.at + t, Offset: d}
			}
		})
		// A piece found within the square of half-side rr is the nearest only if it is
		// within rr: pieces outside the square are further than rr.
		if (best.Edge >= 0 && best.Offset <= rr) || rr >= maxR || rr >= reach {
			break
		}
	}
	if best.Offset > maxR {
		return Snap{Edge: -1, Offset: math.Inf(1)}
	}
	return best
}

// closestOnSegment returns the point of segment ab nearest to p and its distance from a.
func closestOnSegment(p, a, b orb.Point) (orb.Point, float64) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return a, 0
	}
	t := ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / l2
	t = min(max(t, 0), 1)
	return orb.Point{a[0] + t*dx, a[1] + t*dy}, t * math.Sqrt(l2)
}

// CoverSets lists, for each candidate site, the demand points within d metres of walking from
// it (straight to the nearest street, along the streets, straight to the point), in increasing
// order: the cover sets of siting by the street network, as CoverSets is by straight line. A
// candidate or demand point off the network (Edge -1) covers or is covered by nothing. progress,
// when not nil, is told how many candidates are done now and then.
func (n *Network) CoverSets(ctx context.Context, demand, candidates []Snap, d float64, progress func(done, total int)) ([][]int32, error) {
	onEdge := make([][]int32, len(n.Edges))
	for i, p := range demand {
		if p.Edge >= 0 && p.Offset <= d {
			onEdge[p.Edge] = append(onEdge[p.Edge], int32(i))
		}
	}
	dist := make([]float64, len(n.Nodes))
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	seen := make([]int32, len(n.Edges)) // candidate index + 1 that last looked at the edge
	var touched []int32
	q := &nodeHeap{}
	out := make([][]int32, len(candidates))
	for j, c := range candidates {
		if j%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if progress != nil {
				progress(j, len(candidates))
			}
		}
		if c.Edge < 0 || c.Offset > d {
			continue
		}
		for _, v := range touched {
			dist[v] = math.Inf(1)
		}
		touched = touched[:0]
		*q = (*q)[:0]
		push := func(v int32, dv float64) {
			if dv <= d && dv < dist[v] {
				if math.IsInf(dist[v], 1) {
					touched = append(touched, v)
				}
				dist[v] = dv
				heap.Push(q, nodeDist{v, dv})
			}
		}
		ce := n.Edges[c.Edge]
		push(ce.U, c.Offset+c.At)
		push(ce.V, c.Offset+ce.Length-c.At)
		_ = n.relax(q, dist, push, nil) // without a check it cannot fail
		var ids []int32
		visit := func(ei int) {
			if seen[ei] == int32(j+1) {
				return
			}
			seen[ei] = int32(j + 1)
			e := n.Edges[ei]
			for _, i := range onEdge[ei] {
				p := demand[i]
				best := min(dist[e.U]+p.At, dist[e.V]+e.Length-p.At)
				if ei == c.Edge {
					best = min(best, c.Offset+math.Abs(c.At-p.At))
				}
				if best+p.Offset <= d {
					ids = append(ids, i)
				}
			}
		}
		visit(c.Edge)
		for _, v := range touched {
			for _, ei := range n.adj[v] {
				visit(int(ei))
			}
		}
		slices.Sort(ids)
		out[j] = ids
	}
	return out, nil
}
