// Package tiles is the vector tiles' HTTP face: the MVT tiles, TileJSON and the tile catalog, and
// the lean path that answers cached public tiles ahead of the router (tiles/ builds and caches
// them).
package tiles

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/glyphs"
	"github.com/aktobe/geoportal/tiles"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// API serves the tile routes; they are registered in web/routes.go.
type API struct {
	Tiles *tiles.Tiler
	// Guard says who is calling (staff see staff-only layers); Reply writes error answers.
	Guard *guard.Guard
	Reply reply.Writer
	// Fonts makes the SDF glyph ranges the map's labels are drawn with (Glyphs, /fonts/...).
	Fonts *glyphs.Fonts
}

// Cache-Control of tiles. Edits reach clients within a minute; live layers (vehicles) only stay a
// moment. Both carry ETags, so revalidating costs a 304. Tiles and TileJSON naming a staff-only
// layer are private (the browser may keep them, a shared cache or CDN must not: it would hand
// them to anyone) and vary by the credentials that let them through.
const (
	CacheControl                = "public, max-age=60"
	liveTileCacheControl        = "public, max-age=2"
	privateTileCacheControl     = "private, max-age=60"
	privateLiveTileCacheControl = "private, max-age=2"
	tileJSONCacheControl        = "public, max-age=30"
	privateTileJSONCacheControl = "private, max-age=30"
)

// Header values shared by every tile answer (net/http only reads them).
var (
	hdrTileCache            = []string{CacheControl}
	hdrLiveTileCache        = []string{liveTileCacheControl}
	hdrPrivateTileCache     = []string{privateTileCacheControl}
	hdrPrivateLiveTileCache = []string{privateLiveTileCacheControl}
	hdrVary                 = []string{"Accept-Encoding"}
	hdrPrivateVary          = []string{"Accept-Encoding, " + guard.CredentialHeaders}
	hdrHit                  = []string{"HIT"}
	hdrMiss                 = []string{"MISS"}
	hdrDisk                 = []string{"DISK"}
	hdrMVT                  = []string{"application/vnd.mapbox-vector-tile"}
	hdrGzip                 = []string{"gzip"}
	hdrBrotli               = []string{"br"}
)

// Tile serves /tiles/{layers}/{z}/{x}/{y}.mvt: one layer, or several separated by commas.
func (ts *API) Tile(w http.ResponseWriter, r *http.Request) {
	var zxy [3]int
	for i, name := range [3]string{"z", "x", "y"} {
		v := chi.URLParam(r, name)
		n, err := strconv.Atoi(v)
		if err != nil || len(v) > 8 {
			ts.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "tile %s %q is not a whole number", name, truncateParam(v)))
			return
		}
		zxy[i] = n
	}
	t, err := ts.Tiles.Tile(r.Context(), chi.URLParam(r, "layers"), zxy[0], zxy[1], zxy[2], ts.Guard.IsStaff(r))
	if err != nil {
		ts.Reply.Error(w, r, err)
		return
	}
	writeTile(w, r, ts.Tiles, t)
}

// writeTile answers with tile t: 304 when the client holds it, 204 when it is empty, else the
// tile, gzip-compressed when the client accepts it. It returns the status.
func writeTile(w http.ResponseWriter, r *http.Request, tiler *tiles.Tiler, t *tiles.Tile) int {
	h := w.Header()
	switch {
	case t.Private && t.Live:
		h["Cache-Control"] = hdrPrivateLiveTileCache
	case t.Private:
		h["Cache-Control"] = hdrPrivateTileCache
	case t.Live:
		h["Cache-Control"] = hdrLiveTileCache
	default:
		h["Cache-Control"] = hdrTileCache
	}
	h["Etag"] = []string{t.ETag}
	if t.Private {
		h["Vary"] = hdrPrivateVary
	} else {
		h["Vary"] = hdrVary
	}
	switch {
	case t.Hit:
		h["X-Cache"] = hdrHit
	case t.Disk:
		h["X-Cache"] = hdrDisk
	default:
		h["X-Cache"] = hdrMiss
	}
	if reply.ETagMatches(r.Header.Get("If-None-Match"), t.ETag) {
		w.WriteHeader(http.StatusNotModified)
		tiler.ServeStats(http.StatusNotModified, 0)
		return http.StatusNotModified
	}
	if t.Empty() {
		w.WriteHeader(http.StatusNoContent)
		tiler.ServeStats(http.StatusNoContent, 0)
		return http.StatusNoContent
	}
	body := t.Raw
	ae := r.Header.Get("Accept-Encoding")
	switch br := acceptsBrotli(ae); {
	case br && t.Brotli != nil:
		body = t.Brotli
		h["Content-Encoding"] = hdrBrotli
	case acceptsGzip(ae):
		if br && t.Hit {
			tiler.RequestBrotli(t) // made in the background for the next request
		}
		body = t.Gzip
		h["Content-Encoding"] = hdrGzip
	}
	h["Content-Type"] = hdrMVT
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	tiler.ServeStats(http.StatusOK, len(body))
	return http.StatusOK
}

// LeanMetrics are what the lean path takes from the router: its security headers middleware
// and the HTTP metrics of the tile route (asked for on the first lean answer).
type LeanMetrics struct {
	SecurityHeaders func(http.Handler) http.Handler
	Requests        func(status int) prometheus.Counter
	Duration        func() prometheus.Observer
}

