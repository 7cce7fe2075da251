package importers

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func addCorpusSeeds(f *testing.F, exts ...string) {
	root := corpusDir(f)
	for _, rel := range []string{"go-shp/polygonz", "go-shp/multipatch", "mbostock-shapefile/polygons", "postgis-loader/PolygonM",
		"shapefile-js/export_polylinez", "debian-spdata/eire", "mbostock-shapefile/null", "mbostock-shapefile/date-property"} {
		var parts [][]byte
		for _, ext := range exts {
			b, err := os.ReadFile(filepath.Join(root, rel+ext))
			if err != nil {
				f.Fatal(err)
			}
			parts = append(parts, b)
		}
		args := make([]any, len(parts))
		for i, p := range parts {
			args[i] = p
		}
		f.Add(args...)
	}
}

// FuzzShapefile reads arbitrary .shp/.shx bytes: errors are fine, panics and runaway
// allocations are not.
func FuzzShapefile(f *testing.F) {
	addCorpusSeeds(f, ".shp", ".shx")
	f.Fuzz(func(t *testing.T, shp, shx []byte) {
		r, err := NewSHPReader(bytes.NewReader(shp), int64(len(shp)), bytes.NewReader(shx), int64(len(shx)), "fuzz.shp")
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			g, n, err := r.Next()
			if err == io.EOF {
				return
			}
			var re *RecordError
			if err != nil && !asRecordError(err, &re) {
				return
			}
			if err == nil && g != nil && n != i+1 {
				t.Fatalf("record %d numbered %d", i+1, n)
			}
		}
	})
}

func asRecordError(err error, re **RecordError) bool {
	e, ok := err.(*RecordError)
	if ok {
		*re = e
	}
	return ok
}

// FuzzDBF reads arbitrary DBF bytes with every code page.
func FuzzDBF(f *testing.F) {
	addCorpusSeeds(f, ".dbf")
	f.Fuzz(func(t *testing.T, dbf []byte) {
		d, err := NewDBFReader(bytes.NewReader(dbf), "fuzz.dbf")
		if err != nil {
			return
		}
		dec, _ := LookupEncoding("PT154")
		d.SetDecoder(dec)
		vals := make([]any, len(d.Fields))
		for i := 0; i < 10000; i++ {
			if _, err := d.Next(vals); err == io.EOF {
				return
			} else if err != nil {
				if _, ok := err.(*RecordError); !ok {
					return
				}
			}
		}
	})
}

// FuzzGeoPackageGeometry reads arbitrary GeoPackage geometry blobs (header + WKB).
func FuzzGeoPackageGeometry(f *testing.F) {
	f.Add([]byte("GP\x00\x01\xe6\x10\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00@"))
	f.Add([]byte("GP\x00\x03\xe6\x10\x00\x00" + string(make([]byte, 32)) + "\x01\xea\x03\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x08@"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseGPKGGeometry(b)
	})
}
