package demo

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
)

// facility is a school or a clinic.
type facility struct {
	b        *building
	name     string
	short    string // as a bus stop would be called after it
	kind     string
	capacity int
	attached int
}

var familyCentres = []string{"Шипагер", "Денсаулық", "Мейірім", "Ақбота", "Жанұя", "Салауат", "Шапағат", "Ақниет", "Дария", "Мирас"}

// makeFacilities names the schools and clinics and attaches every building's residents to its
// nearest clinic.
func (g *gen) makeFacilities() {
	r := g.rng("facilities")
	n := 0
	for _, bl := range g.blocks {
		if bl.role != roleSchool {
			continue
		}
		n++
		f := &facility{b: bl.facility}
		x := r.Float64()
		switch {
		case n == 7:
			f.name, f.short = "Назарбаев Зияткерлік мектебі / Назарбаев Интеллектуальная школа", "НИШ"
		case x < 0.5:
			f.name = fmt.Sprintf("№ %d жалпы білім беретін мектеп / Средняя школа № %d", n, n)
		case x < 0.7:
			f.name = fmt.Sprintf("№ %d мектеп-гимназия / Школа-гимназия № %d", n, n)
		case x < 0.85:
			f.name = fmt.Sprintf("№ %d мектеп-лицей / Школа-лицей № %d", n, n)
		default:
			f.name = fmt.Sprintf("№ %d IT мектеп-лицейі / IT-школа-лицей № %d", n, n)
		}
		if f.short == "" {
			f.short = fmt.Sprintf("Школа № %d", n)
		}
		switch bl.cell.kind {
		case kindMicro:
			f.capacity = 900 + 100*r.IntN(7)
		case kindCentre:
			f.capacity = 600 + 100*r.IntN(7)
		default:
			f.capacity = 300 + 50*r.IntN(11)
		}
		g.schools = append(g.schools, f)
	}
	n = 0
	nChildren, nFamily := 0, 0
	for _, bl := range g.blocks {
		if bl.role != roleClinic {
			continue
		}
		f := &facility{b: bl.facility}
		x := r.Float64()
		switch {
		case x < 0.6:
			n++
			f.kind = "polyclinic"
			f.name = fmt.Sprintf("№ %d қалалық емхана / Городская поликлиника № %d", n, n)
			f.short = fmt.Sprintf("Поликлиника № %d", n)
			f.capacity = 300 + 50*r.IntN(11)
		case x < 0.75:
			nChildren++
			f.kind = "children"
			f.name = fmt.Sprintf("№ %d балалар емханасы / Детская поликлиника № %d", nChildren, nChildren)
			f.short = fmt.Sprintf("Детская поликлиника № %d", nChildren)
			f.capacity = 200 + 50*r.IntN(7)
		default:
			fam := familyCentres[nFamily%len(familyCentres)]
			nFamily++
			f.kind = "family_health_centre"
			f.name = fmt.Sprintf("«%s» отбасылық денсаулық орталығы / Центр семейного здоровья «%s»", fam, fam)
			f.short = fmt.Sprintf("ЦСЗ «%s»", fam)
			f.capacity = 100 + 25*r.IntN(7)
		}
		g.clinics = append(g.clinics, f)
	}
	if len(g.clinics) == 0 {
		return
	}
	for _, b := range g.buildings {
		if b.residents == 0 {
			continue
		}
		u, v := b.centre()
		best, bd := 0, math.Inf(1)
		for i, c := range g.clinics {
			cu, cv := c.b.centre()
			if d := math.Hypot(cu-u, cv-v); d < bd {
				best, bd = i, d
			}
		}
		g.clinics[best].attached += b.residents
	}
}

// pt is a candidate point in grid metres with a score.
type pt struct {
	u, v    float64
	score   float64
	name    string
	heading float64
	cls     int8
}

// spread picks up to n candidates in the given order, keeping them at least minDist apart and
// relaxing the distance when too few fit.
func spread(cands []pt, n int, minDist float64) []pt {
	var out []pt
	taken := make([]bool, len(cands))
	for d := minDist; len(out) < n && d > 0.5; d *= 0.7 {
		for i, c := range cands {
			if len(out) >= n {
				break
			}
			if taken[i] {
				continue
			}
			ok := true
			for _, p := range out {
				if math.Hypot(p.u-c.u, p.v-c.v) < d {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, c)
				taken[i] = true
			}
		}
	}
	return out
}

