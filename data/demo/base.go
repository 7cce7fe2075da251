package demo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
	"github.com/twpayne/go-geos"
)

func orbPolygon(r orb.Ring) orb.Polygon { return orb.Polygon{r} }

type orbMulti orb.MultiPolygon

func (m orbMulti) geom() orb.MultiPolygon { return orb.MultiPolygon(m) }

// district is one of Aktobe's two city districts (since 2018).
type district struct {
	kk, ru, en string
	geom       orb.MultiPolygon
	population int
}

// districts splits the real boundary in two along a demo line through the centre: the
// Almaty district to the south-west and the Astana district to the north-east.
func (g *gen) districts() ([]*district, error) {
	r := g.rng("districts")
	toLL := func(x, y float64) orb.Point {
		return orb.Point{centreLon + x/g.f.mPerLon, centreLat + y/g.f.mPerLat}
	}
	// a dividing line from far north-west to far south-east, bending through the centre
	far := 80000.0
	line := []orb.Point{toLL(-far, far)}
	for _, p := range [][2]float64{{-9000, 9000}, {-2500, 2500}, {0, 300 + r.Float64()*600}, {2200, -1800}, {8000, -9000}} {
		line = append(line, toLL(p[0]+r.Float64()*400, p[1]+r.Float64()*400))
	}
	line = append(line, toLL(far, -far))
	ring := orb.Ring{toLL(-far, -far)}
	ring = append(ring, line...)
	ring = append(ring, ring[0])
	ctx := geos.NewContext()
	bnd, err := ctx.NewGeomFromWKB(wkb.MustMarshal(g.boundary))
	if err != nil {
		return nil, fmt.Errorf("demo: boundary for geos: %w", err)
	}
	half, err := ctx.NewGeomFromWKB(wkb.MustMarshal(orb.Polygon{ring}))
	if err != nil {
		return nil, fmt.Errorf("demo: district split for geos: %w", err)
	}
	parts := []*geos.Geom{bnd.Intersection(half), bnd.Difference(half)}
	ds := []*district{
		{kk: "Алматы ауданы", ru: "Алматинский район", en: "Almaty district"},
		{kk: "Астана ауданы", ru: "Астанинский район", en: "Astana district"},
	}
	for i, p := range parts {
		geom, err := wkb.Unmarshal(p.ToWKB())
		if err != nil {
			return nil, fmt.Errorf("demo: district %s: %w", ds[i].en, err)
		}
		switch gm := geom.(type) {
		case orb.Polygon:
			ds[i].geom = orb.MultiPolygon{gm}
		case orb.MultiPolygon:
			ds[i].geom = gm
		default:
			return nil, fmt.Errorf("demo: district %s is a %s", ds[i].en, geom.GeoJSONType())
		}
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
		s.length = math.Round(geo.Length(ls)*10) / 10
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
