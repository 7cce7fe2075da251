package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-proj/v11"
)

// Transformer reprojects geometries from one CRS to EPSG:4326 longitude/latitude. It is not
// safe for concurrent use: make one per goroutine (each has its own PROJ context).
type Transformer struct {
	src  CRS
	ctx  *proj.Context
	pj   *proj.PJ
	flat []float64
}

// NewTransformer returns a transformer from src to EPSG:4326 (x = longitude, y = latitude).
// For src = EPSG:4326 it does nothing but check coordinates.
func NewTransformer(src CRS) (*Transformer, error) {
	t := &Transformer{src: src}
	if src.EPSG == 4326 {
		return t, nil
	}
	def := src.Definition
	if src.EPSG != 0 {
		// The EPSG entry carries the datum shift (e.g. Pulkovo 1942 to WGS 84) that a .prj omits.
		def = fmt.Sprintf("EPSG:%d", src.EPSG)
	}
	t.ctx = proj.NewContext()
	pj, err := t.ctx.NewCRSToCRS(def, "EPSG:4326", nil)
	if err != nil {
		return nil, fmt.Errorf("no transformation from %s to EPSG:4326: %w", src, err)
	}
	norm, err := pj.NormalizeForVisualization()
	if err != nil {
		return nil, fmt.Errorf("transformation from %s: %w", src, err)
	}
	t.pj = norm
	return t, nil
}

// Transform reprojects g in place (a new value for a Point) and checks that every coordinate is
// a finite longitude/latitude.
func (t *Transformer) Transform(g orb.Geometry) (orb.Geometry, error) {
	switch g := g.(type) {
	case orb.Point:
		p := []orb.Point{g}
		if err := t.points(p); err != nil {
			return nil, err
		}
		return p[0], nil
	case orb.MultiPoint:
		return g, t.points(g)
	case orb.LineString:
		return g, t.points(g)
	case orb.MultiLineString:
		for _, l := range g {
			if err := t.points(l); err != nil {
				return nil, err
			}
		}
		return g, nil
	case orb.Ring:
		return g, t.points(g)
	case orb.Polygon:
		for _, r := range g {
			if err := t.points(r); err != nil {
				return nil, err
			}
		}
		return g, nil
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				if err := t.points(r); err != nil {
					return nil, err
				}
			}
		}
		return g, nil
	case orb.Collection:
		for i := range g {
			ng, err := t.Transform(g[i])
			if err != nil {
				return nil, err
			}
			g[i] = ng
		}
		return g, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("cannot reproject a %T", g)
}

func (t *Transformer) points(ps []orb.Point) error {
	if t.pj != nil && len(ps) > 0 {
		if cap(t.flat) < 2*len(ps) {
			t.flat = make([]float64, 2*len(ps))
		}
		f := t.flat[:2*len(ps)]
		for i, p := range ps {
			f[2*i], f[2*i+1] = p[0], p[1]
		}
		if err := t.pj.ForwardFlatCoords(f, 2, -1, -1); err != nil {
			return fmt.Errorf("coordinates (%g %g) cannot be reprojected from %s: %w", ps[0][0], ps[0][1], t.src, err)
		}
		for i := range ps {
			ps[i] = orb.Point{f[2*i], f[2*i+1]}
		}
	}
	for _, p := range ps {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return fmt.Errorf("coordinates are not finite numbers after reprojection from %s", t.src)
		}
		if p[0] < -180.000001 || p[0] > 180.000001 || p[1] < -90.000001 || p[1] > 90.000001 {
			return fmt.Errorf("point (%g %g) is not a longitude/latitude: is the coordinate system (%s) right?", p[0], p[1], t.src)
		}
	}
	return nil
}
