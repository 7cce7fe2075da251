// Package web is the geoportal's HTTP face: the chi router, thin handlers, middleware and the
// embedded front-end. Handlers parse, validate, make one store call and encode.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/glyphs"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/tiles"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Server holds what the handlers need. Build it with New (or NewServer), then serve Handler().
type Server struct {
	Logger   *slog.Logger
	Pool     *pgxpool.Pool
	Layers   *layers.Store
	Registry *prometheus.Registry
	// Map configures the web map (optional external basemap); served at /api/config.
	Map api.MapConfig
	// Tiles serves the vector tiles; run Tiles.Invalidator() for the server's lifetime so that
	// tiles are cached (and kept fresh).
	Tiles *tiles.Tiler

	// Accounts holds users, sessions, API keys and the audit log; Security the cookie, body-size
	// and rate-limit settings (guard.Defaults unless changed before serving).
	Accounts *accounts.Store
	Security guard.Config
	// guard authenticates callers and holds the role checks, rate and body limits every face
	// uses (web/guard); reply writes error answers (web/reply).
	guard *guard.Guard
	reply reply.Writer
	// pageFail writes the pages' error page (web/pages), set when the routes are built.
	pageFail func(http.ResponseWriter, *http.Request, error)
	// Analysis runs the planners' coverage, siting, camera and access analyses.
	Analysis *analysis.Store
	// Reports is the citizen reports module (web app API, staff console, Open311).
	Reports *reports.Store
	// Modules are the city modules' stores (served by web/modules and web/pages).
	Modules *modules.Store
	// Transit is the live-vehicle module (ingest, live push, arrivals, GTFS-rt, dispatch).
	Transit *transit.Service
	// Glyphs makes the SDF glyph ranges the map's labels are drawn with (/fonts/...).
	Glyphs *glyphs.Fonts
	// ImportMaxBytes bounds an upload to POST /api/import (web/api/imports.go); 0: 512 MiB.
	ImportMaxBytes int64
	// Timeouts bound how long a connection may take to send a request and read the answer
	// (DefaultHTTPTimeouts unless changed before HTTPServer is called).
	Timeouts HTTPTimeouts

	metrics *httpMetrics
}

// Services are the domain services the faces call. cmd/geoportal builds them once, configured
// (tile pool, cache sizes, read pool, transit limits), and hands them to New; DefaultServices
// builds them with their defaults.
type Services struct {
	Pool *pgxpool.Pool
	// Registry holds the metrics: the services' own (tiles) and the HTTP ones New adds.
	Registry *prometheus.Registry
	Layers   *layers.Store
	Accounts *accounts.Store
	Analysis *analysis.Store
	Reports  *reports.Store
	// Modules are the city modules (lighting, outages, clinics and schools, accessibility, yards).
	Modules *modules.Store
	Transit *transit.Service
	Tiles   *tiles.Tiler
	// Glyphs are the label fonts (glyphs.New(glyphs.DefaultDir) unless configured).
	Glyphs *glyphs.Fonts
}

// NewRegistry returns a metrics registry with the Go runtime's and the process's collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// DefaultServices builds every service over pool with its defaults (tiles on pool, metrics in a
// new registry). Nothing is started: run Transit.Run and Tiles.Invalidator().Run for background
// work.
func DefaultServices(logger *slog.Logger, pool *pgxpool.Pool) Services {
	reg := NewRegistry()
	ls := layers.NewStore(pool)
	an := analysis.NewStore(pool, ls)
	return Services{Pool: pool, Registry: reg, Layers: ls, Accounts: accounts.NewStore(pool),
		Analysis: an, Reports: reports.NewStore(pool), Modules: modules.NewStore(pool, ls, an),
		Transit: transit.New(pool, logger), Tiles: tiles.New(pool, ls, logger, reg, tiles.Options{}),
		Glyphs: glyphs.New(glyphs.DefaultDir)}
}