// Lean answers requests for tiles the cache holds, of public layers only, ahead of the
// router and its middleware: such a tile is the same for every caller, so neither the session
// nor the CSRF state is needed, and the database is not touched. The answer carries the same
// headers as through the router (the security headers included) and is counted in the same
// metrics (geoportal_http_requests_total and geoportal_http_request_duration_seconds under the
// tile route, and the tile metrics). Everything else goes on to next: misses, staff-only layers,
// requests with an API key (a bad key must still be refused), HTTPS requests, direct or through a
// trusted proxy (they need HSTS), escaped paths and anything that does not parse.
func (ts *API) Lean(next http.Handler, m LeanMetrics) http.Handler {
	var (
		once     sync.Once
		security http.Header
		count    map[int]prometheus.Counter
		duration prometheus.Observer
	)
	setup := func() {
		// The security headers as the middleware sets them on a plain-http request.
		security = http.Header{}
		m.SecurityHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).
			ServeHTTP(headerWriter(security), &http.Request{Header: http.Header{}, URL: &url.URL{}})
		count = map[int]prometheus.Counter{}
		for _, st := range []int{http.StatusOK, http.StatusNoContent, http.StatusNotModified} {
			count[st] = m.Requests(st)
		}
		duration = m.Duration()
	}
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/tiles/") || ts.Tiles == nil ||
			r.URL.RawPath != "" || ts.Guard.OverHTTPS(r) || r.Header.Get("X-API-Key") != "" || r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		list, z, x, y, ok := parseTilePath(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		t, ok := ts.Tiles.Cached(list, z, x, y)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		once.Do(setup)
		h := w.Header()
		for k, v := range security {
			h[k] = v
		}
		status := writeTile(w, r, ts.Tiles, &t)
		count[status].Inc()
		duration.Observe(time.Since(start).Seconds())
	})
	if routes, ok := next.(chi.Routes); ok {
		return leanRouter{router: routes, serve: serve}
	}
	return serve
}

// leanRouter is the router behind the lean tile path: it serves through the lean path and still
// shows its routes to chi.Walk (the route matrix test walks every write route).
type leanRouter struct {
	router chi.Routes
	serve  http.HandlerFunc
}

func (l leanRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.serve(w, r) }
func (l leanRouter) Routes() []chi.Route                              { return l.router.Routes() }
func (l leanRouter) Middlewares() chi.Middlewares                     { return l.router.Middlewares() }
func (l leanRouter) Match(rctx *chi.Context, method, path string) bool {
	return l.router.Match(rctx, method, path)
}
func (l leanRouter) Find(rctx *chi.Context, method, path string) string {
	return l.router.Find(rctx, method, path)
}

// parseTilePath splits /tiles/{layers}/{z}/{x}/{y}.mvt whose numbers are plain digits (at most
// 8); anything else is left to the router.
func parseTilePath(p string) (list string, z, x, y int, ok bool) {
	rest, found := strings.CutPrefix(p, "/tiles/")
	if !found {
		return
	}
	if rest, found = strings.CutSuffix(rest, ".mvt"); !found {
		return
	}
	var nums [3]int
	for i := 2; i >= 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return
		}
		seg := rest[j+1:]
		if len(seg) == 0 || len(seg) > 8 {
			return
		}
		n := 0
		for k := 0; k < len(seg); k++ {
			c := seg[k]
			if c < '0' || c > '9' {
				return
			}
			n = n*10 + int(c-'0')
		}
		nums[i] = n
		rest = rest[:j]
	}
	if rest == "" || strings.IndexByte(rest, '/') >= 0 {
		return
	}
	return rest, nums[0], nums[1], nums[2], true
}

// headerWriter is a ResponseWriter that only collects headers.
type headerWriter http.Header

func (h headerWriter) Header() http.Header         { return http.Header(h) }
func (h headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (h headerWriter) WriteHeader(int)             {}

// TileJSON serves /tiles/{layers}.json, TileJSON 3.0 with absolute tile URLs.
func (ts *API) TileJSON(w http.ResponseWriter, r *http.Request) {
	tj, err := ts.Tiles.TileJSON(r.Context(), chi.URLParam(r, "layers"), ts.Guard.IsStaff(r), ts.Guard.RequestBase(r))
	if err != nil {
		ts.Reply.Error(w, r, err)
		return
	}
	if tj.Private {
		w.Header().Set("Cache-Control", privateTileJSONCacheControl)
		w.Header().Add("Vary", guard.CredentialHeaders)
	} else {
		w.Header().Set("Cache-Control", tileJSONCacheControl)
	}
	reply.JSON(w, http.StatusOK, tj)
}

// Catalog serves /tiles: the layers one may fetch tiles of, with their URLs.
func (ts *API) Catalog(w http.ResponseWriter, r *http.Request) {
	ls, err := ts.Tiles.Catalog(r.Context(), ts.Guard.IsStaff(r), ts.Guard.RequestBase(r))
	if err != nil {
		ts.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"layers": ls})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and does not give it q=0).
func acceptsGzip(header string) bool { return accepts(header, "gzip", "x-gzip", "*") }

// acceptsBrotli reports whether an Accept-Encoding header names br (without q=0).
func acceptsBrotli(header string) bool { return accepts(header, "br", "br", "br") }

// accepts reports whether an Accept-Encoding header lists one of the names without q=0.
func accepts(header, name1, name2, name3 string) bool {
	for rest := header; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, name1) && !strings.EqualFold(name, name2) && name != name3 {
			continue
		}
		// (ReplaceAll returns params itself when it has no space.)
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
