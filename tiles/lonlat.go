package tiles

import (
	"errors"
	"math"

	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/paulmach/orb"
)

// Drawing polygons in Go. From linearFromZoom on, a polygon whose bounding box lies inside the
// tile and its buffer needs no clipping: ST_AsMVTGeom would only map it onto the tile, snap it to
// whole units and have wagyu check (and if need be repair) it, and that check is most of the
// database's cost per building. drawPolygon does the mapping and snapping the same way, checks
// the snapped ring itself and hands back (errNeedsExact) what it cannot vouch for, which the
// tile query then asks ST_AsMVTGeom for.

// fastMargin is how far into the buffer (in extent units) a polygon drawn in Go may reach: a
// unit short of the buffer, so that rounding never takes a vertex past the clipping box.
const fastMargin = Buffer - 1

// maxFastRing is the most points a ring drawn in Go may have (its check is quadratic).
const maxFastRing = 256

// errNeedsExact: the polygon is left to ST_AsMVTGeom.
var errNeedsExact = errors.New("tiles: polygon left to ST_AsMVTGeom")

// lonLatMap is the linear map of a tile's corners in degrees onto tile coordinates, computed as
// ST_AsMVTGeom computes it: x = lon·fx − w·fx, y = lat·fy − n·fy, fx = extent/(e−w),
// fy = −extent/(n−s).
// Below linearFromZoom the map projects each latitude to Web Mercator (merc): the tile's
// corners' linear map would be off by more than the rounding there.
type lonLatMap struct {
	fx, fy, xoff, yoff float64
	merc               bool
	// merc: x = lon·fx + xoff as above, y = (top − mercY(lat))·scale with mercY in metres
	top, scale float64
}

func newLonLatMap(b orb.Bound) lonLatMap {
	fx := Extent / (b.Max[0] - b.Min[0])
	fy := -(Extent / (b.Max[1] - b.Min[1]))
	return lonLatMap{fx: fx, fy: fy, xoff: -b.Min[0] * fx, yoff: -b.Max[1] * fy}
}

// newMercatorMap maps onto the tile whose bounds in Web Mercator metres are b.
func newMercatorMap(b orb.Bound) lonLatMap {
	scale := Extent / (b.Max[0] - b.Min[0])
	fx := earthRadius * math.Pi / 180 * scale
	return lonLatMap{fx: fx, xoff: -b.Min[0] * scale, merc: true, top: b.Max[1], scale: scale}
}

// earthRadius is Web Mercator's sphere (EPSG:3857), in metres.
const earthRadius = 6378137.0

// apply maps a longitude and latitude onto the tile, unrounded.
func (m *lonLatMap) apply(lon, lat float64) (float64, float64) {
	if !m.merc {
		return lon*m.fx + m.xoff, lat*m.fy + m.yoff
	}
	y := earthRadius * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
	return lon*m.fx + m.xoff, (m.top - y) * m.scale
}

// fastBound is the box, in degrees, inside which a polygon is drawn in Go: the tile bound b and
// fastMargin units of its buffer.
func fastBound(b orb.Bound) orb.Bound {
	dx := (b.Max[0] - b.Min[0]) * fastMargin / Extent
	dy := (b.Max[1] - b.Min[1]) * fastMargin / Extent
	return orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
}

type pt struct{ x, y int64 }

// drawPolygon writes into e.geom the MVT commands of a stored polygon (2D WKB in degrees) that
// lies inside the tile and its buffer: mapped by m, snapped to whole units (rounding half to
// even, as PostGIS does), repeated points dropped, oriented clockwise on screen (positive area in
// tile coordinates). A polygon that collapses when snapped (fewer than three distinct points, or
// no area) leaves e.geom empty, as ST_AsMVTGeom leaves no geometry. It returns errNeedsExact for
// a polygon with holes or several parts, a ring of more than maxFastRing points, a ring that
// touches or crosses itself once snapped, and anything not a 2D Polygon or MultiPolygon.
func (e *layerEncoder) drawPolygon(data []byte, m lonLatMap) error {
	return e.drawPolygonClipped(data, m, false, 0)
}

