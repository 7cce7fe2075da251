package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal/layers"
)

// cityFlags name the city and where its map opens; what is left empty comes from the data
// (layers.Store.City: the city boundary's name and extent, else the extent of every layer).
type cityFlags struct {
	nameKK, nameRU, nameEN, center, zoom, bounds *string
}

func registerCityFlags(fs *flag.FlagSet, getenv func(string) string) *cityFlags {
	return &cityFlags{
		nameKK: fs.String("city-name-kk", getenv("GEOPORTAL_CITY_NAME_KK"), "the city's name in Kazakh, shown in the web map's header and title (env GEOPORTAL_CITY_NAME_KK; empty, with -ru and -en: the city boundary's name_kk)"),
		nameRU: fs.String("city-name-ru", getenv("GEOPORTAL_CITY_NAME_RU"), "the city's name in Russian (env GEOPORTAL_CITY_NAME_RU)"),
		nameEN: fs.String("city-name-en", getenv("GEOPORTAL_CITY_NAME_EN"), "the city's name in English (env GEOPORTAL_CITY_NAME_EN)"),
		center: fs.String("city-center", getenv("GEOPORTAL_CITY_CENTER"), "where the web map opens, lon,lat in degrees (env GEOPORTAL_CITY_CENTER; empty: the centre of the city's bounds)"),
		zoom:   fs.String("city-zoom", getenv("GEOPORTAL_CITY_ZOOM"), "the web map's zoom at the centre (env GEOPORTAL_CITY_ZOOM; empty: the zoom that shows the city's bounds)"),
		bounds: fs.String("city-bounds", getenv("GEOPORTAL_CITY_BOUNDS"), "the city's extent, west,south,east,north in degrees: the web map is kept around it (env GEOPORTAL_CITY_BOUNDS; empty: the city boundary layer's extent, else that of all public features, which do not hold the map)"),
	}
}

// city is the configured part of the city; the rest is left zero for the data to fill.
func (f *cityFlags) city() (layers.City, error) {
	c := layers.City{Name: layers.Titles{KK: *f.nameKK, RU: *f.nameRU, EN: *f.nameEN}}
	var err error
	if c.Center, err = degrees(*f.center, 2); err != nil {
		return c, fmt.Errorf("-city-center (or GEOPORTAL_CITY_CENTER) %q: %w", *f.center, err)
	}
	if c.Center != nil && (math.Abs(c.Center[0]) > 180 || math.Abs(c.Center[1]) > 85) {
		return c, fmt.Errorf("-city-center (or GEOPORTAL_CITY_CENTER) %q: want a longitude within ±180 and a latitude within ±85", *f.center)
	}
	if c.Bounds, err = degrees(*f.bounds, 4); err != nil {
		return c, fmt.Errorf("-city-bounds (or GEOPORTAL_CITY_BOUNDS) %q: %w", *f.bounds, err)
	}
	if b := c.Bounds; b != nil && (b[0] >= b[2] || b[1] >= b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90) {
		return c, fmt.Errorf("-city-bounds (or GEOPORTAL_CITY_BOUNDS) %q: want west,south,east,north with west < east and south < north", *f.bounds)
	}
	if s := strings.TrimSpace(*f.zoom); s != "" {
		c.Zoom, err = strconv.ParseFloat(s, 64)
		if err != nil || c.Zoom < 1 || c.Zoom > 22 {
			return c, fmt.Errorf("-city-zoom (or GEOPORTAL_CITY_ZOOM) %q: want a number from 1 to 22", *f.zoom)
		}
	}
	return c, nil
}

// degrees reads n comma-separated finite numbers; nil for an empty text.
func degrees(s string, n int) ([]float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("want %d numbers separated by commas", n)
	}
	out := make([]float64, n)
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a number", p)
		}
		out[i] = v
	}
	return out, nil
}
