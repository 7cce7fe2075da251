package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aktobe/geoportal/layers"
)

func TestCityFlags(t *testing.T) {
	parse := func(env map[string]string, args ...string) (layers.City, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := registerCityFlags(fs, func(k string) string { return env[k] })
		if err := fs.Parse(args); err != nil {
			return layers.City{}, err
		}
		return f.city()
	}
	t.Run("flags and env", func(t *testing.T) {
		got, err := parse(map[string]string{"GEOPORTAL_CITY_NAME_EN": "Dover", "GEOPORTAL_CITY_ZOOM": "12.5"},
			"-city-name-kk", "Довер", "-city-center", " -75.5, 39.2 ", "-city-bounds", "-75.6,39.1,-75.4,39.3")
		if err != nil {
			t.Fatal(err)
		}
		want := layers.City{Name: layers.Titles{KK: "Довер", EN: "Dover"}, Center: []float64{-75.5, 39.2}, Zoom: 12.5,
			Bounds: []float64{-75.6, 39.1, -75.4, 39.3}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("city (-want +got):\n%s", d)
		}
	})
	t.Run("nothing configured", func(t *testing.T) {
		got, err := parse(nil)
		if err != nil || !cmp.Equal(got, layers.City{}) {
			t.Errorf("%+v %v, want the zero city for the data to fill", got, err)
		}
	})
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"-city-center", "57.17"}, "-city-center"},
		{[]string{"-city-center", "57.17,north"}, "-city-center"},
		{[]string{"-city-center", "200,50"}, "-city-center"},
		{[]string{"-city-zoom", "40"}, "-city-zoom"},
		{[]string{"-city-zoom", "near"}, "-city-zoom"},
		{[]string{"-city-bounds", "57.3,50.1,57.0,50.4"}, "-city-bounds"},
		{[]string{"-city-bounds", "57,50,58"}, "-city-bounds"},
		{[]string{"-city-bounds", "57,50,NaN,51"}, "-city-bounds"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parse(nil, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %v, want one naming %s", err, tc.says)
			}
		})
	}
}
