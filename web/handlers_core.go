package web

import (
	"net/http"

	"github.com/aktobe/geoportal/layers"
	"github.com/go-chi/chi/v5"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// isStaff is in auth.go.

func (s *Server) handleLayers(w http.ResponseWriter, r *http.Request) {
	ls, err := s.Layers.Layers(r.Context(), s.isStaff(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"layers": ls, "directions": layersDirections()})
}

func (s *Server) handleLayer(w http.ResponseWriter, r *http.Request) {
	l, err := s.Layers.Layer(r.Context(), chi.URLParam(r, "slug"), s.isStaff(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
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
