package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/paulmach/orb"
)

// box is an axis-parallel rectangle in grid metres.
type box struct{ x0, y0, x1, y1 float64 }

func (b box) w() float64  { return b.x1 - b.x0 }
func (b box) h() float64  { return b.y1 - b.y0 }
func (b box) cx() float64 { return (b.x0 + b.x1) / 2 }
func (b box) cy() float64 { return (b.y0 + b.y1) / 2 }
func (b box) inset(d float64) box {
	return box{b.x0 + d, b.y0 + d, b.x1 - d, b.y1 - d}
}

// ring returns the closed ring of the box in EPSG:4326, with extra vertices every step metres
// so that long edges follow the warp of the frame like the streets do.
func (f *frame) ring(b box) orb.Ring {
	var ring orb.Ring
	edge := func(u0, v0, u1, v1 float64) {
		n := int(math.Ceil(math.Hypot(u1-u0, v1-v0) / 150))
		for k := 0; k < n; k++ {
			t := float64(k) / float64(n)
			ring = append(ring, f.ll(u0+(u1-u0)*t, v0+(v1-v0)*t))
		}
	}
	edge(b.x0, b.y0, b.x1, b.y0)
	edge(b.x1, b.y0, b.x1, b.y1)
	edge(b.x1, b.y1, b.x0, b.y1)
	edge(b.x0, b.y1, b.x0, b.y0)
	return append(ring, ring[0])
}

// randomIn returns a random point of the box in grid metres.
func randomIn(r *rand.Rand, b box) (float64, float64) {
	return b.x0 + r.Float64()*b.w(), b.y0 + r.Float64()*b.h()
}

func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

type blockRole int8

const (
	roleHousing blockRole = iota
	roleSchool
	roleClinic
	roleSquare
)

// block is the buildable area between streets. Sides: 0 bottom, 1 right, 2 top, 3 left.
type block struct {
	id    int
	cell  *cell
	in    box // buildable area
	outer box // between the street centre lines
	side  [4]lineKey
	cls   [4]int8
	role  blockRole
	yard  *box
	// filled when the block holds a school or clinic
	facility *building
}

type building struct {
	id        int
	rect      box
	front     int // side of the block it faces
	fu, fv    float64
	use       string
	levels    int
	weight    float64
	residents int
	address   string
	block     *block
	meter     bool
	thermo    bool
}

func (b *building) centre() (float64, float64) { return b.rect.cx(), b.rect.cy() }

// normal is the outward direction of a block side.
var normal = [4][2]float64{{0, -1}, {1, 0}, {0, 1}, {-1, 0}}

type rowStyle struct {
	front, depth, length, gap [2]float64
}

var styles = map[cellKind]rowStyle{
	kindPrivate:    {front: [2]float64{3, 6}, depth: [2]float64{8, 12}, length: [2]float64{8, 13}, gap: [2]float64{7, 13}},
	kindMicro:      {front: [2]float64{6, 14}, depth: [2]float64{12, 15}, length: [2]float64{45, 100}, gap: [2]float64{22, 45}},
	kindCentre:     {front: [2]float64{0, 4}, depth: [2]float64{12, 16}, length: [2]float64{18, 55}, gap: [2]float64{4, 14}},
	kindIndustrial: {front: [2]float64{10, 25}, depth: [2]float64{25, 55}, length: [2]float64{40, 120}, gap: [2]float64{15, 40}},
}

