package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// buildingProps are the nine attributes bench/tiles.sh serves; Name is null for most buildings.
type buildingProps struct {
	Name       *string `json:"name"`
	Address    string  `json:"address"`
	Use        string  `json:"use"`
	Levels     int     `json:"levels"`
	HeightM    float64 `json:"height_m"`
	District   string  `json:"district"`
	DistrictKK string  `json:"district_kk"`
	YearBuilt  int     `json:"year_built"`
	AreaM2     float64 `json:"area_m2"`
}

// building is a footprint before it is placed: width and length in metres.
type building struct {
	w, l   float64
	levels int
	use    string
	shape  shape
}

// plot is the lattice a district of kind k is laid out on: metres across and deep.
func (k kind) plot() (w, d float64) {
	switch k {
	case centre:
		return 40, 30
	case flats:
		return 50, 36
	case houses:
		return 25, 22
	}
	return 90, 70
}

// building draws what stands on one plot of a district of kind k.
func (k kind) building(r *rand.Rand) building {
	u := r.Float64()
	switch k {
	case houses:
		switch {
		case u < 0.74:
			levels := 1
			if chance(r, 0.2) {
				levels = 2
			}
			return building{between(r, 8, 13), between(r, 9, 15), levels, "residential", outline(r)}
		case u < 0.92:
			return building{between(r, 3, 6), between(r, 4, 8), 1, pick(r, []string{"garage", "shed", "outbuilding"}), rectangle}
		}
		return building{between(r, 8, 15), between(r, 10, 18), 1, pick(r, []string{"retail", "service"}), rectangle}
	case flats:
		switch {
		case u < 0.7:
			return building{between(r, 12, 15), between(r, 40, 110), pick(r, []int{5, 5, 5, 9, 9, 9, 10, 12, 14, 16}), "apartments", outline(r)}
		case u < 0.85:
			return building{between(r, 12, 20), between(r, 15, 30), 1 + r.IntN(2), "retail", rectangle}
		}
		return building{between(r, 3, 5), between(r, 5, 7), 1, "garage", rectangle}
	case centre:
		switch {
		case u < 0.45:
			return building{between(r, 12, 18), between(r, 30, 70), pick(r, []int{4, 5, 5, 9, 9, 12, 16, 22}), "apartments", outline(r)}
		case u < 0.75:
			return building{between(r, 14, 30), between(r, 18, 50), 2 + r.IntN(8), pick(r, []string{"office", "retail", "commercial"}), outline(r)}
		case u < 0.88:
			return building{between(r, 20, 40), between(r, 30, 60), 2 + r.IntN(3), pick(r, []string{"public", "civic", "religious"}), rectangle}
		}
		return building{between(r, 8, 14), between(r, 10, 18), 1 + r.IntN(3), "residential", rectangle}
	}
	switch {
	case u < 0.6:
		return building{between(r, 20, 60), between(r, 40, 140), 1 + r.IntN(3), pick(r, []string{"industrial", "warehouse"}), rectangle}
	case u < 0.85:
		return building{between(r, 10, 25), between(r, 15, 40), 1 + r.IntN(2), pick(r, []string{"office", "service"}), rectangle}
	}
	return building{between(r, 4, 8), between(r, 6, 12), 1, pick(r, []string{"garage", "shed"}), rectangle}
}

// outline is mostly a rectangle, one time in ten an L and one in twenty-five a U.
func outline(r *rand.Rand) shape {
	switch u := r.Float64(); {
	case u < 0.10:
		return lShape
	case u < 0.14:
		return uShape
	}
	return rectangle
}

// plotKey is one plot of a district's lattice.
type plotKey struct{ district, i, j int }

func (g *generator) buildings(n int) []geojson.FeatureOf[buildingProps] {
	r := g.rng("buildings")
	var total float64
	for _, d := range districts {
		total += d.weight
	}
	angles := make([]float64, len(districts)) // each district's lattice is turned its own way
	for i := range angles {
		angles[i] = between(r, -0.35, 0.35)
	}
	taken := map[plotKey]bool{}
	lastHouse := make([]int, len(streets)) // the last house number given on each street
	out := make([]geojson.FeatureOf[buildingProps], 0, n)
	for id := 1; id <= n; id++ {
		di := 0
		for u := r.Float64() * total; di < len(districts)-1 && u >= districts[di].weight; di++ {
			u -= districts[di].weight
		}
		d := districts[di]
		b := d.kind.building(r)
		ring, row := g.place(r, di, angles[di], b, taken)

		street := (d.streetAt + ((row%5)+5)%5) % len(streets)
		lastHouse[street] += 1 + r.IntN(3)
		suffix := ""
		if chance(r, 0.2) {
			suffix = pick(r, []string{"А", "Б", "В", "/1", "/2"})
		}
		address := fmt.Sprintf("%s, д. %d%s", streets[street].ru, lastHouse[street], suffix)
		if chance(r, 0.25) {
			address = fmt.Sprintf("%s, %d%s", streets[street].kk, lastHouse[street], suffix)
		}
		var title *string
		switch b.use {
		case "retail", "office", "commercial", "public", "civic":
			if chance(r, 0.15) {
				s := pick(r, businesses)
				title = &s
			}
		}
		built := 1950 + r.IntN(75)
		if d.kind == flats {
			built = 1965 + r.IntN(60)
		}
		out = append(out, feature(id, g.f.polygon(ring), buildingProps{
			Name: title, Address: address, Use: b.use, Levels: b.levels,
			HeightM:  round(float64(b.levels)*3+between(r, 0.3, 2.5), 1),
			District: d.ru, DistrictKK: d.kk, YearBuilt: built,
			AreaM2: round(math.Abs(planar.Area(ring)), 1),
		}))
	}
	return out
}

// place finds b a free plot in district di: a Gaussian draw around the district's centre
// snapped to its lattice, the draw widening while the plots it hits are taken. In a crowded
// district the building stands off the lattice, near the centre. It returns the footprint in
// metres and the lattice row, which picks the street of the address.
func (g *generator) place(r *rand.Rand, di int, angle float64, b building, taken map[plotKey]bool) (orb.Ring, int) {
	d := districts[di]
	centre := g.f.metres(d.centre)
	pw, pd := d.kind.plot()
	sin, cos := math.Sincos(angle)
	turn := angle + r.NormFloat64()*0.04
	if chance(r, 0.15) {
		turn += math.Pi / 2
	}
	w, l := b.w, b.l
	if chance(r, 0.5) {
		w, l = l, w
	}
	for attempt := range 40 {
		grow := 1 + float64(attempt)/8
		i := int(math.Round(r.NormFloat64() * d.spreadX * grow / pw))
		j := int(math.Round(r.NormFloat64() * d.spreadY * grow / pd))
		if taken[plotKey{di, i, j}] {
			continue
		}
		x := (float64(i) + between(r, -0.1, 0.1)) * pw
		y := (float64(j) + between(r, -0.1, 0.1)) * pd
		at := orb.Point{centre[0] + x*cos - y*sin, centre[1] + x*sin + y*cos}
		ring := footprint(r, b.shape, at, w, l, turn)
		if !g.f.ringInside(ring, 20) {
			continue
		}
		taken[plotKey{di, i, j}] = true
		return ring, j
	}
	for {
		y := r.NormFloat64() * d.spreadY * 2
		at := orb.Point{centre[0] + r.NormFloat64()*d.spreadX*2, centre[1] + y}
		if ring := footprint(r, b.shape, at, w, l, turn); g.f.ringInside(ring, 20) {
			return ring, int(math.Round(y / pd))
		}
	}
}