// drawPolygonClipped is drawPolygon for a polygon that may reach past the tile's buffer when
// clip is set: the ring is cut to the buffer's square (Sutherland–Hodgman, in unrounded tile
// coordinates) before it is snapped. Cutting a ring that leaves the square and comes back can
// leave edges running along the square's side in both directions; the checks after snapping
// hand such rings back (errNeedsExact), as they do any ring Go cannot vouch for. With tol > 0
// the ring is first simplified (Douglas–Peucker, tol in tile units, never below a triangle), as
// ST_Simplify(…, true) does below z14.
func (e *layerEncoder) drawPolygonClipped(data []byte, m lonLatMap, clip bool, tol float64) error {
	e.geom = e.geom[:0]
	r := &wkb.Reader{B: data}
	t, err := header(r)
	if err != nil {
		if errors.Is(err, errUnsupportedGeometry) {
			return errNeedsExact // 3D, measured or extended WKB
		}
		return err
	}
	if t == 6 { // MultiPolygon: one part only
		parts, err := r.Count()
		if err != nil {
			return err
		}
		if parts != 1 {
			if parts == 0 {
				return nil
			}
			return errNeedsExact
		}
		if t, err = header(r); err != nil {
			if errors.Is(err, errUnsupportedGeometry) {
				return errNeedsExact
			}
			return err
		}
	}
	if t != 3 {
		return errNeedsExact
	}
	rings, err := r.Count()
	if err != nil {
		return err
	}
	if rings != 1 {
		if rings == 0 {
			return nil
		}
		return errNeedsExact
	}
	n, err := r.Count()
	if err != nil {
		return err
	}
	if n > maxFastRing {
		return errNeedsExact
	}
	if uint64(n)*16 > uint64(len(r.B)) {
		return wkb.ErrTruncated
	}
	ring := e.ring[:0]
	if clip || tol > 0 || m.merc {
		fl, ok := e.project(r, n, m)
		if !ok {
			return errNeedsExact
		}
		if tol > 0 {
			fl = simplifyPoints(fl, tol, 4, &e.keep)
		}
		if clip {
			fl, e.fa, e.fb = clipRing(fl, e.fa, e.fb)
		}
		for _, q := range fl {
			p := pt{int64(math.RoundToEven(q[0])), int64(math.RoundToEven(q[1]))}
			if len(ring) > 0 && ring[len(ring)-1] == p {
				continue
			}
			ring = append(ring, p)
		}
	} else {
		for i := uint32(0); i < n; i++ {
			lon := math.Float64frombits(r.Order.Uint64(r.B))
			lat := math.Float64frombits(r.Order.Uint64(r.B[8:]))
			r.B = r.B[16:]
			x, y := lon*m.fx+m.xoff, lat*m.fy+m.yoff
			if !usable(x, y) {
				return errNeedsExact
			}
			p := pt{int64(math.RoundToEven(x)), int64(math.RoundToEven(y))}
			if len(ring) > 0 && ring[len(ring)-1] == p {
				continue
			}
			ring = append(ring, p)
		}
	}
	e.ring = ring
	for len(ring) > 1 && ring[len(ring)-1] == ring[0] {
		ring = ring[:len(ring)-1] // the closing point
	}
	// Points on straight lines go, as ST_AsMVTGeom drops them.
	for changed := true; changed && len(ring) >= 3; {
		changed = false
		for i := 0; i < len(ring) && len(ring) >= 3; i++ {
			a, b, c := ring[(i+len(ring)-1)%len(ring)], ring[i], ring[(i+1)%len(ring)]
			if cross(a, b, c) == 0 && (b.x-a.x)*(c.x-b.x)+(b.y-a.y)*(c.y-b.y) > 0 {
				ring = append(ring[:i], ring[i+1:]...)
				changed = true
			}
		}
	}
	k := len(ring)
	if k < 3 {
		return nil // collapsed
	}
	// Wagyu snap-rounds: an edge passing through the unit square around a vertex other than its
	// own ends is bent through that vertex. Such rings (and rings that touch or cross
	// themselves) are left to it.
	if !simpleRing(ring) || nearVertex(ring) {
		return errNeedsExact
	}
	var area int64
	for i := range k {
		a, b := ring[i], ring[(i+1)%k]
		area += a.x*b.y - b.x*a.y
	}
	if area == 0 {
		return errNeedsExact
	}
	if area < 0 {
		for i, j := 0, k-1; i < j; i, j = i+1, j-1 {
			ring[i], ring[j] = ring[j], ring[i]
		}
	}
	var cx, cy int64
	move := func(p pt) {
		e.geom = append(e.geom, zigzag32(int32(p.x-cx)), zigzag32(int32(p.y-cy)))
		cx, cy = p.x, p.y
	}
	e.geom = append(e.geom, cmdMoveTo|1<<3)
	move(ring[0])
	e.geom = append(e.geom, uint32(cmdLineTo|(k-1)<<3))
	for _, p := range ring[1:] {
		move(p)
	}
	e.geom = append(e.geom, cmdClosePath|1<<3)
	return nil
}