// New wires a server over services built by the caller.
func New(logger *slog.Logger, svc Services) *Server {
	s := &Server{
		Logger:   logger,
		Pool:     svc.Pool,
		Layers:   svc.Layers,
		Registry: svc.Registry,
		Accounts: svc.Accounts,
		Security: guard.Defaults(),
		Timeouts: DefaultHTTPTimeouts(),
		Analysis: svc.Analysis,
		Reports:  svc.Reports,
		Modules:  svc.Modules,
		Transit:  svc.Transit,
		Tiles:    svc.Tiles,
		Glyphs:   svc.Glyphs,
	}
	if s.Glyphs == nil {
		s.Glyphs = glyphs.New(glyphs.DefaultDir)
	}
	s.metrics = newHTTPMetrics(s.Registry)
	s.guard = guard.New(s.Accounts, &s.Security, logger, s.failFor, s.allowUpload)
	s.reply = reply.Writer{Logger: logger}
	return s
}

// NewServer is New over DefaultServices(logger, pool): the short form for tests and tools.
func NewServer(logger *slog.Logger, pool *pgxpool.Pool) *Server {
	return New(logger, DefaultServices(logger, pool))
}

// ready reports whether the database answers and is fully migrated.
func (s *Server) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.Pool.Ping(ctx); err != nil {
		return err
	}
	n, err := data.Pending(ctx, s.Pool)
	if err != nil {
		return err
	}
	if n > 0 {
		return errPendingMigrations
	}
	return nil
}

// handleHealthz answers that the process is up; handleReadyz that the database answers and is
// fully migrated (503 with a reason otherwise).
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

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler { return s.routes() }

// HTTPTimeouts bound the time a client may hold a connection, so that slow or stalled clients
// (slowloris: a header or a body sent a byte at a time; a reader that never reads) cannot pile
// up connections and goroutines. Zero turns a timeout off.
type HTTPTimeouts struct {
	// ReadHeader is the time to send the request line and headers.
	ReadHeader time.Duration
	// Read is the time to send the whole request, body included. Routes that accept large bodies
	// (guard.MaxBody above the default limit: imports, report photos, yard nominations) get more: see
	// UploadRate.
	Read time.Duration
	// Write is the time from the end of the request's headers to the end of the answer. The
	// live vehicle stream (SSE) clears it; exports extend it while the client keeps reading.
	Write time.Duration
	// Idle is how long a kept-alive connection waits for its next request.
	Idle time.Duration
	// UploadRate (bytes per second) is the slowest upload the large-body routes allow for: a
	// route that accepts up to n bytes gets n/UploadRate more to read the body and answer.
	UploadRate int64
}

// DefaultHTTPTimeouts returns the production defaults: 10 s for the headers, 60 s for a request,
// 2 min for an answer, 2 min idle, uploads at 64 KiB/s or faster (a 512 MiB import may take 2.3 h,
// three report photos about 8 min).
func DefaultHTTPTimeouts() HTTPTimeouts {
	return HTTPTimeouts{ReadHeader: 10 * time.Second, Read: 60 * time.Second, Write: 2 * time.Minute,
		Idle: 2 * time.Minute, UploadRate: 64 << 10}
}

// HTTPServer returns the http.Server that serves Handler with the configured Timeouts.
func (s *Server) HTTPServer() *http.Server {
	t := s.Timeouts
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelDebug),
	}
}

// allowUpload gives a request whose body may reach n bytes the time to send it at
// Timeouts.UploadRate, on top of Timeouts.Read, and the time to answer after that. Nothing
// changes when the limit is not above the default one (or the timeouts are off).
func (s *Server) allowUpload(w http.ResponseWriter, n int64) {
	t := s.Timeouts
	if t.Read <= 0 || t.UploadRate <= 0 || n <= s.Security.MaxBodyBytes {
		return
	}
	extra := time.Duration(n/t.UploadRate+1) * time.Second
	rc := http.NewResponseController(w)
	now := time.Now()
	// Errors mean the writer cannot set deadlines (a recorder in tests): nothing to extend.
	rc.SetReadDeadline(now.Add(t.Read + extra))
	if t.Write > 0 {
		rc.SetWriteDeadline(now.Add(t.Read + extra + t.Write))
	}
}
