package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The faults found by the fault-injection run (issue "Holds under slow clients, costly filters
// and bad bytes"): each test reproduces one against a real server and database.

// deadPool is a pool whose port nothing listens on: every statement fails to connect.
func deadPool(t *testing.T) *pgxpool.Pool {
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

// Before: with the database down, OGC items answered 500 (other routes 503 with Retry-After):
// ogcAPI.fail and open311Fail did not classify the error as the JSON API did. Now every face
// answers 503 with Retry-After, in its own error shape.
func TestFaultDatabaseDownEveryFace503(t *testing.T) {
	srv := NewServer(slog.New(slog.DiscardHandler), deadPool(t))
	t.Cleanup(srv.Transit.Close)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	for _, c := range []struct{ path, shape string }{
		{"/api/layers", `"error":{"code":"unavailable"`},
		{"/ogc/collections/sec_pub/items", `"code":"ServiceUnavailable"`},
		{"/ogc/collections/sec_pub/items/1", `"code":"ServiceUnavailable"`},
		{"/open311/v2/services.json", `"code":503`},
		{"/open311/v2/requests.json", `"code":503`},
		{"/open311/v2/services.xml", `<code>503</code>`},
		{"/tiles/sec_pub/0/0/0.mvt", ``},
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s with the database down: %d, Retry-After %q (%.200s), want 503 with Retry-After", c.path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
			continue
		}
		if !strings.Contains(strings.ReplaceAll(string(b), " ", ""), c.shape) {
			t.Errorf("%s: body %.300s, want the face's error shape with %s", c.path, b, c.shape)
		}
	}
}

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

// Before: DWITHIN(…, 2e7, meters) in a filter and 1,700 properties= names were answered 500 with
// an ERROR line (a geography buffer of 20,000 km; a select list past PostgreSQL's 1,664
// entries). Now both are 400 naming the parameter; distances up to half the Earth's
// circumference still work.
func TestFaultCostlyFilterAndProperties(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	u := full.URL + "/ogc/collections/ogc_points/items?limit=1&"
	for _, f := range []string{
		`DWITHIN(geom, POINT(57.0 50.2), 2e7, meters)`,
		`DWITHIN(geom, POINT(57.0 50.2), 20000, kilometers)`,
		`DWITHIN(geom, POINT(57.0 50.2), 5000, kilometers)`,
		`DWITHIN(geom, POINT(57.0 50.2), 1000, kilometers)`,
		`DWITHIN(geom, POINT(57.0 50.2), 100, kilometers)`,
	} {
		if r := do(t, "GET", u+"filter="+url.QueryEscape(f), ""); r.status != 200 {
			t.Errorf("filter %s: %d %.300s, want 200", f, r.status, r.body)
		}
	}
	for _, f := range []string{
		`DWITHIN(geom, POINT(57.0 50.2), 2.1e7, meters)`,
		`DWITHIN(geom, POINT(57.0 50.2), 1e300, kilometers)`,
	} {
		wantError(t, do(t, "GET", u+"filter="+url.QueryEscape(f), ""), 400, "DWITHIN distance")
	}
	wantError(t, do(t, "GET", u+"filter-lang=cql2-json&filter="+url.QueryEscape(
		`{"op":"s_dwithin","args":[{"property":"geom"},{"type":"Point","coordinates":[57,50.2]},3e7]}`), ""), 400, "distance")

	names := strings.TrimSuffix(strings.Repeat("name,", 1700), ",")
	wantError(t, do(t, "GET", u+"properties="+names, ""), 400, "properties")
	wantError(t, do(t, "GET", u+"properties=name,name", ""), 400, "properties")
	wantError(t, do(t, "GET", u+"properties=name,no_such", ""), 400, "no_such")
	if r := do(t, "GET", u+"properties=name,status", ""); r.status != 200 {
		t.Errorf("properties=name,status: %d %.300s", r.status, r.body)
	}
}
