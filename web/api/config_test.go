package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/api"
)

// The city is configuration or data, never code: a database holding only features around Dover,
// Delaware (-75.5, 39.2) opens its map there, named by its boundary when it has one, and the
// serve flags win over both.
func TestMapConfigCity(t *testing.T) {
	schools := `INSERT INTO layer.schools (geom, name) VALUES
		(ST_SetSRID(ST_MakePoint(-75.60, 39.10), 4326), 'West school'),
		(ST_SetSRID(ST_MakePoint(-75.40, 39.30), 4326), 'East school')`
	boundary := `INSERT INTO layer.city_boundary (geom, name, name_kk, name_ru, name_en) VALUES
		(ST_Multi(ST_MakeEnvelope(-75.58, 39.12, -75.46, 39.22, 4326)), 'Dover', 'Довер', 'Довер', 'Dover')`
	cases := []struct {
		name       string
		sql        []string
		configured layers.City
		want       layers.City
	}{
		{name: "features only", sql: []string{schools},
			want: layers.City{Center: []float64{-75.5, 39.2}, Bounds: []float64{-75.6, 39.1, -75.4, 39.3},
				Derived: []string{"bounds", "center", "zoom"}}},
		{name: "a city boundary", sql: []string{schools, boundary},
			want: layers.City{Name: layers.Titles{KK: "Довер", RU: "Довер", EN: "Dover"}, Center: []float64{-75.52, 39.17},
				Bounds: []float64{-75.58, 39.12, -75.46, 39.22}, Derived: []string{"name", "bounds", "center", "zoom"}}},
		{name: "configured", sql: []string{schools, boundary},
			configured: layers.City{Name: layers.Titles{KK: "Дувр", RU: "Дувр", EN: "Dover, DE"}, Center: []float64{-75.52, 39.16}, Zoom: 13},
			want: layers.City{Name: layers.Titles{KK: "Дувр", RU: "Дувр", EN: "Dover, DE"}, Center: []float64{-75.52, 39.16}, Zoom: 13,
				Bounds: []float64{-75.58, 39.12, -75.46, 39.22}, Derived: []string{"bounds"}}},
		{name: "configured elsewhere than the data", sql: []string{schools},
			configured: layers.City{Center: []float64{57.17, 50.28}, Zoom: 12},
			want:       layers.City{Center: []float64{57.17, 50.28}, Zoom: 12}},
		{name: "configured bounds", sql: []string{schools, boundary},
			configured: layers.City{Bounds: []float64{-75.7, 39.0, -75.3, 39.4}},
			want: layers.City{Name: layers.Titles{KK: "Довер", RU: "Довер", EN: "Dover"}, Center: []float64{-75.5, 39.2},
				Bounds: []float64{-75.7, 39.0, -75.3, 39.4}, Derived: []string{"name", "center", "zoom"}}},
		{name: "no features", configured: layers.City{Zoom: 12}, want: layers.City{Zoom: 12}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pool := dbtest.New(t)
			for _, q := range tc.sql {
				if _, err := pool.Exec(context.Background(), q); err != nil {
					t.Fatal(err)
				}
			}
			srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
			srv.Map = api.MapConfig{City: tc.configured}
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			resp, err := http.Get(ts.URL + "/api/config")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var got struct{ City layers.City }
			if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			c := got.City
			if c.Name != tc.want.Name || !slices.Equal(c.Derived, tc.want.Derived) || !near(c.Center, tc.want.Center) || !near(c.Bounds, tc.want.Bounds) {
				t.Fatalf("city %s, want %+v", b, tc.want)
			}
			if tc.want.Zoom != 0 && c.Zoom != tc.want.Zoom {
				t.Errorf("zoom %v, want %v", c.Zoom, tc.want.Zoom)
			}
			if tc.want.Zoom == 0 && c.Center != nil && (c.Zoom < 9 || c.Zoom > 13) {
				t.Errorf("zoom %v does not show a town of 10-20 km", c.Zoom)
			}
		})
	}
}

func near(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-4 {
			return false
		}
	}
	return true
}
