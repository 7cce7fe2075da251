// Package reference holds the real geodata of Aktobe that ships with the geoportal: the city
// boundary and the settlements around the city, both © OpenStreetMap contributors (ODbL 1.0).
//
//	boundary, err := reference.CityBoundary()
package reference

import (
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Attribution must be shown wherever this data is shown.
const Attribution = "© OpenStreetMap contributors, ODbL 1.0 (geoBoundaries, HOT OSM export)"

//go:embed city_boundary.geojson
var cityBoundaryJSON []byte

//go:embed places_around_aktobe.geojson
var placesJSON []byte

// ErrNoBoundary is returned when the embedded boundary file holds no polygon.
var ErrNoBoundary = errors.New("reference: city_boundary.geojson holds no polygon")

// CityBoundary returns the boundary of the city administration of Aktobe (geoBoundaries KAZ ADM2,
// from OSM) in EPSG:4326.
func CityBoundary() (orb.MultiPolygon, error) {
	fc, err := geojson.UnmarshalFeatureCollection(cityBoundaryJSON)
	if err != nil {
		return nil, fmt.Errorf("reference: city_boundary.geojson: %w", err)
	}
	var mp orb.MultiPolygon
	for _, f := range fc.Features {
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = append(mp, g)
		case orb.MultiPolygon:
			mp = append(mp, g...)
		}
	}
	if len(mp) == 0 {
		return nil, ErrNoBoundary
	}
	return mp, nil
}

// Place is a settlement point from places_around_aktobe.geojson.
type Place struct {
	OSMID  int64
	Point  orb.Point
	Name   string
	NameKK string // empty when OSM has no name:kk
	NameRU string
	NameEN string
	Kind   string // OSM place=*: city, village, hamlet
	// Population is 0 when OSM has no population tag.
	Population int
}

// Places returns the 26 settlements in and around the city, in file order.
func Places() ([]Place, error) {
	fc, err := geojson.UnmarshalFeatureCollection(placesJSON)
	if err != nil {
		return nil, fmt.Errorf("reference: places_around_aktobe.geojson: %w", err)
	}
	places := make([]Place, 0, len(fc.Features))
	for i, f := range fc.Features {
		pt, ok := f.Geometry.(orb.Point)
		if !ok {
			return nil, fmt.Errorf("reference: places_around_aktobe.geojson: feature %d: geometry is %s, want Point",
				i, f.Geometry.GeoJSONType())
		}
		p := Place{
			Point:  pt,
			Name:   f.Properties.MustString("name", ""),
			NameKK: f.Properties.MustString("name:kk", ""),
			NameRU: f.Properties.MustString("name:ru", ""),
			NameEN: f.Properties.MustString("name:en", ""),
			Kind:   f.Properties.MustString("place", ""),
		}
		if p.Name == "" {
			return nil, fmt.Errorf("reference: places_around_aktobe.geojson: feature %d has no name", i)
		}
		switch v := f.Properties["osm_id"].(type) {
		case float64:
			p.OSMID = int64(v)
		}
		switch v := f.Properties["population"].(type) {
		case string:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("reference: places_around_aktobe.geojson: %s: population %q is not a number", p.Name, v)
			}
			p.Population = n
		case float64:
			p.Population = int(v)
		}
		places = append(places, p)
	}
	return places, nil
}
