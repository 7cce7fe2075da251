package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

type streetProps struct {
	Name     string  `json:"name"`
	NameKK   string  `json:"name_kk"`
	Class    string  `json:"class"`
	Lanes    int     `json:"lanes"`
	MaxSpeed int     `json:"maxspeed"`
	Oneway   bool    `json:"oneway"`
	Surface  string  `json:"surface"`
	LengthM  float64 `json:"length_m"`
}

// segment is a street between two neighbouring crossings of the grid, in metres: two points,
// or three when it bends.
type segment struct {
	line  orb.LineString
	props streetProps
}

func (g *generator) streets() []geojson.FeatureOf[streetProps] {
	out := make([]geojson.FeatureOf[streetProps], len(g.segments))
	for i, s := range g.segments {
		out[i] = feature(i+1, g.f.lineString(s.line), s.props)
	}
	return out
}

// streetGrid lays a grid over the whole city, moves its inner crossings a little and keeps n of
// its segments, drawn with the weight of the districts' density: streets are dense where the
// buildings are and sparse in the steppe between. Crossings are shared, so the kept segments
// form a network.
func (g *generator) streetGrid(n int) []segment {
	r := g.rng("streets")
	// About 2.5 candidates for each segment kept; a grid of nx×ny cells has about 2·nx·ny.
	cells := float64(n) * 2.5 / 2
	ny := max(2, int(math.Round(math.Sqrt(cells*g.f.height/g.f.width))))
	nx := max(2, int(math.Round(cells/float64(ny))))
	dx, dy := g.f.width/float64(nx), g.f.height/float64(ny)
	crossing := make([][]orb.Point, nx+1)
	for i := range crossing {
		crossing[i] = make([]orb.Point, ny+1)
		for j := range crossing[i] {
			p := orb.Point{float64(i) * dx, float64(j) * dy}
			if i > 0 && i < nx {
				p[0] += between(r, -0.2, 0.2) * dx
			}
			if j > 0 && j < ny {
				p[1] += between(r, -0.2, 0.2) * dy
			}
			crossing[i][j] = p
		}
	}

	// A candidate runs east (along grid row line) or north (along grid column line); at is its
	// place along that line.
	type candidate struct {
		a, b     orb.Point
		north    bool
		line, at int
		key      float64
	}
	var cands []candidate
	for i := 0; i <= nx; i++ {
		for j := 0; j <= ny; j++ {
			if i < nx {
				cands = append(cands, candidate{a: crossing[i][j], b: crossing[i+1][j], line: j, at: i})
			}
			if j < ny {
				cands = append(cands, candidate{a: crossing[i][j], b: crossing[i][j+1], north: true, line: i, at: j})
			}
		}
	}
	// Exponential keys divided by the weights: the n smallest are a weighted sample without
	// replacement.
	for k := range cands {
		mid := orb.Point{(cands[k].a[0] + cands[k].b[0]) / 2, (cands[k].a[1] + cands[k].b[1]) / 2}
		cands[k].key = r.ExpFloat64() / (g.density(mid) + 0.02)
	}
	slices.SortStableFunc(cands, func(p, q candidate) int { return cmp.Compare(p.key, q.key) })
	kept := cands[:min(n, len(cands))]
	slices.SortStableFunc(kept, func(p, q candidate) int {
		if p.north != q.north {
			if p.north {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(p.line, q.line), cmp.Compare(p.at, q.at))
	})

	out := make([]segment, len(kept))
	for k, s := range kept {
		line := orb.LineString{s.a, s.b}
		if chance(r, 0.3) { // a gentle bend, where it stays inside the city
			t, off := between(r, 0.3, 0.7), between(r, -0.06, 0.06)
			ex, ey := s.b[0]-s.a[0], s.b[1]-s.a[1]
			bend := orb.Point{s.a[0] + ex*t - ey*off, s.a[1] + ey*t + ex*off}
			if g.f.inside(bend, 0) {
				line = orb.LineString{s.a, bend, s.b}
			}
		}
		class := lineClass(s.line)
		nm := streetName(class, s.line, s.north)
		lanes, speed := 2, 40
		if class == "primary" || class == "secondary" {
			lanes, speed = 4, 60
		}
		if class == "primary" && chance(r, 0.3) {
			lanes = 6
		}
		surface := "asphalt"
		if class == "residential" && chance(r, 0.3) {
			surface = pick(r, []string{"gravel", "unpaved", "concrete"})
		}
		out[k] = segment{line: line, props: streetProps{
			Name: nm.ru, NameKK: nm.kk, Class: class, Lanes: lanes, MaxSpeed: speed,
			Oneway: chance(r, 0.08), Surface: surface, LengthM: round(planar.Length(line), 1),
		}}
	}
	return out
}

// lineClass ranks a grid line: every tenth is a primary street, the fifth between them
// secondary, every third tertiary and the rest residential.
func lineClass(line int) string {
	switch {
	case line%10 == 0:
		return "primary"
	case line%5 == 0:
		return "secondary"
	case line%3 == 0:
		return "tertiary"
	}
	return "residential"
}

// streetName names a grid line: avenues for the primary and secondary lines, streets for the
// others, with numbered lanes once the street names run out.
func streetName(class string, line int, north bool) name {
	if class == "primary" || class == "secondary" {
		k := line / 5
		if north {
			k += 7
		}
		return avenues[k%len(avenues)]
	}
	k := line
	if north {
		k += 13
	}
	nm := streets[k%len(streets)]
	if lane := k / len(streets); lane > 0 {
		return name{fmt.Sprintf("%s, %d-й пер.", nm.ru, lane), fmt.Sprintf("%s, %d-тұйық", nm.kk, lane)}
	}
	return nm
}

// density is how built-up the city is around p: the districts' Gaussians, widened by half so
// that streets reach a little beyond the last houses.
func (g *generator) density(p orb.Point) float64 {
	var sum float64
	for _, d := range districts {
		centre := g.f.metres(d.centre)
		ex := (p[0] - centre[0]) / (1.5 * d.spreadX)
		ey := (p[1] - centre[1]) / (1.5 * d.spreadY)
		sum += d.weight * math.Exp(-(ex*ex+ey*ey)/2)
	}
	return sum
}