// simpleRing reports whether a closed ring (without its closing point, at least three distinct
// consecutive points) neither touches nor crosses itself: no two edges share a point other than
// the vertex between consecutive edges, and no edge folds back onto the one before it.
func simpleRing(ring []pt) bool {
	k := len(ring)
	for i := range k {
		a, b, c := ring[i], ring[(i+1)%k], ring[(i+2)%k]
		// Consecutive edges a→b and b→c: collinear and turning back means they overlap.
		if cross(a, b, c) == 0 && (b.x-a.x)*(c.x-b.x)+(b.y-a.y)*(c.y-b.y) < 0 {
			return false
		}
	}
	for i := range k {
		a, b := ring[i], ring[(i+1)%k]
		for j := i + 2; j < k; j++ {
			if i == 0 && j == k-1 {
				continue // the last edge meets the first at ring[0]
			}
			if segmentsMeet(a, b, ring[j], ring[(j+1)%k]) {
				return false
			}
		}
	}
	return true
}

// cross is the z component of (b−a)×(c−a).
func cross(a, b, c pt) int64 { return (b.x-a.x)*(c.y-a.y) - (b.y-a.y)*(c.x-a.x) }

// segmentsMeet reports whether segments pq and rs share at least one point.
func segmentsMeet(p, q, r, s pt) bool {
	d1, d2 := cross(r, s, p), cross(r, s, q)
	d3, d4 := cross(p, q, r), cross(p, q, s)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(r, s, p)) || (d2 == 0 && onSegment(r, s, q)) ||
		(d3 == 0 && onSegment(p, q, r)) || (d4 == 0 && onSegment(p, q, s))
}

// onSegment reports whether c, collinear with a and b, lies between them.
func onSegment(a, b, c pt) bool {
	return min(a.x, b.x) <= c.x && c.x <= max(a.x, b.x) && min(a.y, b.y) <= c.y && c.y <= max(a.y, b.y)
}

// nearVertex reports whether an edge of a closed ring (without its closing point) meets the
// closed unit square centred on a vertex that is not one of the edge's ends.
func nearVertex(ring []pt) bool {
	k := len(ring)
	for i := range k {
		// In doubled coordinates the square's corners are whole numbers.
		a, b := pt{2 * ring[i].x, 2 * ring[i].y}, pt{2 * ring[(i+1)%k].x, 2 * ring[(i+1)%k].y}
		for j := range k {
			if j == i || j == (i+1)%k {
				continue
			}
			v := pt{2 * ring[j].x, 2 * ring[j].y}
			if max(a.x, b.x) < v.x-1 || min(a.x, b.x) > v.x+1 || max(a.y, b.y) < v.y-1 || min(a.y, b.y) > v.y+1 {
				continue
			}
			pos, neg := false, false
			for _, c := range [4]pt{{v.x - 1, v.y - 1}, {v.x + 1, v.y - 1}, {v.x + 1, v.y + 1}, {v.x - 1, v.y + 1}} {
				switch d := cross(a, b, c); {
				case d > 0:
					pos = true
				case d < 0:
					neg = true
				default:
					pos, neg = true, true
				}
			}
			if pos && neg {
				return true
			}
		}
	}
	return false
}

// clipRing cuts a ring (in tile coordinates; closed or not) to the square of the tile and its
// buffer, one side at a time (Sutherland–Hodgman), and returns it unclosed. The cut ring is
// written alternately into a and b, which are returned for reuse; ring is not written to.
func clipRing(ring, a, b [][2]float64) (cut, aOut, bOut [][2]float64) {
	const lo, hi = -Buffer, Extent + Buffer
	if len(ring) > 1 && ring[0] == ring[len(ring)-1] {
		ring = ring[:len(ring)-1]
	}
	in := ring
	for side := range 4 {
		out := a[:0]
		if side%2 == 1 {
			out = b[:0]
		}
		inside := func(p [2]float64) bool {
			switch side {
			case 0:
				return p[0] >= lo
			case 1:
				return p[0] <= hi
			case 2:
				return p[1] >= lo
			}
			return p[1] <= hi
		}
		cross := func(p, q [2]float64) [2]float64 {
			switch side {
			case 0, 1:
				x := float64(lo)
				if side == 1 {
					x = hi
				}
				return [2]float64{x, p[1] + (x-p[0])/(q[0]-p[0])*(q[1]-p[1])}
			}
			y := float64(lo)
			if side == 3 {
				y = hi
			}
			return [2]float64{p[0] + (y-p[1])/(q[1]-p[1])*(q[0]-p[0]), y}
		}
		for i := range in {
			p, q := in[(i+len(in)-1)%len(in)], in[i]
			pin, qin := inside(p), inside(q)
			switch {
			case pin && qin:
				out = append(out, q)
			case pin:
				out = append(out, cross(p, q))
			case qin:
				out = append(out, cross(p, q), q)
			}
		}
		if side%2 == 1 {
			b = out
		} else {
			a = out
		}
		in = out
		if len(in) == 0 {
			break
		}
	}
	return in, a, b
}

