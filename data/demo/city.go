package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// The demo city is laid out on a grid in a local frame (u, v) in metres: main streets every
// cellSize metres, local streets on a finer grid of unit metres. The frame is rotated, gently
// warped so streets curve a little, and mapped to EPSG:4326 around the real centre of Aktobe.
const (
	unit     = 50.0 // metres between fine grid lines
	cellN    = 12   // fine units per cell
	cellSize = unit * cellN

	centreLon = 57.17
	centreLat = 50.283

	// semi-axes of the built-up area in metres (east-west, north-south)
	urbanA = 5900.0
	urbanB = 4500.0
)

// frame maps local grid metres to longitude and latitude.
type frame struct {
	sin, cos     float64
	mPerLon      float64
	mPerLat      float64
	warpA, warpL float64
	ph1, ph2     float64
}

func newFrame(r *rand.Rand) frame {
	theta := (14 + r.Float64()*10) * math.Pi / 180
	return frame{
		sin: math.Sin(theta), cos: math.Cos(theta),
		mPerLon: 111320 * math.Cos(centreLat*math.Pi/180),
		mPerLat: 110574,
		warpA:   45 + r.Float64()*30, warpL: 2200 + r.Float64()*800,
		ph1: r.Float64() * 2 * math.Pi, ph2: r.Float64() * 2 * math.Pi,
	}
}

// world returns east/north metres from the centre, before the warp.
func (f *frame) world(u, v float64) (x, y float64) {
	return u*f.cos - v*f.sin, u*f.sin + v*f.cos
}

// ll maps grid metres to a rounded EPSG:4326 point.
func (f *frame) ll(u, v float64) orb.Point {
	x, y := f.world(u, v)
	wx := x + f.warpA*math.Sin(y/f.warpL+f.ph1)
	wy := y + f.warpA*math.Sin(x/f.warpL+f.ph2)
	return orb.Point{round7(centreLon + wx/f.mPerLon), round7(centreLat + wy/f.mPerLat)}
}

// bearing is the compass bearing in degrees of the grid direction (du, dv).
func (f *frame) bearing(du, dv float64) float64 {
	x, y := f.world(du, dv)
	b := math.Atan2(x, y) * 180 / math.Pi
	if b < 0 {
		b += 360
	}
	return math.Round(b*10) / 10
}

func round7(x float64) float64 { return math.Round(x*1e7) / 1e7 }

// region decides whether a world point belongs to the built-up area.
type region struct {
	amp   [3]float64
	phase [3]float64
}

func newRegion(r *rand.Rand) region {
	var g region
	for i := range g.amp {
		g.amp[i] = []float64{0.10, 0.06, 0.04}[i] * (0.6 + 0.8*r.Float64())
		g.phase[i] = r.Float64() * 2 * math.Pi
	}
	return g
}

// radius returns the normalised distance of a world point from the centre: below 1 is urban.
func (g region) radius(x, y float64) float64 {
	phi := math.Atan2(y, x)
	limit := 1 + g.amp[0]*math.Sin(2*phi+g.phase[0]) + g.amp[1]*math.Sin(3*phi+g.phase[1]) +
		g.amp[2]*math.Sin(5*phi+g.phase[2])
	return math.Hypot(x/urbanA, y/urbanB) / limit
}

// Street classes, lowest first.
const (
	clsNone int8 = iota // a division inside a housing estate, not a street
	clsService
	clsResidential
	clsTertiary
	clsSecondary
	clsPrimary
)

var highwayOf = [...]string{"", "service", "residential", "tertiary", "secondary", "primary"}

// halfWidth is the distance from a street's centre line to its kerb-side footway.
var halfWidth = [...]float64{0, 3, 4, 6, 9, 12}

// setback is the distance from a street's centre line to the edge of a block's buildable area.
var setback = [...]float64{8, 7, 9, 16, 22, 28}

// Kinds of cell.
type cellKind int8

