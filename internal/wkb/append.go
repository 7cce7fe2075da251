package wkb

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Append writes g as little-endian WKB after b: plain WKB when srid is 0, EWKB carrying srid
// otherwise (the bytes of orb's wkb.Marshal and ewkb.Marshal, without their allocations: the
// importers write every record through it). An orb.Ring or orb.Bound is written as a Polygon.
func Append(b []byte, g orb.Geometry, srid int) ([]byte, error) {
	head := func(t uint32) {
		if srid == 0 {
			b = appendHeader(b, t)
			return
		}
		b = appendHeader(b, t|ewkbSRID)
		b = binary.LittleEndian.AppendUint32(b, uint32(srid))
	}
	switch g := g.(type) {
	case orb.Point:
		head(Point)
		b = appendXY(b, g)
	case orb.LineString:
		head(LineString)
		b = appendPoints(b, g)
	case orb.Ring:
		head(Polygon)
		b = appendRings(b, orb.Polygon{g})
	case orb.Polygon:
		head(Polygon)
		b = appendRings(b, g)
	case orb.Bound:
		head(Polygon)
		b = appendRings(b, g.ToPolygon())
	case orb.MultiPoint:
		head(MultiPoint)
		b = appendParts(b, g, Point, appendXY)
	case orb.MultiLineString:
		head(MultiLineString)
		b = appendParts(b, g, LineString, func(b []byte, l orb.LineString) []byte { return appendPoints(b, l) })
	case orb.MultiPolygon:
		head(MultiPolygon)
		b = appendParts(b, g, Polygon, appendRings)
	case orb.Collection:
		head(Collection)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(g)))
		for _, part := range g {
			var err error
			if b, err = Append(b, part, 0); err != nil {
				return b, err
			}
		}
	case nil:
		return b, fmt.Errorf("wkb: cannot write a nil geometry")
	default:
		return b, fmt.Errorf("wkb: cannot write a %T", g)
	}
	return b, nil
}

func appendHeader(b []byte, t uint32) []byte {
	return binary.LittleEndian.AppendUint32(append(b, 1), t)
}

// appendParts writes the parts of a multi-geometry, each with its header of type t.
func appendParts[T any](b []byte, parts []T, t uint32, part func([]byte, T) []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(parts)))
	for _, p := range parts {
		b = part(appendHeader(b, t), p)
	}
	return b
}

func appendXY(b []byte, p orb.Point) []byte {
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[0]))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(p[1]))
}

func appendPoints(b []byte, ps []orb.Point) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ps)))
	for _, p := range ps {
		b = appendXY(b, p)
	}
	return b
}

func appendRings(b []byte, p orb.Polygon) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
	for _, r := range p {
		b = appendPoints(b, r)
	}
	return b
}
