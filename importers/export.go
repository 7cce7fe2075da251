package importers

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/internal/csvsafe"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/geojson"
)

// Export formats.
const (
	ExportGeoJSON   = "geojson"
	ExportCSV       = "csv"
	ExportShapefile = "zip" // zipped shapefile with .prj and .cpg
)

// ExportRequest says which layer (and which part of it) to export.
type ExportRequest struct {
	Layer  string
	Format string
	BBox   []float64 // west, south, east, north in EPSG:4326; nil: the whole layer
	Staff  bool      // may see staff-only layers
}

// wgs84ESRI is the .prj of EPSG:4326 as ESRI software writes it.
const wgs84ESRI = `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`

// ContentType is the media type of an export format.
func ContentType(format string) string {
	switch format {
	case ExportGeoJSON:
		return "application/geo+json"
	case ExportCSV:
		return "text/csv; charset=utf-8"
	case ExportShapefile:
		return "application/zip"
	}
	return "application/octet-stream"
}

// Export writes a layer (or the part of it within BBox) to w. Rows are streamed from the
// database; the shapefile is assembled in temporary files first (its headers need the totals).
func (im *Importer) Export(ctx context.Context, w io.Writer, req ExportRequest) error {
	l, err := im.Layers.Layer(ctx, req.Layer, req.Staff)
	if err != nil {
		return err
	}
	switch req.Format {
	case ExportGeoJSON, ExportCSV, ExportShapefile:
	default:
		return invalid("unknown export format %q (want geojson, csv or zip)", req.Format)
	}
	if req.BBox != nil {
		b := req.BBox
		if len(b) != 4 || b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 {
			return invalid("bbox must be west,south,east,north in degrees")
		}
	}
	cols := []string{"id", "ST_AsBinary(geom)"}
	for _, a := range l.Attributes {
		cols = append(cols, pgx.Identifier{a.Name}.Sanitize())
	}
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + l.Table()
	var args []any
	if req.BBox != nil {
		q += ` WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`
		args = append(args, req.BBox[0], req.BBox[1], req.BBox[2], req.BBox[3])
	}
	q += ` ORDER BY id`
	switch req.Format {
	case ExportGeoJSON:
		return im.exportGeoJSON(ctx, w, l, q, args)
	case ExportCSV:
		return im.exportCSV(ctx, w, l, q, args)
	}
	return im.exportShapefile(ctx, w, l, q, args)
}

// scanRows runs q and calls fn with each row's id, geometry and attribute values.
func (im *Importer) scanRows(ctx context.Context, l layers.Layer, q string, args []any, fn func(id int64, g orb.Geometry, vals []any) error) error {
	rows, err := im.Pool.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("export %s: %w", l.Slug, err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("export %s: %w", l.Slug, err)
		}
		b, _ := vals[1].([]byte)
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return fmt.Errorf("export %s: geometry of %v: %w", l.Slug, vals[0], err)
		}
		id, _ := vals[0].(int64)
		if err := fn(id, g, vals[2:]); err != nil {
			return err
		}
	}
	return rows.Err()
}

func exportValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Location() == time.UTC {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339)
	case int32:
		return int64(x)
	}
	return v
}

