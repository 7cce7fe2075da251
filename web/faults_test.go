package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The faults found by the fault-injection run (issue "Holds under slow clients, costly filters
// and bad bytes"): each test reproduces one against a real server and database.

// With the database down every face answers 503 with Retry-After, in its own error shape: see
// TestJSONAPIErrors (errors_test.go), ogc.TestOGCErrors and open311.TestOpen311ErrorPath.

// Before: pg_terminate_backend of the server's connections gave the next 1–3 requests a 500.
// Now a read on a dead connection is retried once where that is safe, and otherwise answered 503
// with Retry-After: never 500.
func TestFaultTerminatedBackendsNo500(t *testing.T) {
	pool := dbtest.New(t)
	srv := NewServer(slog.New(slog.DiscardHandler), pool)
	t.Cleanup(srv.Transit.Close)
	if _, err := pool.Exec(context.Background(), secTileLayers); err != nil {
		t.Fatal(err)
	}
	withPublicReadPool(t, srv, 4, 10*time.Second)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	admin, err := pgxpool.New(context.Background(), pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	paths := []string{"/api/layers", "/ogc/collections/sec_pub/items", "/ogc/collections/sec_pub/items/1",
		"/open311/v2/services.json", "/open311/v2/services.xml"}
	client := &http.Client{Timeout: 30 * time.Second}
	for round := range 6 {
		// Warm the pools' connections, then kill every backend of the test database but ours.
		for _, p := range paths {
			if resp, err := client.Get(ts.URL + p); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		if _, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 2 * len(paths) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := paths[i%len(paths)]
				resp, err := client.Get(ts.URL + p)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == 200:
				case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
				default:
					t.Errorf("round %d: %s after pg_terminate_backend: %d %.200s, want 200 or 503 with Retry-After", round, p, resp.StatusCode, b)
				}
			}()
		}
		wg.Wait()
	}
}

// Before: a POST /api/vehicles/positions with a bogus X-Device-Key was answered 401 before its
// body was read, but net/http then read the rest of the body to keep the connection, so a client
// trickling 100 KB at 1 byte/s held the connection until the read timeout (60 s). Now an error
// answer to a request whose body was not read closes the connection at once.
func TestFaultTrickledBodyAfterRefusal(t *testing.T) {
	pool := dbtest.New(t)
	srv := NewServer(slog.New(slog.DiscardHandler), pool)
	t.Cleanup(srv.Transit.Close)
	addr := slowServer(t, srv) // default timeouts: the read timeout (60 s) outlasts the client's 20 s
	head := "POST /api/vehicles/positions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		"X-Device-Key: not-a-key\r\nContent-Length: 100000\r\n\r\n{\"positions\":["
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			closed, got := cutOff(t, addr, head)
			if !strings.HasPrefix(got, "HTTP/1.1 401") {
				t.Errorf("connection %d: answer %.100q, want 401", i, got)
			}
			if !closed {
				t.Errorf("connection %d: still open 20 s after the 401, waiting for the rest of a refused body", i)
			}
		}()
	}
	wg.Wait()
}
