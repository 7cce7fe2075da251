package main

import (
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
)

// frame measures the city in metres east (x) and north (y) of its south-west corner. An
// equirectangular projection at the middle latitude is exact enough over 30 km for footprints
// and street lengths, and it keeps right angles right.
type frame struct {
	sw               orb.Point // lon, lat
	mPerLon, mPerLat float64
	width, height    float64 // metres
}

func newFrame(b orb.Bound) frame {
	const mPerDegree = 111320.0
	midLat := (b.Min[1] + b.Max[1]) / 2
	f := frame{sw: b.Min, mPerLat: mPerDegree, mPerLon: mPerDegree * math.Cos(midLat*math.Pi/180)}
	f.width = (b.Max[0] - b.Min[0]) * f.mPerLon
	f.height = (b.Max[1] - b.Min[1]) * f.mPerLat
	return f
}

// lonLat converts metres to degrees rounded to 7 decimals (about 1 cm), the precision written.
func (f frame) lonLat(p orb.Point) orb.Point {
	return orb.Point{round(f.sw[0]+p[0]/f.mPerLon, 7), round(f.sw[1]+p[1]/f.mPerLat, 7)}
}

// metres converts degrees to metres.
func (f frame) metres(ll orb.Point) orb.Point {
	return orb.Point{(ll[0] - f.sw[0]) * f.mPerLon, (ll[1] - f.sw[1]) * f.mPerLat}
}

// inside reports whether p lies at least margin metres inside the city.
func (f frame) inside(p orb.Point, margin float64) bool {
	return p[0] >= margin && p[0] <= f.width-margin && p[1] >= margin && p[1] <= f.height-margin
}

// ringInside reports whether every vertex of r lies at least margin metres inside the city.
func (f frame) ringInside(r orb.Ring, margin float64) bool {
	for _, p := range r {
		if !f.inside(p, margin) {
			return false
		}
	}
	return true
}

// polygon converts a ring in metres to a polygon in degrees.
func (f frame) polygon(r orb.Ring) orb.Polygon {
	ll := make(orb.Ring, len(r))
	for i, p := range r {
		ll[i] = f.lonLat(p)
	}
	return orb.Polygon{ll}
}

// lineString converts a line in metres to degrees.
func (f frame) lineString(l orb.LineString) orb.LineString {
	ll := make(orb.LineString, len(l))
	for i, p := range l {
		ll[i] = f.lonLat(p)
	}
	return ll
}

// shape is the outline of a footprint.
type shape int

const (
	rectangle shape = iota
	lShape          // a rectangle with one corner cut away
	uShape          // a rectangle with a courtyard open on one side
)

// footprint is the closed counter-clockwise ring, in metres, of a w×l outline centred on c and
// turned by angle radians. The cuts of L and U shapes vary with r.
func footprint(r *rand.Rand, s shape, c orb.Point, w, l, angle float64) orb.Ring {
	x, y := w/2, l/2
	var corners []orb.Point
	switch s {
	case lShape:
		cutW, cutL := w*between(r, 0.4, 0.6), l*between(r, 0.4, 0.6)
		corners = []orb.Point{{-x, -y}, {x, -y}, {x, y - cutL}, {x - cutW, y - cutL}, {x - cutW, y}, {-x, y}}
	case uShape:
		wing, yard := w*between(r, 0.25, 0.35), l*between(r, 0.4, 0.6)
		corners = []orb.Point{{-x, -y}, {x, -y}, {x, y}, {x - wing, y}, {x - wing, y - yard},
			{-x + wing, y - yard}, {-x + wing, y}, {-x, y}}
	default:
		corners = []orb.Point{{-x, -y}, {x, -y}, {x, y}, {-x, y}}
	}
	sin, cos := math.Sincos(angle)
	ring := make(orb.Ring, 0, len(corners)+1)
	for _, p := range corners {
		ring = append(ring, orb.Point{c[0] + p[0]*cos - p[1]*sin, c[1] + p[0]*sin + p[1]*cos})
	}
	return append(ring, ring[0])
}

// between draws uniformly from [lo, hi).
func between(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// pick draws one element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// round rounds v to the given number of decimals.
func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}
