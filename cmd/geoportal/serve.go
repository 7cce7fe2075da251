package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/tiles"
	"github.com/aktobe/geoportal/web"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	addr := fs.String("addr", envOr(getenv, "GEOPORTAL_ADDR", "127.0.0.1:8080"), "listen address (env GEOPORTAL_ADDR)")
	basemapURL := fs.String("basemap-url", getenv("GEOPORTAL_BASEMAP_URL"), "optional external basemap for the web map: raster tile URL with {z}/{x}/{y} or a style JSON URL (env GEOPORTAL_BASEMAP_URL; empty: own tiles only)")
	basemapAttribution := fs.String("basemap-attribution", getenv("GEOPORTAL_BASEMAP_ATTRIBUTION"), "attribution shown for the external basemap (env GEOPORTAL_BASEMAP_ATTRIBUTION)")
	security := registerSecurityFlags(fs, getenv)
	demoIfEmpty := fs.Bool("demo-if-empty", false, "load the demo city when the database has no features yet")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if n, err := data.Migrate(ctx, db.Pool); err != nil {
		return err
	} else if n > 0 {
		logger.Info("migrated database", "applied", n)
	}
	if *demoIfEmpty {
		if err := loadDemoIfEmpty(ctx, db, logger); err != nil {
			return err
		}
	}

	srv := web.NewServer(logger, db.Pool)
	if err := security.apply(srv); err != nil {
		return err
	}
	srv.Map = web.MapConfig{BasemapURL: *basemapURL, BasemapAttribution: *basemapAttribution}
	// Tile queries get their own pool (parallel query and JIT off) and a listener that keeps the
	// tile cache exact when layers change, in this process or any other.
	tilePool, err := tiles.NewPool(ctx, db.Pool.Config(), 0)
	if err != nil {
		return err
	}
	defer tilePool.Close()
	srv.Tiles.SetPool(tilePool)
	go srv.Tiles.Invalidator().Run(ctx)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	logger.Info("serving", "url", "http://"+ln.Addr().String())
	fmt.Fprintf(stdout, "geoportal listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
