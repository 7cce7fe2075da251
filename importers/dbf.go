package importers

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Field types of imported attributes; the same names as layers.Attribute.Type.
const (
	TypeText        = "text"
	TypeInteger     = "integer"
	TypeBigint      = "bigint"
	TypeDouble      = "double"
	TypeBoolean     = "boolean"
	TypeDate        = "date"
	TypeTimestamptz = "timestamptz"
	TypeJSON        = "jsonb"
)

// Field is one attribute column of a source.
type Field struct {
	Name string `json:"name"` // as written in the source
	Type string `json:"type"` // text, integer, bigint, double, boolean, date, timestamptz, jsonb
	// DBF only
	DBFType  byte `json:"-"`
	Width    int  `json:"width,omitempty"`
	Decimals int  `json:"decimals,omitempty"`
	offset   int
	skip     bool // memo fields are not read
	rawName  []byte
}

// DBFReader reads a dBASE III/IV table record by record. Text is decoded with Decoder.
type DBFReader struct {
	r          *bufio.Reader
	name       string
	Fields     []Field // the fields that are read (memo fields left out)
	all        []Field
	NumRecords int
	LDID       byte
	recLen     int
	buf        []byte
	n          int
	Decoder    *Decoder
}

// NewDBFReader reads the header of a DBF file. name is used in error messages.
func NewDBFReader(r io.Reader, name string) (*DBFReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	hdr := make([]byte, 32)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("%s: DBF header: %w", name, truncated(err))
	}
	ver := hdr[0] & 0x07
	if ver != 3 && ver != 4 && ver != 5 && hdr[0] != 0x30 && hdr[0] != 0x31 && hdr[0] != 0xF5 {
		return nil, fmt.Errorf("%s: not a dBASE file (version byte 0x%02x)", name, hdr[0])
	}
	d := &DBFReader{r: br, name: name}
	d.NumRecords = int(binary.LittleEndian.Uint32(hdr[4:8]))
	hdrLen := int(binary.LittleEndian.Uint16(hdr[8:10]))
	d.recLen = int(binary.LittleEndian.Uint16(hdr[10:12]))
	d.LDID = hdr[29]
	if hdrLen < 33 || d.recLen < 1 {
		return nil, fmt.Errorf("%s: bad DBF header (header length %d, record length %d)", name, hdrLen, d.recLen)
	}
	rest := make([]byte, hdrLen-32)
	if _, err := io.ReadFull(br, rest); err != nil {
		return nil, fmt.Errorf("%s: DBF field descriptors: %w", name, truncated(err))
	}
	off := 1 // deletion flag
	for i := 0; i+32 <= len(rest) && rest[i] != 0x0D; i += 32 {
		fd := rest[i : i+32]
		nm := fd[:11]
		if j := bytes.IndexByte(nm, 0); j >= 0 {
			nm = nm[:j]
		}
		f := Field{Name: strings.TrimSpace(string(nm)), DBFType: fd[11], Width: int(fd[16]), Decimals: int(fd[17]), offset: off}
		if f.DBFType == 'C' && f.Decimals > 0 {
			// Clipper/FoxPro store wide character fields' high length byte in "decimals".
			f.Width += f.Decimals << 8
			f.Decimals = 0
		}
		off += f.Width
		f.rawName = append([]byte(nil), bytes.TrimSpace(nm)...)
		switch f.DBFType {
		case 'C':
			f.Type = TypeText
		case 'N', 'F':
			switch {
			case f.Decimals > 0 || f.DBFType == 'F':
				f.Type = TypeDouble
			case f.Width < 10:
				f.Type = TypeInteger
			case f.Width < 19:
				f.Type = TypeBigint
			default:
				f.Type = TypeDouble
			}
		case 'L':
			f.Type = TypeBoolean
		case 'D':
			f.Type = TypeDate
		case 'M', 'B', 'G', 'P':
			f.skip = true // memo fields live in a .dbt file we do not read
		default:
			f.Type = TypeText
		}
		d.all = append(d.all, f)
		if !f.skip {
			d.Fields = append(d.Fields, f)
		}
	}
	if off > d.recLen {
		return nil, fmt.Errorf("%s: DBF fields need %d bytes but records are %d bytes long", name, off, d.recLen)
	}
	d.buf = make([]byte, d.recLen)
	return d, nil
}

