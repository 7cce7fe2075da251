// Package api is the web map's JSON API: the layer catalog, the map's configuration, search,
// "nearest to me", the planners' analyses (coverage, siting, cameras, access, population, jobs
// and scenarios), and the imports into layers and exports of them.
package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// Handlers serve the JSON API routes; they are registered in web/routes.go.
type Handlers struct {
	Store    *layers.Store // the layer catalog and features
	Analysis *analysis.Store
	// Map is the server's map configuration, read on each request to /api/config.
	Map *MapConfig
	// Guard says who is calling; Reply writes error answers.
	Guard *guard.Guard
	Reply reply.Writer
}

func (hs *Handlers) Layers(w http.ResponseWriter, r *http.Request) {
	ls, err := hs.Store.Layers(r.Context(), hs.Guard.IsStaff(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	hs.writeJSONRevalidated(w, r, map[string]any{"layers": ls, "directions": layersDirections()})
}

// writeJSONRevalidated writes v as JSON with an entity tag of its bytes: a client that sends the
// tag back (If-None-Match) gets 304 Not Modified instead of the body. The answer may depend on
// who asks (staff see more), so only the client's own cache keeps it, and asks each time.
func (hs *Handlers) writeJSONRevalidated(w http.ResponseWriter, r *http.Request, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		hs.Reply.Error(w, r, fmt.Errorf("encode %s: %w", r.URL.Path, err))
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	etag := `W/"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Add("Vary", "Cookie")
	if reply.ETagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

func (hs *Handlers) Layer(w http.ResponseWriter, r *http.Request) {
	l, err := hs.Store.Layer(r.Context(), chi.URLParam(r, "slug"), hs.Guard.IsStaff(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, l)
}

func layersDirections() any {
	type dir struct {
		ID    int `json:"id"`
		Title any `json:"title"`
	}
	var out []dir
	for i, t := range layers.Directions {
		out = append(out, dir{ID: i, Title: t})
	}
	return out
}

// AreaLabels answers GET /api/labels/areas?layers=districts,city_boundary: the points where the
// map writes the areas' names, once per area (layers.Store.AreaLabels), as GeoJSON. The answer
// revalidates by an entity tag of its bytes, like the catalog.
func (hs *Handlers) AreaLabels(w http.ResponseWriter, r *http.Request) {
	var slugs []string
	for _, s := range strings.Split(r.URL.Query().Get("layers"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			slugs = append(slugs, s)
		}
	}
	fc, err := hs.Store.AreaLabels(r.Context(), slugs, hs.Guard.IsStaff(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	hs.writeJSONRevalidated(w, r, fc)
}
