package wkb_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
	orbwkb "github.com/paulmach/orb/encoding/wkb"
)

var (
	ring = orb.Ring{{57.1, 50.2}, {57.2, 50.2}, {57.2, 50.3}, {57.1, 50.2}}
	hole = orb.Ring{{57.15, 50.22}, {57.18, 50.22}, {57.18, 50.25}, {57.15, 50.22}}
)

// geometries holds one of every type Append writes.
var geometries = []orb.Geometry{
	orb.Point{57.1, -50.2},
	orb.LineString{{1, 2}, {3, 4}, {5, 6.5}},
	orb.Polygon{ring, hole},
	orb.MultiPoint{{1, 2}, {3, 4}},
	orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}, {9, 10}}},
	orb.MultiPolygon{{ring}, {ring, hole}},
	orb.MultiPolygon{},
	orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}, orb.Collection{orb.Polygon{ring}}},
}

// TestAppend checks the writer against orb's WKB and EWKB encoders for every geometry type.
func TestAppend(t *testing.T) {
	for _, g := range geometries {
		for _, srid := range []int{0, 4326} {
			var want []byte
			var err error
			if srid == 0 {
				want, err = orbwkb.Marshal(g)
			} else {
				want, err = ewkb.Marshal(g, srid)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := wkb.Append([]byte{9}, g, srid)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[1:], want) || got[0] != 9 {
				t.Errorf("%s, SRID %d:\n got %x\nwant %x", g.GeoJSONType(), srid, got[1:], want)
			}
		}
	}
}

// TestAppendRingAndBound checks that a ring and a bound are written as polygons.
func TestAppendRingAndBound(t *testing.T) {
	b := orb.Bound{Min: orb.Point{1, 2}, Max: orb.Point{3, 4}}
	for _, tc := range []struct {
		g    orb.Geometry
		want orb.Polygon
	}{{ring, orb.Polygon{ring}}, {b, b.ToPolygon()}} {
		got, err := wkb.Append(nil, tc.g, 4326)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ewkb.Marshal(tc.want, 4326)
		if !bytes.Equal(got, want) {
			t.Errorf("%T:\n got %x\nwant %x", tc.g, got, want)
		}
	}
}

func TestAppendNil(t *testing.T) {
	if _, err := wkb.Append(nil, nil, 0); err == nil {
		t.Error("a nil geometry was written")
	}
}

// TestUnmarshal reads back what orb writes, little- and big-endian, with and without an SRID.
func TestUnmarshal(t *testing.T) {
	for _, g := range geometries {
		for name, enc := range map[string]func() ([]byte, error){
			"wkb":            func() ([]byte, error) { return orbwkb.Marshal(g) },
			"wkb big-endian": func() ([]byte, error) { return orbwkb.Marshal(g, binary.BigEndian) },
			"ewkb":           func() ([]byte, error) { return ewkb.Marshal(g, 3857) },
		} {
			b, err := enc()
			if err != nil {
				t.Fatal(err)
			}
			got, err := wkb.Unmarshal(b)
			if err != nil {
				t.Fatalf("%s %s: %v", g.GeoJSONType(), name, err)
			}
			want := g
			if mp, ok := g.(orb.MultiPolygon); ok && len(mp) == 0 {
				want = orb.MultiPolygon(nil)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", g.GeoJSONType(), name, diff)
			}
		}
	}
}

// zWKB builds a little-endian geometry whose points have dims coordinates (the extra ones 99).
type zWKB struct {
	b    []byte
	dims int
}

func (z *zWKB) head(t uint32) *zWKB {
	z.b = binary.LittleEndian.AppendUint32(append(z.b, 1), t)
	return z
}

func (z *zWKB) u32(n uint32) *zWKB { z.b = binary.LittleEndian.AppendUint32(z.b, n); return z }

func (z *zWKB) pt(x, y float64) *zWKB {
	z.b = binary.LittleEndian.AppendUint64(z.b, math.Float64bits(x))
	z.b = binary.LittleEndian.AppendUint64(z.b, math.Float64bits(y))
	for range z.dims - 2 {
		z.b = binary.LittleEndian.AppendUint64(z.b, math.Float64bits(99))
	}
	return z
}