// SetDecoder sets the code page of text values and field names.
func (d *DBFReader) SetDecoder(dec *Decoder) {
	d.Decoder = dec
	for i := range d.Fields {
		d.Fields[i].Name = dec.Decode(d.Fields[i].rawName)
	}
}

func truncated(err error) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return fmt.Errorf("file is truncated")
	}
	return err
}

// Next reads the next record into vals (one value per Fields entry: nil, string, int64,
// float64, bool or time.Time). It returns io.EOF after the last record, a *RecordError for a
// value that cannot be read (the next record can still be read). Deleted records are
// returned too (deleted is true), so that record numbers stay aligned with the .shp.
func (d *DBFReader) Next(vals []any) (deleted bool, err error) {
	if d.n >= d.NumRecords {
		return false, io.EOF
	}
	d.n++
	if _, err := io.ReadFull(d.r, d.buf); err != nil {
		return false, fmt.Errorf("%s: record %d: %w", d.name, d.n, truncated(err))
	}
	deleted = d.buf[0] == '*'
	for i, f := range d.Fields {
		raw := d.buf[f.offset : f.offset+f.Width]
		v, err := d.value(f, raw)
		if err != nil {
			return deleted, &RecordError{Record: d.n, Reason: fmt.Sprintf("field %s: %v", f.Name, err)}
		}
		vals[i] = v
	}
	return deleted, nil
}

func (d *DBFReader) value(f Field, raw []byte) (any, error) {
	switch f.DBFType {
	case 'C':
		if j := bytes.IndexByte(raw, 0); j >= 0 {
			raw = raw[:j]
		}
		raw = bytes.Trim(raw, " ")
		if len(raw) == 0 {
			return nil, nil
		}
		return d.Decoder.Decode(raw), nil
	case 'N', 'F':
		s := strings.TrimSpace(strings.TrimRight(string(raw), "\x00"))
		if s == "" || strings.Trim(s, "*") == "" || strings.Trim(s, "-") == "" {
			return nil, nil
		}
		s = strings.Replace(s, ",", ".", 1)
		if f.Type == TypeInteger || f.Type == TypeBigint {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
			// GDAL reads "12.0" or "1e3" in an integer column by truncating the number.
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%q is not a number", s)
			}
			return int64(x), nil
		}
		x, err := parseLeadingFloat(s)
		if err != nil {
			return nil, err
		}
		return x, nil
	case 'L':
		if len(raw) == 0 {
			return nil, nil
		}
		switch raw[0] {
		case 'T', 't', 'Y', 'y', '1':
			return true, nil
		case 'F', 'f', 'N', 'n', '0':
			return false, nil
		}
		return nil, nil
	case 'D':
		s := strings.TrimSpace(string(bytes.TrimRight(raw, "\x00")))
		if s == "" || strings.Trim(s, "0") == "" {
			return nil, nil
		}
		s = strings.ReplaceAll(strings.ReplaceAll(s, "-", ""), "/", "")
		t, err := time.Parse("20060102", s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date (want YYYYMMDD)", s)
		}
		return t, nil
	}
	if j := bytes.IndexByte(raw, 0); j >= 0 {
		raw = raw[:j]
	}
	raw = bytes.Trim(raw, " ")
	if len(raw) == 0 {
		return nil, nil
	}
	return d.Decoder.Decode(raw), nil
}

// parseLeadingFloat reads a number the way C's atof does: the longest valid prefix.
func parseLeadingFloat(s string) (float64, error) {
	if x, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%q is not a finite number", s)
		}
		return x, nil
	}
	for end := len(s) - 1; end > 0; end-- {
		if x, err := strconv.ParseFloat(s[:end], 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x, nil
		}
	}
	return 0, fmt.Errorf("%q is not a number", s)
}