const (
	kindCentre cellKind = iota
	kindMicro
	kindPrivate
	kindIndustrial
	kindPark
)

type cellKey struct{ i, j int }

type cell struct {
	key    cellKey
	kind   cellKind
	r      float64 // normalised distance of the centre from the city centre
	locU   []int   // fine offsets (1..11) of local lines parallel to v (constant u)
	locV   []int   // ... parallel to u (constant v)
	divU   []int   // divisions without a street (housing estates)
	divV   []int
	locCls int8
	estate string // housing-estate name for micro cells
}

// arterialClass is the class of main grid line k (in cells).
func arterialClass(k int) int8 {
	switch {
	case k%4 == 0:
		return clsPrimary
	case k%2 == 0:
		return clsSecondary
	}
	return clsTertiary
}

// unitKey is one fine-grid street piece: along u (dir 0) on line v=line*unit from pos to pos+1,
// or along v (dir 1) on line u=line*unit.
type unitKey struct {
	dir       int8
	line, pos int
}

type lineKey struct {
	dir  int8
	line int
}

// segment is one street between two junctions.
type segment struct {
	id       int
	dir      int8
	line     int
	from, to int // fine positions of its end nodes
	cls      int8
	name     string
	lanes    int
	kind     cellKind // for local streets, the kind of cell they serve
	arterial bool
	length   float64
	routes   []string
}

func (s *segment) point(f *frame, pos, offset float64) orb.Point {
	if s.dir == 0 {
		return f.ll(pos, float64(s.line)*unit+offset)
	}
	return f.ll(float64(s.line)*unit+offset, pos)
}

// uv returns the grid coordinates of the point pos metres along the segment's line and offset
// metres across it (towards +v for a street along u, towards +u for a street along v).
func (s *segment) uv(pos, offset float64) (float64, float64) {
	if s.dir == 0 {
		return pos, float64(s.line)*unit + offset
	}
	return float64(s.line)*unit + offset, pos
}

type node struct{ i, j int }

func (s *segment) ends() (node, node) {
	if s.dir == 0 {
		return node{s.from, s.line}, node{s.to, s.line}
	}
	return node{s.line, s.from}, node{s.line, s.to}
}