// makeBlocks cuts every built cell into blocks along its local streets and divisions.
func (g *gen) makeBlocks() {
	for _, c := range g.cellList {
		if c.kind == kindPark {
			continue
		}
		i0, j0 := c.key.i*cellN, c.key.j*cellN
		cutsU := cuts(c.locU, c.divU)
		cutsV := cuts(c.locV, c.divV)
		lineCls := func(o int, loc []int, cellIdx int) int8 {
			switch {
			case o == 0:
				return arterialClass(cellIdx)
			case o == cellN:
				return arterialClass(cellIdx + 1)
			case contains(loc, o):
				return c.locCls
			}
			return clsNone
		}
		for a := 0; a+1 < len(cutsU); a++ {
			for b := 0; b+1 < len(cutsV); b++ {
				bl := &block{id: len(g.blocks), cell: c}
				ua, ub := cutsU[a], cutsU[a+1]
				va, vb := cutsV[b], cutsV[b+1]
				bl.side = [4]lineKey{{0, j0 + va}, {1, i0 + ub}, {0, j0 + vb}, {1, i0 + ua}}
				bl.cls = [4]int8{lineCls(va, c.locV, c.key.j), lineCls(ub, c.locU, c.key.i),
					lineCls(vb, c.locV, c.key.j), lineCls(ua, c.locU, c.key.i)}
				bl.outer = box{float64(i0+ua) * unit, float64(j0+va) * unit, float64(i0+ub) * unit, float64(j0+vb) * unit}
				bl.in = box{bl.outer.x0 + setback[bl.cls[3]], bl.outer.y0 + setback[bl.cls[0]],
					bl.outer.x1 - setback[bl.cls[1]], bl.outer.y1 - setback[bl.cls[2]]}
				g.blocks = append(g.blocks, bl)
			}
		}
	}
}

