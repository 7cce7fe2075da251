package demo

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

type route struct {
	ref      string
	name     string
	operator string
	lowFloor float64 // percent
	nodes    []node
	segs     []*segment
}

type stop struct {
	seg   *segment
	along float64 // metres along the segment's line
	side  float64 // +1 or -1
	u, v  float64
	name  string
	code  string
}

type edge struct {
	to  node
	seg *segment
}

// makeTransit lays about 40 bus routes along the main streets (shortest paths from one edge of
// the city through the centre to another), then stops along them.
func (g *gen) makeTransit() {
	r := g.rng("transit")
	adj := map[node][]edge{}
	var nodes []node
	for _, s := range g.segs {
		if s.cls < clsTertiary {
			continue
		}
		a, b := s.ends()
		for _, n := range []node{a, b} {
			if _, ok := adj[n]; !ok {
				nodes = append(nodes, n)
				adj[n] = nil
			}
		}
		adj[a] = append(adj[a], edge{b, s})
		adj[b] = append(adj[b], edge{a, s})
	}
	radius := func(n node) float64 { return g.radiusAt(float64(n.i)*unit, float64(n.j)*unit) }
	angle := func(n node) float64 {
		x, y := g.f.world(float64(n.i)*unit, float64(n.j)*unit)
		return math.Atan2(y, x)
	}
	var outer, inner []node
	for _, n := range nodes {
		switch rr := radius(n); {
		case rr > 0.7 && len(adj[n]) >= 2:
			outer = append(outer, n)
		case rr < 0.45:
			inner = append(inner, n)
		}
	}
	if len(outer) < 2 || len(inner) == 0 {
		return
	}
	refs := r.Perm(110)[:targetRoutes]
	sort.Ints(refs)
	for k := 0; k < targetRoutes; k++ {
		a := outer[r.IntN(len(outer))]
		var b node
		for try := 0; try < 50; try++ {
			b = outer[r.IntN(len(outer))]
			d := math.Abs(angle(a) - angle(b))
			if d > math.Pi {
				d = 2*math.Pi - d
			}
			if d > 1.8 {
				break
			}
		}
		via := inner[r.IntN(len(inner))]
		jitter := make([]float64, len(g.segs))
		for i := range jitter {
			jitter[i] = 0.6 + r.Float64()*1.8
		}
		p1, s1 := shortestPath(adj, a, via, jitter)
		p2, s2 := shortestPath(adj, via, b, jitter)
		if p1 == nil || p2 == nil {
			continue
		}
		rt := &route{ref: strconv.Itoa(refs[k] + 1), operator: busOperators[r.IntN(len(busOperators))],
			lowFloor: float64(20 + 5*r.IntN(17)), nodes: append(p1, p2[1:]...), segs: append(s1, s2...)}
		rt.name = g.terminal(a) + " — " + g.terminal(b)
		for _, s := range rt.segs {
			if len(s.routes) == 0 || s.routes[len(s.routes)-1] != rt.ref {
				s.routes = append(s.routes, rt.ref)
			}
		}
		g.routes = append(g.routes, rt)
	}
	g.makeStops(r)
}

// terminal names the end of a route after the housing estate or part of the city it is in.
func (g *gen) terminal(n node) string {
	u, v := float64(n.i)*unit, float64(n.j)*unit
	for _, d := range [][2]float64{{1, 1}, {-1, 1}, {1, -1}, {-1, -1}} {
		if c := g.cellOf(u+d[0]*10, v+d[1]*10); c != nil && c.estate != "" {
			return c.estate
		}
	}
	x, y := g.f.world(u, v)
	phi := math.Atan2(y, x)
	if phi < 0 {
		phi += 2 * math.Pi
	}
	s := int(math.Floor(phi/(math.Pi/4)+0.5)) % len(microSectors)
	return "р-н " + microSectors[s]
}

