package analysis

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Answers carry their features as GeoJSON (RFC 7946, lon/lat) in orb's geojson types, the
// codec every GeoJSON of the geoportal goes through.

// newCollection returns an empty feature collection (its features [] rather than null).
func newCollection() geojson.FeatureCollection { return *geojson.NewFeatureCollection() }

// feature is the GeoJSON feature of g (a copy, its coordinates rounded to 7 decimals, about
// 1 cm, which keeps the JSON short).
func feature(id any, g orb.Geometry, props map[string]any) *geojson.Feature {
	f := geojson.NewFeature(orb.Round(orb.Clone(g), 1e7))
	f.ID, f.Properties = id, props
	return f
}

// r7 rounds a coordinate to 7 decimals, as feature does.
func r7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// share is part/total, 0 when total is 0.
func share(part, total float64) float64 {
	if total == 0 {
		return 0
	}
	return part / total
}
