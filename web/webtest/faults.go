package webtest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aktobe/geoportal/web"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DeadPool is a pool whose port nothing listens on: every statement fails to connect, as when
// the database is down.
func DeadPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg, err := pgxpool.ParseConfig(fmt.Sprintf("postgres://geoportal@127.0.0.1:%d/geoportal?sslmode=disable&connect_timeout=2", port))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// DatabaseDown serves a server whose database is down.
func DatabaseDown(t *testing.T) *httptest.Server {
	t.Helper()
	srv := web.NewServer(slog.New(slog.DiscardHandler), DeadPool(t))
	t.Cleanup(srv.Transit.Close)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// Logs collects the log lines of concurrent handlers, at every level.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Logger returns a logger that writes to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ServeCanceled serves one request to h whose client has gone away (its context canceled
// before the handler runs) and returns what was written.
func ServeCanceled(h http.Handler, method, target string) *httptest.ResponseRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, method, target, nil))
	return w
}

// WantUnavailable checks that GET base+path answers 503 with a Retry-After and a body that
// holds shape (spaces ignored): the face's error shape with the database down.
func WantUnavailable(t *testing.T, base, path, shape string) {
	t.Helper()
	code, h, b := Fetch(t, "GET", base+path, "", nil)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("%s with the database down: %d, Retry-After %q (%.200s), want 503 with Retry-After", path, code, h.Get("Retry-After"), b)
		return
	}
	if !strings.Contains(strings.ReplaceAll(string(b), " ", ""), shape) {
		t.Errorf("%s: body %.300s, want the face's error shape with %s", path, b, shape)
	}
}
