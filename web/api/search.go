package api

import (
	"math"
	"net/http"
	"strconv"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web/reply"
)

// Search answers GET /api/search?q=&lang=&limit=&offset=&lon=&lat= with one page of the best
// matching features, the total and the layers whose kind the query names; lon and lat (both or
// neither) put the nearest of those first.
func (hs *Handlers) Search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw := q.Get("q")
	if len(raw) > 4*layers.MaxSearchQuery+64 {
		// Refused before anything else looks at it: 10 KB of text is no query.
		hs.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "search: query q is longer than %d characters", layers.MaxSearchQuery))
		return
	}
	lang, err := langParam(q.Get("lang"))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit", 10)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	offset, err := intParam(q.Get("offset"), "offset", 0)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	sq := layers.SearchQuery{Q: raw, Lang: lang, Limit: limit, Offset: offset, Staff: hs.Guard.IsStaff(r)}
	if q.Has("lon") || q.Has("lat") {
		lon, err := floatParam(q.Get("lon"), "lon")
		if err != nil {
			hs.Reply.Error(w, r, err)
			return
		}
		lat, err := floatParam(q.Get("lat"), "lat")
		if err != nil {
			hs.Reply.Error(w, r, err)
			return
		}
		sq.Near = &[2]float64{lon, lat}
	}
	page, err := hs.Store.Find(r.Context(), sq)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, page)
}

// handleNearest answers GET /api/nearest?layer=&lon=&lat=&limit=&lang= with the closest features.
func (hs *Handlers) Nearest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	slug := q.Get("layer")
	if slug == "" {
		hs.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "nearest: parameter layer is required"))
		return
	}
	lon, err := floatParam(q.Get("lon"), "lon")
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	lat, err := floatParam(q.Get("lat"), "lat")
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit", 5)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	lang, err := langParam(q.Get("lang"))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	hits, err := hs.Store.Nearest(r.Context(), slug, lon, lat, lang, limit, hs.Guard.IsStaff(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
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
