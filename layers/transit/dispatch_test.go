package transit

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// A shape turned into local metres and back is the line it came from (to well under a metre).
func TestPathLonLatRoundTrip(t *testing.T) {
	ls := orb.LineString{{57.13, 50.28}, {57.14, 50.2805}, {57.165, 50.284}, {57.23, 50.29}}
	got := newPath(ls).lonLat()
	if len(got) != len(ls) {
		t.Fatalf("%d points, want %d", len(got), len(ls))
	}
	for i := range ls {
		if d := haversine(got[i], ls[i]); d > 0.01 || math.IsNaN(d) {
			t.Errorf("point %d: %v, want %v (%.3f m off)", i, got[i], ls[i], d)
		}
	}
	n := &Network{tripsByRoute: map[string][]*Trip{}}
	p := newPath(ls)
	back := newPath(orb.LineString{ls[3], ls[0]})
	n.tripsByRoute["5"] = []*Trip{{ShapeID: "E", shape: p}, {ShapeID: "E", shape: p}, {ShapeID: "W", shape: back}, {ShapeID: "", shape: nil}}
	shapes := n.RouteShapes("5")
	if len(shapes) != 2 || len(shapes[0]) != 4 || len(shapes[1]) != 2 {
		t.Fatalf("route shapes: %v", shapes)
	}
	if len(n.RouteShapes("12")) != 0 {
		t.Error("a route without trips has shapes")
	}
}
