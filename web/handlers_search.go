package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web/reply"
)

// MapConfig is what the web map needs to know about this installation.
type MapConfig struct {
	// BasemapURL is an optional external basemap drawn under the city's own layers: a raster
	// tile template with {z}/{x}/{y}, or the URL of a raster TileJSON. Empty: our own tiles only.
	BasemapURL string `json:"basemap_url"`
	// BasemapAttribution is shown on the map when the external basemap is on.
	BasemapAttribution string `json:"basemap_attribution,omitempty"`
}

func (s *Server) handleMapConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	reply.JSON(w, http.StatusOK, s.Map)
}

// handleSearch answers GET /api/search?q=&lang=&limit= with the best matching features.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang, err := langParam(q.Get("lang"))
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit", 10)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	hits, err := s.Layers.Search(r.Context(), q.Get("q"), lang, limit, s.guard.IsStaff(r))
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"query": strings.Join(strings.Fields(q.Get("q")), " "), "results": hits})
}

// handleNearest answers GET /api/nearest?layer=&lon=&lat=&limit=&lang= with the closest features.
func (s *Server) handleNearest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	slug := q.Get("layer")
	if slug == "" {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "nearest: parameter layer is required"))
		return
	}
	lon, err := floatParam(q.Get("lon"), "lon")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	lat, err := floatParam(q.Get("lat"), "lat")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit", 5)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	lang, err := langParam(q.Get("lang"))
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	hits, err := s.Layers.Nearest(r.Context(), slug, lon, lat, lang, limit, s.guard.IsStaff(r))
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"layer": slug, "from": [2]float64{lon, lat}, "results": hits})
}

func langParam(v string) (string, error) {
	if v == "" {
		return "ru", nil
	}
	if !layers.ValidLanguage(v) {
		return "", geoportal.Errorf(geoportal.EINVALID, "parameter lang %q is not one of kk, ru, en", v)
	}
	return v, nil
}

func intParam(v, name string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s %q is not a whole number", name, v)
	}
	return n, nil
}

func floatParam(v, name string) (float64, error) {
	if v == "" {
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s is required", name)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s %q is not a number", name, v)
	}
	return f, nil
}
