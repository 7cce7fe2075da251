package geo

import (
	"fmt"
	"math"

	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/paulmach/orb"
	"github.com/twpayne/go-geos"
)

// Validator checks geometries with GEOS and repairs the invalid ones (GEOS MakeValid). It is
// not safe for concurrent use: make one per goroutine.
type Validator struct {
	ctx *geos.Context
}

// NewValidator returns a validator with its own GEOS context.
func NewValidator() *Validator { return &Validator{ctx: geos.NewContext()} }

// Dimension is 0 for points, 1 for lines, 2 for polygons.
func Dimension(g orb.Geometry) int {
	switch g.(type) {
	case orb.Point, orb.MultiPoint:
		return 0
	case orb.LineString, orb.MultiLineString:
		return 1
	case orb.Polygon, orb.MultiPolygon, orb.Ring:
		return 2
	case orb.Collection:
		d := -1
		for _, c := range g.(orb.Collection) {
			d = max(d, Dimension(c))
		}
		return d
	}
	return -1
}

// Repair returns g unchanged when it is valid, or a repaired geometry of the same dimension
// and repaired = true. When no valid geometry of g's dimension can be made (a polygon that
// collapses to a line, a line of one distinct point), it returns an error with GEOS's reason.
func (v *Validator) Repair(g orb.Geometry) (out orb.Geometry, repaired bool, err error) {
	if !finite(g) {
		return nil, false, fmt.Errorf("coordinates are not finite numbers")
	}
	switch g := g.(type) {
	case orb.Point, orb.MultiPoint:
		return g, false, nil // finite points are always valid
	case orb.LineString:
		if distinct(g) < 2 {
			return nil, false, fmt.Errorf("line has fewer than 2 distinct points")
		}
		return g, false, nil
	case orb.MultiLineString:
		keep := g[:0:0]
		for _, l := range g {
			if distinct(l) >= 2 {
				keep = append(keep, l)
			}
		}
		if len(keep) == 0 {
			return nil, false, fmt.Errorf("line has fewer than 2 distinct points")
		}
		if len(keep) < len(g) {
			return keep, true, nil
		}
		return g, false, nil
	}
	b, err := wkb.Append(nil, g, 0)
	if err != nil {
		return nil, false, err
	}
	gg, err := v.ctx.NewGeomFromWKB(b)
	if err != nil {
		return nil, false, fmt.Errorf("GEOS cannot read the geometry: %w", err)
	}
	defer gg.Destroy()
	if gg.IsValid() {
		return g, false, nil
	}
	reason := gg.IsValidReason()
	fixed := gg.MakeValid()
	if fixed == nil {
		return nil, false, fmt.Errorf("invalid geometry (%s) and GEOS cannot repair it", reason)
	}
	defer fixed.Destroy()
	og, err := wkb.Unmarshal(fixed.ToWKB())
	if err != nil {
		return nil, false, fmt.Errorf("invalid geometry (%s): %w", reason, err)
	}
	want := Dimension(g)
	og = keepDimension(og, want)
	if og == nil {
		return nil, false, fmt.Errorf("invalid geometry (%s) that collapses when repaired", reason)
	}
	return og, true, nil
}

// keepDimension keeps the parts of g with dimension d, as a single or multi geometry.
func keepDimension(g orb.Geometry, d int) orb.Geometry {
	if c, ok := g.(orb.Collection); ok {
		parts := make([]orb.Geometry, 0, len(c))
		for _, part := range c {
			if k := keepDimension(part, d); k != nil {
				parts = append(parts, k)
			}
		}
		pts, lines, polys := Split(parts)
		switch {
		case d == 2 && len(polys) == 1:
			return polys[0]
		case d == 2 && len(polys) > 1:
			return polys
		case d == 1 && len(lines) == 1:
			return lines[0]
		case d == 1 && len(lines) > 1:
			return lines
		case d == 0 && len(pts) == 1:
			return pts[0]
		case d == 0 && len(pts) > 1:
			return pts
		}
		return nil
	}
	if Dimension(g) != d || isEmpty(g) {
		return nil
	}
	return g
}

// Split sorts geometries into their points, lines and polygons, flattening multi geometries and
// nested collections.
func Split(parts []orb.Geometry) (orb.MultiPoint, orb.MultiLineString, orb.MultiPolygon) {
	var pts orb.MultiPoint
	var lines orb.MultiLineString
	var polys orb.MultiPolygon
	for _, p := range parts {
		switch g := p.(type) {
		case orb.Point:
			pts = append(pts, g)
		case orb.MultiPoint:
			pts = append(pts, g...)
		case orb.LineString:
			lines = append(lines, g)
		case orb.MultiLineString:
			lines = append(lines, g...)
		case orb.Polygon:
			polys = append(polys, g)
		case orb.MultiPolygon:
			polys = append(polys, g...)
		case orb.Collection:
			p2, l2, g2 := Split(g)
			pts, lines, polys = append(pts, p2...), append(lines, l2...), append(polys, g2...)
		}
	}
	return pts, lines, polys
}

func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.MultiPolygon:
		return len(g) == 0
	case orb.Polygon:
		return len(g) == 0
	case orb.MultiLineString:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiPoint:
		return len(g) == 0
	}
	return false
}

func distinct(l orb.LineString) int {
	if len(l) == 0 {
		return 0
	}
	n := 1
	for i := 1; i < len(l); i++ {
		if l[i] != l[0] {
			return 2
		}
	}
	return n
}

func finite(g orb.Geometry) bool {
	ok := true
	check := func(ps []orb.Point) {
		for _, p := range ps {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
				ok = false
				return
			}
		}
	}
	switch g := g.(type) {
	case orb.Point:
		check([]orb.Point{g})
	case orb.MultiPoint:
		check(g)
	case orb.LineString:
		check(g)
	case orb.MultiLineString:
		for _, l := range g {
			check(l)
		}
	case orb.Polygon:
		for _, r := range g {
			check(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				check(r)
			}
		}
	case orb.Collection:
		for _, c := range g {
			ok = ok && finite(c)
		}
	}
	return ok
}
