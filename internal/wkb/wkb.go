// Package wkb is the geoportal's one codec of Well-Known Binary, the geometry encoding of
// PostGIS (ST_AsBinary, EWKB), GeoPackage and the COPY stream of the importers. Reader walks WKB
// in place without allocating, for the tile encoder that draws straight from it; Unmarshal builds
// orb geometries on top of Reader; Append writes WKB or EWKB.
//
//	g, err := wkb.Unmarshal(b)          // ISO or extended WKB, 2-D, Z, M or ZM; Z and M dropped
//	b, err = wkb.Append(b[:0], g, 4326) // little-endian EWKB with SRID 4326
//
// orb's encoding/wkb reads only 2-D WKB and allocates as it goes; this one reads what GeoPackage
// files hold (Z, M, ISO and EWKB flags) and lets the hot paths read coordinates in place.
package wkb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Geometry type codes (the low digits of a WKB type).
const (
	Point           = 1
	LineString      = 2
	Polygon         = 3
	MultiPoint      = 4
	MultiLineString = 5
	MultiPolygon    = 6
	Collection      = 7
)

// EWKB flags of the type word.
const (
	ewkbZ    = 0x80000000
	ewkbM    = 0x40000000
	ewkbSRID = 0x20000000
)

// Errors of the reader; a type it does not read wraps ErrUnsupported.
var (
	ErrTruncated   = errors.New("wkb: truncated")
	ErrByteOrder   = errors.New("wkb: invalid byte order")
	ErrUnsupported = errors.New("wkb: unsupported geometry type")
	ErrNested      = errors.New("wkb: collections nested too deep")
)

// Reader reads WKB in place. Its fields are exported so that a hot loop can read coordinates
// itself once it has checked that enough bytes are left.
type Reader struct {
	B     []byte           // the bytes not read yet
	Order binary.ByteOrder // of the geometry whose header was read last
	Dims  int              // coordinates per point of that geometry: 2, 3 (Z or M) or 4 (ZM)
}

// Header reads a geometry's byte order and type word and returns the type code (Point …
// Collection); Dims tells whether points carry Z or M (ISO type + 1000s, or EWKB flags). An
// EWKB SRID is skipped.
func (r *Reader) Header() (uint32, error) {
	if len(r.B) < 5 {
		return 0, ErrTruncated
	}
	switch r.B[0] {
	case 0:
		r.Order = binary.BigEndian
	case 1:
		r.Order = binary.LittleEndian
	default:
		return 0, ErrByteOrder
	}
	t := r.Order.Uint32(r.B[1:])
	r.B = r.B[5:]
	r.Dims = 2
	if t&ewkbZ != 0 {
		r.Dims++
	}
	if t&ewkbM != 0 {
		r.Dims++
	}
	if t&ewkbSRID != 0 {
		if len(r.B) < 4 {
			return 0, ErrTruncated
		}
		r.B = r.B[4:]
	}
	t &= 0x0FFFFFFF
	switch t / 1000 {
	case 1, 2:
		r.Dims++
	case 3:
		r.Dims += 2
	}
	t %= 1000
	if t < Point || t > Collection {
		return t, fmt.Errorf("%w: %d (curves and surfaces are not read)", ErrUnsupported, t)
	}
	return t, nil
}

// Count reads a number of points, rings or parts.
func (r *Reader) Count() (uint32, error) {
	if len(r.B) < 4 {
		return 0, ErrTruncated
	}
	v := r.Order.Uint32(r.B)
	r.B = r.B[4:]
	return v, nil
}

// Fits reports whether n points of Dims coordinates are left to read.
func (r *Reader) Fits(n uint32) bool { return uint64(n)*uint64(8*r.Dims) <= uint64(len(r.B)) }

// Point reads one point, keeping x and y.
func (r *Reader) Point() (orb.Point, error) {
	if len(r.B) < 8*r.Dims {
		return orb.Point{}, ErrTruncated
	}
	p := orb.Point{math.Float64frombits(r.Order.Uint64(r.B)), math.Float64frombits(r.Order.Uint64(r.B[8:]))}
	r.B = r.B[8*r.Dims:]
	return p, nil
}

// maxDepth bounds nested collections.
const maxDepth = 32

// Unmarshal reads one geometry of ISO or extended WKB (2-D, Z, M or ZM; Z and M dropped). An
// empty point (NaN coordinates) is nil; empty points inside a multipoint are left out.
func Unmarshal(b []byte) (orb.Geometry, error) {
	r := &Reader{B: b}
	return r.geometry(0)
}

func (r *Reader) points() ([]orb.Point, error) {
	n, err := r.Count()
	if err != nil {
		return nil, err
	}
	if !r.Fits(n) {
		return nil, fmt.Errorf("%w: %d points do not fit in %d bytes", ErrTruncated, n, len(r.B))
	}
	ps := make([]orb.Point, n)
	step := 8 * r.Dims
	b := r.B
	if r.Order == binary.ByteOrder(binary.LittleEndian) { // the usual order, read without an interface call per number
		for i := range ps {
			ps[i] = orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(b[i*step:])), math.Float64frombits(binary.LittleEndian.Uint64(b[i*step+8:]))}
		}
	} else {
		for i := range ps {
			ps[i] = orb.Point{math.Float64frombits(r.Order.Uint64(b[i*step:])), math.Float64frombits(r.Order.Uint64(b[i*step+8:]))}
		}
	}
	r.B = b[len(ps)*step:]
	return ps, nil
}

// count reads a number of rings or parts, each at least 4 bytes long, so that a corrupt count
// cannot make a huge allocation.
func (r *Reader) count() (uint32, error) {
	n, err := r.Count()
	if err == nil && uint64(n)*4 > uint64(len(r.B)) {
		return 0, fmt.Errorf("%w: %d parts do not fit in %d bytes", ErrTruncated, n, len(r.B))
	}
	return n, err
}

func (r *Reader) geometry(depth int) (orb.Geometry, error) {
	if depth > maxDepth {
		return nil, ErrNested
	}
	t, err := r.Header()
	if err != nil {
		return nil, err
	}
	switch t {
	case Point:
		p, err := r.Point()
		if err != nil {
			return nil, err
		}
		if math.IsNaN(p[0]) && math.IsNaN(p[1]) {
			return nil, nil // POINT EMPTY
		}
		return p, nil
	case LineString:
		ps, err := r.points()
		return orb.LineString(ps), err
	case Polygon:
		n, err := r.count()
		if err != nil {
			return nil, err
		}
		poly := make(orb.Polygon, 0, n)
		for range n {
			ps, err := r.points()
			if err != nil {
				return nil, err
			}
			poly = append(poly, orb.Ring(ps))
		}
		return poly, nil
	}
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	var mp orb.MultiPoint
	var ml orb.MultiLineString
	var mpoly orb.MultiPolygon
	var coll orb.Collection
	for range n {
		g, err := r.geometry(depth + 1)
		if err != nil {
			return nil, err
		}
		switch g := g.(type) {
		case orb.Point:
			mp = append(mp, g)
		case orb.LineString:
			ml = append(ml, g)
		case orb.Polygon:
			mpoly = append(mpoly, g)
		}
		if g != nil {
			coll = append(coll, g)
		}
	}
	switch t {
	case MultiPoint:
		return mp, nil
	case MultiLineString:
		return ml, nil
	case MultiPolygon:
		return mpoly, nil
	}
	return coll, nil
}
