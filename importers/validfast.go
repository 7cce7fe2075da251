package importers

import (
	"math"

	"github.com/paulmach/orb"
)

// A GEOS validity check costs a few microseconds per polygon, most of it in building the GEOS
// geometry across cgo. Most polygons in real layers (buildings, parcels) are one small ring
// that is plainly valid, which a pure-Go test can prove much faster. certainlyValid answers
// true only when it can prove that GEOS's IsValid would answer true; whenever it cannot (a
// hole, a touching or collinear vertex, a near-degenerate orientation, a large ring), it
// answers false and the geometry goes through GEOS as before. It never answers "invalid".

// maxFastRing bounds the ring size checked here: the test is quadratic in the vertices.
const maxFastRing = 48

// maxFastParts bounds the parts of a MultiPolygon checked here (pairwise bounding boxes).
const maxFastParts = 8

// certainlyValid reports whether g is a Polygon or MultiPolygon proven valid in the OGC/GEOS
// sense: every polygon one simple ring (no self-intersection or self-touching, no collinear
// consecutive vertices, so non-zero area), and the parts of a MultiPolygon in pairwise
// disjoint bounding boxes.
func certainlyValid(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return len(g) == 1 && simpleRing(g[0])
	case orb.MultiPolygon:
		if len(g) == 0 || len(g) > maxFastParts {
			return false
		}
		var bounds [maxFastParts]orb.Bound
		for i, p := range g {
			if len(p) != 1 || !simpleRing(p[0]) {
				return false
			}
			bounds[i] = p[0].Bound()
			for j := 0; j < i; j++ {
				a, b := bounds[i], bounds[j]
				if !(a.Max[0] < b.Min[0] || b.Max[0] < a.Min[0] || a.Max[1] < b.Min[1] || b.Max[1] < a.Min[1]) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// simpleRing reports whether r is a closed ring of at least 3 distinct vertices whose edges
// meet only where consecutive edges share their vertex, and no three consecutive vertices are
// (or might be, within rounding) collinear.
func simpleRing(r orb.Ring) bool {
	n := len(r)
	if n < 4 || n > maxFastRing+1 || r[0] != r[n-1] {
		return false
	}
	for _, p := range r {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return false
		}
	}
	m := n - 1 // edges; edge i runs from r[i] to r[i+1], vertex m is vertex 0
	for i := 0; i < m; i++ {
		if r[i] == r[i+1] {
			return false // repeated point: valid for GEOS, but left to it
		}
		// consecutive edges i and i+1 share r[i+1]; they meet nowhere else unless collinear
		if orient(r[i], r[i+1], r[(i+2)%m]) == 0 {
			return false
		}
	}
	for i := 0; i < m; i++ {
		a, b := r[i], r[i+1]
		for j := i + 2; j < m; j++ {
			if i == 0 && j == m-1 {
				continue // adjacent through the closing vertex
			}
			if !disjoint(a, b, r[j], r[j+1]) {
				return false
			}
		}
	}
	return true
}

// disjoint reports whether segments ab and cd certainly have no point in common.
func disjoint(a, b, c, d orb.Point) bool {
	if math.Max(a[0], b[0]) < math.Min(c[0], d[0]) || math.Max(c[0], d[0]) < math.Min(a[0], b[0]) ||
		math.Max(a[1], b[1]) < math.Min(c[1], d[1]) || math.Max(c[1], d[1]) < math.Min(a[1], b[1]) {
		return true
	}
	o1, o2 := orient(a, b, c), orient(a, b, d)
	if o1 == 0 || o2 == 0 {
		return false
	}
	if o1 == o2 {
		return true // c and d strictly on one side of line ab
	}
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if o3 == 0 || o4 == 0 {
		return false
	}
	return o3 == o4
}

// orientErr bounds the relative rounding error of the floating-point orientation determinant.
// Shewchuk's bound is (3 + 16ε)ε ≈ 3.3e-16 for ε = 2⁻⁵³; a much wider margin costs nothing
// but a few more geometries sent to GEOS.
const orientErr = 1e-12

// orient is the sign of the turn a → b → c (+1 left, -1 right) when the floating-point
// determinant proves it, and 0 when the points are, or might be, collinear.
func orient(a, b, c orb.Point) int {
	// A term whose factor is an exact zero is exactly zero (axis-parallel edges are common);
	// the sign of a rounded product of non-zero differences is exact (or it underflows to 0).
	lz := a[0] == c[0] || b[1] == c[1]
	rz := a[1] == c[1] || b[0] == c[0]
	l := (a[0] - c[0]) * (b[1] - c[1])
	r := (a[1] - c[1]) * (b[0] - c[0])
	switch {
	case lz && rz:
		return 0
	case lz:
		return -sign(r)
	case rz:
		return sign(l)
	}
	det := l - r
	var sum float64
	switch {
	case l > 0 && r < 0:
		return 1
	case l < 0 && r > 0:
		return -1
	case l > 0 && r > 0:
		sum = l + r
	case l < 0 && r < 0:
		sum = -l - r
	default:
		return 0 // underflow: leave it to GEOS
	}
	bound := orientErr * sum
	switch {
	case det > bound:
		return 1
	case -det > bound:
		return -1
	}
	return 0
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
