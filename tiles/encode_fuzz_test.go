package tiles

import (
	"encoding/hex"
	"testing"
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