// layout builds the cells, the street units and the segments.
func (g *gen) layout() error {
	r := g.rng("layout")
	g.f = newFrame(r)
	g.reg = newRegion(r)

	inside := func(u, v float64) bool {
		x, y := g.f.world(u, v)
		if g.reg.radius(x, y) >= 1 {
			return false
		}
		return planar.MultiPolygonContains(g.boundary, g.f.ll(u, v))
	}
	cand := map[cellKey]bool{}
	span := int(math.Ceil(math.Max(urbanA, urbanB)*1.3/cellSize)) + 1
	for i := -span; i < span; i++ {
		for j := -span; j < span; j++ {
			u0, v0 := float64(i)*cellSize, float64(j)*cellSize
			if inside(u0, v0) && inside(u0+cellSize, v0) && inside(u0, v0+cellSize) && inside(u0+cellSize, v0+cellSize) {
				cand[cellKey{i, j}] = true
			}
		}
	}
	// keep the cells connected to the centre (sharing an edge) so the street network is one piece
	start := cellKey{0, 0}
	if !cand[start] {
		return fmt.Errorf("demo: the centre cell is outside the built-up area")
	}
	seen := map[cellKey]bool{start: true}
	queue := []cellKey{start}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, d := range []cellKey{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			n := cellKey{k.i + d.i, k.j + d.j}
			if cand[n] && !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	keys := make([]cellKey, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].j != keys[b].j {
			return keys[a].j < keys[b].j
		}
		return keys[a].i < keys[b].i
	})
	g.cells = map[cellKey]*cell{}
	for _, k := range keys {
		x, y := g.f.world((float64(k.i)+0.5)*cellSize, (float64(k.j)+0.5)*cellSize)
		c := &cell{key: k, r: g.reg.radius(x, y)}
		c.kind = pickKind(r, c.r)
		g.cells[k] = c
		g.cellList = append(g.cellList, c)
	}
	// the central park: the park-free cell nearest the centre but not the centre itself
	best := (*cell)(nil)
	for _, c := range g.cellList {
		if c.r > 0.12 && c.r < 0.3 && (best == nil || c.r < best.r) {
			best = c
		}
	}
	if best != nil {
		best.kind = kindPark
	}
	// local streets per kind of cell
	for _, c := range g.cellList {
		switch c.kind {
		case kindPrivate:
			c.locU, c.locV, c.locCls = []int{3, 6, 9}, []int{3, 6, 9}, clsResidential
		case kindCentre:
			c.locU, c.locV, c.locCls = []int{4, 8}, []int{4, 8}, clsResidential
		case kindMicro:
			c.locCls = clsService
			if r.IntN(2) == 0 {
				c.locU, c.divV = []int{6}, []int{6}
			} else {
				c.locV, c.divU = []int{6}, []int{6}
			}
		case kindIndustrial:
			if r.IntN(2) == 0 {
				c.locU, c.locCls = []int{6}, clsService
			}
		}
	}

	// street units: cell edges are arterials, local lines run across their cell
	g.units = map[unitKey]int8{}
	add := func(dir int8, line, from, to int, cls int8) {
		for p := from; p < to; p++ {
			k := unitKey{dir, line, p}
			if g.units[k] < cls {
				g.units[k] = cls
			}
		}
	}
	for _, c := range g.cellList {
		i0, j0 := c.key.i*cellN, c.key.j*cellN
		add(0, j0, i0, i0+cellN, arterialClass(c.key.j))
		add(0, j0+cellN, i0, i0+cellN, arterialClass(c.key.j+1))
		add(1, i0, j0, j0+cellN, arterialClass(c.key.i))
		add(1, i0+cellN, j0, j0+cellN, arterialClass(c.key.i+1))
		for _, o := range c.locU {
			add(1, i0+o, j0, j0+cellN, c.locCls)
		}
		for _, o := range c.locV {
			add(0, j0+o, i0, i0+cellN, c.locCls)
		}
	}
	g.buildSegments(r)
	return nil
}

func pickKind(r *rand.Rand, d float64) cellKind {
	if d < 0.2 {
		return kindCentre
	}
	x := r.Float64()
	switch {
	case d < 0.3:
		switch {
		case x < 0.45:
			return kindCentre
		case x < 0.92:
			return kindMicro
		}
		return kindPark
	case d < 0.65:
		switch {
		case x < 0.52:
			return kindMicro
		case x < 0.82:
			return kindPrivate
		case x < 0.96:
			return kindIndustrial
		}
		return kindPark
	}
	switch {
	case x < 0.26:
		return kindMicro
	case x < 0.80:
		return kindPrivate
	case x < 0.97:
		return kindIndustrial
	}
	return kindPark
}

func (g *gen) degree(n node) int {
	d := 0
	for _, k := range []unitKey{{0, n.j, n.i - 1}, {0, n.j, n.i}, {1, n.i, n.j - 1}, {1, n.i, n.j}} {
		if _, ok := g.units[k]; ok {
			d++
		}
	}
	return d
}

// cellOf returns the cell holding grid point (u, v), or nil.
func (g *gen) cellOf(u, v float64) *cell {
	return g.cells[cellKey{int(math.Floor(u / cellSize)), int(math.Floor(v / cellSize))}]
}

