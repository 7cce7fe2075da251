package geo

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestSplitFlattensMultisAndCollections(t *testing.T) {
	parts := []orb.Geometry{
		orb.Point{1, 1},
		orb.MultiPoint{{2, 2}, {3, 3}},
		orb.LineString{{0, 0}, {1, 1}},
		orb.Collection{orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, orb.Point{4, 4}, orb.Collection{orb.LineString{{5, 5}, {6, 6}}}},
		orb.MultiPolygon{{{{0, 0}, {2, 0}, {2, 2}, {0, 0}}}},
	}
	pts, lines, polys := Split(parts)
	if len(pts) != 4 || len(lines) != 2 || len(polys) != 2 {
		t.Fatalf("Split: %d points, %d lines, %d polygons; want 4, 2, 2", len(pts), len(lines), len(polys))
	}
	if pts[3] != (orb.Point{4, 4}) || lines[1][1] != (orb.Point{6, 6}) {
		t.Errorf("Split lost the order or the nested parts: %v %v", pts, lines)
	}
}
