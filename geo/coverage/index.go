package coverage

import (
	"math"

	"github.com/paulmach/orb"
)

// maxBuckets caps a grid's bucket count; a finer grid for a tiny radius over a big extent would
// only cost memory.
const maxBuckets = 1 << 22

// Grid is a static bucket index over points in metres: a dense nx×ny array of square buckets in
// compressed-row form, so a radius query touches a few contiguous runs of point ids.
type Grid struct {
	pts        []orb.Point
	minX, minY float64
	cell       float64
	nx, ny     int
	start      []int32 // bucket b holds ids[start[b]:start[b+1]]
	ids        []int32
}

// NewGrid indexes pts (metres) with buckets of about cell metres. The slice is kept, not copied.
func NewGrid(pts []orb.Point, cell float64) *Grid {
	g := &Grid{pts: pts}
	if len(pts) == 0 {
		return g
	}
	b := orb.MultiPoint(pts).Bound()
	if cell <= 0 || math.IsNaN(cell) {
		cell = 1
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	for (w/cell+1)*(h/cell+1) > maxBuckets {
		cell *= 2
	}
	g.minX, g.minY, g.cell = b.Min[0], b.Min[1], cell
	g.nx, g.ny = int(w/cell)+1, int(h/cell)+1
	g.start = make([]int32, g.nx*g.ny+1)
	bucket := make([]int32, len(pts))
	for i, p := range pts {
		k := g.bucketOf(p)
		bucket[i] = int32(k)
		g.start[k+1]++
	}
	for k := 1; k < len(g.start); k++ {
		g.start[k] += g.start[k-1]
	}
	fill := append([]int32(nil), g.start[:len(g.start)-1]...)
	g.ids = make([]int32, len(pts))
	for i, k := range bucket {
		g.ids[fill[k]] = int32(i)
		fill[k]++
	}
	return g
}

func (g *Grid) bucketOf(p orb.Point) int {
	ix := int((p[0] - g.minX) / g.cell)
	iy := int((p[1] - g.minY) / g.cell)
	ix = min(max(ix, 0), g.nx-1)
	iy = min(max(iy, 0), g.ny-1)
	return iy*g.nx + ix
}

// Len is the number of indexed points.
func (g *Grid) Len() int { return len(g.pts) }

// Within calls fn for every indexed point within r metres of p (inclusive), with its id and
// squared distance, until fn returns false.
func (g *Grid) Within(p orb.Point, r float64, fn func(id int, d2 float64) bool) {
	if len(g.pts) == 0 || r < 0 {
		return
	}
	x0 := int(math.Floor((p[0] - r - g.minX) / g.cell))
	x1 := int(math.Floor((p[0] + r - g.minX) / g.cell))
	y0 := int(math.Floor((p[1] - r - g.minY) / g.cell))
	y1 := int(math.Floor((p[1] + r - g.minY) / g.cell))
	if x1 < 0 || y1 < 0 || x0 >= g.nx || y0 >= g.ny {
		return
	}
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, g.nx-1), min(y1, g.ny-1)
	r2 := r * r
	for iy := y0; iy <= y1; iy++ {
		row := iy * g.nx
		for _, id := range g.ids[g.start[row+x0]:g.start[row+x1+1]] {
			if d2 := dist2(p, g.pts[id]); d2 <= r2 {
				if !fn(int(id), d2) {
					return
				}
			}
		}
	}
}

// Any reports whether some indexed point lies within r metres of p.
func (g *Grid) Any(p orb.Point, r float64) bool {
	found := false
	g.Within(p, r, func(int, float64) bool { found = true; return false })
	return found
}

// Nearest returns the id of the indexed point nearest to p within maxR metres and its distance,
// or -1 when there is none.
func (g *Grid) Nearest(p orb.Point, maxR float64) (int, float64) {
	best, bestD2 := -1, math.Inf(1)
	if len(g.pts) == 0 {
		return -1, math.Inf(1)
	}
	for r := g.cell; ; r *= 2 {
		rr := min(r, maxR)
		g.Within(p, rr, func(id int, d2 float64) bool {
			if d2 < bestD2 || (d2 == bestD2 && id < best) {
				best, bestD2 = id, d2
			}
			return true
		})
		if best >= 0 || rr >= maxR {
			break
		}
	}
	return best, math.Sqrt(bestD2)
}
