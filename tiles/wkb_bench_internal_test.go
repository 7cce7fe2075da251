package tiles

import (
	"math"
	"testing"

	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// benchRing is a closed ring of n points on a circle around (cx, cy) of radius r.
func benchRing(cx, cy, r float64, n int) orb.Ring {
	ring := make(orb.Ring, 0, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
	}
	return append(ring, ring[0])
}

// BenchmarkEncodeGeometry reads a building-like polygon (64 points, tile coordinates, as
// ST_AsMVTGeom gives it) into MVT commands: the WKB reader on the exact-tile path.
func BenchmarkEncodeGeometry(b *testing.B) {
	data, err := wkb.Append(nil, orb.MultiPolygon{{benchRing(2048, 2048, 1500, 64)}, {benchRing(300, 300, 100, 16)}}, 0)
	if err != nil {
		b.Fatal(err)
	}
	e := newLayerEncoder()
	defer e.release()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.encodeGeometry(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDrawStored reads stored WKB in degrees as the in-memory tile path does: its bound
// (on load) and the polygon drawn onto a tile.
func BenchmarkDrawStored(b *testing.B) {
	tile := maptile.At(orb.Point{57.17, 50.28}, 15)
	c := tile.Center()
	data, err := wkb.Append(nil, orb.Polygon{benchRing(c[0], c[1], 0.002, 64)}, 0)
	if err != nil {
		b.Fatal(err)
	}
	m := newLonLatMap(geo.LonLatBound(tile, 0))
	e := newLayerEncoder()
	defer e.release()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wkbBound(data); err != nil {
			b.Fatal(err)
		}
		if err := e.drawPolygonClipped(data, m, true, 0); err != nil {
			b.Fatal(err)
		}
	}
}
