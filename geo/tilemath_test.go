package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func TestParseTile(t *testing.T) {
	for _, tc := range []struct {
		z, x, y int
		ok      bool
	}{
		{0, 0, 0, true}, {22, 1<<22 - 1, 1<<22 - 1, true}, {14, 10791, 5536, true},
		{23, 0, 0, false}, {-1, 0, 0, false}, {2, 4, 0, false}, {2, 0, 4, false}, {2, -1, 0, false},
	} {
		_, err := ParseTile(tc.z, tc.x, tc.y)
		if (err == nil) != tc.ok {
			t.Errorf("ParseTile(%d, %d, %d) error %v, want ok=%v", tc.z, tc.x, tc.y, err, tc.ok)
		}
	}
}

func TestBounds(t *testing.T) {
	w := MercatorBound(maptile.New(0, 0, 0), 0)
	if w.Min[0] != -MercatorHalfWorld || w.Max[1] != MercatorHalfWorld {
		t.Errorf("world in Mercator: %v", w)
	}
	// The lon/lat bound of a tile agrees with orb's.
	tl := maptile.New(10791, 5536, 14)
	got, want := LonLatBound(tl, 0), tl.Bound()
	for i, d := range []float64{got.Min[0] - want.Min[0], got.Min[1] - want.Min[1], got.Max[0] - want.Max[0], got.Max[1] - want.Max[1]} {
		if math.Abs(d) > 1e-9 {
			t.Errorf("bound %d differs by %g: %v, orb %v", i, d, got, want)
		}
	}
	// A buffer grows the bound on every side.
	if b := LonLatBound(tl, 0.0625); !(b.Min[0] < got.Min[0] && b.Max[1] > got.Max[1]) {
		t.Errorf("buffered bound %v is not larger than %v", b, got)
	}
}

func TestTilesCovering(t *testing.T) {
	p := orb.Point{57.17, 50.28}
	for z := maptile.Zoom(0); z <= MaxZoom; z++ {
		r := TilesCovering(orb.Bound{Min: p, Max: p}, z, 0)
		if r.Count() != 1 || !r.Contains(maptile.At(p, z)) {
			t.Errorf("z%d: point covered by %+v, want only %v", z, r, maptile.At(p, z))
		}
	}
	// With a margin, a point next to a tile edge also touches the neighbour.
	tl := maptile.New(10791, 5536, 14)
	b := tl.Bound()
	edge := orb.Point{b.Max[0] - 1e-7, (b.Min[1] + b.Max[1]) / 2}
	r := TilesCovering(orb.Bound{Min: edge, Max: edge}, 14, 0.1)
	if !r.Contains(tl) || !r.Contains(maptile.New(10792, 5536, 14)) || r.Contains(maptile.New(10790, 5536, 14)) {
		t.Errorf("edge point with margin covered by %+v", r)
	}
	// Boxes beyond the world are clamped.
	if r := TilesCovering(orb.Bound{Min: orb.Point{-200, -90}, Max: orb.Point{200, 90}}, 2, 1); r.Count() != 16 {
		t.Errorf("world at z2 covered by %d tiles", r.Count())
	}
}
