package importers

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/paulmach/orb"
)

// Shape types of the ESRI Shapefile Technical Description (1998).
const (
	shpNull        = 0
	shpPoint       = 1
	shpPolyLine    = 3
	shpPolygon     = 5
	shpMultiPoint  = 8
	shpPointZ      = 11
	shpPolyLineZ   = 13
	shpPolygonZ    = 15
	shpMultiPointZ = 18
	shpPointM      = 21
	shpPolyLineM   = 23
	shpPolygonM    = 25
	shpMultiPointM = 28
	shpMultiPatch  = 31
)

var shapeTypeNames = map[int]string{
	shpNull: "Null", shpPoint: "Point", shpPolyLine: "PolyLine", shpPolygon: "Polygon",
	shpMultiPoint: "MultiPoint", shpPointZ: "PointZ", shpPolyLineZ: "PolyLineZ", shpPolygonZ: "PolygonZ",
	shpMultiPointZ: "MultiPointZ", shpPointM: "PointM", shpPolyLineM: "PolyLineM", shpPolygonM: "PolygonM",
	shpMultiPointM: "MultiPointM", shpMultiPatch: "MultiPatch",
}

// ShapeTypeName names a shapefile shape type code.
func ShapeTypeName(t int) string {
	if n, ok := shapeTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("unknown shape type %d", t)
}

// maxRecordBytes bounds one record so that a corrupt length cannot make us allocate gigabytes.
const maxRecordBytes = 256 << 20

// shpHeader is the 100-byte header shared by .shp and .shx.
type shpHeader struct {
	FileLength int64 // bytes, as declared
	ShapeType  int
	BBox       [4]float64
}

func readSHPHeader(r io.Reader, name string) (shpHeader, error) {
	var b [100]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return shpHeader{}, fmt.Errorf("%s: header: %w", name, truncated(err))
	}
	if code := binary.BigEndian.Uint32(b[0:4]); code != 9994 {
		return shpHeader{}, fmt.Errorf("%s: not a shapefile (file code %d, want 9994)", name, code)
	}
	if v := binary.LittleEndian.Uint32(b[28:32]); v != 1000 {
		return shpHeader{}, fmt.Errorf("%s: unsupported shapefile version %d", name, v)
	}
	h := shpHeader{
		FileLength: int64(binary.BigEndian.Uint32(b[24:28])) * 2,
		ShapeType:  int(binary.LittleEndian.Uint32(b[32:36])),
	}
	if _, ok := shapeTypeNames[h.ShapeType]; !ok {
		return shpHeader{}, fmt.Errorf("%s: unknown shape type %d in header", name, h.ShapeType)
	}
	for i := range h.BBox {
		h.BBox[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[36+8*i:]))
	}
	return h, nil
}

// RecordError is a problem with one record: the record is rejected, the rest of the file is read.
type RecordError struct {
	Record int
	Reason string
}

func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %s", e.Record, e.Reason) }

// SHPReader reads the geometries of a .shp file in the order of its .shx index, one record at
// a time: memory use does not grow with the file.
type SHPReader struct {
	name   string
	shp    io.ReadSeeker
	size   int64
	br     *bufio.Reader
	pos    int64
	shx    *bufio.Reader
	Header shpHeader
	// NumRecords is the number of records the .shx lists.
	NumRecords int
	n          int
	buf        []byte
}

// NewSHPReader reads the headers of a .shp (size bytes long) and its .shx index.
func NewSHPReader(shp io.ReadSeeker, size int64, shx io.Reader, shxSize int64, name string) (*SHPReader, error) {
	br := bufio.NewReaderSize(shp, 256<<10)
	h, err := readSHPHeader(br, name)
	if err != nil {
		return nil, err
	}
	sbr := bufio.NewReaderSize(shx, 64<<10)
	xh, err := readSHPHeader(sbr, name+" index (.shx)")
	if err != nil {
		return nil, err
	}
	if xh.FileLength > shxSize {
		return nil, fmt.Errorf("%s: index (.shx) is truncated: its header says %d bytes, the file has %d", name, xh.FileLength, shxSize)
	}
	if shxSize < 100 || (shxSize-100)%8 != 0 {
		return nil, fmt.Errorf("%s: index (.shx) is %d bytes: not 100 + 8 per record", name, shxSize)
	}
	return &SHPReader{name: name, shp: shp, size: size, br: br, pos: 100, shx: sbr, Header: h,
		NumRecords: int((shxSize - 100) / 8)}, nil
}

