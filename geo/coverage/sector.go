package coverage

import (
	"context"
	"math"

	"github.com/paulmach/orb"
)

// Camera is a camera's view sector in metres: apex Pos, Heading in degrees clockwise from north,
// field of view FOV in degrees (360 for a dome), and Range in metres.
type Camera struct {
	Pos     orb.Point
	Heading float64
	FOV     float64
	Range   float64
}

// Sees reports whether p lies in the camera's sector (edges included), ignoring obstacles.
func (c Camera) Sees(p orb.Point) bool {
	dx, dy := p[0]-c.Pos[0], p[1]-c.Pos[1]
	d2 := dx*dx + dy*dy
	if d2 > c.Range*c.Range {
		return false
	}
	if c.FOV >= 360 || d2 == 0 {
		return true
	}
	bearing := math.Atan2(dx, dy) * 180 / math.Pi // clockwise from north
	diff := math.Mod(bearing-c.Heading, 360)
	if diff > 180 {
		diff -= 360
	} else if diff < -180 {
		diff += 360
	}
	return math.Abs(diff) <= c.FOV/2+1e-9
}

// Sector returns the camera's view sector as a closed polygon in metres, with the arc drawn by
// one vertex every few degrees.
func (c Camera) Sector() orb.Ring {
	fov := min(c.FOV, 360)
	steps := max(int(math.Ceil(fov/5)), 2)
	ring := orb.Ring{}
	if fov < 360 {
		ring = append(ring, c.Pos)
	}
	for i := 0; i <= steps; i++ {
		a := (c.Heading - fov/2 + fov*float64(i)/float64(steps)) * math.Pi / 180
		ring = append(ring, orb.Point{c.Pos[0] + c.Range*math.Sin(a), c.Pos[1] + c.Range*math.Cos(a)})
	}
	if ring[0] != ring[len(ring)-1] {
		ring = append(ring, ring[0])
	}
	return ring
}

// Obstacles blocks lines of sight: the edges of building footprints, in metres.
type Obstacles struct {
	idx   *segIndex
	lines [][]orb.Point
}

// NewObstacles indexes the rings (building outlines) that block views.
func NewObstacles(rings [][]orb.Point) *Obstacles {
	return &Obstacles{idx: newLineIndex(rings, 50), lines: rings}
}

// Blocked reports whether the segment from a to b properly crosses an obstacle edge. Touching
// at the very ends does not count, so a camera on a wall still sees along it.
func (o *Obstacles) Blocked(a, b orb.Point) bool {
	if o == nil || o.idx.empty {
		return false
	}
	mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
	half := dist(a, b)/2 + 1e-9
	blocked := false
	// The index is visited by square buckets; test only pieces whose box meets ab's box.
	o.idx.visit(mid, half, func(ref segRef) {
		if blocked {
			return
		}
		l := o.lines[ref.line]
		if segmentsCross(a, b, l[ref.seg], l[ref.seg+1]) {
			blocked = true
		}
	})
	return blocked
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// segmentsCross reports a proper crossing of ab and cd (each strictly separates the other's ends).
func segmentsCross(a, b, c, d orb.Point) bool {
	const eps = 1e-9
	d1, d2 := orient(a, b, c), orient(a, b, d)
	d3, d4 := orient(c, d, a), orient(c, d, b)
	return ((d1 > eps && d2 < -eps) || (d1 < -eps && d2 > eps)) &&
		((d3 > eps && d4 < -eps) || (d3 < -eps && d4 > eps))
}

// Sample is a short piece of a street: its midpoint stands for it.
type Sample struct {
	Line   int // index of the street
	From   float64
	To     float64
	Mid    orb.Point
	Length float64
}

// SampleLines cuts every straight piece of every line into equal pieces of about step metres
// (at most step·1.001).
func SampleLines(lines [][]orb.Point, step float64) []Sample {
	var out []Sample
	for li, l := range lines {
		at := 0.0
		for i := 1; i < len(l); i++ {
			a, b := l[i-1], l[i]
			d := dist(a, b)
			if d == 0 {
				continue
			}
			// A piece may be a hair longer than step, so that a 420.0001 m street cut every 5 m
			// gives 84 pieces, not 84 and a sliver.
			n := max(int(math.Ceil(d/step-1e-3)), 1)
			for k := 0; k < n; k++ {
				t0, t1 := float64(k)/float64(n), float64(k+1)/float64(n)
				tm := (t0 + t1) / 2
				out = append(out, Sample{Line: li, From: at + t0*d, To: at + t1*d, Length: d / float64(n),
					Mid: orb.Point{a[0] + tm*(b[0]-a[0]), a[1] + tm*(b[1]-a[1])}})
			}
			at += d
		}
	}
	return out
}

// Viewshed answers "does any camera see this point?" over a set of cameras and obstacles.
type Viewshed struct {
	cams     []Camera
	grid     *Grid
	maxRange float64
	obs      *Obstacles
}

// NewViewshed indexes the cameras; obs may be nil for an unobstructed view.
func NewViewshed(cams []Camera, obs *Obstacles) *Viewshed {
	pos := make([]orb.Point, len(cams))
	mr := 0.0
	for i, c := range cams {
		pos[i] = c.Pos
		mr = max(mr, c.Range)
	}
	return &Viewshed{cams: cams, grid: NewGrid(pos, max(mr, 10)), maxRange: mr, obs: obs}
}

// Seen reports whether some camera sees p with a clear line of sight.
func (v *Viewshed) Seen(p orb.Point) bool {
	seen := false
	v.grid.Within(p, v.maxRange, func(id int, _ float64) bool {
		c := v.cams[id]
		if c.Sees(p) && !v.obs.Blocked(c.Pos, p) {
			seen = true
			return false
		}
		return true
	})
	return seen
}

// SeenAll evaluates Seen for every point.
func (v *Viewshed) SeenAll(ctx context.Context, pts []orb.Point) ([]bool, error) {
	out := make([]bool, len(pts))
	for i, p := range pts {
		if err := canceled(ctx, i); err != nil {
			return nil, err
		}
		out[i] = v.Seen(p)
	}
	return out, nil
}

// Piece is a stretch of one line, from and to metres along it.
type Piece struct {
	Line     int
	From, To float64
}

// Unseen merges consecutive samples not seen into pieces per line.
func Unseen(samples []Sample, seen []bool) []Piece {
	var out []Piece
	for i, s := range samples {
		if seen[i] {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Line == s.Line && math.Abs(out[n-1].To-s.From) < 1e-6 {
			out[n-1].To = s.To
			continue
		}
		out = append(out, Piece{Line: s.Line, From: s.From, To: s.To})
	}
	return out
}

// Cut returns the part of line l between from and to metres along it.
func Cut(l []orb.Point, from, to float64) []orb.Point {
	out := []orb.Point{pointAlong(l, from)}
	at := 0.0
	for i := 1; i < len(l); i++ {
		at += dist(l[i-1], l[i])
		if at > from && at < to {
			out = append(out, l[i])
		}
	}
	return append(out, pointAlong(l, to))
}
