package cql2

import (
	"encoding/json"

	"github.com/aktobe/geoportal"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// GeoJSON geometries are read and written with orb's geojson codec. What is here checks first
// what orb lets through silently or names only vaguely: a position of fewer than two numbers
// (orb reads [57] as 57, 0), an unknown type, missing coordinates, collections nested without end.

// UnmarshalGeometry decodes a GeoJSON geometry object and checks its shape (ring closure,
// enough points, finite numbers).
func UnmarshalGeometry(data []byte) (orb.Geometry, error) {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, badGeoJSON("%v", err)
	}
	if err := checkGeoJSON(doc, 0); err != nil {
		return nil, err
	}
	gj, err := geojson.UnmarshalGeometry(data)
	if err != nil {
		return nil, badGeoJSON("%v", err)
	}
	g := gj.Geometry()
	if err := checkGeometry(g); err != nil {
		return nil, err
	}
	return g, nil
}

func badGeoJSON(format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, "GeoJSON geometry: "+format, args...)
}

// positionDepth is how deep a type's coordinates nest arrays down to its positions.
var positionDepth = map[string]int{"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3,
	"Polygon": 3, "MultiPolygon": 4}

// checkGeoJSON checks a decoded geometry object: a known type, coordinates nested as the type
// wants, positions of at least two numbers, collections at most 8 deep.
func checkGeoJSON(v any, depth int) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return badGeoJSON("not an object")
	}
	typ, _ := obj["type"].(string)
	if typ == "GeometryCollection" {
		if depth > 8 {
			return badGeoJSON("geometry collections nested too deep")
		}
		parts, _ := obj["geometries"].([]any)
		for _, p := range parts {
			if err := checkGeoJSON(p, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	d, ok := positionDepth[typ]
	if !ok {
		return badGeoJSON("unknown type %q", typ)
	}
	if obj["coordinates"] == nil {
		return badGeoJSON("missing coordinates")
	}
	return checkPositions(obj["coordinates"], d, typ)
}

func checkPositions(v any, depth int, typ string) error {
	a, ok := v.([]any)
	if !ok {
		return badGeoJSON("%s coordinates: %v is not an array", typ, v)
	}
	if depth > 1 {
		for _, x := range a {
			if err := checkPositions(x, depth-1, typ); err != nil {
				return err
			}
		}
		return nil
	}
	if len(a) < 2 {
		return badGeoJSON("a position needs at least 2 numbers")
	}
	for _, x := range a {
		if _, ok := x.(float64); !ok {
			return badGeoJSON("coordinates must be numbers")
		}
	}
	return nil
}