// TestUnmarshalZM reads points with Z, M and ZM, flagged the ISO way (1000s) and the EWKB way
// (high bits, with an SRID), and drops the extra coordinates.
func TestUnmarshalZM(t *testing.T) {
	for _, tc := range []struct {
		name  string
		point uint32 // the type word of a point
		dims  int
	}{
		{"ISO Z", 1001, 3}, {"ISO M", 2001, 3}, {"ISO ZM", 3001, 4},
		{"EWKB Z", 0x80000001, 3}, {"EWKB M", 0x40000001, 3}, {"EWKB ZM", 0xC0000001, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := tc.point + 1 // the same flags on a LineString
			z := &zWKB{dims: tc.dims}
			z.head(tc.point - 1 + 6) // MultiPolygon of one polygon
			if tc.point&0x80000000|tc.point&0x40000000 != 0 {
				z = &zWKB{dims: tc.dims}
				z.head(tc.point - 1 + 6 | 0x20000000).u32(4326)
			}
			z.u32(1).head(tc.point+2).u32(1).u32(4).pt(0, 0).pt(1, 0).pt(1, 1).pt(0, 0)
			got, err := wkb.Unmarshal(z.b)
			if err != nil {
				t.Fatal(err)
			}
			want := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}
			if diff := cmp.Diff(orb.Geometry(want), got); diff != "" {
				t.Errorf("multipolygon (-want +got):\n%s", diff)
			}
			z = &zWKB{dims: tc.dims}
			z.head(line).u32(2).pt(5, 6).pt(7, 8)
			got, err = wkb.Unmarshal(z.b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(orb.Geometry(orb.LineString{{5, 6}, {7, 8}}), got); diff != "" {
				t.Errorf("line (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnmarshalEmptyPoint: POINT EMPTY (NaN, NaN) is nil, and is left out of a multipoint.
func TestUnmarshalEmptyPoint(t *testing.T) {
	z := &zWKB{dims: 2}
	if g, err := wkb.Unmarshal(z.head(1).pt(math.NaN(), math.NaN()).b); err != nil || g != nil {
		t.Errorf("POINT EMPTY: %v, %v; want nil, nil", g, err)
	}
	z = &zWKB{dims: 2}
	z.head(4).u32(2).head(1).pt(math.NaN(), math.NaN()).head(1).pt(1, 2)
	g, err := wkb.Unmarshal(z.b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orb.Geometry(orb.MultiPoint{{1, 2}}), g); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestUnmarshalErrors: bad input fails with the error that names it, never panics.
func TestUnmarshalErrors(t *testing.T) {
	nested := &zWKB{dims: 2}
	for range 40 {
		nested.head(7).u32(1)
	}
	nested.head(1).pt(1, 2)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, wkb.ErrTruncated},
		{"byte order", []byte{7, 1, 0, 0, 0, 0, 0, 0, 0}, wkb.ErrByteOrder},
		{"circular string", (&zWKB{dims: 2}).head(8).u32(0).b, wkb.ErrUnsupported},
		{"triangle Z", (&zWKB{dims: 3}).head(1017).u32(0).b, wkb.ErrUnsupported},
		{"short point", (&zWKB{dims: 2}).head(1).pt(1, 2).b[:12], wkb.ErrTruncated},
		{"short Z point", (&zWKB{dims: 2}).head(1001).pt(1, 2).b, wkb.ErrTruncated},
		{"count beyond the data", (&zWKB{dims: 2}).head(2).u32(1<<30).pt(1, 2).b, wkb.ErrTruncated},
		{"rings beyond the data", (&zWKB{dims: 2}).head(3).u32(1 << 31).b, wkb.ErrTruncated},
		{"short SRID", (&zWKB{dims: 2}).head(0x20000001).b, wkb.ErrTruncated},
		{"nested too deep", nested.b, wkb.ErrNested},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := wkb.Unmarshal(tc.b); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzUnmarshal: arbitrary bytes fail cleanly or read a geometry that writes back to WKB.
func FuzzUnmarshal(f *testing.F) {
	for _, g := range geometries {
		b, _ := ewkb.Marshal(g, 4326)
		f.Add(b)
	}
	f.Add((&zWKB{dims: 4}).head(3002).u32(2).pt(1, 2).pt(3, 4).b)
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := wkb.Unmarshal(b)
		if err != nil || g == nil {
			return
		}
		if _, err := wkb.Append(nil, g, 0); err != nil {
			t.Errorf("read %v, cannot write it back: %v", g, err)
		}
	})
}

// benchPolygon is a 256-point polygon as ST_AsBinary gives it.
func benchPolygon(b *testing.B) []byte {
	r := make(orb.Ring, 0, 257)
	for i := range 256 {
		a := 2 * math.Pi * float64(i) / 256
		r = append(r, orb.Point{57.17 + 0.01*math.Cos(a), 50.28 + 0.01*math.Sin(a)})
	}
	data, err := orbwkb.Marshal(orb.Polygon{append(r, r[0])})
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkUnmarshal reads the same polygon with this reader and with orb's, which it replaced
// where geometries come back from PostGIS.
func BenchmarkUnmarshal(b *testing.B) {
	data := benchPolygon(b)
	for name, read := range map[string]func([]byte) (orb.Geometry, error){"wkb": wkb.Unmarshal, "orb": orbwkb.Unmarshal} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := read(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppend writes the same multipolygon as EWKB into a reused buffer (as the importers
// do), and with orb's ewkb.Marshal.
func BenchmarkAppend(b *testing.B) {
	g, _ := orbwkb.Unmarshal(benchPolygon(b))
	var mp orb.Geometry = orb.MultiPolygon{g.(orb.Polygon), g.(orb.Polygon)} // boxed once, as the importers hold it
	var buf []byte
	for name, write := range map[string]func() ([]byte, error){
		"wkb": func() ([]byte, error) { return wkb.Append(buf[:0], mp, 4326) },
		"orb": func() ([]byte, error) { return ewkb.Marshal(mp, 4326) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = write(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
