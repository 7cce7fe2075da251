package layers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	_ "time/tzdata" // the city's time zone must load on machines without tzdata

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// City is the city a portal is about: its name and where its map opens.
type City struct {
	Name Titles `json:"name"`
	// Center is where the map opens, longitude and latitude (EPSG:4326); nil when unknown.
	Center []float64 `json:"center,omitempty"`
	// Zoom is the web map's zoom at Center; 0 when unknown.
	Zoom float64 `json:"zoom,omitempty"`
	// Bounds is the city's extent, west, south, east, north (EPSG:4326); nil when unknown.
	Bounds []float64 `json:"bounds,omitempty"`
	// Derived names what was taken from the data rather than configured: "name", "center",
	// "zoom", "bounds". The web map keeps itself within Bounds only when they were configured
	// (derived bounds would shut out a layer imported elsewhere).
	Derived []string `json:"derived,omitempty"`
	// TimeZone is the city's time zone (IANA name), which the browser shows times in; TimeZone
	// when not configured.
	TimeZone string `json:"time_zone"`
}

// TimeZone is the city's time zone: the server's one source of it. The pages show times on its
// clock, report statistics count months by it, a timetable without an agency time zone runs on
// it, and /api/config tells the browser (City.TimeZone).
const TimeZone = "Asia/Aqtobe"

// Location is TimeZone loaded (time/tzdata is linked in, so a machine without tzdata has it).
func Location() *time.Location {
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		panic(fmt.Sprintf("layers: time zone %s: %v", TimeZone, err))
	}
	return loc
}

// CityBoundaryLayer is the catalog layer holding the city's administrative boundary; its name_kk,
// name_ru and name_en name the city.
const CityBoundaryLayer = "city_boundary"

// fitViewport is the map size, in pixels, the derived zoom fits the extent into: a small laptop
// screen, so that a phone (which the web map zooms in on) and a large screen both see the city.
const fitViewportW, fitViewportH = 1024.0, 700.0

// City returns configured with what it leaves out taken from the data: the name from the city
// boundary's feature; the bounds from the city boundary layer's extent, else from the extent of
// every public layer's features (not when they miss a configured centre: the map is then left
// free rather than bounded around somewhere else); the centre and zoom that fit the bounds.
// With no features at all, what the configuration gives is returned as it is. `geoportal serve`
// answers /api/config with it, on each request, so that data imported later is found.
func (s *Store) City(ctx context.Context, configured City) (City, error) {
	c := configured
	if c.TimeZone == "" {
		c.TimeZone = TimeZone
	}
	if c.Name == (Titles{}) {
		name, err := s.cityName(ctx)
		if err != nil {
			return c, err
		}
		c.Name = name
		if name != (Titles{}) {
			c.Derived = append(c.Derived, "name")
		}
	}
	if c.Bounds == nil {
		extent, err := s.cityExtent(ctx)
		if err != nil {
			return c, err
		}
		if extent != nil && (c.Center == nil || contains(extent, c.Center)) {
			c.Bounds = extent
			c.Derived = append(c.Derived, "bounds")
		}
	}
	if c.Bounds == nil {
		return c, nil
	}
	center, zoom := ViewOf(c.Bounds)
	if c.Center == nil {
		c.Center = center
		c.Derived = append(c.Derived, "center")
	}
	if c.Zoom == 0 {
		c.Zoom = zoom
		c.Derived = append(c.Derived, "zoom")
	}
	return c, nil
}

// cityName reads the city's name from its boundary's feature; empty when there is none.
func (s *Store) cityName(ctx context.Context) (Titles, error) {
	l, err := s.Layer(ctx, CityBoundaryLayer, true)
	if err != nil {
		if geoportal.ErrorCode(err) == geoportal.ENOTFOUND {
			return Titles{}, nil
		}
		return Titles{}, fmt.Errorf("city name: %w", err)
	}
	for _, col := range []string{"name_kk", "name_ru", "name_en"} {
		if _, ok := l.Attribute(col); !ok {
			return Titles{}, nil
		}
	}
	var t Titles
	err = s.read.QueryRow(ctx, `SELECT coalesce(name_kk, ''), coalesce(name_ru, ''), coalesce(name_en, '')
		FROM `+l.Table()+` WHERE coalesce(name_kk, name_ru, name_en) IS NOT NULL ORDER BY id LIMIT 1`).Scan(&t.KK, &t.RU, &t.EN)
	if errors.Is(err, pgx.ErrNoRows) {
		return Titles{}, nil
	}
	if err != nil {
		return Titles{}, fmt.Errorf("city name: %w", err)
	}
	return t, nil
}