// simplifyPoints simplifies a line, or a closed ring (first point repeated last, taken as a line
// from its first point round to its last), by Douglas–Peucker with tolerance tol as PostGIS's
// ST_Simplify(…, true) does: spans are split left first, and splitting goes on below the
// tolerance until minPoints points are kept (4 for a ring: a closed triangle, which snapping may
// then collapse; 2 for a line: its ends). It reuses pts' storage.
func simplifyPoints(pts [][2]float64, tol float64, minPoints int, keep *[]bool) [][2]float64 {
	n := len(pts)
	if n <= minPoints || n <= 2 || tol <= 0 {
		return pts
	}
	k := (*keep)[:0]
	for range n {
		k = append(k, false)
	}
	*keep = k
	k[0], k[n-1] = true, true
	kept := 2
	type span struct{ a, b int }
	stack := []span{{0, n - 1}}
	tol2 := tol * tol
	for len(stack) > 0 {
		sp := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		far, at := -1.0, -1
		for i := sp.a + 1; i < sp.b; i++ {
			if d := segmentDist2(pts[i], pts[sp.a], pts[sp.b]); d > far {
				far, at = d, i
			}
		}
		if at >= 0 && (far > tol2 || kept < minPoints) {
			k[at] = true
			kept++
			stack = append(stack, span{at, sp.b}, span{sp.a, at}) // the left span next
		}
	}
	out := pts[:0]
	for i := range n {
		if k[i] {
			out = append(out, pts[i])
		}
	}
	return out
}

// project reads n points (2D, degrees) and maps them by m onto the tile, unrounded, into e's
// scratch; ok is false when a point cannot be drawn in Go (see usable).
func (e *layerEncoder) project(r *wkb.Reader, n uint32, m lonLatMap) (pts [][2]float64, ok bool) {
	pts = e.fring[:0]
	for i := uint32(0); i < n; i++ {
		lon := math.Float64frombits(r.Order.Uint64(r.B))
		lat := math.Float64frombits(r.Order.Uint64(r.B[8:]))
		r.B = r.B[16:]
		x, y := m.apply(lon, lat)
		if !usable(x, y) {
			return nil, false
		}
		pts = append(pts, [2]float64{x, y})
	}
	e.fring = pts
	return pts, true
}

