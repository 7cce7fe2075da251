package tiles

import (
	"encoding/hex"
	"math"
	"testing"

	"github.com/aktobe/geoportal/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// FuzzEncodeGeometry feeds arbitrary bytes to the WKB reader: it must fail cleanly, never panic.
func FuzzEncodeGeometry(f *testing.F) {
	for _, s := range []string{
		"0101000000000000000000f03f0000000000000040",                                 // POINT(1 2)
		"010200000002000000000000000000000000000000000000000000f03f000000000000f03f", // LINESTRING
		"01030000000100000004000000000000000000000000000000000000000000000000002440000000000000000000000000000024400000000000002440000000000000000000000000000000000", // POLYGON (truncated)
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, wkb []byte) {
		e := newLayerEncoder()
		defer e.release()
		e.feature(1, wkb)
		e.finish("fuzz")
	})
}

// FuzzDrawStored feeds arbitrary bytes, as stored WKB in degrees, to what draws tiles from the
// layers' copies in memory: it must fail cleanly, never panic, and what it cuts to the tile's
// buffer must stay inside it.
func FuzzDrawStored(f *testing.F) {
	for _, s := range []string{
		"0101000000000000000000f03f0000000000000040",                                                           // POINT(1 2)
		"010200000002000000000000000000000000000000000000000000f03f000000000000f03f",                           // LINESTRING
		"0105000000010000000102000000020000000000000000000000000000000000000000000000000000000000000000000000", // MULTILINESTRING
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b, uint8(14), 0.0)
	}
	f.Fuzz(func(t *testing.T, wkb []byte, z uint8, tol float64) {
		tile := maptile.At(orb.Point{0.5, 0.5}, maptile.Zoom(z%20))
		m := newLonLatMap(geo.LonLatBound(tile, 0))
		if z%2 == 1 {
			m = newMercatorMap(geo.MercatorBound(tile, 0))
		}
		if math.IsNaN(tol) || tol < 0 || tol > 64 {
			tol = 0
		}
		e := newLayerEncoder()
		defer e.release()
		wkbBound(wkb)
		e.drawPoint(wkb, m)
		if e.drawLine(wkb, m, tol) == nil {
			inBuffer(t, e.geom)
		}
		if e.drawPolygonClipped(wkb, m, true, tol) == nil {
			inBuffer(t, e.geom)
		}
	})
}

// inBuffer checks that MVT geometry commands stay inside the tile and its buffer.
func inBuffer(t *testing.T, cmds []uint32) {
	t.Helper()
	var x, y int64
	for i := 0; i < len(cmds); {
		id, n := cmds[i]&7, int(cmds[i]>>3)
		i++
		if id == cmdClosePath {
			continue
		}
		for range n {
			if i+1 >= len(cmds) {
				t.Fatalf("commands end inside a coordinate pair: %v", cmds)
			}
			dx, dy := int64(int32(cmds[i]>>1)^-int32(cmds[i]&1)), int64(int32(cmds[i+1]>>1)^-int32(cmds[i+1]&1))
			x, y = x+dx, y+dy
			i += 2
			if x < -Buffer || x > Extent+Buffer || y < -Buffer || y > Extent+Buffer {
				t.Fatalf("point (%d, %d) outside the buffer: %v", x, y, cmds)
			}
		}
	}
}
