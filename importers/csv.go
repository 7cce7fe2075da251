package importers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// CSV reads a delimited text file whose geometry is in longitude/latitude columns or a WKT
// column. The delimiter (comma, semicolon, tab) and the types of the other columns are inferred
// in a first pass; the encoding is UTF-8 when the file is valid UTF-8, else the default.
type CSV struct {
	info       Info
	f          *os.File
	r          *csv.Reader
	lon, lat   int
	wktCol     int
	attrCols   []int
	n          int
	dec        *Decoder
	comma      rune
	headerSkip bool
}

var (
	lonNames = []string{"lon", "lng", "long", "longitude", "x", "долгота", "бойлық"}
	latNames = []string{"lat", "latitude", "y", "широта", "ендік"}
	wktNames = []string{"wkt", "geom", "geometry", "the_geom", "shape", "геометрия"}
)

func findColumn(header []string, want string, names []string) int {
	for i, h := range header {
		if want != "" && strings.EqualFold(strings.TrimSpace(h), want) {
			return i
		}
	}
	if want != "" {
		return -2
	}
	for _, n := range names {
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), n) {
				return i
			}
		}
	}
	return -1
}

// OpenCSV opens a CSV file.
func OpenCSV(p string, opt Options) (Source, error) {
	name := filepath.Base(p)
	head, err := sniff(p, 64<<10)
	if err != nil {
		return nil, invalid("%s: %v", name, errNotExist(err))
	}
	if looksLikeHTML(head) {
		return nil, invalid("%s is an HTML page, not CSV", name)
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, invalid("%s is a binary file, not CSV", name)
	}
	c := &CSV{info: Info{Format: "csv", Name: BaseName(p), File: name, Count: -1}}
	// Encoding: flag, else UTF-8 if the start is valid UTF-8, else the default.
	switch {
	case opt.Encoding != "":
		c.dec, err = LookupEncoding(opt.Encoding)
		c.info.EncodingSource = EncodingFromFlag
	case utf8.Valid(trimIncompleteRune(head)):
		c.dec, _ = LookupEncoding("UTF-8")
		c.info.EncodingSource = "detected"
	default:
		def := opt.DefaultEncoding
		if def == "" {
			def = "CP1251"
		}
		c.dec, err = LookupEncoding(def)
		c.info.EncodingSource = EncodingFromDefault
	}
	if err != nil {
		return nil, err
	}
	c.info.Encoding = c.dec.Name
	firstLine, _, _ := bytes.Cut(head, []byte("\n"))
	c.comma = ','
	best := bytes.Count(firstLine, []byte(","))
	for _, d := range []rune{';', '\t', '|'} {
		if n := bytes.Count(firstLine, []byte(string(d))); n > best {
			c.comma, best = d, n
		}
	}
	if err := c.open(p); err != nil {
		return nil, err
	}
	header, err := c.r.Read()
	if err != nil {
		c.f.Close()
		return nil, invalid("%s: no header row: %v", name, err)
	}
	header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	c.lon, c.lat = findColumn(header, opt.LonColumn, lonNames), findColumn(header, opt.LatColumn, latNames)
	c.wktCol = findColumn(header, opt.WKTColumn, wktNames)
	if c.lon == -2 || c.lat == -2 || c.wktCol == -2 {
		c.f.Close()
		return nil, invalid("%s: column %q/%q/%q not in the header (%s)", name, opt.LonColumn, opt.LatColumn, opt.WKTColumn, strings.Join(header, ", "))
	}
	if opt.WKTColumn == "" && c.lon >= 0 && c.lat >= 0 {
		c.wktCol = -1
	}
	if c.wktCol < 0 && (c.lon < 0 || c.lat < 0) {
		c.f.Close()
		return nil, invalid("%s: no geometry columns: want lon/lat (or longitude/latitude, x/y) or wkt, found %s", name, strings.Join(header, ", "))
	}
	guess := newSchemaGuess()
	for i, h := range header {
		if i == c.lon || i == c.lat || i == c.wktCol {
			continue
		}
		c.attrCols = append(c.attrCols, i)
		guess.field(h)
	}
	// First pass: types, geometry type and count.
	n := 0
	for {
		rec, err := c.r.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			c.f.Close()
			return nil, invalid("%s: line %d: %v", name, n+2, err)
		}
		n++
		for _, i := range c.attrCols {
			if i < len(rec) {
				guess.value(header[i], rec[i], true)
			}
		}
		if c.wktCol >= 0 && c.wktCol < len(rec) {
			if g, err := wkt.Unmarshal(rec[c.wktCol]); err == nil {
				guess.geometry(g)
			}
		} else {
			guess.geometry(orb.Point{})
		}
	}
	c.info.Count = n
	c.info.Fields = guess.fields()
	c.info.GeometryType = guess.geometryType()
	if opt.SRID != 0 {
		c.info.CRS, err = geo.EPSG(opt.SRID)
		if err != nil {
			c.f.Close()
			return nil, invalid("--srid %d: %v", opt.SRID, err)
		}
		c.info.CRSSource = "flag"
	} else {
		c.info.CRS, c.info.CRSSource = geo.WGS84, "assumed"
	}
	c.f.Close()
	if err := c.open(p); err != nil {
		return nil, err
	}
	c.r.Read() // header
	return c, nil
}