// cityExtent is the city boundary layer's extent when it has features, else that of every public
// layer's features (the catalog keeps each layer's extent, so nothing is scanned); nil when no
// layer has any.
func (s *Store) cityExtent(ctx context.Context) ([]float64, error) {
	var w, south, e, n *float64
	err := s.read.QueryRow(ctx, `WITH b AS (
		SELECT coalesce(
			(SELECT bbox FROM geoportal.layers WHERE slug = $1 AND bbox IS NOT NULL),
			(SELECT ST_Extent(bbox)::geometry FROM geoportal.layers WHERE visibility = 'public' AND bbox IS NOT NULL)) AS g)
		SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM b`, CityBoundaryLayer).Scan(&w, &south, &e, &n)
	if err != nil {
		return nil, fmt.Errorf("city extent: %w", err)
	}
	if w == nil || south == nil || e == nil || n == nil {
		return nil, nil
	}
	return []float64{*w, *south, *e, *n}, nil
}

func contains(b, p []float64) bool {
	return p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3]
}

// ViewOf is the centre of bounds (west, south, east, north in degrees) and the web map zoom at
// which they fit a 1024×700 pixel map. A point (or a very small extent) gets street level, zoom 16.
func ViewOf(bounds []float64) (center []float64, zoom float64) {
	w, s, e, n := bounds[0], bounds[1], bounds[2], bounds[3]
	center = []float64{(w + e) / 2, (s + n) / 2}
	// Web Mercator: a 256-pixel tile covers 360° of longitude at zoom 0; latitude is stretched.
	mercY := func(lat float64) float64 {
		lat = math.Max(-85.05, math.Min(85.05, lat))
		return math.Log(math.Tan(math.Pi/4+lat*math.Pi/360)) / (2 * math.Pi)
	}
	dx := (e - w) / 360
	dy := mercY(n) - mercY(s)
	zoom = 16
	if dx > 0 {
		zoom = math.Min(zoom, math.Log2(fitViewportW/256/dx))
	}
	if dy > 0 {
		zoom = math.Min(zoom, math.Log2(fitViewportH/256/dy))
	}
	zoom = math.Max(1, math.Round(zoom*10)/10)
	return center, zoom
}

// CityFit says where a set of points lies against the city boundary: how many were checked, how
// many lie outside it and how far the farthest of those is from it. Known is false when the
// portal has no city boundary (nothing to check against).
type CityFit struct {
	Known   bool    `json:"known"`
	Checked int     `json:"checked"`
	Outside int     `json:"outside"`
	Share   float64 `json:"share"` // Outside / Checked, 0..1
	// MaxDistanceM is the distance from the boundary of the farthest point outside, in metres
	// (on the spheroid); 0 when none is outside.
	MaxDistanceM float64 `json:"max_distance_m"`
}

// PlaceAgainstCity checks points (longitude, latitude pairs in EPSG:4326) against the features of
// the city boundary layer, in one query. A layer's import sends a sample of its features' centres.
func (s *Store) PlaceAgainstCity(ctx context.Context, lons, lats []float64) (CityFit, error) {
	l, err := s.Layer(ctx, CityBoundaryLayer, true)
	if geoportal.ErrorCode(err) == geoportal.ENOTFOUND {
		return CityFit{}, nil
	} else if err != nil {
		return CityFit{}, fmt.Errorf("place against city: %w", err)
	}
	if len(lons) != len(lats) {
		return CityFit{}, fmt.Errorf("place against city: %d longitudes, %d latitudes", len(lons), len(lats))
	}
	var known bool
	p := CityFit{Checked: len(lons)}
	err = s.read.QueryRow(ctx, `WITH c AS (SELECT ST_Union(geom) AS g FROM `+l.Table()+`),
		p AS (SELECT ST_SetSRID(ST_MakePoint(x, y), 4326) AS g FROM unnest($1::float8[], $2::float8[]) AS u(x, y)),
		o AS (SELECT p.g FROM p, c WHERE NOT ST_Intersects(p.g, c.g))
		SELECT c.g IS NOT NULL, (SELECT count(*) FROM o),
			coalesce((SELECT max(ST_Distance(o.g::geography, c.g::geography)) FROM o), 0)
		FROM c`, lons, lats).Scan(&known, &p.Outside, &p.MaxDistanceM)
	if err != nil {
		return CityFit{}, fmt.Errorf("place against city: %w", err)
	}
	if !known {
		return CityFit{}, nil
	}
	p.Known = true
	if p.Checked > 0 {
		p.Share = float64(p.Outside) / float64(p.Checked)
	}
	return p, nil
}

// CityOutline is the city boundary as GeoJSON (EPSG:4326), simplified to about 50 m, for a small
// map drawn under other data (the import preview); nil when the portal has no boundary.
func (s *Store) CityOutline(ctx context.Context) (json.RawMessage, error) {
	l, err := s.Layer(ctx, CityBoundaryLayer, true)
	if geoportal.ErrorCode(err) == geoportal.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("city outline: %w", err)
	}
	var g []byte
	err = s.read.QueryRow(ctx, `SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(ST_Union(geom), 0.0005), 5)::text
		FROM `+l.Table()).Scan(&g)
	if err != nil {
		return nil, fmt.Errorf("city outline: %w", err)
	}
	if g == nil {
		return nil, nil
	}
	return json.RawMessage(g), nil
}