// Next returns the next record's geometry (nil for a null shape) and its 1-based number. A
// *RecordError means this record cannot be used; other errors end the reading. io.EOF after
// the last record.
func (s *SHPReader) Next() (orb.Geometry, int, error) {
	if s.n >= s.NumRecords {
		return nil, s.n, io.EOF
	}
	s.n++
	var ix [8]byte
	if _, err := io.ReadFull(s.shx, ix[:]); err != nil {
		return nil, s.n, fmt.Errorf("%s: index (.shx) entry %d: %w", s.name, s.n, truncated(err))
	}
	off := int64(binary.BigEndian.Uint32(ix[0:4])) * 2
	clen := int64(binary.BigEndian.Uint32(ix[4:8])) * 2
	if off < 100 || off+8 > s.size {
		return nil, s.n, fmt.Errorf("%s: record %d: the index points at byte %d, outside the %d-byte file (truncated .shp?)", s.name, s.n, off, s.size)
	}
	if off != s.pos {
		if _, err := s.shp.Seek(off, io.SeekStart); err != nil {
			return nil, s.n, fmt.Errorf("%s: record %d: %w", s.name, s.n, err)
		}
		s.br.Reset(s.shp)
		s.pos = off
	}
	var rh [8]byte
	if _, err := io.ReadFull(s.br, rh[:]); err != nil {
		return nil, s.n, fmt.Errorf("%s: record %d: %w", s.name, s.n, truncated(err))
	}
	s.pos += 8
	if hl := int64(binary.BigEndian.Uint32(rh[4:8])) * 2; hl != clen && hl > 0 && off+8+hl <= s.size {
		// The record header is authoritative when the index disagrees (as shapelib does).
		clen = hl
	}
	if clen > maxRecordBytes {
		return nil, s.n, fmt.Errorf("%s: record %d: content length %d bytes is not plausible", s.name, s.n, clen)
	}
	if off+8+clen > s.size {
		return nil, s.n, fmt.Errorf("%s is truncated: record %d needs bytes up to %d, the file ends at %d", s.name, s.n, off+8+clen, s.size)
	}
	if int64(cap(s.buf)) < clen {
		s.buf = make([]byte, clen)
	}
	b := s.buf[:clen]
	if _, err := io.ReadFull(s.br, b); err != nil {
		return nil, s.n, fmt.Errorf("%s: record %d: %w", s.name, s.n, truncated(err))
	}
	s.pos += clen
	g, err := parseShape(b)
	if err != nil {
		return nil, s.n, &RecordError{Record: s.n, Reason: err.Error()}
	}
	return g, s.n, nil
}

// parseShape decodes one record's content into an orb geometry, dropping Z and M (layers are
// two-dimensional). Polygons become a Polygon or a MultiPolygon with holes assigned to the
// outer ring that holds them; lines become a LineString or a MultiLineString.
func parseShape(b []byte) (orb.Geometry, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("record is %d bytes: too short for a shape type", len(b))
	}
	t := int(binary.LittleEndian.Uint32(b))
	le := binary.LittleEndian
	f64 := func(i int) float64 { return math.Float64frombits(le.Uint64(b[i:])) }
	need := func(n int) error {
		if len(b) < n {
			return fmt.Errorf("%s record is %d bytes, needs %d (truncated record)", ShapeTypeName(t), len(b), n)
		}
		return nil
	}
	switch t {
	case shpNull:
		return nil, nil
	case shpPoint, shpPointZ, shpPointM:
		if err := need(20); err != nil {
			return nil, err
		}
		return orb.Point{f64(4), f64(12)}, nil
	case shpMultiPoint, shpMultiPointZ, shpMultiPointM:
		if err := need(40); err != nil {
			return nil, err
		}
		n := int(le.Uint32(b[36:]))
		if n < 0 || n > (len(b)-40)/16 {
			return nil, fmt.Errorf("%s record declares %d points, record is %d bytes (truncated record)", ShapeTypeName(t), n, len(b))
		}
		if t == shpMultiPointZ {
			if err := need(40 + 16*n + 16 + 8*n); err != nil {
				return nil, err
			}
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			mp[i] = orb.Point{f64(40 + 16*i), f64(48 + 16*i)}
		}
		return mp, nil
	case shpPolyLine, shpPolyLineZ, shpPolyLineM, shpPolygon, shpPolygonZ, shpPolygonM:
		if err := need(44); err != nil {
			return nil, err
		}
		np, n := int(le.Uint32(b[36:])), int(le.Uint32(b[40:]))
		if np < 0 || n < 0 || np > len(b)/4 || n > len(b)/16 || 44+4*np+16*n > len(b) {
			return nil, fmt.Errorf("%s record declares %d parts and %d points, record is %d bytes (truncated record)", ShapeTypeName(t), np, n, len(b))
		}
		if t == shpPolyLineZ || t == shpPolygonZ {
			if err := need(44 + 4*np + 16*n + 16 + 8*n); err != nil {
				return nil, err
			}
		}
		if np == 0 || n == 0 {
			return nil, fmt.Errorf("%s record has %d parts and %d points", ShapeTypeName(t), np, n)
		}
		pts := 44 + 4*np
		parts := make([][]orb.Point, 0, np)
		for i := 0; i < np; i++ {
			start := int(int32(le.Uint32(b[44+4*i:])))
			end := n
			if i+1 < np {
				end = int(int32(le.Uint32(b[48+4*i:])))
			}
			if start < 0 || end > n || start > end {
				return nil, fmt.Errorf("%s record: part %d spans points %d..%d of %d", ShapeTypeName(t), i+1, start, end, n)
			}
			if start == end {
				continue
			}
			p := make([]orb.Point, end-start)
			for j := range p {
				k := pts + 16*(start+j)
				p[j] = orb.Point{f64(k), f64(k + 8)}
			}
			parts = append(parts, p)
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("%s record has only empty parts", ShapeTypeName(t))
		}
		if t == shpPolyLine || t == shpPolyLineZ || t == shpPolyLineM {
			if len(parts) == 1 {
				return orb.LineString(parts[0]), nil
			}
			ml := make(orb.MultiLineString, len(parts))
			for i, p := range parts {
				ml[i] = p
			}
			return ml, nil
		}
		return assemblePolygon(parts), nil
	case shpMultiPatch:
		return nil, fmt.Errorf("MultiPatch shapes are not supported (3-D surfaces cannot be stored in a map layer)")
	}
	return nil, fmt.Errorf("unknown shape type %d", t)
}

