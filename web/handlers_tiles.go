package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/go-chi/chi/v5"
)

// Cache-Control of tiles. Edits reach clients within a minute; live layers (vehicles) only stay a
// moment. Both carry ETags, so revalidating costs a 304.
const (
	tileCacheControl     = "public, max-age=60"
	liveTileCacheControl = "public, max-age=2"
)

// handleTile serves /tiles/{layers}/{z}/{x}/{y}.mvt: one layer, or several separated by commas.
func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) {
	var zxy [3]int
	for i, name := range [3]string{"z", "x", "y"} {
		v := chi.URLParam(r, name)
		n, err := strconv.Atoi(v)
		if err != nil || len(v) > 8 {
			s.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "tile %s %q is not a whole number", name, truncateParam(v)))
			return
		}
		zxy[i] = n
	}
	t, err := s.Tiles.Tile(r.Context(), chi.URLParam(r, "layers"), zxy[0], zxy[1], zxy[2], s.isStaff(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	if t.Live {
		h.Set("Cache-Control", liveTileCacheControl)
	} else {
		h.Set("Cache-Control", tileCacheControl)
	}
	h.Set("Etag", t.ETag)
	h.Set("Vary", "Accept-Encoding")
	if t.Hit {
		h.Set("X-Cache", "HIT")
	} else {
		h.Set("X-Cache", "MISS")
	}
	if etagMatches(r.Header.Get("If-None-Match"), t.ETag) {
		w.WriteHeader(http.StatusNotModified)
		s.Tiles.ServeStats(http.StatusNotModified, 0)
		return
	}
	if t.Empty() {
		w.WriteHeader(http.StatusNoContent)
		s.Tiles.ServeStats(http.StatusNoContent, 0)
		return
	}
	body := t.Raw
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = t.Gzip
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	s.Tiles.ServeStats(http.StatusOK, len(body))
}

// handleTileJSON serves /tiles/{layers}.json, TileJSON 3.0 with absolute tile URLs.
func (s *Server) handleTileJSON(w http.ResponseWriter, r *http.Request) {
	tj, err := s.Tiles.TileJSON(r.Context(), chi.URLParam(r, "layers"), s.isStaff(r), requestBase(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=30")
	writeJSON(w, http.StatusOK, tj)
}

// handleTileCatalog serves /tiles: the layers one may fetch tiles of, with their URLs.
func (s *Server) handleTileCatalog(w http.ResponseWriter, r *http.Request) {
	ls, err := s.Tiles.Catalog(r.Context(), s.isStaff(r), requestBase(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"layers": ls})
}

// requestBase is the scheme and host the client used, for absolute URLs.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// etagMatches implements If-None-Match's weak comparison against etag.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.TrimPrefix(c, "W/") == want {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and does not give it q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, "gzip") && !strings.EqualFold(name, "x-gzip") && name != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

func truncateParam(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