type pqItem struct {
	n node
	d float64
}
type pq []pqItem

func (q pq) Len() int           { return len(q) }
func (q pq) Less(a, b int) bool { return q[a].d < q[b].d }
func (q pq) Swap(a, b int)      { q[a], q[b] = q[b], q[a] }
func (q *pq) Push(x any)        { *q = append(*q, x.(pqItem)) }
func (q *pq) Pop() any          { old := *q; it := old[len(old)-1]; *q = old[:len(old)-1]; return it }
func speedOf(cls int8) float64  { return []float64{1, 1, 1, 0.8, 0.9, 1.0}[cls] }

// shortestPath is Dijkstra over the main streets, weighting avenues as faster.
func shortestPath(adj map[node][]edge, from, to node, jitter []float64) ([]node, []*segment) {
	dist := map[node]float64{from: 0}
	prev := map[node]edge{}
	q := &pq{{from, 0}}
	for q.Len() > 0 {
		it := heap.Pop(q).(pqItem)
		if it.d > dist[it.n] {
			continue
		}
		if it.n == to {
			break
		}
		for _, e := range adj[it.n] {
			w := float64(e.seg.to-e.seg.from) * unit / speedOf(e.seg.cls) * jitter[e.seg.id]
			if d, ok := dist[e.to]; !ok || it.d+w < d {
				dist[e.to] = it.d + w
				prev[e.to] = edge{it.n, e.seg}
				heap.Push(q, pqItem{e.to, it.d + w})
			}
		}
	}
	if _, ok := dist[to]; !ok {
		return nil, nil
	}
	var ns []node
	var ss []*segment
	for n := to; n != from; {
		e := prev[n]
		ns = append(ns, n)
		ss = append(ss, e.seg)
		n = e.to
	}
	ns = append(ns, from)
	for i, j := 0, len(ns)-1; i < j; i, j = i+1, j-1 {
		ns[i], ns[j] = ns[j], ns[i]
	}
	for i, j := 0, len(ss)-1; i < j; i, j = i+1, j-1 {
		ss[i], ss[j] = ss[j], ss[i]
	}
	return ns, ss
}

// makeStops puts a pair of stops (one each way) every so many metres along the streets that
// buses use; every route on that street serves them.
func (g *gen) makeStops(r *rand.Rand) {
	used := 0.0
	for _, s := range g.segs {
		if len(s.routes) > 0 {
			used += float64(s.to-s.from) * unit
		}
	}
	spacing := math.Round(2*used/targetStops/unit) * unit
	spacing = math.Max(200, math.Min(800, spacing))
	for _, s := range g.segs {
		if len(s.routes) == 0 {
			continue
		}
		lo, hi := float64(s.from)*unit+20, float64(s.to)*unit-20
		for k := math.Ceil((lo - 25) / spacing); 25+k*spacing < hi; k++ {
			along := 25 + k*spacing
			name := g.stopName(r, s, along)
			for _, side := range []float64{1, -1} {
				a := along + side*12
				u, v := s.uv(a, side*(halfWidth[s.cls]+2))
				g.stops = append(g.stops, &stop{seg: s, along: a, side: side, u: u, v: v, name: name,
					code: fmt.Sprintf("A%04d", len(g.stops)+1)})
			}
		}
	}
}