func cuts(a, b []int) []int {
	c := append([]int{0, cellN}, a...)
	c = append(c, b...)
	sort.Ints(c)
	return c
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// chooseSpread picks up to n blocks from the candidates, shuffled, keeping them at least minDist
// metres apart and relaxing the distance when too few fit.
func chooseSpread(r *rand.Rand, cands []*block, n int, minDist float64) []*block {
	cands = append([]*block(nil), cands...)
	r.Shuffle(len(cands), func(a, b int) { cands[a], cands[b] = cands[b], cands[a] })
	var picked []*block
	taken := map[int]bool{}
	for d := minDist; len(picked) < n && d > 1; d *= 0.8 {
		for _, c := range cands {
			if len(picked) >= n {
				break
			}
			if taken[c.id] {
				continue
			}
			ok := true
			for _, p := range picked {
				if math.Hypot(p.in.cx()-c.in.cx(), p.in.cy()-c.in.cy()) < d {
					ok = false
					break
				}
			}
			if ok {
				picked = append(picked, c)
				taken[c.id] = true
			}
		}
	}
	return picked
}

// assignRoles chooses the blocks of schools, clinics and squares.
func (g *gen) assignRoles() {
	r := g.rng("roles")
	var schoolCands, squareCands []*block
	for _, b := range g.blocks {
		if b.cell.kind == kindIndustrial || b.in.w() < 110 || b.in.h() < 100 {
			continue
		}
		schoolCands = append(schoolCands, b)
		if b.cell.kind == kindCentre {
			squareCands = append(squareCands, b)
		}
	}
	for _, b := range chooseSpread(r, squareCands, len(squareNames), 700) {
		b.role = roleSquare
	}
	var free []*block
	for _, b := range schoolCands {
		if b.role == roleHousing {
			free = append(free, b)
		}
	}
	for _, b := range chooseSpread(r, free, targetSchools, 900) {
		b.role = roleSchool
	}
	free = free[:0]
	for _, b := range schoolCands {
		if b.role == roleHousing {
			free = append(free, b)
		}
	}
	for _, b := range chooseSpread(r, free, targetClinics, 1300) {
		b.role = roleClinic
	}
}

// estates names the housing estates (micro cells): numbered near the centre, named after their
// part of the city further out.
func (g *gen) nameEstates() {
	var micro []*cell
	for _, c := range g.cellList {
		if c.kind == kindMicro {
			micro = append(micro, c)
		}
	}
	sort.SliceStable(micro, func(a, b int) bool { return micro[a].r < micro[b].r })
	count := map[int]int{}
	for n, c := range micro {
		if n < 12 {
			c.estate = "мкр. " + strconv.Itoa(n+1)
			continue
		}
		x, y := g.f.world((float64(c.key.i)+0.5)*cellSize, (float64(c.key.j)+0.5)*cellSize)
		phi := math.Atan2(y, x)
		if phi < 0 {
			phi += 2 * math.Pi
		}
		s := int(math.Floor(phi/(math.Pi/4)+0.5)) % len(microSectors)
		count[s]++
		c.estate = fmt.Sprintf("мкр. %s-%d", microSectors[s], count[s])
	}
}

// makeBuildings fills the blocks with buildings, rows along the streets around a yard.
func (g *gen) makeBuildings() {
	r := g.rng("buildings")
	estateNo := map[*cell]int{}
	for _, bl := range g.blocks {
		if bl.role == roleSquare {
			continue
		}
		st := styles[bl.cell.kind]
		if bl.role == roleSchool {
			g.placeSchool(r, bl)
			continue
		}
		sides := []int{0, 1, 2, 3}
		if bl.role == roleClinic {
			b := g.placeClinic(r, bl)
			bl.facility = b
			sides = []int{1, 2, 3}
		}
		for _, side := range sides {
			for _, rect := range rowRects(r, bl.in, side, st) {
				b := &building{rect: rect, front: side, block: bl}
				g.dress(r, b)
				g.addBuilding(b)
			}
		}
		if bl.cell.kind == kindMicro || bl.cell.kind == kindCentre {
			m := st.front[1] + st.depth[1] + 4
			y := bl.in.inset(m)
			if y.w() >= 25 && y.h() >= 25 {
				bl.yard = &y
			}
		}
	}
	// addresses: estates number their houses; streets number along the line, odd on one side
	// and even on the other
	type addr struct {
		lk     lineKey
		parity int
	}
	onStreet := map[addr][]*building{}
	var keys []addr
	for _, b := range g.buildings {
		c := b.block.cell
		if c.kind == kindMicro {
			estateNo[c]++
			b.address = fmt.Sprintf("%s, д. %d", c.estate, estateNo[c])
			continue
		}
		side := b.front
		if b.block.cls[side] == clsNone {
			for s := 0; s < 4; s++ {
				if b.block.cls[s] != clsNone {
					side = s
					break
				}
			}
		}
		parity := 1
		if side == 1 || side == 2 {
			parity = 2
		}
		k := addr{b.block.side[side], parity}
		if _, ok := onStreet[k]; !ok {
			keys = append(keys, k)
		}
		onStreet[k] = append(onStreet[k], b)
	}
	for _, k := range keys {
		bs := onStreet[k]
		along := func(b *building) float64 {
			if k.lk.dir == 1 {
				return b.rect.cy()
			}
			return b.rect.cx()
		}
		sort.SliceStable(bs, func(a, b int) bool { return along(bs[a]) < along(bs[b]) })
		for n, b := range bs {
			b.address = fmt.Sprintf("%s, %d", g.names[k.lk], 2*n+k.parity)
		}
	}
}

// rowRects places a row of buildings along one side of the buildable box.
func rowRects(r *rand.Rand, in box, side int, st rowStyle) []box {
	reach := st.front[1] + st.depth[1]
	var start, end float64 // along the side
	horizontal := side == 0 || side == 2
	if horizontal {
		if side == 2 && in.h() < 2*reach+st.gap[0] {
			return nil
		}
		start, end = in.x0, in.x1
	} else {
		if in.w() < 2*reach+st.gap[0] {
			return nil
		}
		start, end = in.y0+reach+st.gap[0], in.y1-reach-st.gap[0]
	}
	if in.h() < reach+2 || in.w() < reach+2 {
		return nil
	}
	front := between(r, st.front[0], st.front[1])
	type span struct{ a, b, d float64 }
	var spans []span
	for x := start; ; {
		l := between(r, st.length[0], st.length[1])
		if x+l > end {
			break
		}
		spans = append(spans, span{x, x + l, between(r, st.depth[0], st.depth[1])})
		x += l + between(r, st.gap[0], st.gap[1])
	}
	if len(spans) == 0 {
		return nil
	}
	shift := (end - spans[len(spans)-1].b) / 2
	out := make([]box, 0, len(spans))
	for _, s := range spans {
		a, b := s.a+shift, s.b+shift
		switch side {
		case 0:
			out = append(out, box{a, in.y0 + front, b, in.y0 + front + s.d})
		case 2:
			out = append(out, box{a, in.y1 - front - s.d, b, in.y1 - front})
		case 1:
			out = append(out, box{in.x1 - front - s.d, a, in.x1 - front, b})
		case 3:
			out = append(out, box{in.x0 + front, a, in.x0 + front + s.d, b})
		}
	}
	return out
}

func (g *gen) addBuilding(b *building) {
	b.id = len(g.buildings)
	g.buildings = append(g.buildings, b)
}

// dress gives a housing building its use, floors and the weight of its resident estimate.
func (g *gen) dress(r *rand.Rand, b *building) {
	c := b.block.cell
	x := r.Float64()
	switch c.kind {
	case kindPrivate:
		b.use, b.levels = "house", 1
		if x < 0.15 {
			b.levels = 2
		}
		if r.Float64() < 0.03 {
			b.use = "commercial"
		}
	case kindMicro:
		b.use = "apartments"
		newer := c.r > 0.55
		switch {
		case x < 0.05:
			b.use, b.levels = "commercial", 1+r.IntN(2)
		case !newer && x < 0.6, newer && x < 0.25:
			b.levels = 5
		case !newer && x < 0.88, newer && x < 0.6:
			b.levels = 9
		case x < 0.95:
			b.levels = 12
		default:
			b.levels = 16
		}
	case kindCentre:
		b.levels = 2 + r.IntN(8)
		switch {
		case x < 0.6:
			b.use = "apartments"
		case x < 0.78:
			b.use = "commercial"
		case x < 0.9:
			b.use = "office"
		default:
			b.use = "public"
		}
	case kindIndustrial:
		b.levels = 1 + r.IntN(2)
		b.use = "industrial"
		if x < 0.4 {
			b.use = "warehouse"
		}
	}
	area := b.rect.w() * b.rect.h()
	switch b.use {
	case "apartments":
		b.weight = area * float64(b.levels) * 0.035
		b.meter = r.Float64() < 0.78
		b.thermo = r.Float64() < 0.18
	case "house":
		b.weight = math.Max(2, area*float64(b.levels)*0.04)
		b.meter = r.Float64() < 0.3
		b.thermo = r.Float64() < 0.05
	default:
		b.meter = r.Float64() < 0.6
		b.thermo = r.Float64() < 0.1
	}
}

func (g *gen) placeSchool(r *rand.Rand, bl *block) {
	l := math.Min(between(r, 60, 90), bl.in.w()-20)
	d := between(r, 16, 20)
	x0 := bl.in.cx() - l/2
	y0 := bl.in.y0 + between(r, 12, 20)
	b := &building{rect: box{x0, y0, x0 + l, y0 + d}, front: 0, block: bl, use: "school", levels: 3 + r.IntN(2),
		meter: true, thermo: r.Float64() < 0.4}
	g.addBuilding(b)
	bl.facility = b
}

func (g *gen) placeClinic(r *rand.Rand, bl *block) *building {
	l := math.Min(between(r, 45, 70), bl.in.w()-20)
	d := between(r, 14, 18)
	x0 := bl.in.cx() - l/2
	y0 := bl.in.y0 + between(r, 4, 8)
	b := &building{rect: box{x0, y0, x0 + l, y0 + d}, front: 0, block: bl, use: "clinic", levels: 2 + r.IntN(4),
		meter: true, thermo: r.Float64() < 0.5}
	g.addBuilding(b)
	return b
}

// estimateResidents scales the weights so the city has the given number of residents.
func (g *gen) estimateResidents(total int) {
	sum := 0.0
	for _, b := range g.buildings {
		sum += b.weight
	}
	if sum == 0 {
		return
	}
	k := float64(total) / sum
	acc, done := 0.0, 0
	for _, b := range g.buildings {
		if b.weight == 0 {
			continue
		}
		// carry the rounding so the total is exact
		acc += b.weight * k
		b.residents = int(math.Round(acc)) - done
		done += b.residents
	}
}

// parkArea is one park, boulevard or square.
type parkArea struct {
	kk, ru  string
	kind    string
	boxes   []box
	hours   string
	facil   string
	centreU float64
	centreV float64
}

// makeParks collects parks (whole cells), squares (centre blocks) and boulevards (strips along
// two main avenues).
func (g *gen) makeParks() {
	r := g.rng("parks")
	var parkCells []*cell
	for _, c := range g.cellList {
		if c.kind == kindPark {
			parkCells = append(parkCells, c)
		}
	}
	sort.SliceStable(parkCells, func(a, b int) bool { return parkCells[a].r < parkCells[b].r })
	facilities := []string{"аллеи, фонтан, скамейки", "аллеи, летний кинотеатр, детский городок",
		"велодорожки, спортплощадки, кафе", "пруд, аллеи, сцена", "тренажёры, беговые дорожки, аллеи",
		"колесо обозрения, аттракционы, кафе"}
	for n, c := range parkCells {
		pn := parkNames[n%len(parkNames)]
		kk, ru := pn.kk, pn.ru
		if n >= len(parkNames) {
			kk, ru = fmt.Sprintf("%s %d", kk, n/len(parkNames)+1), fmt.Sprintf("%s %d", ru, n/len(parkNames)+1)
		}
		i0, j0 := float64(c.key.i)*cellSize, float64(c.key.j)*cellSize
		in := box{i0 + setback[arterialClass(c.key.i)], j0 + setback[arterialClass(c.key.j)],
			i0 + cellSize - setback[arterialClass(c.key.i+1)], j0 + cellSize - setback[arterialClass(c.key.j+1)]}
		hours := "06:00–23:00"
		if r.IntN(3) == 0 {
			hours = "круглосуточно"
		}
		g.parks = append(g.parks, &parkArea{kk: kk, ru: ru, kind: "park", boxes: []box{in}, hours: hours,
			facil: facilities[r.IntN(len(facilities))], centreU: in.cx(), centreV: in.cy()})
	}
	sq := 0
	for _, bl := range g.blocks {
		if bl.role != roleSquare {
			continue
		}
		pn := squareNames[sq%len(squareNames)]
		sq++
		g.parks = append(g.parks, &parkArea{kk: pn.kk, ru: pn.ru, kind: "square", boxes: []box{bl.in}, hours: "круглосуточно",
			facil: "скамейки, клумбы, освещение", centreU: bl.in.cx(), centreV: bl.in.cy()})
	}
	g.makeBoulevards()
}

// makeBoulevards lays green strips on one side of the two primary avenues nearest the centre,
// between the carriageway and the buildings, broken at every side street.
func (g *gen) makeBoulevards() {
	type bv struct {
		lk   lineKey
		name string
	}
	var lines []bv
	for _, lk := range []lineKey{{1, 0}, {0, 0}} {
		if name, ok := g.names[lk]; ok {
			lines = append(lines, bv{lk, name})
		}
	}
	for _, l := range lines {
		base := l.name
		pa := &parkArea{kind: "boulevard", hours: "круглосуточно", facil: "аллея, скамейки, освещение",
			kk: "Бульвар " + base, ru: "Бульвар на " + base}
		var run []int // fine positions of units with a built cell on the strip's side
		flush := func() {
			if len(run) > 0 {
				a := float64(run[0])*unit + 25
				b := float64(run[len(run)-1]+1)*unit - 25
				if b-a > 60 {
					if l.lk.dir == 1 {
						x := float64(l.lk.line) * unit
						pa.boxes = append(pa.boxes, box{x + 13, a, x + 25, b})
					} else {
						y := float64(l.lk.line) * unit
						pa.boxes = append(pa.boxes, box{a, y + 13, b, y + 25})
					}
				}
			}
			run = run[:0]
		}
		for p := -60 * cellN; p < 60*cellN; p++ {
			var u, v float64
			var side unitKey
			if l.lk.dir == 1 {
				u, v = float64(l.lk.line)*unit+1, (float64(p)+0.5)*unit
				side = unitKey{0, p, l.lk.line} // a street leaving eastwards from node (line, p)
			} else {
				u, v = (float64(p)+0.5)*unit, float64(l.lk.line)*unit+1
				side = unitKey{1, p, l.lk.line}
			}
			_, onStreet := g.units[unitKey{l.lk.dir, l.lk.line, p}]
			c := g.cellOf(u, v)
			if !onStreet || c == nil || c.kind == kindPark {
				flush()
				continue
			}
			if _, crossing := g.units[side]; crossing && len(run) > 0 {
				flush()
			}
			run = append(run, p)
		}
		flush()
		if len(pa.boxes) > 0 {
			mid := pa.boxes[len(pa.boxes)/2]
			pa.centreU, pa.centreV = mid.cx(), mid.cy()
			g.parks = append(g.parks, pa)
		}
	}
}
