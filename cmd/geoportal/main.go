// Command geoportal is the Aktobe city geoportal: one binary with subcommands that serve the map
// and its APIs, migrate the database, load demo data and import files.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/pgcluster"
	"github.com/aktobe/geoportal/internal/logthrottle"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "geoportal:", err)
		os.Exit(1)
	}
}

const usage = `geoportal — the Aktobe city geoportal

Usage: geoportal COMMAND [flags]

Commands:
  serve     serve the map, tiles and APIs (migrates first)
  migrate   apply database migrations
  demo      load the demo city (real boundary + generated layers)
  db        manage the project-local PostgreSQL cluster: start | stop | url | status
  import    load a shapefile, GeoJSON, CSV, KML or GeoPackage into a layer (import -h)
  gtfs      import a GTFS static feed into the timetable and bus layers: gtfs import FEED
  vehicle   manage the vehicle registry: add | key | list ('geoportal vehicle')
  simulate  load generator: simulated vehicles over Wialon IPS and HTTP (simulate -h)
  user      manage accounts, API keys and tracker passwords: add | passwd | role | list | key … ('geoportal user help')

Environment: DATABASE_URL (unset: the project-local cluster in GEOPORTAL_DATA_DIR, default .data),
GEOPORTAL_ADDR (default 127.0.0.1:8080), GEOPORTAL_LOG_LEVEL (debug|info|warn|error).
Run 'geoportal COMMAND -h' for a command's flags.
`

// config is what every subcommand shares; flags default to the environment.
type config struct {
	DatabaseURL string
	DataDir     string
	LogLevel    string
}

func (c *config) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.DatabaseURL, "database-url", getenv("DATABASE_URL"), "PostgreSQL URL (env DATABASE_URL; empty: project-local cluster)")
	fs.StringVar(&c.DataDir, "data-dir", envOr(getenv, "GEOPORTAL_DATA_DIR", ".data"), "folder of the project-local cluster (env GEOPORTAL_DATA_DIR)")
	fs.StringVar(&c.LogLevel, "log-level", envOr(getenv, "GEOPORTAL_LOG_LEVEL", "info"), "log level (env GEOPORTAL_LOG_LEVEL)")
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	// A failure repeated by every request (a database outage) is logged a few times per window,
	// then counted: see logthrottle.
	return slog.New(logthrottle.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}), 10*time.Second, 5))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, getenv, stdout, stderr)
	case "db":
		return runDB(ctx, rest, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, rest, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, rest, getenv, os.Stdin, stdout, stderr)
	case "gtfs":
		return runGTFS(ctx, rest, getenv, stdout, stderr)
	case "vehicle":
		return runVehicle(ctx, rest, getenv, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, rest, getenv, stdout, stderr)
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

// database is an open pool plus whatever must be closed with it.
type database struct {
	Pool    *pgxpool.Pool
	cluster *pgcluster.Cluster
}

func (d *database) Close() {
	d.Pool.Close()
	if d.cluster != nil {
		d.cluster.Close()
	}
}

// openDatabase connects to DATABASE_URL, or starts the project-local cluster, and waits for the
// database with back-off until it answers or ctx ends.
func openDatabase(ctx context.Context, cfg config, logger *slog.Logger) (*database, error) {
	db := &database{}
	url := cfg.DatabaseURL
	if url == "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		db.cluster = pgcluster.New(dir, logger)
		if url, err = db.cluster.Start(ctx); err != nil {
			return nil, err
		}
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if pcfg.MaxConns < 16 {
		pcfg.MaxConns = 16
	}
	data.CancelQueriesOnContext(pcfg.ConnConfig)
	// A connection whose backend went away (a restart, pg_terminate_backend) is found by a ping
	// when it is taken from the pool and replaced before anything is sent: the request goes on,
	// on a fresh connection, instead of failing.
	data.CheckBeforeUse(pcfg)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	db.Pool = pool
	delay := 250 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pctx)
		cancel()
		if err == nil {
			return db, nil
		}
		if why := refusedForGood(err); why != "" {
			// A wrong password or a database that does not exist stays so: waiting would only
			// hide the mistake in a log of retries.
			db.Close()
			return nil, fmt.Errorf("database %s:%d/%s refused the connection (%s): %w", pcfg.ConnConfig.Host,
				pcfg.ConnConfig.Port, pcfg.ConnConfig.Database, why, err)
		}
		logger.Warn("database not reachable, retrying", "host", pcfg.ConnConfig.Host,
			"port", pcfg.ConnConfig.Port, "database", pcfg.ConnConfig.Database, "retry_in", delay.String(), "error", err)
		select {
		case <-ctx.Done():
			db.Close()
			return nil, fmt.Errorf("database %s:%d/%s not reachable: %w", pcfg.ConnConfig.Host,
				pcfg.ConnConfig.Port, pcfg.ConnConfig.Database, err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// refusedForGood names why the server refused a connection when retrying cannot help (the
// credentials, the database name or the role's rights are wrong), else returns "".
func refusedForGood(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return ""
	}
	switch pgErr.Code {
	case "28P01", "28000":
		return "check the user name and password in DATABASE_URL"
	case "3D000":
		return "the database does not exist; create it or fix its name in DATABASE_URL"
	case "42501":
		return "the user may not connect to this database"
	}
	return ""
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := data.Migrate(ctx, db.Pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	return nil
}

func runDB(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	standbyOf := fs.String("standby-of", "", "on first start, make the cluster a streaming replica of this primary (pg_basebackup -R) instead of a new one (scripts/cluster.sh)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	c := pgcluster.New(dir, newLogger(stderr, cfg.LogLevel))
	c.Standby = *standbyOf
	switch strings.Join(fs.Args(), " ") {
	case "start", "url":
		u, err := c.Start(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, u)
		if fs.Arg(0) == "start" {
			return c.KeepRunning()
		}
		return nil // the lock is released at exit
	case "stop":
		return c.Stop()
	case "status":
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if !st.Running {
			fmt.Fprintf(stdout, "stopped data=%s\n", dir)
			return nil
		}
		role := "primary"
		if st.Standby {
			role = "standby"
		}
		fmt.Fprintf(stdout, "%s pid=%d port=%d", role, st.PID, st.Port)
		if st.Standby {
			fmt.Fprintf(stdout, " wal_receiver=%s", cmp.Or(st.Receiver, "none"))
		}
		fmt.Fprintf(stdout, " data=%s\n", dir)
		for _, r := range st.Replicas {
			fmt.Fprintf(stdout, "  replica addr=%s state=%s lag_bytes=%d replay_lag=%s\n", r.Addr, r.State, r.LagBytes, cmp.Or(r.ReplayLag, "0"))
		}
		return nil
	}
	return fmt.Errorf("db: want start, stop, url or status")
}
