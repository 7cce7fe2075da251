package demo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func orbPolygon(r orb.Ring) orb.Polygon { return orb.Polygon{r} }

// district is one of Aktobe's two city districts (since 2018).
type district struct {
	kk, ru, en string
	geom       orb.MultiPolygon
	population int
}

// districts splits the real boundary in two along a demo line through the centre: the Almaty
// district to the south-west and the Astana district to the north-east. The line runs between
// two vertices of the boundary, so both districts share the boundary's own vertices exactly.
func (g *gen) districts() ([]*district, error) {
	r := g.rng("districts")
	toLL := func(x, y float64) orb.Point {
		return orb.Point{round7(centreLon + x/g.f.mPerLon), round7(centreLat + y/g.f.mPerLat)}
	}
	var line []orb.Point // inside the boundary, from north-west to south-east
	for _, p := range [][2]float64{{-7000, 7000}, {-2500, 2500}, {0, 300 + r.Float64()*600}, {2200, -1800}, {7000, -7000}} {
		line = append(line, toLL(p[0]+r.Float64()*400, p[1]+r.Float64()*400))
	}
	if len(g.boundary) != 1 {
		return nil, fmt.Errorf("demo: the city boundary has %d polygons, want 1", len(g.boundary))
	}
	ring := g.boundary[0][0]
	n := len(ring) - 1 // the ring is closed
	for _, p := range line {
		if !planar.RingContains(ring, p) {
			return nil, fmt.Errorf("demo: district line point %v is outside the boundary", p)
		}
	}
	for i := 1; i < len(line); i++ {
		if crossesRing(ring, line[i-1], line[i], -1) {
			return nil, fmt.Errorf("demo: district line crosses the boundary")
		}
	}
	// the boundary vertex nearest each end of the line that it can reach without crossing
	reach := func(p orb.Point) (int, error) {
		best, bd := -1, math.Inf(1)
		for i := 0; i < n; i++ {
			if d := planar.Distance(ring[i], p); d < bd && !crossesRing(ring, ring[i], p, i) {
				best, bd = i, d
			}
		}
		if best < 0 {
			return 0, fmt.Errorf("demo: no boundary vertex reachable from %v", p)
		}
		return best, nil
	}
	a, err := reach(line[0])
	if err != nil {
		return nil, err
	}
	b, err := reach(line[len(line)-1])
	if err != nil {
		return nil, err
	}
	if a == b {
		return nil, fmt.Errorf("demo: district line ends at one boundary vertex")
	}
	// one side: the boundary from a forward to b, then the line back; the other: from b to a
	var one, two orb.Ring
	for i := a; ; i = (i + 1) % n {
		one = append(one, ring[i])
		if i == b {
			break
		}
	}
	for i := len(line) - 1; i >= 0; i-- {
		one = append(one, line[i])
	}
	one = append(one, one[0])
	for i := b; ; i = (i + 1) % n {
		two = append(two, ring[i])
		if i == a {
			break
		}
	}
	two = append(two, line...)
	two = append(two, two[0])

	ds := []*district{
		{kk: "Алматы ауданы", ru: "Алматинский район", en: "Almaty district"},
		{kk: "Астана ауданы", ru: "Астанинский район", en: "Astana district"},
	}
	if planar.RingContains(one, toLL(-4000, -4000)) {
		ds[0].geom, ds[1].geom = orb.MultiPolygon{{one}}, orb.MultiPolygon{{two}}
	} else {
		ds[0].geom, ds[1].geom = orb.MultiPolygon{{two}}, orb.MultiPolygon{{one}}
	}
	for _, b := range g.buildings {
		if b.residents == 0 {
			continue
		}
		p := g.f.ll(b.centre())
		for _, d := range ds {
			if planar.MultiPolygonContains(d.geom, p) {
				d.population += b.residents
				break
			}
		}
	}
	return ds, nil
}