// stopName names a stop after a landmark near it or else after the nearest cross street.
func (g *gen) stopName(r *rand.Rand, s *segment, along float64) string {
	u, v := s.uv(along, 0)
	best, bd := "", 220.0
	for _, f := range append(append([]*facility(nil), g.schools...), g.clinics...) {
		fu, fv := f.b.centre()
		if d := math.Hypot(fu-u, fv-v); d < bd {
			best, bd = f.short, d
		}
	}
	for _, p := range g.parks {
		if d := math.Hypot(p.centreU-u, p.centreV-v); d < bd+150 && p.kind == "park" {
			best, bd = p.ru, d
		}
	}
	if best != "" && r.Float64() < 0.7 {
		return best
	}
	// nearest junction along the line that has a cross street
	pos := int(math.Round(along / unit))
	for d := 0; d < 3*cellN; d++ {
		for _, p := range []int{pos - d, pos + d} {
			var lk lineKey
			var n node
			if s.dir == 0 {
				lk, n = lineKey{1, p}, node{p, s.line}
			} else {
				lk, n = lineKey{0, p}, node{s.line, p}
			}
			if g.degree(n) >= 3 {
				if name, ok := g.names[lk]; ok {
					return trimPrefix(name)
				}
			}
		}
	}
	return trimPrefix(s.name)
}

func (g *gen) emitTransit() {
	r := g.rng("vehicles")
	stops := g.city.newLayer("bus_stops", true, "name", "code", "routes", "smart", "shelter")
	for _, s := range g.stops {
		pSmart := 0.1
		if g.radiusAt(s.u, s.v) < 0.4 {
			pSmart = 0.35
		}
		stops.add(g.f.ll(s.u, s.v), s.name, s.code, strings.Join(s.seg.routes, ", "), r.Float64() < pSmart, r.Float64() < 0.75)
	}
	routes := g.city.newLayer("bus_routes", true, "ref", "name", "operator", "low_floor_share", "color")
	vehicles := g.city.newLayer("vehicles", true, "vehicle_id", "plate", "route", "kind", "speed_kmh", "heading", "low_floor", "seen_at")
	letters := "ABCEHKMOPTXY"
	nv := 0
	for ri, rt := range g.routes {
		ls := make(orb.LineString, 0, len(rt.nodes))
		for _, n := range rt.nodes {
			ls = append(ls, g.f.ll(float64(n.i)*unit, float64(n.j)*unit))
		}
		routes.add(orb.MultiLineString{ls}, rt.ref, rt.name, rt.operator, rt.lowFloor, routeColor(ri))
		// a snapshot of the buses on the line
		total := 0.0
		for _, s := range rt.segs {
			total += float64(s.to-s.from) * unit
		}
		for k := 3 + r.IntN(5); k > 0; k-- {
			at := r.Float64() * total
			for i, s := range rt.segs {
				l := float64(s.to-s.from) * unit
				if at > l {
					at -= l
					continue
				}
				a, b := rt.nodes[i], rt.nodes[i+1]
				t := at / l
				u := (float64(a.i) + t*float64(b.i-a.i)) * unit
				v := (float64(a.j) + t*float64(b.j-a.j)) * unit
				nv++
				speed := 0.0
				if r.Float64() > 0.2 {
					speed = math.Round(between(r, 12, 55)*10) / 10
				}
				plate := fmt.Sprintf("%03d %c%c%c 04", 100+r.IntN(900), letters[r.IntN(len(letters))],
					letters[r.IntN(len(letters))], letters[r.IntN(len(letters))])
				seen := g.opts.Now.Add(-time.Duration(r.IntN(45)) * time.Second).Truncate(time.Second)
				vehicles.add(g.f.ll(u, v), fmt.Sprintf("bus-%03d", nv), plate, rt.ref, "bus", speed,
					g.f.bearing(float64(b.i-a.i), float64(b.j-a.j)), r.Float64()*100 < rt.lowFloor, seen)
				break
			}
		}
	}
}

// routeColor is the demo colour of the i-th route: hues a golden angle apart (neighbours in the
// list differ most), dark enough to read on the map's pale land.
func routeColor(i int) string {
	h := math.Mod(float64(i)*137.508, 360) / 60
	const sat, light = 0.70, 0.38
	c := (1 - math.Abs(2*light-1)) * sat
	x := c * (1 - math.Abs(math.Mod(h, 2)-1))
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := light - c/2
	to := func(v float64) int { return int(math.Round((v + m) * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", to(r), to(g), to(b))
}
