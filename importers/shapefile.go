package importers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo"
)

// Shapefile reads an ESRI Shapefile (.shp + .shx + .dbf, with .prj and .cpg when present).
type Shapefile struct {
	info  Info
	files []*os.File
	shp   *SHPReader
	dbf   *DBFReader
	vals  []any
}

// findSibling returns the file beside base with extension ext, in any letter case.
func findSibling(base, ext string) string {
	dir, name := filepath.Dir(base), filepath.Base(base)
	for _, e := range []string{strings.ToLower(ext), strings.ToUpper(ext)} {
		p := filepath.Join(dir, name+e)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if strings.EqualFold(e.Name(), name+ext) {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

// OpenShapefile opens the shapefile whose .shp (or any other part) is at path.
func OpenShapefile(path string, opt Options) (_ *Shapefile, err error) {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	name := filepath.Base(base)
	s := &Shapefile{info: Info{Format: "shapefile", Name: name, File: name + ".shp", Count: -1}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	fail := func(format string, args ...any) error {
		return geoportal.Errorf(geoportal.EINVALID, format, args...)
	}
	shpPath := findSibling(base, ".shp")
	if shpPath == "" {
		if findSibling(base, ".dbf") != "" {
			return nil, fail("%s.dbf has no .shp: an attribute table without geometry cannot become a map layer", name)
		}
		return nil, fail("%s.shp: no such file", name)
	}
	s.info.File = filepath.Base(shpPath)
	shxPath := findSibling(base, ".shx")
	if shxPath == "" {
		return nil, fail("%s: the index file %s.shx is missing (it is needed to read the .shp; include it in the upload)", s.info.File, name)
	}
	shpF, shpSize, err := openSized(shpPath)
	if err != nil {
		return nil, fail("%s: %v", s.info.File, err)
	}
	s.files = append(s.files, shpF)
	if head, _ := sniff(shpPath, 512); looksLikeHTML(head) {
		return nil, fail("%s is an HTML page, not a shapefile", s.info.File)
	}
	shxF, shxSize, err := openSized(shxPath)
	if err != nil {
		return nil, fail("%s: %v", filepath.Base(shxPath), err)
	}
	s.files = append(s.files, shxF)
	s.shp, err = NewSHPReader(shpF, shpSize, shxF, shxSize, s.info.File)
	if err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "%v", err)
	}
	s.info.Count = s.shp.NumRecords
	s.info.GeometryType = layerTypeOfShape(s.shp.Header.ShapeType)
	if s.shp.Header.ShapeType == shpMultiPatch {
		s.info.Warnings = append(s.info.Warnings, "MultiPatch shapes are not supported: every record will be rejected")
	}

	// Attributes.
	var ldid byte
	if dbfPath := findSibling(base, ".dbf"); dbfPath != "" {
		f, _, err := openSized(dbfPath)
		if err != nil {
			return nil, fail("%s: %v", filepath.Base(dbfPath), err)
		}
		s.files = append(s.files, f)
		s.dbf, err = NewDBFReader(f, filepath.Base(dbfPath))
		if err != nil {
			return nil, geoportal.Errorf(geoportal.EINVALID, "%v", err)
		}
		if len(s.dbf.all) == 0 {
			s.dbf = nil // a table without columns (shp2pgsql writes them): nothing to align
		} else if s.dbf.NumRecords != s.shp.NumRecords {
			return nil, fail("%s has %d records but %s has %d: the files do not belong together", s.info.File,
				s.shp.NumRecords, filepath.Base(dbfPath), s.dbf.NumRecords)
		}
	}
	if s.dbf != nil {
		s.info.Fields = s.dbf.Fields
		s.vals = make([]any, len(s.dbf.Fields))
		ldid = s.dbf.LDID
	} else if findSibling(base, ".dbf") == "" {
		s.info.Warnings = append(s.info.Warnings, fmt.Sprintf("no %s.dbf: the features have no attributes", name))
	}

	// Code page: flag, .cpg, DBF language byte, default.
	dec, src, warn, err := shapefileEncoding(base, ldid, opt)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		s.info.Warnings = append(s.info.Warnings, warn)
	}
	s.info.Encoding, s.info.EncodingSource = dec.Name, src
	if s.dbf != nil {
		s.dbf.SetDecoder(dec)
		s.info.Fields = s.dbf.Fields
	}

	// Coordinate system: flag, .prj, or longitude/latitude when the extent says so.
	switch prj := findSibling(base, ".prj"); {
	case opt.SRID != 0:
		c, err := geo.EPSG(opt.SRID)
		if err != nil {
			return nil, fail("--srid %d: %v", opt.SRID, err)
		}
		s.info.CRS, s.info.CRSSource = c, "flag"
	case prj != "":
		b, err := readLimited(prj, 64<<10)
		if err != nil {
			return nil, fail("%s: %v", filepath.Base(prj), err)
		}
		c, err := geo.ParseCRS(string(b))
		if err != nil {
			return nil, fail("%s: %v (give the EPSG code with --srid)", filepath.Base(prj), err)
		}
		s.info.CRS, s.info.CRSSource = c, "prj"
	default:
		bb := s.shp.Header.BBox
		if s.shp.NumRecords > 0 && (bb[0] < -180.5 || bb[2] > 180.5 || bb[1] < -90.5 || bb[3] > 90.5) {
			return nil, fail("%s has no .prj and its coordinates (%g %g … %g %g) are not longitude/latitude: give the EPSG code with --srid",
				s.info.File, bb[0], bb[1], bb[2], bb[3])
		}
		s.info.CRS, s.info.CRSSource = geo.WGS84, "assumed"
		s.info.Warnings = append(s.info.Warnings, fmt.Sprintf("no %s.prj: coordinates look like longitude/latitude, EPSG:4326 assumed", name))
	}
	return s, nil
}

func openSized(p string) (*os.File, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, errors.New(errNotExist(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func readLimited(p string, n int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, errors.New(errNotExist(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, fmt.Errorf("file is larger than %d bytes", n)
	}
	return b, nil
}

// shapefileEncoding picks the DBF code page: the flag, else the .cpg, else the DBF language
// driver byte, else the default.
func shapefileEncoding(base string, ldid byte, opt Options) (*Decoder, string, string, error) {
	if opt.Encoding != "" {
		d, err := LookupEncoding(opt.Encoding)
		return d, EncodingFromFlag, "", err
	}
	var warn string
	if cpg := findSibling(base, ".cpg"); cpg != "" {
		b, err := readLimited(cpg, 256)
		if err == nil {
			if d, err := LookupEncoding(string(b)); err == nil {
				return d, EncodingFromCPG, "", nil
			}
		}
		warn = fmt.Sprintf("%s does not name a known code page (%q…): ignored", filepath.Base(cpg), head(string(b), 30))
	}
	if name, ok := ldidEncodings[ldid]; ok {
		d, err := LookupEncoding(name)
		return d, EncodingFromLDID, warn, err
	}
	def := opt.DefaultEncoding
	if def == "" {
		def = "CP1251"
	}
	d, err := LookupEncoding(def)
	return d, EncodingFromDefault, warn, err
}

func head(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func layerTypeOfShape(t int) string {
	switch t {
	case shpPoint, shpPointZ, shpPointM:
		return "Point"
	case shpMultiPoint, shpMultiPointZ, shpMultiPointM:
		return "MultiPoint"
	case shpPolyLine, shpPolyLineZ, shpPolyLineM:
		return "MultiLineString"
	case shpPolygon, shpPolygonZ, shpPolygonM:
		return "MultiPolygon"
	}
	return ""
}

// Info describes the shapefile.
func (s *Shapefile) Info() *Info { return &s.info }

// Next reads the next record.
func (s *Shapefile) Next() (Feature, error) {
	g, n, err := s.shp.Next()
	f := Feature{Record: n, Geom: g}
	var rerr *RecordError
	if errors.As(err, &rerr) {
		f.Err, err = rerr, nil
	}
	if err == io.EOF {
		return Feature{}, io.EOF
	} else if err != nil {
		return Feature{}, geoportal.Errorf(geoportal.EINVALID, "%v", err)
	}
	if s.dbf != nil {
		vals := make([]any, len(s.vals))
		deleted, err := s.dbf.Next(vals)
		if errors.As(err, &rerr) {
			if f.Err == nil {
				f.Err = rerr
			}
		} else if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("%s: .dbf ends before record %d", s.info.File, n)
			}
			return Feature{}, geoportal.Errorf(geoportal.EINVALID, "%v", err)
		}
		if deleted && f.Err == nil {
			f.Err = &RecordError{Record: n, Reason: "record is marked deleted in the .dbf"}
		}
		f.Values = vals
	}
	if f.Err == nil && f.Geom == nil {
		f.Err = &RecordError{Record: n, Reason: "null shape (no geometry)"}
	}
	return f, nil
}

// Close closes the files.
func (s *Shapefile) Close() error {
	for _, f := range s.files {
		f.Close()
	}
	s.files = nil
	return nil
}
