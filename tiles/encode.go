package tiles

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/aktobe/geoportal/internal/wkb"
)

// layerEncoder writes one MVT 2.1 layer (a Tile message holding one Layer) from features whose
// geometry is already in tile coordinates (ST_AsMVTGeom's output, as WKB). PostGIS clips, snaps
// and validates; encoding the protobuf here rather than with ST_AsMVT takes the interning of
// property values off the database, which was a third of a building tile's cost there.
type layerEncoder struct {
	features []byte            // encoded Feature messages, each with its field tag
	keys     []string          // property keys in order of first use
	keyIdx   map[string]uint32 // key -> index
	values   []byte            // encoded Value messages, each with its field tag
	nValues  uint32
	strVals  map[string]uint32
	numVals  map[numKey]uint32
	count    int

	geom []uint32 // scratch: geometry commands of the current feature
	ring []pt     // scratch: a ring drawn in Go (lonlat.go)
	// scratch: a ring cut to the tile's buffer (lonlat.go)
	fring, fa, fb [][2]float64
	keep          []bool   // scratch: points kept by simplifyPoints
	tags          []uint32 // scratch: tags of the current feature
	buf           []byte   // scratch: the current feature's message
}

type numKey struct {
	kind byte // 's' sint, 'd' double, 'b' bool, 'S' interned text (its number)
	bits uint64
}

// MVT geometry types and commands.
const (
	mvtPoint      = 1
	mvtLineString = 2
	mvtPolygon    = 3
	cmdMoveTo     = 1
	cmdLineTo     = 2
	cmdClosePath  = 7
)

var errUnsupportedGeometry = errors.New("tiles: unsupported geometry in tile")

// encoders are reused: their maps and buffers keep their capacity between tiles.
var encoders = sync.Pool{New: func() any {
	return &layerEncoder{keyIdx: map[string]uint32{}, strVals: map[string]uint32{}, numVals: map[numKey]uint32{}}
}}

func newLayerEncoder() *layerEncoder {
	e := encoders.Get().(*layerEncoder)
	e.features, e.keys, e.values = e.features[:0], e.keys[:0], e.values[:0]
	e.nValues, e.count = 0, 0
	clear(e.keyIdx)
	clear(e.strVals)
	clear(e.numVals)
	return e
}

