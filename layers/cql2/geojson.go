package cql2

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/aktobe/geoportal"
	"github.com/paulmach/orb"
)

// The small GeoJSON geometry codec below exists because orb/geojson pulls the MongoDB driver
// into the module for its BSON methods; geometries are all we need.

// MarshalGeometry encodes g as a GeoJSON geometry object (an orb.Bound as a Polygon).
func MarshalGeometry(g orb.Geometry) ([]byte, error) {
	if b, ok := g.(orb.Bound); ok {
		g = b.ToPolygon()
	}
	if c, ok := g.(orb.Collection); ok {
		var gs []json.RawMessage
		for _, x := range c {
			raw, err := MarshalGeometry(x)
			if err != nil {
				return nil, err
			}
			gs = append(gs, raw)
		}
		return json.Marshal(map[string]any{"type": "GeometryCollection", "geometries": gs})
	}
	var coords any
	switch g := g.(type) {
	case orb.Point:
		coords = [2]float64(g)
	case orb.MultiPoint:
		coords = g
	case orb.LineString:
		coords = g
	case orb.MultiLineString:
		coords = g
	case orb.Polygon:
		coords = g
	case orb.MultiPolygon:
		coords = g
	default:
		return nil, fmt.Errorf("cql2: cannot encode %T as GeoJSON", g)
	}
	return json.Marshal(map[string]any{"type": g.GeoJSONType(), "coordinates": coords})
}

type rawGeometry struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometries  []json.RawMessage `json:"geometries"`
}

// UnmarshalGeometry decodes a GeoJSON geometry object and checks its shape (ring closure,
// enough points, finite numbers).
func UnmarshalGeometry(data []byte) (orb.Geometry, error) {
	g, err := unmarshalGeometry(data, 0)
	if err != nil {
		return nil, err
	}
	if err := checkGeometry(g); err != nil {
		return nil, err
	}
	return g, nil
}

func unmarshalGeometry(data []byte, depth int) (orb.Geometry, error) {
	bad := func(format string, args ...any) error {
		return geoportal.Errorf(geoportal.EINVALID, "GeoJSON geometry: "+format, args...)
	}
	if depth > 8 {
		return nil, bad("geometry collections nested too deep")
	}
	var r rawGeometry
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, bad("%v", err)
	}
	if r.Type == "GeometryCollection" {
		var c orb.Collection
		for _, x := range r.Geometries {
			g, err := unmarshalGeometry(x, depth+1)
			if err != nil {
				return nil, err
			}
			c = append(c, g)
		}
		return c, nil
	}
	if len(r.Coordinates) == 0 {
		return nil, bad("missing coordinates")
	}
	var err error
	var g orb.Geometry
	switch r.Type {
	case "Point":
		var p []float64
		if err = json.Unmarshal(r.Coordinates, &p); err == nil {
			if len(p) < 2 {
				return nil, bad("a position needs at least 2 numbers")
			}
			g = orb.Point{p[0], p[1]}
		}
	case "MultiPoint", "LineString":
		var ps [][]float64
		if err = json.Unmarshal(r.Coordinates, &ps); err == nil {
			var pts []orb.Point
			if pts, err = positions(ps); err == nil {
				if r.Type == "MultiPoint" {
					g = orb.MultiPoint(pts)
				} else {
					g = orb.LineString(pts)
				}
			}
		}
	case "MultiLineString", "Polygon":
		var pss [][][]float64
		if err = json.Unmarshal(r.Coordinates, &pss); err == nil {
			var mls orb.MultiLineString
			var poly orb.Polygon
			for _, ps := range pss {
				pts, perr := positions(ps)
				if perr != nil {
					return nil, perr
				}
				mls = append(mls, orb.LineString(pts))
				poly = append(poly, orb.Ring(pts))
			}
			if r.Type == "Polygon" {
				g = poly
			} else {
				g = mls
			}
		}
	case "MultiPolygon":
		var psss [][][][]float64
		if err = json.Unmarshal(r.Coordinates, &psss); err == nil {
			var mp orb.MultiPolygon
			for _, pss := range psss {
				var poly orb.Polygon
				for _, ps := range pss {
					pts, perr := positions(ps)
					if perr != nil {
						return nil, perr
					}
					poly = append(poly, orb.Ring(pts))
				}
				mp = append(mp, poly)
			}
			g = mp
		}
	default:
		return nil, bad("unknown type %q", r.Type)
	}
	if err != nil {
		return nil, bad("%s coordinates: %v", r.Type, err)
	}
	return g, nil
}

func positions(ps [][]float64) ([]orb.Point, error) {
	out := make([]orb.Point, len(ps))
	for i, p := range ps {
		if len(p) < 2 {
			return nil, geoportal.Errorf(geoportal.EINVALID, "GeoJSON geometry: a position needs at least 2 numbers")
		}
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			return nil, geoportal.Errorf(geoportal.EINVALID, "GeoJSON geometry: coordinates must be numbers")
		}
		out[i] = orb.Point{p[0], p[1]}
	}
	return out, nil
}
