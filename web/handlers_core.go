package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	reply.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(r.Context()); err != nil {
		// The detail (host, role, SQLSTATE) is for the operator's log, not for anyone who asks.
		reason := "database unavailable"
		if errors.Is(err, errPendingMigrations) {
			reason = geoportal.ErrorMessage(err)
		}
		s.Logger.Warn("not ready", "error", err)
		reply.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
		return
	}
	reply.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) handleLayers(w http.ResponseWriter, r *http.Request) {
	ls, err := s.Layers.Layers(r.Context(), s.guard.IsStaff(r))
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	s.writeJSONRevalidated(w, r, map[string]any{"layers": ls, "directions": layersDirections()})
}

// writeJSONRevalidated writes v as JSON with an entity tag of its bytes: a client that sends the
// tag back (If-None-Match) gets 304 Not Modified instead of the body. The answer may depend on
// who asks (staff see more), so only the client's own cache keeps it, and asks each time.
func (s *Server) writeJSONRevalidated(w http.ResponseWriter, r *http.Request, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		s.reply.Error(w, r, fmt.Errorf("encode %s: %w", r.URL.Path, err))
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	etag := `W/"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Add("Vary", "Cookie")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

func (s *Server) handleLayer(w http.ResponseWriter, r *http.Request) {
	l, err := s.Layers.Layer(r.Context(), chi.URLParam(r, "slug"), s.guard.IsStaff(r))
	if err != nil {
		s.reply.Error(w, r, err)
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
