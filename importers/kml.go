package importers

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo"
	"github.com/paulmach/orb"
)

// KML reads the Placemarks of a KML file one at a time (a first pass collects the attribute
// names: name, description and ExtendedData). KML is always longitude/latitude (EPSG:4326).
type KML struct {
	info Info
	f    *os.File
	dec  *xml.Decoder
	n    int
}

type kmlCoords struct {
	Coordinates string `xml:"coordinates"`
}

type kmlPolygon struct {
	Outer string   `xml:"outerBoundaryIs>LinearRing>coordinates"`
	Inner []string `xml:"innerBoundaryIs>LinearRing>coordinates"`
}

type kmlMulti struct {
	Points   []kmlCoords  `xml:"Point"`
	Lines    []kmlCoords  `xml:"LineString"`
	Polygons []kmlPolygon `xml:"Polygon"`
	Multi    []kmlMulti   `xml:"MultiGeometry"`
}

type kmlPlacemark struct {
	Name        *string `xml:"name"`
	Description *string `xml:"description"`
	Data        []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value"`
	} `xml:"ExtendedData>Data"`
	SimpleData []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"ExtendedData>SchemaData>SimpleData"`
	kmlMulti
}

func (p *kmlPlacemark) values() map[string]string {
	m := map[string]string{}
	if p.Name != nil {
		m["name"] = strings.TrimSpace(*p.Name)
	}
	if p.Description != nil {
		m["description"] = strings.TrimSpace(*p.Description)
	}
	for _, d := range p.Data {
		m[d.Name] = strings.TrimSpace(d.Value)
	}
	for _, d := range p.SimpleData {
		m[d.Name] = strings.TrimSpace(d.Value)
	}
	return m
}

func parseKMLCoords(s string) ([]orb.Point, error) {
	var out []orb.Point
	for _, tuple := range strings.Fields(s) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 {
			return nil, fmt.Errorf("coordinate %q is not lon,lat", tuple)
		}
		x, err1 := strconv.ParseFloat(parts[0], 64)
		y, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("coordinate %q is not lon,lat", tuple)
		}
		out = append(out, orb.Point{x, y})
	}
	return out, nil
}

// geometry turns the placemark's geometries into one orb geometry (a collection when mixed).
func (m *kmlMulti) geometry() (orb.Geometry, error) {
	var parts []orb.Geometry
	for _, p := range m.Points {
		c, err := parseKMLCoords(p.Coordinates)
		if err != nil || len(c) != 1 {
			return nil, fmt.Errorf("bad Point coordinates %q", head(p.Coordinates, 40))
		}
		parts = append(parts, c[0])
	}
	for _, l := range m.Lines {
		c, err := parseKMLCoords(l.Coordinates)
		if err != nil {
			return nil, err
		}
		parts = append(parts, orb.LineString(c))
	}
	for _, pg := range m.Polygons {
		outer, err := parseKMLCoords(pg.Outer)
		if err != nil {
			return nil, err
		}
		poly := orb.Polygon{closeRing(outer)}
		for _, in := range pg.Inner {
			r, err := parseKMLCoords(in)
			if err != nil {
				return nil, err
			}
			poly = append(poly, closeRing(r))
		}
		parts = append(parts, poly)
	}
	for i := range m.Multi {
		g, err := m.Multi[i].geometry()
		if err != nil {
			return nil, err
		}
		if g != nil {
			parts = append(parts, g)
		}
	}
	switch len(parts) {
	case 0:
		return nil, nil
	case 1:
		return parts[0], nil
	}
	// Same kind: a Multi geometry; mixed: a collection (rejected unless it repairs to one kind).
	mp, ml, mpoly := geo.Split(parts)
	switch {
	case len(ml) == 0 && len(mpoly) == 0:
		return mp, nil
	case len(mp) == 0 && len(mpoly) == 0:
		return ml, nil
	case len(mp) == 0 && len(ml) == 0:
		return mpoly, nil
	}
	return orb.Collection(parts), nil
}

// nextPlacemark advances dec to the next Placemark and decodes it; io.EOF at the end.
func nextPlacemark(dec *xml.Decoder) (*kmlPlacemark, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Placemark" {
			var p kmlPlacemark
			if err := dec.DecodeElement(&p, &se); err != nil {
				return nil, err
			}
			return &p, nil
		}
	}
}

// OpenKML opens a .kml file.
func OpenKML(p string, opt Options) (Source, error) {
	name := filepath.Base(p)
	headb, err := sniff(p, 4096)
	if err != nil {
		return nil, invalid("%s: %v", name, errNotExist(err))
	}
	if looksLikeHTML(headb) || !strings.Contains(string(headb), "<kml") {
		return nil, invalid("%s is not a KML document (no <kml> element at the start)", name)
	}
	k := &KML{info: Info{Format: "kml", Name: BaseName(p), File: name, Encoding: "UTF-8", EncodingSource: "source",
		CRS: geo.WGS84, CRSSource: "source"}}
	if opt.SRID != 0 && opt.SRID != 4326 {
		return nil, invalid("%s: KML is always longitude/latitude (EPSG:4326), --srid %d does not apply", name, opt.SRID)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	guess := newSchemaGuess()
	dec := xml.NewDecoder(bufio.NewReaderSize(f, 256<<10))
	n := 0
	for {
		pm, err := nextPlacemark(dec)
		if err == io.EOF {
			break
		} else if err != nil {
			f.Close()
			return nil, invalid("%s: placemark %d: %v", name, n+1, err)
		}
		n++
		if pm.Name != nil {
			guess.field("name")
		}
		if pm.Description != nil {
			guess.field("description")
		}
		for k, v := range pm.values() {
			guess.value(k, v, true)
		}
		if g, err := pm.geometry(); err == nil && g != nil {
			guess.geometry(g)
		}
	}
	f.Close()
	k.info.Count = n
	k.info.Fields = guess.fields()
	k.info.GeometryType = guess.geometryType()
	if k.f, err = os.Open(p); err != nil {
		return nil, err
	}
	k.dec = xml.NewDecoder(bufio.NewReaderSize(k.f, 256<<10))
	return k, nil
}

// Info describes the file.
func (k *KML) Info() *Info { return &k.info }

// Next reads the next Placemark.
func (k *KML) Next() (Feature, error) {
	pm, err := nextPlacemark(k.dec)
	if err == io.EOF {
		return Feature{}, io.EOF
	} else if err != nil {
		return Feature{}, geoportal.Errorf(geoportal.EINVALID, "%s: placemark %d: %v", k.info.File, k.n+1, err)
	}
	k.n++
	f := Feature{Record: k.n, Values: make([]any, len(k.info.Fields))}
	vals := pm.values()
	for i, fld := range k.info.Fields {
		if v, ok := vals[fld.Name]; ok && v != "" {
			f.Values[i] = v
		}
	}
	f.Geom, err = pm.geometry()
	if err != nil {
		f.Err = &RecordError{Record: k.n, Reason: err.Error()}
	} else if f.Geom == nil {
		f.Err = &RecordError{Record: k.n, Reason: "placemark has no geometry"}
	}
	return f, nil
}

// Close closes the file.
func (k *KML) Close() error { return k.f.Close() }