// buildSegments merges street units into segments between junctions and names them.
func (g *gen) buildSegments(r *rand.Rand) {
	byLine := map[lineKey][]int{}
	for k := range g.units {
		lk := lineKey{k.dir, k.line}
		byLine[lk] = append(byLine[lk], k.pos)
	}
	lines := make([]lineKey, 0, len(byLine))
	for lk, ps := range byLine {
		sort.Ints(ps)
		lines = append(lines, lk)
	}
	sort.Slice(lines, func(a, b int) bool {
		if lines[a].dir != lines[b].dir {
			return lines[a].dir < lines[b].dir
		}
		return lines[a].line < lines[b].line
	})
	g.names = g.nameLines(r, lines)

	nodeAt := func(lk lineKey, p int) node {
		if lk.dir == 0 {
			return node{p, lk.line}
		}
		return node{lk.line, p}
	}
	for _, lk := range lines {
		ps := byLine[lk]
		for a := 0; a < len(ps); {
			cls := g.units[unitKey{lk.dir, lk.line, ps[a]}]
			b := a
			for b+1 < len(ps) && ps[b+1] == ps[b]+1 &&
				g.units[unitKey{lk.dir, lk.line, ps[b+1]}] == cls && g.degree(nodeAt(lk, ps[b+1])) == 2 {
				b++
			}
			s := &segment{id: len(g.segs), dir: lk.dir, line: lk.line, from: ps[a], to: ps[b] + 1, cls: cls,
				arterial: lk.line%cellN == 0, name: g.names[lk]}
			switch cls {
			case clsPrimary:
				s.lanes = 6
			case clsSecondary:
				s.lanes = 4
			case clsTertiary:
				s.lanes = 2 + 2*r.IntN(2)
			case clsResidential:
				s.lanes = 2
			default:
				s.lanes = 1
			}
			mid := (float64(s.from+s.to) / 2) * unit
			if u, v := s.uv(mid, 1); g.cellOf(u, v) != nil {
				s.kind = g.cellOf(u, v).kind
			} else if u, v := s.uv(mid, -1); g.cellOf(u, v) != nil {
				s.kind = g.cellOf(u, v).kind
			}
			g.segs = append(g.segs, s)
			a = b + 1
		}
	}
}

// nameLines gives each grid line a street name: the city's main streets to the main lines,
// the rest of the pool (then lanes named after them) to local lines.
func (g *gen) nameLines(r *rand.Rand, lines []lineKey) map[lineKey]string {
	var arterials, locals []lineKey
	for _, lk := range lines {
		if lk.line%cellN == 0 {
			arterials = append(arterials, lk)
		} else {
			locals = append(locals, lk)
		}
	}
	rank := func(lk lineKey) int { return int(arterialClass(lk.line / cellN)) }
	sort.SliceStable(arterials, func(a, b int) bool {
		ra, rb := rank(arterials[a]), rank(arterials[b])
		if ra != rb {
			return ra > rb
		}
		return abs(arterials[a].line) < abs(arterials[b].line)
	})
	names := map[lineKey]string{}
	major := append([]string(nil), majorStreets...)
	r.Shuffle(len(major)-10, func(a, b int) { major[10+a], major[10+b] = major[10+b], major[10+a] })
	pool := append([]streetName(nil), localStreets...)
	r.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
	next := 0
	local := func() string {
		n := pool[next%len(pool)]
		round := next / len(pool)
		next++
		switch {
		case round == 0:
			return "ул. " + n.base
		case n.adj:
			return fmt.Sprintf("ул. %d-я %s", round+1, n.base)
		case round == 1:
			return "пер. " + n.base
		}
		return fmt.Sprintf("%d-й пер. %s", round, n.base)
	}
	for i, lk := range arterials {
		if i < len(major) {
			prefix := "ул. "
			if rank(lk) == int(clsPrimary) {
				prefix = "пр. "
			}
			names[lk] = prefix + major[i]
		} else {
			names[lk] = local()
		}
	}
	r.Shuffle(len(locals), func(a, b int) { locals[a], locals[b] = locals[b], locals[a] })
	for _, lk := range locals {
		names[lk] = local()
	}
	return names
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