// release returns the encoder for reuse; nothing it returned may be used afterwards except the
// result of finish, which is a copy.
func (e *layerEncoder) release() {
	if cap(e.features) > 4<<20 || cap(e.values) > 4<<20 {
		return // keep the pool from holding on to the largest tiles' buffers
	}
	encoders.Put(e)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTag(b []byte, field, wire int) []byte { return appendVarint(b, uint64(field<<3|wire)) }

func appendBytesField(b []byte, field int, p []byte) []byte {
	b = appendTag(b, field, 2)
	b = appendVarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendStringField(b []byte, field int, s string) []byte {
	b = appendTag(b, field, 2)
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func zigzag32(v int32) uint32 { return uint32((v << 1) ^ (v >> 31)) }

// key returns the index of a property key, adding it on first use.
func (e *layerEncoder) key(k string) uint32 {
	if i, ok := e.keyIdx[k]; ok {
		return i
	}
	i := uint32(len(e.keys))
	e.keys = append(e.keys, k)
	e.keyIdx[k] = i
	return i
}

func (e *layerEncoder) addValue(msg []byte) uint32 {
	e.values = appendBytesField(e.values, 4, msg)
	e.nValues++
	return e.nValues - 1
}

// addString adds a string Value message.
func (e *layerEncoder) addString(s []byte) uint32 {
	var msg []byte
	msg = appendTag(msg, 1, 2)
	msg = appendVarint(msg, uint64(len(s)))
	return e.addValue(append(msg, s...))
}

func (e *layerEncoder) stringValue(s []byte) uint32 {
	if i, ok := e.strVals[string(s)]; ok {
		return i
	}
	i := e.addString(s)
	e.strVals[string(s)] = i
	return i
}

// internedValue is stringValue for a text the caller numbered (the same number for the same
// text, see memLayer.intern): the value table is looked up by the number, not by hashing the text.
func (e *layerEncoder) internedValue(id uint32, s []byte) uint32 {
	k := numKey{'S', uint64(id)}
	if i, ok := e.numVals[k]; ok {
		return i
	}
	i := e.addString(s)
	e.numVals[k] = i
	return i
}

func (e *layerEncoder) intValue(v int64) uint32 {
	k := numKey{'s', uint64(v)}
	if i, ok := e.numVals[k]; ok {
		return i
	}
	msg := appendTag(nil, 6, 0)
	msg = appendVarint(msg, uint64((v<<1)^(v>>63)))
	i := e.addValue(msg)
	e.numVals[k] = i
	return i
}

func (e *layerEncoder) doubleValue(v float64) uint32 {
	k := numKey{'d', math.Float64bits(v)}
	if i, ok := e.numVals[k]; ok {
		return i
	}
	msg := appendTag(nil, 3, 1)
	msg = binary.LittleEndian.AppendUint64(msg, math.Float64bits(v))
	i := e.addValue(msg)
	e.numVals[k] = i
	return i
}

func (e *layerEncoder) boolValue(v bool) uint32 {
	k := numKey{'b', 0}
	if v {
		k.bits = 1
	}
	if i, ok := e.numVals[k]; ok {
		return i
	}
	msg := appendTag(nil, 7, 0)
	msg = appendVarint(msg, k.bits)
	i := e.addValue(msg)
	e.numVals[k] = i
	return i
}

// property adds a tag pair to the current feature.
func (e *layerEncoder) property(key uint32, value uint32) { e.tags = append(e.tags, key, value) }

// feature ends the current feature: id, the tags added since the last call and the geometry in
// wkb. A geometry that is empty after encoding leaves no feature.
func (e *layerEncoder) feature(id uint64, data []byte) error {
	typ, err := e.encodeGeometry(data)
	if err != nil {
		e.tags = e.tags[:0]
		return err
	}
	e.emit(id, typ)
	return nil
}

// emit ends the current feature: id, the tags added since the last feature and the geometry
// commands in e.geom, of MVT type typ. Empty geometry leaves no feature.
func (e *layerEncoder) emit(id uint64, typ int) {
	defer func() { e.tags = e.tags[:0] }()
	if len(e.geom) == 0 {
		return
	}
	b := e.buf[:0]
	b = appendTag(b, 1, 0)
	b = appendVarint(b, id)
	if len(e.tags) > 0 {
		var packed []byte
		for _, t := range e.tags {
			packed = appendVarint(packed, uint64(t))
		}
		b = appendBytesField(b, 2, packed)
	}
	b = appendTag(b, 3, 0)
	b = appendVarint(b, uint64(typ))
	n := 0
	for _, g := range e.geom {
		n += varintLen(uint64(g))
	}
	b = appendTag(b, 4, 2)
	b = appendVarint(b, uint64(n))
	for _, g := range e.geom {
		b = appendVarint(b, uint64(g))
	}
	e.features = appendBytesField(e.features, 2, b)
	e.buf = b
	e.count++
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// finish returns the tile: one Layer named name, or nothing when no feature was added.
func (e *layerEncoder) finish(name string) []byte {
	if e.count == 0 {
		return nil
	}
	l := make([]byte, 0, len(e.features)+len(e.values)+16*len(e.keys)+len(name)+32)
	l = appendTag(l, 15, 0)
	l = appendVarint(l, 2) // version
	l = appendStringField(l, 1, name)
	l = append(l, e.features...)
	for _, k := range e.keys {
		l = appendStringField(l, 3, k)
	}
	l = append(l, e.values...)
	l = appendTag(l, 5, 0)
	l = appendVarint(l, Extent)
	return appendBytesField(make([]byte, 0, len(l)+8), 3, l)
}

// header reads a geometry's header. Anything but 2-D is errUnsupportedGeometry: ST_AsMVTGeom
// gives 2-D, and a stored geometry with Z or M is left to it.
func header(r *wkb.Reader) (uint32, error) {
	t, err := r.Header()
	if errors.Is(err, wkb.ErrUnsupported) || err == nil && r.Dims != 2 {
		return 0, fmt.Errorf("%w: WKB type %d", errUnsupportedGeometry, t)
	}
	return t, err
}

// tilePoint reads a 2-D point in tile units, rounded to whole units. It reads r's bytes itself,
// as the loops drawing stored geometry do: a call per point to Reader.Point made tiles slower.
func tilePoint(r *wkb.Reader) (int32, int32, error) {
	if len(r.B) < 16 {
		return 0, 0, wkb.ErrTruncated
	}
	x := math.Float64frombits(r.Order.Uint64(r.B))
	y := math.Float64frombits(r.Order.Uint64(r.B[8:]))
	r.B = r.B[16:]
	return int32(math.Round(x)), int32(math.Round(y)), nil
}

// encodeGeometry turns WKB into MVT geometry commands in e.geom and returns the MVT type.
func (e *layerEncoder) encodeGeometry(data []byte) (int, error) {
	e.geom = e.geom[:0]
	r := &wkb.Reader{B: data}
	t, err := header(r)
	if err != nil {
		return 0, err
	}
	var cx, cy int32 // the cursor, relative to which every coordinate is encoded
	move := func(x, y int32) {
		e.geom = append(e.geom, zigzag32(x-cx), zigzag32(y-cy))
		cx, cy = x, y
	}
	// line encodes n points as MoveTo + LineTo (ring: the closing point dropped, ClosePath).
	line := func(r *wkb.Reader, ring bool) error {
		n, err := r.Count()
		if err != nil {
			return err
		}
		if uint64(n)*16 > uint64(len(r.B)) {
			return wkb.ErrTruncated
		}
		pts := int(n)
		if ring {
			pts-- // closing point
		}
		if pts < 2 || (ring && pts < 3) {
			r.B = r.B[int(n)*16:]
			return nil
		}
		x, y, _ := tilePoint(r)
		e.geom = append(e.geom, cmdMoveTo|1<<3)
		move(x, y)
		e.geom = append(e.geom, uint32(cmdLineTo|(pts-1)<<3))
		for i := 1; i < pts; i++ {
			x, y, _ := tilePoint(r)
			move(x, y)
		}
		if ring {
			tilePoint(r)
			e.geom = append(e.geom, cmdClosePath|1<<3)
		}
		return nil
	}
	polygon := func(r *wkb.Reader) error {
		rings, err := r.Count()
		if err != nil {
			return err
		}
		for i := uint32(0); i < rings; i++ {
			if err := line(r, true); err != nil {
				return err
			}
		}
		return nil
	}
	switch t {
	case 1: // Point
		x, y, err := tilePoint(r)
		if err != nil {
			return 0, err
		}
		e.geom = append(e.geom, cmdMoveTo|1<<3)
		move(x, y)
		return mvtPoint, nil
	case 2:
		return mvtLineString, line(r, false)
	case 3:
		return mvtPolygon, polygon(r)
	case 4, 5, 6:
		parts, err := r.Count()
		if err != nil {
			return 0, err
		}
		var pts [][2]int32
		for i := uint32(0); i < parts; i++ {
			sub := &wkb.Reader{B: r.B}
			if _, err := header(sub); err != nil {
				return 0, err
			}
			switch t {
			case 4:
				x, y, err := tilePoint(sub)
				if err != nil {
					return 0, err
				}
				pts = append(pts, [2]int32{x, y})
			case 5:
				err = line(sub, false)
			case 6:
				err = polygon(sub)
			}
			if err != nil {
				return 0, err
			}
			r.B = sub.B
		}
		if t == 4 {
			if len(pts) == 0 {
				return mvtPoint, nil
			}
			e.geom = append(e.geom, uint32(cmdMoveTo|len(pts)<<3))
			for _, p := range pts {
				move(p[0], p[1])
			}
			return mvtPoint, nil
		}
		return int(t - 3), nil
	}
	return 0, fmt.Errorf("%w: WKB type %d", errUnsupportedGeometry, t)
}
