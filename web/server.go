// Package web is the geoportal's HTTP face: the chi router, thin handlers, middleware and the
// embedded front-end. Handlers parse, validate, make one store call and encode.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/tiles"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Server holds what the handlers need. Build it with NewServer, then serve Handler().
type Server struct {
	Logger   *slog.Logger
	Pool     *pgxpool.Pool
	Layers   *layers.Store
	Registry *prometheus.Registry
	// Map configures the web map (optional external basemap); served at /api/config.
	Map MapConfig
	// Tiles serves the vector tiles; run Tiles.Invalidator() for the server's lifetime so that
	// tiles are cached (and kept fresh).
	Tiles *tiles.Tiler

	// Accounts holds users, sessions, API keys and the audit log; Security the cookie, body-size
	// and rate-limit settings (DefaultSecurity unless changed before serving).
	Accounts *accounts.Store
	Security SecurityConfig
	auth     authState
	// Analysis runs the planners' coverage, siting, camera and access analyses.
	Analysis *analysis.Store
	// Reports is the citizen reports module (web app API, staff console, Open311).
	Reports *reports.Store
	// Transit is the live-vehicle module (ingest, live push, arrivals, GTFS-rt, dispatch).
	Transit *transit.Service
	// ImportMaxBytes bounds an upload to POST /api/import (handlers_import.go); 0: 512 MiB.
	ImportMaxBytes int64

	metrics *httpMetrics
}

// NewServer wires a server over a database pool.
func NewServer(logger *slog.Logger, pool *pgxpool.Pool) *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{
		Logger:   logger,
		Pool:     pool,
		Layers:   layers.NewStore(pool),
		Registry: reg,
		Accounts: accounts.NewStore(pool),
		Security: DefaultSecurity(),
	}
	s.metrics = newHTTPMetrics(reg)
	s.Analysis = analysis.NewStore(pool, s.Layers)
	s.Reports = reports.NewStore(pool)
	s.Transit = transit.New(pool, logger)
	s.Tiles = tiles.New(pool, s.Layers, logger, reg, tiles.Options{})
	return s
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

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler { return s.routes() }