// segmentDist2 is the squared distance from p to the segment ab (to a when a = b).
func segmentDist2(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = max(0, min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	ex, ey := p[0]-a[0]-t*dx, p[1]-a[1]-t*dy
	return ex*ex + ey*ey
}

// drawLine writes into e.geom the MVT commands of a stored line or multiline (2D WKB in degrees)
// mapped by m, as ST_AsMVTGeom draws it: each part simplified first when tol > 0 (as
// ST_Simplify(…, true) does below z14), snapped to whole units, repeated points and points lying
// on the segment between their neighbours dropped, then cut to the square of the tile and its
// buffer (Liang–Barsky; a part that leaves and comes back becomes several; cut ends rounded),
// parts of fewer than two points left out. Anything but a 2D LineString or MultiLineString is errNeedsExact.
func (e *layerEncoder) drawLine(data []byte, m lonLatMap, tol float64) error {
	e.geom = e.geom[:0]
	r := &wkb.Reader{B: data}
	t, err := header(r)
	if err != nil {
		if errors.Is(err, errUnsupportedGeometry) {
			return errNeedsExact
		}
		return err
	}
	parts := uint32(1)
	if t == 5 {
		if parts, err = r.Count(); err != nil {
			return err
		}
	} else if t != 2 {
		return errNeedsExact
	}
	var cx, cy int64
	for p := uint32(0); p < parts; p++ {
		if t == 5 {
			pt, err := header(r)
			if err != nil {
				if errors.Is(err, errUnsupportedGeometry) {
					return errNeedsExact
				}
				return err
			}
			if pt != 2 {
				return errNeedsExact
			}
		}
		n, err := r.Count()
		if err != nil {
			return err
		}
		if uint64(n)*16 > uint64(len(r.B)) {
			return wkb.ErrTruncated
		}
		fl, ok := e.project(r, n, m)
		if !ok {
			return errNeedsExact
		}
		if tol > 0 {
			fl = simplifyPoints(fl, tol, 2, &e.keep)
		}
		// As ST_AsMVTGeom: snapped, repeated points dropped, points on the segment between
		// their neighbours dropped, then cut.
		line := e.ring[:0]
		for _, q := range fl {
			p := pt{int64(math.RoundToEven(q[0])), int64(math.RoundToEven(q[1]))}
			if len(line) == 0 || line[len(line)-1] != p {
				line = append(line, p)
			}
		}
		if len(line) > 2 {
			// One pass: a point lying on the segment from the last point kept to the next
			// point goes (so does the tip of a spike that comes straight back).
			k := 1
			for i := 1; i < len(line)-1; i++ {
				a, b, c := line[k-1], line[i], line[i+1]
				along := (b.x-a.x)*(c.x-a.x) + (b.y-a.y)*(c.y-a.y)
				span := (c.x-a.x)*(c.x-a.x) + (c.y-a.y)*(c.y-a.y)
				if cross(a, b, c) != 0 || along < 0 || along > span {
					line[k] = b
					k++
				}
			}
			line[k] = line[len(line)-1]
			line = line[:k+1]
			if line[k] == line[k-1] {
				line = line[:k]
			}
		}
		e.ring = line
		if len(line) < 2 {
			continue
		}
		// Cut into the pieces that lie in the square; each is written with its cut ends rounded.
		const lo, hi = -Buffer, Extent + Buffer
		piece := e.fb[:0]
		flush := func() {
			out := e.fa[:0]
			for _, q := range piece {
				p := [2]float64{math.RoundToEven(q[0]), math.RoundToEven(q[1])}
				if len(out) == 0 || out[len(out)-1] != p {
					out = append(out, p)
				}
			}
			e.fa = out
			piece = piece[:0]
			if len(out) < 2 {
				return
			}
			x0, y0 := int64(out[0][0]), int64(out[0][1])
			e.geom = append(e.geom, cmdMoveTo|1<<3, zigzag32(int32(x0-cx)), zigzag32(int32(y0-cy)))
			cx, cy = x0, y0
			e.geom = append(e.geom, uint32(cmdLineTo|(len(out)-1)<<3))
			for _, p := range out[1:] {
				x, y := int64(p[0]), int64(p[1])
				e.geom = append(e.geom, zigzag32(int32(x-cx)), zigzag32(int32(y-cy)))
				cx, cy = x, y
			}
		}
		for i := 0; i+1 < len(line); i++ {
			from := [2]float64{float64(line[i].x), float64(line[i].y)}
			to := [2]float64{float64(line[i+1].x), float64(line[i+1].y)}
			a, b, ok := clipSegment(from, to, lo, hi)
			if !ok {
				flush()
				continue
			}
			if len(piece) == 0 || piece[len(piece)-1] != a {
				if len(piece) > 0 {
					flush() // the line left the square and came back
				}
				piece = append(piece, a)
			}
			piece = append(piece, b)
			if b != to {
				flush() // leaves the square here
			}
		}
		flush()
		e.fb = piece
	}
	return nil
}

// clipSegment cuts the segment ab to the square [lo, hi]² (Liang–Barsky) and reports whether
// any of it is left.
func clipSegment(a, b [2]float64, lo, hi float64) ([2]float64, [2]float64, bool) {
	t0, t1 := 0.0, 1.0
	dx, dy := b[0]-a[0], b[1]-a[1]
	for _, c := range [4][2]float64{{-dx, a[0] - lo}, {dx, hi - a[0]}, {-dy, a[1] - lo}, {dy, hi - a[1]}} {
		p, q := c[0], c[1]
		if p == 0 {
			if q < 0 {
				return a, b, false
			}
			continue
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return a, b, false
			}
			t0 = max(t0, r)
		} else {
			if r < t0 {
				return a, b, false
			}
			t1 = min(t1, r)
		}
	}
	na, nb := a, b
	if t0 > 0 {
		na = [2]float64{a[0] + t0*dx, a[1] + t0*dy}
	}
	if t1 < 1 {
		nb = [2]float64{a[0] + t1*dx, a[1] + t1*dy}
	}
	return na, nb, true
}

// usable reports whether a point mapped onto the tile can be drawn in Go: finite and within a
// billion units (a stored coordinate that is not, such as infinity, is left to PostGIS).
func usable(x, y float64) bool { return math.Abs(x) < 1e9 && math.Abs(y) < 1e9 }