func (g *gen) radiusAt(u, v float64) float64 {
	x, y := g.f.world(u, v)
	return g.reg.radius(x, y)
}

// junction is a crossing of two main streets (a corner of a cell).
type junction struct {
	i, j   int // fine node
	cu, cv int8
	nameU  string // street along u
	nameV  string
	r      float64
	u, v   float64
}

func (g *gen) junctions() []junction {
	seen := map[node]bool{}
	var out []junction
	for _, c := range g.cellList {
		for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
			n := node{(c.key.i + d[0]) * cellN, (c.key.j + d[1]) * cellN}
			if seen[n] || g.degree(n) < 3 {
				continue
			}
			seen[n] = true
			u, v := float64(n.i)*unit, float64(n.j)*unit
			out = append(out, junction{i: n.i, j: n.j, cu: arterialClass(n.j / cellN), cv: arterialClass(n.i / cellN),
				nameU: g.names[lineKey{0, n.j}], nameV: g.names[lineKey{1, n.i}], r: g.radiusAt(u, v), u: u, v: v})
		}
	}
	return out
}

func (g *gen) emitSafety() {
	r := g.rng("safety")
	js := g.junctions()

	// cameras: installed at the busiest junctions and avenues near the centre, planned everywhere
	var cands []pt
	dirs := [4][2]float64{{1, 0}, {0, 1}, {-1, 0}, {0, -1}}
	for _, j := range js {
		for k := 0; k < 2; k++ {
			q := r.IntN(4)
			du, dv := []float64{1, -1}[q%2], []float64{1, -1}[q/2]
			d := dirs[r.IntN(4)]
			cands = append(cands, pt{u: j.u + du*9, v: j.v + dv*9, score: float64(j.cu+j.cv)/10 - j.r + r.Float64()*0.3,
				name: "Перекрёсток " + j.nameU + " – " + j.nameV, heading: g.f.bearing(d[0], d[1]), cls: max(j.cu, j.cv)})
		}
	}
	for _, s := range g.segs {
		if !s.arterial || s.to-s.from < 4 {
			continue
		}
		mid := float64((s.from+s.to)/2)*unit + 25
		side := []float64{1, -1}[r.IntN(2)]
		u, v := s.uv(mid, side*(halfWidth[s.cls]+2))
		du, dv := 1.0, 0.0
		if s.dir == 1 {
			du, dv = 0, 1
		}
		if r.IntN(2) == 0 {
			du, dv = -du, -dv
		}
		cands = append(cands, pt{u: u, v: v, score: float64(s.cls)/5 - g.radiusAt(u, v) + r.Float64()*0.3 - 0.2,
			name: s.name, heading: g.f.bearing(du, dv), cls: s.cls})
	}
	for _, sc := range g.schools {
		u, v := frontPoint(sc.b, 6)
		n := normal[sc.b.front]
		cands = append(cands, pt{u: u, v: v, score: 0.3 - g.radiusAt(u, v) + r.Float64()*0.3,
			name: sc.short + " — вход", heading: g.f.bearing(-n[0], -n[1])})
	}
	for _, p := range g.parks {
		for _, b := range p.boxes[:1] {
			cands = append(cands, pt{u: b.x0 + 5, v: b.y0 + 5, score: -g.radiusAt(b.x0, b.y0) + r.Float64()*0.3,
				name: p.ru, heading: g.f.bearing(1, 1)})
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	installed := spread(cands, CamerasInstalled, 120)
	used := map[[2]float64]bool{}
	for _, c := range installed {
		used[[2]float64{c.u, c.v}] = true
	}
	var rest []pt
	for _, c := range cands {
		if !used[[2]float64{c.u, c.v}] {
			rest = append(rest, c)
		}
	}
	r.Shuffle(len(rest), func(a, b int) { rest[a], rest[b] = rest[b], rest[a] })
	planned := spread(rest, CamerasPlanned, 200)
	cams := g.city.newLayer("cameras", true, "name", "status", "owner", "heading", "fov", "range_m")
	for k, set := range [][]pt{installed, planned} {
		status, private := "installed", 0.2
		if k == 1 {
			status, private = "planned", 0.15
		}
		for _, c := range set {
			owner := "city"
			if r.Float64() < private {
				owner = "private"
			}
			rng := 40 + 10*float64(r.IntN(8))
			if c.cls >= clsSecondary {
				rng += 40
			}
			cams.add(g.f.ll(c.u, c.v), c.name, status, owner, c.heading, float64(60+10*r.IntN(6)), rng)
		}
	}

	// smart crossings at the main junctions
	sort.SliceStable(js, func(a, b int) bool {
		sa := float64(js[a].cu+js[a].cv)/10 - js[a].r
		sb := float64(js[b].cu+js[b].cv)/10 - js[b].r
		return sa > sb
	})
	sc := g.city.newLayer("smart_crossings", true, "name", "sound_signal", "call_button")
	for k, j := range js {
		if k >= 150 {
			break
		}
		sc.add(g.f.ll(j.u, j.v), j.nameU+" – "+j.nameV, r.Float64() < 0.6, r.Float64() < 0.7)
	}

	// pedestrian overpasses and underpasses across the avenues
	var spans []pt
	for _, s := range g.segs {
		if s.cls < clsSecondary || s.to-s.from < 4 {
			continue
		}
		mid := float64((s.from+s.to)/2)*unit + 25
		u, v := s.uv(mid, 0)
		spans = append(spans, pt{u: u, v: v, score: float64(s.cls)/5 - g.radiusAt(u, v) + r.Float64()*0.4, name: s.name})
	}
	sort.SliceStable(spans, func(a, b int) bool { return spans[a].score > spans[b].score })
	ov := g.city.newLayer("overpasses", true, "name", "kind", "accessible")
	for _, p := range spread(spans, 30, 800) {
		if r.IntN(2) == 0 {
			ov.add(g.f.ll(p.u, p.v), "Подземный переход, "+p.name, "underpass", r.Float64() < 0.4)
		} else {
			ov.add(g.f.ll(p.u, p.v), "Надземный переход, "+p.name, "overpass", r.Float64() < 0.4)
		}
	}

	// interchanges where two avenues cross away from the old centre
	var ic []junction
	for _, j := range js {
		if j.cu == clsPrimary && j.cv == clsPrimary {
			ic = append(ic, j)
		}
	}
	sort.SliceStable(ic, func(a, b int) bool { return ic[a].r > ic[b].r })
	if len(ic) == 0 && len(js) > 0 {
		ic = js[:1]
	}
	il := g.city.newLayer("interchanges", true, "name")
	for k, j := range ic {
		if k >= 8 {
			break
		}
		il.add(g.f.ll(j.u, j.v), "Развязка "+j.nameU+" – "+j.nameV)
	}
}

// frontPoint is the point d metres in front of the middle of a building's street side.
func frontPoint(b *building, d float64) (float64, float64) {
	switch b.front {
	case 0:
		return b.rect.cx(), b.rect.y0 - d
	case 1:
		return b.rect.x1 + d, b.rect.cy()
	case 2:
		return b.rect.cx(), b.rect.y1 + d
	}
	return b.rect.x0 - d, b.rect.cy()
}

func (g *gen) emitSocial() {
	r := g.rng("social")
	schools := g.city.newLayer("schools", true, "name", "address", "students", "capacity", "inclusive", "sports_ground")
	sports := g.city.newLayer("sports_grounds", true, "name", "kind", "surface", "at_school", "hours")
	sportKinds := []string{"football", "basketball", "workout", "multi_sport", "hockey", "volleyball"}
	surfaces := []string{"artificial_turf", "rubber", "asphalt", "sand"}
	schoolGrounds := 0
	for _, s := range g.schools {
		u, v := s.b.centre()
		hasGround := r.Float64() < 0.75
		students := int(float64(s.capacity) * between(r, 0.75, 1.45))
		schools.add(g.f.ll(u, v), s.name, s.b.address, students, s.capacity, r.Float64() < 0.45, hasGround)
		if hasGround {
			in := s.b.block.in
			gu, gv := in.cx(), math.Min(s.b.rect.y1+30, in.y1-12)
			sports.add(g.f.ll(gu, gv), "Спортплощадка: "+s.short, sportKinds[r.IntN(3)], surfaces[r.IntN(2)], true, "08:00–20:00")
			schoolGrounds++
		}
	}
	clinics := g.city.newLayer("clinics", true, "name", "address", "kind", "capacity", "attached_population")
	for _, c := range g.clinics {
		u, v := c.b.centre()
		clinics.add(g.f.ll(u, v), c.name, c.b.address, c.kind, c.capacity, c.attached)
	}

	// pharmacies on the ground floors of blocks facing main streets
	var cands []pt
	for _, b := range g.buildings {
		k := b.block.cell.kind
		if (k != kindCentre && k != kindMicro) || (b.use != "apartments" && b.use != "commercial") {
			continue
		}
		if b.block.cls[b.front] < clsTertiary && k != kindCentre {
			continue
		}
		u, v := b.centre()
		cands = append(cands, pt{u: u, v: v, name: b.address})
	}
	r.Shuffle(len(cands), func(a, b int) { cands[a], cands[b] = cands[b], cands[a] })
	ph := g.city.newLayer("pharmacies", true, "name", "address", "hours")
	for _, c := range spread(cands, targetPharmacies, 300) {
		hours := "08:00–22:00"
		switch r.IntN(4) {
		case 0:
			hours = "круглосуточно"
		case 1:
			hours = "09:00–21:00"
		}
		ph.add(g.f.ll(c.u, c.v), pharmacyNames[r.IntN(len(pharmacyNames))], c.name, hours)
	}

	// ramps at the entrances of blocks of flats and public buildings
	var rampB []*building
	for _, b := range g.buildings {
		switch b.use {
		case "apartments", "school", "clinic", "public", "commercial", "office":
			rampB = append(rampB, b)
		}
	}
	r.Shuffle(len(rampB), func(a, b int) { rampB[a], rampB[b] = rampB[b], rampB[a] })
	ramps := g.city.newLayer("ramps", true, "address", "slope_pct", "width_m", "condition")
	conditions := []string{"good", "good", "fair", "poor"}
	for k, b := range rampB {
		if k >= targetRamps {
			break
		}
		u, v := frontPoint(b, 1.5)
		ramps.add(g.f.ll(u, v), b.address, math.Round(between(r, 4, 12)*10)/10, math.Round(between(r, 0.9, 1.6)*100)/100,
			conditions[r.IntN(len(conditions))])
	}

	// yards and what is in them
	first := map[*block]*building{}
	for _, b := range g.buildings {
		if first[b.block] == nil {
			first[b.block] = b
		}
	}
	yards := g.city.newLayer("yards", true, "name", "address", "season")
	play := g.city.newLayer("playgrounds", true, "name", "age_group", "condition")
	waste := g.city.newLayer("waste_sites", true, "name", "fractions")
	leisure := g.city.newLayer("leisure_places", true, "name", "kind", "hours")
	ages := []string{"0–6", "7–12", "0–12", "3–14"}
	nYards := 0
	for _, bl := range g.blocks {
		if bl.yard != nil {
			nYards++
		}
	}
	pSport := float64(targetSports-schoolGrounds-len(g.parks)) / math.Max(1, float64(nYards))
	for _, bl := range g.blocks {
		if bl.yard == nil || first[bl] == nil {
			continue
		}
		y := *bl.yard
		addr := first[bl].address
		yards.add(orbPolygon(g.f.ring(y)), "Двор: "+addr, addr, 2024+r.IntN(3))
		inner := y.inset(6)
		if inner.w() < 4 || inner.h() < 4 {
			inner = y
		}
		if r.Float64() < 0.85 {
			u, v := randomIn(r, inner)
			play.add(g.f.ll(u, v), "Детская площадка: "+addr, ages[r.IntN(len(ages))], conditions[r.IntN(len(conditions))])
		}
		if r.Float64() < pSport {
			u, v := randomIn(r, inner)
			sports.add(g.f.ll(u, v), "Спортплощадка: "+addr, sportKinds[r.IntN(len(sportKinds))], surfaces[r.IntN(len(surfaces))],
				false, "08:00–22:00")
		}
		if r.Float64() < 0.4 {
			u, v := randomIn(r, inner)
			waste.add(g.f.ll(u, v), "Площадка раздельного сбора: "+addr, wasteFractions[r.IntN(len(wasteFractions))])
		}
		if r.Float64() < 0.04 {
			u, v := randomIn(r, inner)
			leisure.add(g.f.ll(u, v), "Игровая площадка для взрослых: "+addr, "game", "10:00–22:00")
		}
	}
	// waste sites on the corners of private-house blocks
	for _, bl := range g.blocks {
		if bl.cell.kind == kindPrivate && bl.role == roleHousing && r.Float64() < 0.2 {
			waste.add(g.f.ll(bl.in.x0-2, bl.in.y0-2), "Площадка раздельного сбора: "+g.streetName(bl), wasteFractions[r.IntN(len(wasteFractions))])
		}
	}

	// parks, boulevards and squares with their playgrounds, sports grounds, toilets and stages
	parks := g.city.newLayer("parks", true, "name", "kind", "facilities", "hours")
	toilets := g.city.newLayer("biotoilets", true, "name", "accessible", "hours")
	leisureKinds := []struct{ kind, ru, hours string }{
		{"summer_cinema", "Летний кинотеатр", "19:00–23:30"}, {"music", "Музыкальная площадка", "17:00–23:00"},
		{"dance", "Танцевальная площадка", "18:00–23:00"}, {"game", "Игровая площадка", "10:00–22:00"},
	}
	for _, p := range g.parks {
		var mp orb.MultiPolygon
		for _, b := range p.boxes {
			mp = append(mp, orbPolygon(g.f.ring(b)))
		}
		parks.add(mp, p.kk+" / "+p.ru, p.kind, p.facil, p.hours)
		main := p.boxes[len(p.boxes)/2]
		inner := main.inset(math.Min(15, math.Min(main.w(), main.h())/4))
		nToilets, nLeisure := 1, 0
		switch p.kind {
		case "park":
			nToilets, nLeisure = 2+r.IntN(3), 2+r.IntN(3)
			u, v := randomIn(r, inner)
			play.add(g.f.ll(u, v), "Детская площадка: "+p.ru, ages[r.IntN(len(ages))], "good")
			u, v = randomIn(r, inner)
			sports.add(g.f.ll(u, v), "Спортплощадка: "+p.ru, sportKinds[r.IntN(len(sportKinds))], surfaces[r.IntN(len(surfaces))], false, "07:00–23:00")
		case "square":
			nLeisure = r.IntN(2)
		}
		for k := 0; k < nToilets; k++ {
			b := p.boxes[r.IntN(len(p.boxes))]
			in := b.inset(math.Min(4, math.Min(b.w(), b.h())/4))
			u, v := randomIn(r, in)
			toilets.add(g.f.ll(u, v), "Биотуалет: "+p.ru, r.Float64() < 0.5, p.hours)
		}
		for k := 0; k < nLeisure; k++ {
			lk := leisureKinds[(k+r.IntN(4))%len(leisureKinds)]
			u, v := randomIn(r, inner)
			leisure.add(g.f.ll(u, v), lk.ru+": "+p.ru, lk.kind, lk.hours)
		}
	}
	// the rest of the bio-toilets at busy stops near the centre
	var central []*stop
	for _, s := range g.stops {
		if g.radiusAt(s.u, s.v) < 0.45 {
			central = append(central, s)
		}
	}
	r.Shuffle(len(central), func(a, b int) { central[a], central[b] = central[b], central[a] })
	for k := 0; len(toilets.Rows) < targetBiotoilets && k < len(central); k++ {
		s := central[k]
		u, v := s.seg.uv(s.along+8, s.side*(halfWidth[s.seg.cls]+5))
		toilets.add(g.f.ll(u, v), "Биотуалет: ост. «"+s.name+"»", r.Float64() < 0.5, "08:00–22:00")
	}
}

// streetName returns the name of the first named street around a block.
func (g *gen) streetName(bl *block) string {
	for s := 0; s < 4; s++ {
		if bl.cls[s] != clsNone {
			return g.names[bl.side[s]]
		}
	}
	return ""
}

func trimPrefix(name string) string {
	for _, p := range []string{"пр. ", "ул. ", "пер. "} {
		name = strings.TrimPrefix(name, p)
	}
	return name
}