func trimIncompleteRune(b []byte) []byte {
	for i := 0; i < 3 && len(b) > 0; i++ {
		if r, _ := utf8.DecodeLastRune(b); r != utf8.RuneError {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

func (c *CSV) open(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return invalid("%s: %v", filepath.Base(p), errNotExist(err))
	}
	c.f = f
	var r io.Reader = bufio.NewReaderSize(f, 256<<10)
	if c.dec.table != nil {
		r = &decodingReader{r: r, dec: c.dec}
	}
	c.r = csv.NewReader(r)
	c.r.Comma = c.comma
	c.r.FieldsPerRecord = -1
	c.r.LazyQuotes = true
	c.r.ReuseRecord = true
	return nil
}

// decodingReader decodes a single-byte code page to UTF-8 on the fly.
type decodingReader struct {
	r   io.Reader
	dec *Decoder
	buf []byte
	out []byte
}

func (d *decodingReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if cap(d.buf) == 0 {
			d.buf = make([]byte, 32<<10)
		}
		n, err := d.r.Read(d.buf[:cap(d.buf)])
		if n > 0 {
			d.out = append(d.out[:0], d.dec.Decode(d.buf[:n])...)
		}
		if err != nil && len(d.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// Info describes the file.
func (c *CSV) Info() *Info { return &c.info }

// Next reads the next row.
func (c *CSV) Next() (Feature, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return Feature{}, io.EOF
	} else if err != nil {
		return Feature{}, geoportal.Errorf(geoportal.EINVALID, "%s: line %d: %v", c.info.File, c.n+2, err)
	}
	c.n++
	f := Feature{Record: c.n, Values: make([]any, len(c.info.Fields))}
	for k, i := range c.attrCols {
		if i < len(rec) && rec[i] != "" {
			f.Values[k] = rec[i]
		}
	}
	cell := func(i int) string {
		if i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	if c.wktCol >= 0 {
		g, err := wkt.Unmarshal(cell(c.wktCol))
		if err != nil {
			f.Err = &RecordError{Record: c.n, Reason: fmt.Sprintf("column %d: not WKT: %v", c.wktCol+1, err)}
		}
		f.Geom = g
		return f, nil
	}
	x, err1 := strconv.ParseFloat(strings.Replace(cell(c.lon), ",", ".", 1), 64)
	y, err2 := strconv.ParseFloat(strings.Replace(cell(c.lat), ",", ".", 1), 64)
	if err1 != nil || err2 != nil {
		f.Err = &RecordError{Record: c.n, Reason: fmt.Sprintf("coordinates %q %q are not numbers", cell(c.lon), cell(c.lat))}
		return f, nil
	}
	f.Geom = orb.Point{x, y}
	return f, nil
}

// Close closes the file.
func (c *CSV) Close() error { return c.f.Close() }