// crossesRing reports whether segment p-q crosses an edge of the ring, ignoring the edges
// at vertex skip (-1: none).
func crossesRing(ring orb.Ring, p, q orb.Point, skip int) bool {
	n := len(ring) - 1
	for i := 0; i < n; i++ {
		if skip >= 0 && (i == skip || (i+1)%n == skip) {
			continue
		}
		if segmentsIntersect(p, q, ring[i], ring[i+1]) {
			return true
		}
	}
	return false
}

func segmentsIntersect(p1, p2, q1, q2 orb.Point) bool {
	orient := func(a, b, c orb.Point) float64 {
		return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	}
	d1, d2 := orient(q1, q2, p1), orient(q1, q2, p2)
	d3, d4 := orient(p1, p2, q1), orient(p1, p2, q2)
	return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))
}

func (g *gen) emitBase() error {
	var cityPop int
	for _, p := range g.places {
		if p.Kind == "city" {
			cityPop = p.Population
		}
	}
	cb := g.city.newLayer("city_boundary", false, "name", "name_kk", "name_ru", "name_en", "population")
	cb.add(g.boundary, "Ақтөбе", "Ақтөбе", "Актобе", "Aktobe", nullInt(cityPop))

	ds, err := g.districts()
	if err != nil {
		return err
	}
	dl := g.city.newLayer("districts", true, "name", "name_kk", "name_ru", "name_en", "population")
	for _, d := range ds {
		dl.add(d.geom, d.kk, d.kk, d.ru, d.en, d.population)
	}

	pl := g.city.newLayer("places", false, "name", "name_kk", "name_ru", "name_en", "place", "population")
	for _, p := range g.places {
		pl.add(p.Point, p.Name, nullStr(p.NameKK), nullStr(p.NameRU), nullStr(p.NameEN), p.Kind, nullInt(p.Population))
	}

	st := g.city.newLayer("streets", true, "name", "highway", "lanes", "length_m")
	for _, s := range g.segs {
		a, b := s.point(&g.f, float64(s.from)*unit, 0), s.point(&g.f, float64(s.to)*unit, 0)
		ls := orb.LineString{a, b}
		s.length = math.Round(lengthM(ls)*10) / 10
		st.add(ls, s.name, highwayOf[s.cls], s.lanes, s.length)
	}

	bl := g.city.newLayer("buildings", true, "address", "use", "levels", "residents", "meter", "thermo_modernised")
	for _, b := range g.buildings {
		var res any
		if b.use == "apartments" || b.use == "house" {
			res = b.residents
		}
		bl.add(orbPolygon(g.f.ring(b.rect)), b.address, b.use, b.levels, res, b.meter, b.thermo)
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// emitUtilities lays utility lines in the street corridors and street lights along the kerbs.
func (g *gen) emitUtilities() {
	r := g.rng("utilities")
	un := g.city.newLayer("utility_networks", true, "network", "material", "diameter_mm", "year")
	type net struct {
		name   string
		offset float64 // share of the street's setback, signed
		p      func(s *segment) float64
		mat    []string
		dia    []int
	}
	nets := []net{
		{"water", 0.45, func(s *segment) float64 { return 0.95 }, []string{"cast_iron", "steel", "pe"}, []int{100, 150, 200, 300, 400}},
		{"sewer", -0.45, func(s *segment) float64 {
			if s.kind == kindPrivate && !s.arterial {
				return 0.4
			}
			return 0.9
		}, []string{"ceramic", "cast_iron", "pvc", "asbestos_cement"}, []int{150, 200, 300, 500}},
		{"heating", 0.7, func(s *segment) float64 {
			switch {
			case s.arterial:
				return 0.5
			case s.kind == kindCentre || s.kind == kindMicro:
				return 0.9
			}
			return 0
		}, []string{"steel", "steel_preinsulated"}, []int{100, 150, 250, 400, 530}},
		{"gas", -0.7, func(s *segment) float64 {
			switch {
			case s.arterial:
				return 0.3
			case s.kind == kindPrivate:
				return 0.95
			}
			return 0.2
		}, []string{"steel", "pe"}, []int{57, 89, 108, 159, 219}},
		{"power", 0.85, func(s *segment) float64 { return 0.5 }, []string{"aluminium_cable", "copper_cable"}, []int{30, 40, 60}},
	}
	for _, s := range g.segs {
		for _, n := range nets {
			if r.Float64() >= n.p(s) {
				continue
			}
			off := n.offset * setback[s.cls]
			ls := orb.LineString{s.point(&g.f, float64(s.from)*unit, off), s.point(&g.f, float64(s.to)*unit, off)}
			year := 1960 + r.IntN(66)
			if g.radiusAt(s.uv(float64(s.from+s.to)/2*unit, 0)) > 0.6 {
				year = 1985 + r.IntN(41)
			}
			mat := n.mat[r.IntN(len(n.mat))]
			if year > 2005 && (n.name == "water" || n.name == "gas") {
				mat = "pe"
			}
			dia := n.dia[r.IntN(len(n.dia))]
			if s.arterial && n.name != "power" {
				dia = n.dia[len(n.dia)-1-r.IntN(2)]
			}
			un.add(ls, n.name, mat, dia, year)
		}
	}

	sl := g.city.newLayer("street_lights", true, "lamp_type", "power_w", "hours_per_year", "control")
	controls := []string{"schedule", "photocell", "astronomical", "smart"}
	for _, s := range g.segs {
		spacing, sides := 70.0, []float64{1}
		switch s.cls {
		case clsPrimary:
			spacing, sides = 50, []float64{1, -1}
		case clsSecondary:
			spacing, sides = 60, []float64{1, -1}
		case clsResidential:
			spacing = 80
			if s.kind == kindPrivate && r.Float64() < 0.45 {
				continue
			}
		case clsService:
			spacing = 55
		}
		led := 0.25
		if g.radiusAt(s.uv(float64(s.from+s.to)/2*unit, 0)) < 0.4 {
			led = 0.5
		}
		lo, hi := float64(s.from)*unit, float64(s.to)*unit
		for _, side := range sides {
			for a := lo + spacing/2; a < hi-10; a += spacing {
				u, v := s.uv(a, side*(halfWidth[s.cls]+1))
				x := r.Float64()
				var lamp string
				var power int
				switch {
				case x < led:
					lamp, power = "LED", []int{60, 90, 120, 150}[r.IntN(4)]
				case x < 0.9:
					lamp, power = "HPS", []int{150, 250}[r.IntN(2)]
					if s.cls < clsTertiary {
						power = 100
					}
				default:
					lamp, power = "MH", []int{150, 250}[r.IntN(2)]
				}
				ctl := controls[r.IntN(len(controls))]
				hours := 4100 + 10*r.IntN(21) - 100
				if ctl == "smart" {
					hours -= 300
				}
				sl.add(g.f.ll(u, v), lamp, power, hours, ctl)
			}
		}
	}
}

// lengthM is the length of a short line on the WGS 84 ellipsoid, in metres, from the lengths
// of a degree at each piece's latitude (exact to centimetres over a few kilometres).
func lengthM(ls orb.LineString) float64 {
	total := 0.0
	for i := 1; i < len(ls); i++ {
		phi := (ls[i-1][1] + ls[i][1]) / 2 * math.Pi / 180
		mLat := 111132.954 - 559.822*math.Cos(2*phi) + 1.175*math.Cos(4*phi)
		mLon := 111412.84*math.Cos(phi) - 93.5*math.Cos(3*phi) + 0.118*math.Cos(5*phi)
		total += math.Hypot((ls[i][0]-ls[i-1][0])*mLon, (ls[i][1]-ls[i-1][1])*mLat)
	}
	return total
}
