// Package importers loads GIS files into the geoportal's layers: ESRI Shapefile (our own reader,
// with DBF code pages and .prj identification), GeoJSON, CSV, KML and GeoPackage, over one
// pipeline (read → reproject → validate/repair → binary COPY, straight into the layer for
// create, replace and append or through a staging table for upsert, in one transaction), and
// exports layers back as GeoJSON, CSV and Shapefile.
package importers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo"
	"github.com/paulmach/orb"
)

// Feature is one record of a source.
type Feature struct {
	Record int          // 1-based record number in the source
	Geom   orb.Geometry // source CRS; nil for a null shape
	Values []any        // one per Info.Fields: nil, string, int64, float64, bool, time.Time
	Err    error        // set when this record cannot be used (it is rejected, the import goes on)
}

// Info is what a source says about itself before its records are read.
type Info struct {
	Format         string   `json:"format"` // shapefile, geojson, csv, kml, gpkg
	Name           string   `json:"name"`   // layer name from the file name, for titles and messages
	File           string   `json:"file"`   // the main file, as named in errors
	Encoding       string   `json:"encoding,omitempty"`
	EncodingSource string   `json:"encoding_source,omitempty"`
	CRS            geo.CRS  `json:"crs"`
	CRSSource      string   `json:"crs_source,omitempty"` // prj, flag, assumed, source
	Fields         []Field  `json:"fields"`
	GeometryType   string   `json:"geometry_type,omitempty"` // Point, LineString, Polygon, Multi…; "" unknown
	Count          int      `json:"count"`                   // records, -1 when unknown before reading
	Warnings       []string `json:"warnings,omitempty"`
}

// Source is an open file being read record by record.
type Source interface {
	Info() *Info
	// Next returns the next feature, or io.EOF after the last one. Other errors end the import.
	Next() (Feature, error)
	Close() error
}

// Options control how files are opened.
type Options struct {
	// Encoding forces the text encoding of DBF/CSV files (e.g. "cp1251"); empty: detect.
	Encoding string
	// DefaultEncoding is used when neither a .cpg file nor the DBF language byte names one.
	// Empty means CP1251, the usual code page of Russian/Kazakh Windows GIS software.
	DefaultEncoding string
	// SRID forces the source CRS (EPSG code), overriding a .prj; 0: from the file.
	SRID int
	// TempDir receives extracted archives; empty: os.TempDir().
	TempDir string
	// Zip limits archives (zero values take the defaults).
	Zip ZipLimits
	// CSV columns: longitude/latitude or WKT; empty: guessed from the header.
	LonColumn, LatColumn, WKTColumn string
	// Layer picks one layer of a multi-layer GeoPackage.
	Layer string
}

// Open opens the files to import: one .shp (with its .shx/.dbf/.prj/.cpg beside it), a set of
// shapefile parts, a folder holding one shapefile, a .zip of any of these, a .geojson/.json,
// .csv, .kml or .gpkg. Files are checked to be what their extension says.
func Open(paths []string, opt Options) (Source, error) {
	if len(paths) == 0 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "no file to import")
	}
	var cleanup []string
	src, err := open(paths, opt, &cleanup)
	if err != nil {
		for _, d := range cleanup {
			os.RemoveAll(d)
		}
		return nil, err
	}
	if len(cleanup) > 0 {
		return &cleanupSource{Source: src, dirs: cleanup}, nil
	}
	return src, nil
}

type cleanupSource struct {
	Source
	dirs []string
}

func (c *cleanupSource) Close() error {
	err := c.Source.Close()
	for _, d := range c.dirs {
		os.RemoveAll(d)
	}
	return err
}

func open(paths []string, opt Options, cleanup *[]string) (Source, error) {
	if len(paths) == 1 {
		p := paths[0]
		st, err := os.Stat(p)
		if err != nil {
			return nil, geoportal.Errorf(geoportal.EINVALID, "%s: %v", filepath.Base(p), errNotExist(err))
		}
		if st.IsDir() {
			return openDir(p, opt, cleanup)
		}
		switch ext := strings.ToLower(filepath.Ext(p)); ext {
		case ".zip":
			dir, err := extractZip(p, opt.TempDir, opt.Zip)
			if dir != "" {
				*cleanup = append(*cleanup, dir)
			}
			if err != nil {
				return nil, err
			}
			src, err := openDir(dir, opt, cleanup)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Base(p), err)
			}
			return src, nil
		case ".geojson", ".json":
			return OpenGeoJSON(p, opt)
		case ".csv", ".txt", ".tsv":
			return OpenCSV(p, opt)
		case ".kml":
			return OpenKML(p, opt)
		case ".gpkg":
			return OpenGeoPackage(p, opt)
		case ".shp", ".dbf", ".shx":
			return OpenShapefile(strings.TrimSuffix(p, filepath.Ext(p))+filepath.Ext(p), opt)
		default:
			return nil, geoportal.Errorf(geoportal.EINVALID, "%s: unsupported file type %q (want .shp, .zip, .geojson, .csv, .kml or .gpkg)", filepath.Base(p), ext)
		}
	}
	// A set of files: the parts of one shapefile.
	var shp []string
	for _, p := range paths {
		ext := strings.ToLower(filepath.Ext(p))
		switch ext {
		case ".shp":
			shp = append(shp, p)
		case ".shx", ".dbf", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".xml", ".cst":
		default:
			return nil, geoportal.Errorf(geoportal.EINVALID, "%s: a set of files must be the parts of one shapefile (.shp, .shx, .dbf, .prj, .cpg), not %q", filepath.Base(p), ext)
		}
	}
	if len(shp) != 1 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "a set of files must hold exactly one .shp, found %d", len(shp))
	}
	return OpenShapefile(shp[0], opt)
}

func errNotExist(err error) string {
	if os.IsNotExist(err) {
		return "no such file"
	}
	return err.Error()
}

// openDir finds the one importable file in a folder (searched recursively, as zips often hold
// a sub-folder).
func openDir(dir string, opt Options, cleanup *[]string) (Source, error) {
	var found, dbfOnly []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), "__MACOSX") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), "._") {
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".shp", ".geojson", ".json", ".kml", ".gpkg", ".csv":
			found = append(found, p)
		case ".dbf":
			dbfOnly = append(dbfOnly, p)
		}
		return nil
	})
	if err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "%s: %v", filepath.Base(dir), err)
	}
	sort.Strings(found)
	if len(found) == 0 {
		if len(dbfOnly) > 0 {
			return nil, geoportal.Errorf(geoportal.EINVALID, "%s has no .shp: an attribute table without geometry cannot become a map layer", rel(dir, dbfOnly[0]))
		}
		return nil, geoportal.Errorf(geoportal.EINVALID, "no .shp, .geojson, .csv, .kml or .gpkg file found")
	}
	if len(found) > 1 {
		var names []string
		for _, f := range found {
			names = append(names, rel(dir, f))
		}
		return nil, geoportal.Errorf(geoportal.EINVALID, "more than one file to import (%s): import them one at a time", strings.Join(names, ", "))
	}
	return open(found, opt, cleanup)
}

func rel(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return r
	}
	return filepath.Base(p)
}

// sniff reads the first bytes of a file, to check it is what its extension says.
func sniff(p string, n int) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return b[:k], nil
}

// looksLikeHTML reports whether b is an HTML page (a download that returned an error page).
func looksLikeHTML(b []byte) bool {
	t := bytes.ToLower(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	return bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html"))
}

// BaseName is the layer name a file suggests: its name without extension.
func BaseName(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}
