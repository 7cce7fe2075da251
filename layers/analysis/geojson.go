package analysis

import (
	"math"

	"github.com/paulmach/orb"
)

// FeatureCollection is a GeoJSON FeatureCollection (RFC 7946), lon/lat.
type FeatureCollection struct {
	Type     string    `json:"type"`
	Features []Feature `json:"features"`
}

// Feature is a GeoJSON feature.
type Feature struct {
	Type       string         `json:"type"`
	ID         any            `json:"id,omitempty"`
	Geometry   Geometry       `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

// Geometry is a GeoJSON geometry; Coordinates is nested float arrays.
type Geometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

func newCollection() FeatureCollection {
	return FeatureCollection{Type: "FeatureCollection", Features: []Feature{}}
}

// r7 rounds a coordinate to 7 decimals (about 1 cm), which keeps the JSON short.
func r7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

func pointCoords(p orb.Point) []float64 { return []float64{r7(p[0]), r7(p[1])} }

func lineCoords(l orb.LineString) [][]float64 {
	out := make([][]float64, len(l))
	for i, p := range l {
		out[i] = pointCoords(p)
	}
	return out
}

func polygonCoords(pg orb.Polygon) [][][]float64 {
	out := make([][][]float64, len(pg))
	for i, r := range pg {
		out[i] = lineCoords(orb.LineString(r))
	}
	return out
}

func pointGeometry(p orb.Point) Geometry { return Geometry{Type: "Point", Coordinates: pointCoords(p)} }

func polygonGeometry(pg orb.Polygon) Geometry {
	return Geometry{Type: "Polygon", Coordinates: polygonCoords(pg)}
}

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
