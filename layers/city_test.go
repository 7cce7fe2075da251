package layers_test

import (
	"math"
	"testing"

	"github.com/aktobe/geoportal/layers"
)

func TestViewOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bounds []float64
		center []float64
		zoom   float64
	}{
		{"one point: street level", []float64{-75.5, 39.2, -75.5, 39.2}, []float64{-75.5, 39.2}, 16},
		{"a town of 17 by 22 km", []float64{-75.6, 39.1, -75.4, 39.3}, []float64{-75.5, 39.2}, 11.9},
		{"a wide country", []float64{46.5, 40.6, 87.3, 55.4}, []float64{66.9, 48}, 5.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, z := layers.ViewOf(tc.bounds)
			if math.Abs(c[0]-tc.center[0]) > 1e-9 || math.Abs(c[1]-tc.center[1]) > 1e-9 || z != tc.zoom {
				t.Errorf("ViewOf(%v) = %v, %v; want %v, %v", tc.bounds, c, z, tc.center, tc.zoom)
			}
		})
	}
}
