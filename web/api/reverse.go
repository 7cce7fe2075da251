package api

import (
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web/reply"
)

// Reverse answers GET /api/reverse?lon=&lat=&lang= with the nearest address of the point in
// lang (ru when not given): the building it is at, the street it is on and that street's nearest
// house, or the nearest street or settlement with the distance to it (layers.Store.Reverse).
func (hs *Handlers) Reverse(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lon, lat, err := pointParam(q)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	lang := q.Get("lang")
	switch {
	case lang == "":
		lang = "ru"
	case !layers.ValidLanguage(lang):
		hs.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "parameter lang %q is not one of kk, ru, en", shortValue(lang)))
		return
	}
	p, err := hs.Store.Reverse(r.Context(), lon, lat, lang)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"from": [2]float64{lon, lat}, "place": p})
}

// pointParam reads the point of a request, lon and lat (search, nearest, reverse).
func pointParam(q map[string][]string) (lon, lat float64, err error) {
	if lon, err = coordinateParam(q, "lon", 180); err != nil {
		return 0, 0, err
	}
	if lat, err = coordinateParam(q, "lat", 90); err != nil {
		return 0, 0, err
	}
	return lon, lat, nil
}

// coordinateParam reads one of lon and lat: given once, a finite number within ±limit degrees.
func coordinateParam(q map[string][]string, name string, limit float64) (float64, error) {
	vs := q[name]
	switch {
	case len(vs) == 0 || vs[0] == "":
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s is required", name)
	case len(vs) > 1:
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s is given %d times", name, len(vs))
	}
	f, err := strconv.ParseFloat(vs[0], 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s %q is not a number", name, shortValue(vs[0]))
	}
	if f < -limit || f > limit {
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s %v is not between -%v and %v", name, f, limit, limit)
	}
	return f, nil
}

// shortValue is a bad value as an error names it: its first 32 bytes (whole letters), so that a
// long value is not echoed back whole.
func shortValue(v string) string {
	if len(v) <= 32 {
		return v
	}
	cut := 32
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}