// ringArea is the signed area (shoelace): negative for clockwise rings, which shapefiles use for
// outer rings; counter-clockwise rings are holes.
func ringArea(r []orb.Point) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	if n := len(r); n > 0 && r[0] != r[n-1] {
		a += r[n-1][0]*r[0][1] - r[0][0]*r[n-1][1]
	}
	return a / 2
}

func closeRing(r []orb.Point) orb.Ring {
	if n := len(r); n > 0 && r[0] != r[n-1] {
		r = append(r, r[0])
	}
	return orb.Ring(r)
}

// pointInRing is the even-odd rule test.
func pointInRing(p orb.Point, r orb.Ring) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// ringInRing reports whether hole lies inside outer: its bound must be inside outer's, and a
// majority of its vertices (which may touch outer's boundary) inside outer.
func ringInRing(hole, outer orb.Ring, ob orb.Bound) bool {
	hb := hole.Bound()
	if !ob.Contains(hb.Min) || !ob.Contains(hb.Max) {
		return false
	}
	in, n := 0, 0
	for i, p := range hole {
		if i == len(hole)-1 && len(hole) > 1 {
			break
		}
		n++
		if pointInRing(p, outer) {
			in++
		}
		if n >= 16 {
			break
		}
	}
	return in*2 > n
}

func assemblePolygon(parts [][]orb.Point) orb.Geometry {
	var outers []orb.Polygon
	var bounds []orb.Bound
	var holes []orb.Ring
	for _, p := range parts {
		r := closeRing(p)
		if ringArea(r) <= 0 { // clockwise (or degenerate): outer ring
			outers = append(outers, orb.Polygon{r})
			bounds = append(bounds, r.Bound())
		} else {
			holes = append(holes, r)
		}
	}
	if len(outers) == 0 {
		// Every ring counter-clockwise: a file written with the wrong orientation. Treat the
		// rings as outer rings rather than lose them; validation sorts out nesting.
		for _, h := range holes {
			outers = append(outers, orb.Polygon{h})
		}
		holes = nil
	}
	for _, h := range holes {
		best := -1
		for i, o := range outers {
			if ringInRing(h, o[0], bounds[i]) {
				// the smallest containing outer ring wins (islands in lakes in islands)
				if best < 0 || math.Abs(ringArea(o[0])) < math.Abs(ringArea(outers[best][0])) {
					best = i
				}
			}
		}
		if best < 0 {
			outers = append(outers, orb.Polygon{h}) // a hole outside every outer ring: keep it as land
			bounds = append(bounds, h.Bound())
			continue
		}
		outers[best] = append(outers[best], h)
	}
	if len(outers) == 1 {
		return outers[0]
	}
	return orb.MultiPolygon(outers)
}
