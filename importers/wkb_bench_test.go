package importers

import (
	"math"
	"testing"

	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/paulmach/orb"
)

// BenchmarkGeoPackageGeometry reads a GeoPackage geometry blob (header, envelope, a
// 256-point polygon in WKB) as the GeoPackage reader does for every record.
func BenchmarkGeoPackageGeometry(b *testing.B) {
	ring := make(orb.Ring, 0, 257)
	for i := range 256 {
		a := 2 * math.Pi * float64(i) / 256
		ring = append(ring, orb.Point{57.17 + 0.01*math.Cos(a), 50.28 + 0.01*math.Sin(a)})
	}
	body, err := wkb.Append(nil, orb.Polygon{append(ring, ring[0])}, 0)
	if err != nil {
		b.Fatal(err)
	}
	blob := append([]byte("GP\x00\x03\xe6\x10\x00\x00"), make([]byte, 32)...) // envelope [minx, maxx, miny, maxy]
	blob = append(blob, body...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseGPKGGeometry(blob); err != nil {
			b.Fatal(err)
		}
	}
}
