// Package dbtest gives each test a fresh, migrated PostGIS database.
//
// It connects to GEOPORTAL_TEST_DATABASE_URL when set (a role allowed to create databases), else
// starts or reuses the project-local cluster in the repository's .data folder. A template database
// per migration set is built once (under an advisory lock, so parallel test binaries share it) and
// each test gets a copy that is dropped when the test ends. When no PostGIS can be had, the test
// fails: it never skips.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/pgcluster"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	adminOnce sync.Once
	adminURL  string
	adminErr  error
	// cluster holds the shared "in use" lock of the local cluster for the life of the test binary
	// (kept in a variable: a collected *os.File would close the lock and let another process's
	// exit stop the server under running tests).
	cluster *pgcluster.Cluster
)

// RepoRoot finds the folder holding go.mod, starting from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("dbtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// AdminURL returns the URL of a database on the test server whose role may create databases.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	adminOnce.Do(func() {
		if u := os.Getenv("GEOPORTAL_TEST_DATABASE_URL"); u != "" {
			adminURL = u
			return
		}
		root, err := RepoRoot()
		if err != nil {
			adminErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		// The cluster is left running for the other test binaries; `make stop-db` stops it.
		cluster = pgcluster.New(filepath.Join(root, ".data"), nil)
		adminURL, adminErr = cluster.Start(ctx)
	})
	if adminErr != nil {
		tb.Fatalf("dbtest: no PostGIS server for tests: %v", adminErr)
	}
	return adminURL
}

// templateName names the template database for the current migration set.
func templateName() (string, error) {
	ms, err := data.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%s\n%s\n", m.Name, m.SQL)
	}
	return "geoportal_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

var templateMu sync.Mutex

// ensureTemplate builds the migrated template database once per migration set.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base *url.URL, name string) error {
	templateMu.Lock()
	defer templateMu.Unlock()
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		return err
	}
	defer admin.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(4242)`)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`,
		name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := name + "_build"
	admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return err
	}
	u := *base
	u.Path = "/" + building
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		return err
	}
	_, err = data.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+
		pgx.Identifier{name}.Sanitize()); err != nil {
		return err
	}
	_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" IS_TEMPLATE true")
	return err
}

// NewURL creates a fresh migrated database for the test and returns its URL; the database is
// dropped when the test ends.
func NewURL(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base, err := url.Parse(AdminURL(tb))
	if err != nil {
		tb.Fatalf("dbtest: bad admin URL: %v", err)
	}
	admin, err := pgx.Connect(ctx, base.String())
	if err != nil {
		tb.Fatalf("dbtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	tmpl, err := templateName()
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	if err := ensureTemplate(ctx, admin, base, tmpl); err != nil {
		tb.Fatalf("dbtest: template: %v", err)
	}
	buf := make([]byte, 6)
	rand.Read(buf)
	name := "geoportal_test_" + hex.EncodeToString(buf)
	// CREATE DATABASE ... TEMPLATE fails while another session copies the same template; retry.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tmpl}.Sanitize())
		if err == nil || attempt == 50 {
			break
		}
		time.Sleep(time.Duration(50+attempt*20) * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		// DROP DATABASE waits for a checkpoint; while other test binaries load large files into
		// the same cluster (the OSM extracts) that has taken over a minute on a busy machine.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, base.String())
		if err != nil {
			tb.Errorf("dbtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	return u.String()
}

// New returns a pool on a fresh migrated database, closed and dropped when the test ends.
func New(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(NewURL(tb))
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	// Connections behave as in geoportal serve.
	data.CancelQueriesOnContext(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(pool.Close) // runs before the drop registered by NewURL
	return pool
}
