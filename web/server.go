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
	}
	s.metrics = newHTTPMetrics(reg)
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
