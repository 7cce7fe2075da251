package importers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo"
	"github.com/paulmach/orb/geojson"
)

// GeoJSON reads a FeatureCollection feature by feature with a streaming JSON decoder (a first
// pass infers the attribute schema), so memory does not grow with the file.
type GeoJSON struct {
	info Info
	path string
	f    *os.File
	dec  *json.Decoder
	n    int
	done bool
}

type rawFeature struct {
	Type       string            `json:"type"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties map[string]any    `json:"properties"`
}

var epsgURN = regexp.MustCompile(`EPSG:{1,2}(\d+)`)

// OpenGeoJSON opens a GeoJSON file.
func OpenGeoJSON(p string, opt Options) (Source, error) {
	name := filepath.Base(p)
	head, err := sniff(p, 512)
	if err != nil {
		return nil, invalid("%s: %v", name, errNotExist(err))
	}
	t := bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")))
	if len(t) == 0 || t[0] != '{' {
		if looksLikeHTML(head) {
			return nil, invalid("%s is an HTML page, not GeoJSON", name)
		}
		return nil, invalid("%s is not GeoJSON (it does not start with '{')", name)
	}
	g := &GeoJSON{path: p, info: Info{Format: "geojson", Name: BaseName(p), File: name, Encoding: "UTF-8", Count: -1}}
	// First pass: schema, geometry type, count and a legacy "crs" member.
	guess := newSchemaGuess()
	crsCode := 0
	n := 0
	err = g.scan(func(key string, dec *json.Decoder) error {
		if key == "crs" {
			var c struct {
				Properties struct {
					Name string `json:"name"`
				} `json:"properties"`
			}
			if err := dec.Decode(&c); err != nil {
				return err
			}
			if m := epsgURN.FindStringSubmatch(c.Properties.Name); m != nil {
				crsCode, _ = strconv.Atoi(m[1])
			}
			return nil
		}
		var rf rawFeature
		if err := dec.Decode(&rf); err != nil {
			return fmt.Errorf("feature %d: %w", n+1, err)
		}
		n++
		for k, v := range rf.Properties {
			guess.value(k, v, false)
		}
		if rf.Geometry != nil && rf.Geometry.Coordinates != nil {
			guess.geometry(rf.Geometry.Coordinates)
		} else if rf.Geometry != nil && rf.Geometry.Geometries != nil {
			guess.geometry(rf.Geometry.Geometry())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	g.info.Count = n
	g.info.Fields = guess.fields()
	g.info.GeometryType = guess.geometryType()
	switch {
	case opt.SRID != 0:
		g.info.CRS, err = geo.EPSG(opt.SRID)
		g.info.CRSSource = "flag"
	case crsCode != 0 && crsCode != 4326 && crsCode != 84:
		g.info.CRS, err = geo.EPSG(crsCode)
		g.info.CRSSource = "source"
	default:
		g.info.CRS, g.info.CRSSource = geo.WGS84, "source"
	}
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	// Second pass, streaming, in Next.
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	g.f = f
	g.dec = json.NewDecoder(bufio.NewReaderSize(f, 256<<10))
	g.dec.UseNumber()
	if err := seekFeatures(g.dec, nil); err != nil {
		f.Close()
		return nil, invalid("%s: %v", name, err)
	}
	return g, nil
}

// scan runs fn for every feature of the file (and for a top-level "crs" member before them).
func (g *GeoJSON) scan(fn func(key string, dec *json.Decoder) error) error {
	f, err := os.Open(g.path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 256<<10))
	dec.UseNumber()
	if err := seekFeatures(dec, fn); err != nil {
		return invalid("%s: %v", g.info.File, err)
	}
	for dec.More() {
		if err := fn("feature", dec); err != nil {
			return invalid("%s: %v", g.info.File, err)
		}
	}
	return nil
}

// seekFeatures moves dec to the first element of the "features" array of a FeatureCollection.
func seekFeatures(dec *json.Decoder, onCRS func(string, *json.Decoder) error) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("not a GeoJSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fmt.Errorf(`"features" is not an array`)
			}
			return nil
		case "crs":
			if onCRS != nil {
				if err := onCRS("crs", dec); err != nil {
					return err
				}
				continue
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return fmt.Errorf(`no "features" array: only FeatureCollections can be imported`)
}

// Info describes the file.
func (g *GeoJSON) Info() *Info { return &g.info }

// Next decodes the next feature.
func (g *GeoJSON) Next() (Feature, error) {
	if g.done || !g.dec.More() {
		g.done = true
		return Feature{}, io.EOF
	}
	g.n++
	var rf rawFeature
	if err := g.dec.Decode(&rf); err != nil {
		return Feature{}, geoportal.Errorf(geoportal.EINVALID, "%s: feature %d: %v", g.info.File, g.n, err)
	}
	f := Feature{Record: g.n, Values: make([]any, len(g.info.Fields))}
	for i, fld := range g.info.Fields {
		f.Values[i] = jsonValue(rf.Properties[fld.Name])
	}
	if rf.Geometry != nil {
		f.Geom = rf.Geometry.Geometry()
	}
	if f.Geom == nil {
		f.Err = &RecordError{Record: g.n, Reason: "feature has no geometry"}
	}
	return f, nil
}

// Close closes the file.
func (g *GeoJSON) Close() error { return g.f.Close() }
