package importers

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/paulmach/orb"
)

// Rows are written with PostgreSQL's binary COPY format, encoded by the worker goroutines
// themselves (each batch of records becomes one byte slice), so that the goroutine feeding
// the connection only splices batches together. Geometries go as EWKB, which PostGIS's
// geometry_recv (and bytea, for the upsert staging table) reads as it is.

// copyHeader is the binary COPY signature, flags (0) and header extension length (0).
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyTrailer ends the COPY data (a field count of -1).
var copyTrailer = []byte{0xff, 0xff}

// rowLayout says which columns a row carries besides the geometry and the attributes.
type rowLayout struct {
	rec bool // a leading integer record number (the upsert staging table)
	id  bool // a trailing bigint feature id, added in record order by copyReader (a new layer)
}

func (l rowLayout) fields(cols int) int {
	n := 1 + cols
	if l.rec {
		n++
	}
	if l.id {
		n++
	}
	return n
}

func appendInt16(b []byte, v int16) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func appendInt32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }
func appendInt64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// y2k is PostgreSQL's epoch for dates and timestamps.
var y2k = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// appendValue writes one field (length and bytes, or -1 for NULL) of a value returned by
// convertValue for a column of type t, in the binary form of that column's SQL type.
func appendValue(b []byte, v any, t string) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return appendInt32(b, -1), nil
	case string:
		if t == TypeJSON {
			b = appendInt32(b, int32(len(x)+1))
			b = append(b, 1) // jsonb binary format version
			return append(b, x...), nil
		}
		b = appendInt32(b, int32(len(x)))
		return append(b, x...), nil
	case int32:
		return appendInt32(appendInt32(b, 4), x), nil
	case int64:
		return appendInt64(appendInt32(b, 8), x), nil
	case float64:
		return appendInt64(appendInt32(b, 8), int64(math.Float64bits(x))), nil
	case bool:
		b = appendInt32(b, 1)
		if x {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case time.Time:
		if t == TypeDate {
			day := time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
			return appendInt32(appendInt32(b, 4), int32((day.Unix()-y2k.Unix())/86400)), nil
		}
		us := x.Unix()*1_000_000 + int64(x.Nanosecond())/1000
		return appendInt64(appendInt32(b, 8), us-y2k.Unix()*1_000_000), nil
	}
	return b, fmt.Errorf("cannot write a %T into a %s column", v, t)
}

// extent is the bounding box of the rows written (what ST_Extent would report) and their count.
type extent struct {
	ok   bool
	b    orb.Bound
	rows int
}

func (e *extent) add(b orb.Bound) {
	if !e.ok {
		e.b, e.ok = b, true
		return
	}
	e.b = e.b.Union(b)
}

func (e *extent) merge(o extent) {
	e.rows += o.rows
	if o.ok {
		e.add(o.b)
	}
}

// copyReader is the COPY data stream of a rowStream: the header, the batches in record order
// (with feature ids appended when the layout has them), the trailer.
type copyReader struct {
	s      *rowStream
	id     bool
	nextID int64
	out    []byte
	pos    int
	buf    []byte
	state  int // 0: header not sent, 1: rows, 2: trailer sent
}

func (c *copyReader) Read(p []byte) (int, error) {
	for c.pos >= len(c.out) {
		c.pos = 0
		switch c.state {
		case 0:
			c.out, c.state = copyHeader, 1
			continue
		case 2:
			c.out = nil
			return 0, io.EOF
		}
		r, ok := c.s.nextBatch()
		if !ok {
			if c.s.err != nil {
				return 0, c.s.err
			}
			c.out, c.state = copyTrailer, 2
			continue
		}
		if !c.id {
			c.out = r.buf
			continue
		}
		c.buf = c.buf[:0]
		start := 0
		for _, end := range r.ends {
			c.buf = append(c.buf, r.buf[start:end]...)
			c.nextID++
			c.buf = appendInt64(appendInt32(c.buf, 8), c.nextID)
			start = end
		}
		c.out = c.buf
	}
	n := copy(p, c.out[c.pos:])
	c.pos += n
	return n, nil
}
