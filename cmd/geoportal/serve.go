package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/glyphs"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/tiles"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/guard"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	addr := fs.String("addr", envOr(getenv, "GEOPORTAL_ADDR", "127.0.0.1:8080"), "listen address (env GEOPORTAL_ADDR)")
	basemapURL := fs.String("basemap-url", getenv("GEOPORTAL_BASEMAP_URL"), "optional external basemap for the web map: raster tile URL with {z}/{x}/{y} or a raster TileJSON URL (env GEOPORTAL_BASEMAP_URL; empty: own tiles only)")
	basemapAttribution := fs.String("basemap-attribution", getenv("GEOPORTAL_BASEMAP_ATTRIBUTION"), "attribution shown for the external basemap (env GEOPORTAL_BASEMAP_ATTRIBUTION)")
	cityFlags := registerCityFlags(fs, getenv)
	security := registerSecurityFlags(fs, getenv)
	transitLimits := registerTransitFlags(fs, getenv)
	limits := registerLimitFlags(fs, getenv)
	replicaOpts := registerReplicaFlags(fs, getenv)
	wialonAddr := fs.String("wialon-addr", envOr(getenv, "GEOPORTAL_WIALON_ADDR", "127.0.0.1:20332"), "Wialon IPS 2.0 tracker listener (env GEOPORTAL_WIALON_ADDR; \"off\": none)")
	demoIfEmpty := fs.Bool("demo-if-empty", false, "load the demo city when the database has no features yet")
	smtpAddr := fs.String("smtp-addr", getenv("GEOPORTAL_SMTP_ADDR"), "SMTP relay host:port for messages to reporters (env GEOPORTAL_SMTP_ADDR; empty: messages stay queued in reports.outbox)")
	smtpFrom := fs.String("smtp-from", envOr(getenv, "GEOPORTAL_SMTP_FROM", "geoportal@localhost"), "sender address of messages to reporters (env GEOPORTAL_SMTP_FROM)")
	tileCacheDir := fs.String("tile-cache-dir", getenv("GEOPORTAL_TILE_CACHE_DIR"), "keep built tiles of public, non-live layers also as files in this folder, so that a restarted server (or another one sharing the folder) does not build them again (env GEOPORTAL_TILE_CACHE_DIR; empty: memory only)")
	tileMemory := fs.String("tile-memory-mb", envOr(getenv, "GEOPORTAL_TILE_MEMORY_MB", "512"), "MiB of memory for copies of point, line and polygon layers from which tiles are drawn without reading PostgreSQL (env GEOPORTAL_TILE_MEMORY_MB; 0: none, every tile is read from the database)")
	debugAddr := fs.String("debug-addr", getenv("GEOPORTAL_DEBUG_ADDR"), "loopback address for Go's profiler (/debug/pprof/) while measuring (env GEOPORTAL_DEBUG_ADDR; empty: none)")
	smsGateway := fs.String("sms", getenv("GEOPORTAL_SMS"), "SMS gateway for messages to reporters' phones (env GEOPORTAL_SMS): empty keeps them queued in reports.outbox; \"log\" writes them to the log (development only: codes end up in the log)")
	publicURL := fs.String("public-url", getenv("GEOPORTAL_PUBLIC_URL"), "the site's address as residents reach it, e.g. https://geo.aktobe.kz: links in confirmation e-mails and SMS (and self links in answers) are built from it, never from the request's Host header (env GEOPORTAL_PUBLIC_URL; empty: messages link to the listen address and a warning is logged)")
	fontDir := fs.String("font-dir", envOr(getenv, "GEOPORTAL_FONT_DIR", glyphs.DefaultDir), "folder of the TrueType fonts the map's labels are drawn with: DejaVuSans.ttf and DejaVuSans-Bold.ttf (env GEOPORTAL_FONT_DIR; Debian's fonts-dejavu-core)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	public, err := guard.ParsePublicURL(*publicURL)
	if err != nil {
		return fmt.Errorf("-public-url (or GEOPORTAL_PUBLIC_URL): %w", err)
	}
	city, err := cityFlags.city()
	if err != nil {
		return err
	}
	if err := transitLimits.check(); err != nil {
		return err
	}
	if *smsGateway != "" && *smsGateway != "log" {
		return fmt.Errorf("-sms %q: the only SMS gateway built in is \"log\" (empty keeps SMS queued in reports.outbox)", *smsGateway)
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

	// The domain services, built once and configured here, then handed to the web server.
	svc := web.Services{Pool: db.Pool, Registry: web.NewRegistry(), Layers: layers.NewStore(db.Pool),
		Accounts: accounts.NewStore(db.Pool), Reports: reports.NewStore(db.Pool), Transit: transit.New(db.Pool, logger)}
	secCfg, err := security.apply(svc.Accounts)
	if err != nil {
		return err
	}
	secCfg.PublicURL = public
	svc.Transit.Wialon, svc.Transit.Live = transitLimits.wialon, transitLimits.live
	// Reads anyone may ask for get their own pool and time budget (limits.go).
	timeouts, readPool, err := limits.apply(ctx, svc.Layers, db.Pool.Config())
	if err != nil {
		return err
	}
	defer readPool.Close()
	svc.Analysis = analysis.NewStore(db.Pool, svc.Layers)
	svc.Modules = modules.NewStore(db.Pool, svc.Layers, svc.Analysis)
	// Tile queries get their own pool (parallel query and JIT off) and a listener that keeps the
	// tile cache exact when layers change, in this process or any other.
	tilePool, err := tiles.NewPool(ctx, db.Pool.Config(), 0)
	if err != nil {
		return err
	}
	defer tilePool.Close()
	memMB, err := strconv.Atoi(*tileMemory)
	if err != nil || memMB < 0 || memMB > 1<<20 {
		return fmt.Errorf("-tile-memory-mb (or GEOPORTAL_TILE_MEMORY_MB) %q: want a whole number of MiB, 0 for none", *tileMemory)
	}
	tileOpts := tiles.Options{MemoryBytes: int64(memMB) << 20, DiskDir: *tileCacheDir}
	if memMB == 0 {
		tileOpts.MemoryBytes = -1 // none: every tile is read from PostgreSQL
	}
	if *tileCacheDir != "" {
		if err := os.MkdirAll(*tileCacheDir, 0o755); err != nil {
			return fmt.Errorf("-tile-cache-dir: %w", err)
		}
	}
	// Read replicas (replicas.go): tiles, public reads and analyses read from a fresh one.
	replicas, closeReplicas, err := replicaOpts.open(ctx, db.Pool, logger, svc.Registry, svc.Layers, readPool, limits,
		svc.Analysis, &tileOpts, tilePool)
	if err != nil {
		return err
	}
	defer closeReplicas()
	go replicas.Run(ctx)
	svc.Tiles = tiles.New(tilePool, svc.Layers, logger, svc.Registry, tileOpts)
	svc.Glyphs = glyphs.New(*fontDir)
	if err := svc.Glyphs.Check(); err != nil {
		logger.Warn("map labels will not draw", "err", err)
	} else {
		go func() {
			if err := svc.Glyphs.Warm(); err != nil {
				logger.Warn("glyphs: making the common ranges", "err", err)
			}
		}()
	}

	srv := web.New(logger, svc)
	srv.Security, srv.Timeouts = secCfg, timeouts
	srv.Map = api.MapConfig{BasemapURL: *basemapURL, BasemapAttribution: *basemapAttribution, City: city}
	go srv.Tiles.Invalidator().Run(ctx)
	// The search index follows layer changes in the background (searches do not wait for a
	// rebuild); until its listener is up, a search rebuilds a stale layer itself.
	go svc.Layers.SearchIndexer(logger).Run(ctx)
	// Serve once the tile change listener is connected (it takes a moment): until then nothing is
	// cached and the disk tier cannot tell which of its files are current.
	select {
	case <-srv.Tiles.Invalidator().Connected():
	case <-time.After(10 * time.Second):
		logger.Warn("tiles: change listener not connected yet; tiles are built afresh until it is")
	case <-ctx.Done():
		return nil
	}
	// Live vehicles: history partitions and the live hub until ctx ends (then every transit
	// goroutine stops), and the Wialon IPS listener (transit.go).
	transitCtx, stopTransit := context.WithCancel(ctx)
	transitDone := make(chan struct{})
	go func() { defer close(transitDone); srv.Transit.Run(transitCtx) }()
	defer func() { stopTransit(); <-transitDone }()
	if err := serveWialon(ctx, srv, *wialonAddr, stdout, logger); err != nil {
		return err
	}
	// The planners' population grid and street graph are built ahead of the first analysis.
	go func() {
		if err := srv.Analysis.Warm(ctx); err != nil && ctx.Err() == nil {
			logger.Info("analysis warm-up skipped", "error", err)
		}
	}()
	// Messages to reporters wait in reports.outbox until a relay is configured and answers.
	var senders reports.Senders
	if *smtpAddr != "" {
		senders.Email = reports.SMTPSender(*smtpAddr, *smtpFrom, getenv("GEOPORTAL_SMTP_USER"), getenv("GEOPORTAL_SMTP_PASSWORD"))
	}
	if *smsGateway == "log" {
		senders.SMS = reports.SMSSender(ctx, reports.LogSMS{Logger: logger})
	}
	if senders.Email != nil || senders.SMS != nil {
		go srv.Reports.RunOutboxes(ctx, 30*time.Second, senders, logger)
	}
	if *debugAddr != "" {
		if err := serveDebug(ctx, *debugAddr, logger); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	go web.PrecompressAssets() // the bundle gzipped before the first visitor asks for it
	srv.Security.ListenURL = guard.ListenURL(ln.Addr())
	if public == "" {
		logger.Warn("no -public-url (GEOPORTAL_PUBLIC_URL): links in confirmation e-mails and SMS point at the listen address; set it to the address residents use",
			"link_base", srv.Security.ListenURL)
	}
	httpSrv := srv.HTTPServer() // with the -read-timeout, -write-timeout… of limits.go
	// Live streams (SSE) end at shutdown instead of holding it open.
	httpSrv.RegisterOnShutdown(srv.Transit.Hub().Disconnect)
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

// serveDebug serves Go's profiler on a loopback address (never a public one: profiles reveal
// the program's internals and cost CPU while taken).
func serveDebug(ctx context.Context, addr string, logger *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-debug-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-debug-addr %q: the profiler is served on a loopback address only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	logger.Info("profiler", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