func (im *Importer) exportGeoJSON(ctx context.Context, w io.Writer, l layers.Layer, q string, args []any) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"type":"FeatureCollection","name":` + strconv.Quote(l.Slug) + `,"features":[`)
	n := 0
	err := im.scanRows(ctx, l, q, args, func(id int64, g orb.Geometry, vals []any) error {
		f := geojson.NewFeature(g)
		f.ID = id
		for i, a := range l.Attributes {
			f.Properties[a.Name] = exportValue(vals[i])
		}
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		bw.WriteByte('\n')
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// exportCSV writes the layer as CSV through csvsafe: a cell a spreadsheet would read as a
// formula (user text such as a report's description) gets a leading apostrophe; numbers stay
// numbers.
func (im *Importer) exportCSV(ctx context.Context, w io.Writer, l layers.Layer, q string, args []any) error {
	cw := csvsafe.NewWriter(w)
	header := []string{"id"}
	for _, a := range l.Attributes {
		header = append(header, a.Name)
	}
	header = append(header, "wkt")
	cw.Write(header)
	rec := make([]string, 0, len(header))
	err := im.scanRows(ctx, l, q, args, func(id int64, g orb.Geometry, vals []any) error {
		rec = append(rec[:0], strconv.FormatInt(id, 10))
		for _, v := range vals {
			rec = append(rec, textValue(exportValue(v)))
		}
		rec = append(rec, wktString(g))
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	return cw.Flush()
}

func textValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// wktString is g as WKT (orb's writer), empty for no geometry.
func wktString(g orb.Geometry) string {
	if g == nil {
		return ""
	}
	return wkt.MarshalString(g)
}

// dbfField is one column of an exported .dbf.
type dbfField struct {
	name     string
	typ      byte
	width    int
	decimals int
}

func (im *Importer) exportShapefile(ctx context.Context, w io.Writer, l layers.Layer, q string, args []any) error {
	shpType := map[string]int{"Point": shpPoint, "MultiPoint": shpMultiPoint, "LineString": shpPolyLine,
		"MultiLineString": shpPolyLine, "Polygon": shpPolygon, "MultiPolygon": shpPolygon}[l.GeometryType]
	// Text widths: the longest value in UTF-8 bytes, at most 254.
	fields := make([]dbfField, len(l.Attributes))
	used := map[string]bool{}
	for i, a := range l.Attributes {
		name := strings.ToUpper(a.Name)
		if len(name) > 10 {
			name = name[:10]
		}
		for k := 1; used[name]; k++ {
			suffix := strconv.Itoa(k)
			name = name[:min(len(name), 10-len(suffix))] + suffix
		}
		used[name] = true
		f := dbfField{name: name}
		switch a.Type {
		case TypeInteger:
			f.typ, f.width = 'N', 11
		case TypeBigint:
			f.typ, f.width = 'N', 18
		case TypeDouble:
			f.typ, f.width, f.decimals = 'N', 24, 15
		case TypeBoolean:
			f.typ, f.width = 'L', 1
		case TypeDate:
			f.typ, f.width = 'D', 8
		default:
			f.typ = 'C'
			var n *int
			id := pgx.Identifier{a.Name}.Sanitize()
			if err := im.Pool.QueryRow(ctx, `SELECT max(octet_length(`+id+`::text)) FROM `+l.Table()).Scan(&n); err != nil {
				return fmt.Errorf("export %s: %w", l.Slug, err)
			}
			f.width = 1
			if n != nil {
				f.width = min(max(*n, 1), 254)
			}
		}
		fields[i] = f
	}
	tmp, err := os.MkdirTemp("", "geoportal-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files := map[string]*os.File{}
	for _, ext := range []string{".shp", ".shx", ".dbf"} {
		f, err := os.Create(tmp + "/" + l.Slug + ext)
		if err != nil {
			return err
		}
		defer f.Close()
		files[ext] = f
	}
	shp := bufio.NewWriterSize(files[".shp"], 256<<10)
	shx := bufio.NewWriterSize(files[".shx"], 64<<10)
	dbf := bufio.NewWriterSize(files[".dbf"], 256<<10)
	var hdr [100]byte
	shp.Write(hdr[:])
	shx.Write(hdr[:])
	recLen := 1
	for _, f := range fields {
		recLen += f.width
	}
	dbfHeader := make([]byte, 32+32*len(fields)+1)
	dbf.Write(dbfHeader)
	bbox := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	offset := int64(100)
	n := 0
	rec := make([]byte, recLen)
	err = im.scanRows(ctx, l, q, args, func(id int64, g orb.Geometry, vals []any) error {
		n++
		content := encodeShape(shpType, g)
		bbox = bbox.Union(g.Bound())
		var rh [8]byte
		binary.BigEndian.PutUint32(rh[0:], uint32(n))
		binary.BigEndian.PutUint32(rh[4:], uint32(len(content)/2))
		shp.Write(rh[:])
		shp.Write(content)
		var ix [8]byte
		binary.BigEndian.PutUint32(ix[0:], uint32(offset/2))
		binary.BigEndian.PutUint32(ix[4:], uint32(len(content)/2))
		shx.Write(ix[:])
		offset += 8 + int64(len(content))
		for i := range rec {
			rec[i] = ' '
		}
		pos := 1
		for i, f := range fields {
			writeDBFValue(rec[pos:pos+f.width], f, vals[i])
			pos += f.width
		}
		_, err := dbf.Write(rec)
		return err
	})
	if err != nil {
		return err
	}
	dbf.WriteByte(0x1A)
	if n == 0 {
		bbox = orb.Bound{}
	}
	for _, b := range []*bufio.Writer{shp, shx, dbf} {
		if err := b.Flush(); err != nil {
			return err
		}
	}
	writeSHPHeader(files[".shp"], shpType, offset, bbox)
	writeSHPHeader(files[".shx"], shpType, 100+8*int64(n), bbox)
	// DBF header: version 3, date, count, lengths, UTF-8 (no language byte: the .cpg says it).
	now := time.Now()
	dbfHeader[0] = 3
	dbfHeader[1], dbfHeader[2], dbfHeader[3] = byte(now.Year()-1900), byte(now.Month()), byte(now.Day())
	binary.LittleEndian.PutUint32(dbfHeader[4:], uint32(n))
	binary.LittleEndian.PutUint16(dbfHeader[8:], uint16(len(dbfHeader)))
	binary.LittleEndian.PutUint16(dbfHeader[10:], uint16(recLen))
	for i, f := range fields {
		d := dbfHeader[32+32*i:]
		copy(d[:11], f.name)
		d[11] = f.typ
		d[16] = byte(f.width)
		d[17] = byte(f.decimals)
	}
	dbfHeader[len(dbfHeader)-1] = 0x0D
	if _, err := files[".dbf"].WriteAt(dbfHeader, 0); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, ext := range []string{".shp", ".shx", ".dbf"} {
		f := files[ext]
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		zf, err := zw.Create(l.Slug + ext)
		if err != nil {
			return err
		}
		if _, err := io.Copy(zf, f); err != nil {
			return err
		}
	}
	for ext, body := range map[string]string{".prj": wgs84ESRI, ".cpg": "UTF-8"} {
		zf, err := zw.Create(l.Slug + ext)
		if err != nil {
			return err
		}
		io.WriteString(zf, body)
	}
	return zw.Close()
}

func writeSHPHeader(f *os.File, shpType int, length int64, b orb.Bound) error {
	var h [100]byte
	binary.BigEndian.PutUint32(h[0:], 9994)
	binary.BigEndian.PutUint32(h[24:], uint32(length/2))
	binary.LittleEndian.PutUint32(h[28:], 1000)
	binary.LittleEndian.PutUint32(h[32:], uint32(shpType))
	for i, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		binary.LittleEndian.PutUint64(h[36+8*i:], math.Float64bits(v))
	}
	_, err := f.WriteAt(h[:], 0)
	return err
}

// encodeShape writes one record's content; polygon outer rings clockwise, holes counter-clockwise.
func encodeShape(t int, g orb.Geometry) []byte {
	le := binary.LittleEndian
	putBox := func(b []byte, bb orb.Bound) {
		for i, v := range []float64{bb.Min[0], bb.Min[1], bb.Max[0], bb.Max[1]} {
			le.PutUint64(b[4+8*i:], math.Float64bits(v))
		}
	}
	switch t {
	case shpPoint:
		p := g.(orb.Point)
		b := make([]byte, 20)
		le.PutUint32(b, shpPoint)
		le.PutUint64(b[4:], math.Float64bits(p[0]))
		le.PutUint64(b[12:], math.Float64bits(p[1]))
		return b
	case shpMultiPoint:
		mp, ok := g.(orb.MultiPoint)
		if !ok {
			mp = orb.MultiPoint{g.(orb.Point)}
		}
		b := make([]byte, 40+16*len(mp))
		le.PutUint32(b, shpMultiPoint)
		putBox(b, mp.Bound())
		le.PutUint32(b[36:], uint32(len(mp)))
		for i, p := range mp {
			le.PutUint64(b[40+16*i:], math.Float64bits(p[0]))
			le.PutUint64(b[48+16*i:], math.Float64bits(p[1]))
		}
		return b
	}
	var parts [][]orb.Point
	switch g := g.(type) {
	case orb.LineString:
		parts = [][]orb.Point{g}
	case orb.MultiLineString:
		for _, l := range g {
			parts = append(parts, l)
		}
	case orb.Polygon:
		parts = orientRings(g)
	case orb.MultiPolygon:
		for _, p := range g {
			parts = append(parts, orientRings(p)...)
		}
	}
	npts := 0
	for _, p := range parts {
		npts += len(p)
	}
	b := make([]byte, 44+4*len(parts)+16*npts)
	le.PutUint32(b, uint32(t))
	putBox(b, g.Bound())
	le.PutUint32(b[36:], uint32(len(parts)))
	le.PutUint32(b[40:], uint32(npts))
	k := 0
	pts := 44 + 4*len(parts)
	for i, p := range parts {
		le.PutUint32(b[44+4*i:], uint32(k))
		for _, pt := range p {
			le.PutUint64(b[pts+16*k:], math.Float64bits(pt[0]))
			le.PutUint64(b[pts+16*k+8:], math.Float64bits(pt[1]))
			k++
		}
	}
	return b
}

func orientRings(p orb.Polygon) [][]orb.Point {
	out := make([][]orb.Point, len(p))
	for i, r := range p {
		cw := ringArea(r) < 0
		if (i == 0) != cw {
			rr := make([]orb.Point, len(r))
			for j := range r {
				rr[j] = r[len(r)-1-j]
			}
			out[i] = rr
		} else {
			out[i] = r
		}
	}
	return out
}

func writeDBFValue(dst []byte, f dbfField, v any) {
	v = exportValue(v)
	if v == nil {
		if f.typ == 'L' {
			dst[0] = '?'
		}
		return
	}
	switch f.typ {
	case 'N':
		var s string
		switch x := v.(type) {
		case int64:
			s = strconv.FormatInt(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'f', f.decimals, 64)
		default:
			s = textValue(x)
		}
		if len(s) > f.width {
			s = strings.Repeat("*", f.width) // does not fit: written as "no value"
		}
		copy(dst[f.width-len(s):], s) // right-aligned
	case 'L':
		if b, _ := v.(bool); b {
			dst[0] = 'T'
		} else {
			dst[0] = 'F'
		}
	case 'D':
		s := textValue(v)
		copy(dst, strings.ReplaceAll(s, "-", ""))
	default:
		s := textValue(v)
		if len(s) > f.width {
			s = s[:f.width]
			for len(s) > 0 && !utf8ValidEnd(s) {
				s = s[:len(s)-1]
			}
		}
		copy(dst, s)
	}
}

func utf8ValidEnd(s string) bool {
	for i := len(s) - 1; i >= 0 && i >= len(s)-4; i-- {
		c := s[i]
		if c < 0x80 {
			return true
		}
		if c >= 0xC0 { // a lead byte: is its sequence complete?
			need := 2
			if c >= 0xF0 {
				need = 4
			} else if c >= 0xE0 {
				need = 3
			}
			return len(s)-i >= need
		}
	}
	return true
}

var _ = geoportal.EINVALID
