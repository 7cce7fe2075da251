package demo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// TestGenerateElsewhere: with a centre, the same city is generated around it (its extent the
// same in metres), without Aktobe's boundary and settlements.
func TestGenerateElsewhere(t *testing.T) {
	home := generate(t, DefaultSeed)
	dover := orb.Point{-75.52, 39.16}
	moved, err := Generate(Options{Seed: DefaultSeed, Now: testNow, Centre: &dover})
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"city_boundary", "places"} {
		if moved.Layer(slug) != nil {
			t.Errorf("layer %s generated away from Aktobe", slug)
		}
	}
	extent := func(c *City) (orb.Bound, int) {
		b, n := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}, 0
		for _, l := range c.Layers {
			if !l.Demo {
				continue
			}
			for _, r := range l.Rows {
				b = b.Union(r.Geom.Bound())
				n++
			}
		}
		return b, n
	}
	hb, hn := extent(home)
	mb, mn := extent(moved)
	if hn != mn {
		t.Fatalf("%d generated features at home, %d moved", hn, mn)
	}
	if !mb.Contains(dover) {
		t.Errorf("the moved city %v does not hold its centre %v", mb, dover)
	}
	// widths in metres at each city's latitude, heights in degrees of latitude
	width := func(b orb.Bound) float64 { return (b.Max[0] - b.Min[0]) * math.Cos(b.Center()[1]*math.Pi/180) }
	if w1, w2 := width(hb), width(mb); math.Abs(w1-w2) > 0.01*w1 {
		t.Errorf("east-west extent %.4f at home, %.4f moved (cos-latitude degrees)", w1, w2)
	}
	if h1, h2 := hb.Max[1]-hb.Min[1], mb.Max[1]-mb.Min[1]; math.Abs(h1-h2) > 1e-6 {
		t.Errorf("north-south extent %.6f° at home, %.6f° moved", h1, h2)
	}
}
