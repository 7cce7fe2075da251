package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aktobe/geoportal/bench/city"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TestSameSeedSameBytes generates a small city twice and compares every file byte for byte.
func TestSameSeedSameBytes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := run([]string{"-out", dir, "-scale", "0.01", "-seed", "7"}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range layers {
		x, err := os.ReadFile(filepath.Join(a, l.name+".geojson"))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, l.name+".geojson"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s: the two runs differ", l.name)
		}
	}
}

// TestOtherSeedOtherCity guards against a seed that is ignored.
func TestOtherSeedOtherCity(t *testing.T) {
	var files [][]byte
	for _, seed := range []string{"1", "2"} {
		dir := t.TempDir()
		if err := run([]string{"-out", dir, "-scale", "0.01", "-seed", seed, "-layers", "buildings"}, io.Discard); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "buildings.geojson"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if bytes.Equal(files[0], files[1]) {
		t.Error("seeds 1 and 2 wrote the same buildings")
	}
}

// TestLayers reads every layer back with orb's GeoJSON reader (as layers/analysis' benchmark
// does) and checks its size, ids, geometry type, extent, rings and the properties the
// benchmarks read.
func TestLayers(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-out", dir, "-scale", "0.01"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		layer    string
		count    int
		geometry string
		props    []string
	}{
		{"buildings", 1500, "Polygon", []string{"name", "address", "use", "levels", "height_m", "district", "district_kk", "year_built", "area_m2"}},
		{"streets", 200, "LineString", []string{"name", "name_kk", "class", "length_m"}},
		{"bus_stops", 15, "Point", []string{"name", "name_kk", "routes"}},
		{"cameras", 2 + 5, "Point", []string{"status", "heading", "fov_deg", "range_m"}},
		{"schools", 1, "Point", []string{"name", "name_kk", "capacity"}},
		{"clinics", 1, "Point", []string{"name", "type"}},
		{"sports_grounds", 3, "Polygon", []string{"name", "sport", "area_m2"}},
		{"biotoilets", 1, "Point", []string{"status", "address"}},
		{"ramps", 9, "Point", []string{"type", "slope_pct", "width_m"}},
	}
	if len(tests) != len(layers) {
		t.Fatalf("%d layers tested, %d written", len(tests), len(layers))
	}
	for _, tc := range tests {
		t.Run(tc.layer, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tc.layer+".geojson"))
			if err != nil {
				t.Fatal(err)
			}
			fc, err := geojson.UnmarshalFeatureCollection(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(fc.Features) != tc.count {
				t.Fatalf("%d features, want %d", len(fc.Features), tc.count)
			}
			for i, f := range fc.Features {
				if id, ok := f.ID.(float64); !ok || id != float64(i+1) {
					t.Fatalf("feature %d: id %v, want %d", i+1, f.ID, i+1)
				}
				if f.Geometry.GeoJSONType() != tc.geometry {
					t.Fatalf("feature %d: %s, want %s", i+1, f.Geometry.GeoJSONType(), tc.geometry)
				}
				for _, k := range tc.props {
					if _, ok := f.Properties[k]; !ok {
						t.Fatalf("feature %d has no property %q: %v", i+1, k, f.Properties)
					}
				}
				checkGeometry(t, i+1, f.Geometry)
			}
		})
	}
}

func checkGeometry(t *testing.T, id int, g orb.Geometry) {
	t.Helper()
	var points []orb.Point
	switch g := g.(type) {
	case orb.Point:
		points = []orb.Point{g}
	case orb.LineString:
		points = g
	case orb.Polygon:
		if len(g) != 1 {
			t.Fatalf("feature %d: %d rings", id, len(g))
		}
		r := g[0]
		if len(r) < 4 || !r.Closed() {
			t.Fatalf("feature %d: ring of %d points is not closed: %v", id, len(r), r)
		}
		if r.Orientation() != orb.CCW {
			t.Fatalf("feature %d: ring is not counter-clockwise (RFC 7946)", id)
		}
		points = r
	}
	for _, p := range points {
		if !city.Bound.Contains(p) {
			t.Fatalf("feature %d: %v is outside the city %v", id, p, city.Bound)
		}
	}
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"no -out", []string{"-scale", "0.01"}},
		{"zero scale", []string{"-out", dir, "-scale", "0"}},
		{"unknown layer", []string{"-out", dir, "-layers", "buildings,parks"}},
		{"stray argument", []string{"-out", dir, "extra"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(tc.args, io.Discard); err == nil {
				t.Errorf("run(%q) = nil, want an error", tc.args)
			}
		})
	}
}
