package transit

import (
	"math"

	"github.com/paulmach/orb"
)

const earthRadius = 6371008.8

// haversine returns the great-circle distance in metres between two lon/lat points.
func haversine(a, b orb.Point) float64 {
	la1, la2 := a[1]*math.Pi/180, b[1]*math.Pi/180
	dla, dlo := la2-la1, (b[0]-a[0])*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// path is a shape in local metres (equirectangular around its first point), enough for a city:
// the scale error over 50 km is far below GPS noise.
type path struct {
	lon0, lat0, kx float64
	xy             []orb.Point // metres
	cum            []float64   // distance along the path at each vertex
}

func newPath(ls orb.LineString) *path {
	p := &path{}
	if len(ls) == 0 {
		return p
	}
	p.lon0, p.lat0 = ls[0][0], ls[0][1]
	p.kx = math.Cos(p.lat0*math.Pi/180) * earthRadius * math.Pi / 180
	p.xy = make([]orb.Point, len(ls))
	p.cum = make([]float64, len(ls))
	for i, q := range ls {
		p.xy[i] = p.local(q)
		if i > 0 {
			p.cum[i] = p.cum[i-1] + math.Hypot(p.xy[i][0]-p.xy[i-1][0], p.xy[i][1]-p.xy[i-1][1])
		}
	}
	return p
}

func (p *path) local(q orb.Point) orb.Point {
	return orb.Point{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * earthRadius * math.Pi / 180}
}

func (p *path) length() float64 {
	if len(p.cum) == 0 {
		return 0
	}
	return p.cum[len(p.cum)-1]
}

// project returns the distance along the path of the point nearest to q at or after `from`
// metres, and the distance from q to that point. Use from = 0 for an unconstrained projection.
func (p *path) project(q orb.Point, from float64) (along, off float64) {
	x := p.local(q)
	off = math.Inf(1)
	for i := 1; i < len(p.xy); i++ {
		if p.cum[i] < from {
			continue
		}
		a, b := p.xy[i-1], p.xy[i]
		dx, dy := b[0]-a[0], b[1]-a[1]
		l2 := dx*dx + dy*dy
		t := 0.0
		if l2 > 0 {
			t = ((x[0]-a[0])*dx + (x[1]-a[1])*dy) / l2
			t = math.Max(0, math.Min(1, t))
		}
		d := p.cum[i-1] + t*(p.cum[i]-p.cum[i-1])
		if d < from {
			t = (from - p.cum[i-1]) / (p.cum[i] - p.cum[i-1])
			d = from
		}
		px, py := a[0]+t*dx, a[1]+t*dy
		if h := math.Hypot(x[0]-px, x[1]-py); h < off {
			off, along = h, d
		}
	}
	if len(p.xy) == 1 {
		return 0, math.Hypot(x[0]-p.xy[0][0], x[1]-p.xy[0][1])
	}
	return along, off
}

// pointAt returns the lon/lat point at distance d along the path.
func (p *path) pointAt(d float64) orb.Point {
	if len(p.xy) == 0 {
		return orb.Point{}
	}
	i := 1
	for i < len(p.cum)-1 && p.cum[i] < d {
		i++
	}
	if len(p.xy) == 1 {
		return p.toLonLat(p.xy[0])
	}
	seg := p.cum[i] - p.cum[i-1]
	t := 0.0
	if seg > 0 {
		t = math.Max(0, math.Min(1, (d-p.cum[i-1])/seg))
	}
	a, b := p.xy[i-1], p.xy[i]
	return p.toLonLat(orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])})
}

// bearingAt returns the heading in degrees (0 = north) of the path at distance d.
func (p *path) bearingAt(d float64) float64 {
	i := 1
	for i < len(p.cum)-1 && p.cum[i] < d {
		i++
	}
	if len(p.xy) < 2 {
		return 0
	}
	a, b := p.xy[i-1], p.xy[i]
	h := math.Atan2(b[0]-a[0], b[1]-a[1]) * 180 / math.Pi
	if h < 0 {
		h += 360
	}
	return h
}

func (p *path) toLonLat(x orb.Point) orb.Point {
	return orb.Point{p.lon0 + x[0]/p.kx, p.lat0 + x[1]/(earthRadius*math.Pi/180)}
}

// StopDistances returns each stop's distance in metres along the shape, each at or after the
// previous one (a trip visits its stops in order, even on a shape that loops back on itself),
// and the shape's length.
func StopDistances(shape orb.LineString, stops []orb.Point) ([]float64, float64) {
	p := newPath(shape)
	out := make([]float64, len(stops))
	from := 0.0
	for i, s := range stops {
		d, _ := p.project(s, from)
		out[i] = d
		from = d
	}
	return out, p.length()
}

// Walker moves along a shape: a simulated vehicle's position after travelling d metres.
type Walker struct{ p *path }

// NewWalker returns a walker over the line.
func NewWalker(ls orb.LineString) *Walker { return &Walker{newPath(ls)} }

// Length is the shape's length in metres.
func (w *Walker) Length() float64 { return w.p.length() }

// At returns the point and heading (degrees from north) at d metres along the shape.
func (w *Walker) At(d float64) (orb.Point, float64) { return w.p.pointAt(d), w.p.bearingAt(d) }

// Shape returns the shape of a trip (nil when it has none).
func (n *Network) Shape(tripID string) *Walker {
	if t := n.Trips[tripID]; t != nil && t.shape != nil {
		return &Walker{t.shape}
	}
	return nil
}

// Project returns the distance along line (m) of the point nearest to pt, and pt's distance from
// the line (m).
func Project(line orb.LineString, pt orb.Point) (along, off float64) {
	return newPath(line).project(pt, 0)
}
