package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestSlowReadersHoldNoConnection: 16 anonymous clients ask for a 10,000-feature page and never
// read the answer. No database backend waits on them (ClientWrite), and meanwhile a normal items
// request, a search and /readyz are answered. Before, each held a connection of the pool while
// its answer waited in the socket, and the pool was theirs.
func TestSlowReadersHoldNoConnection(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, `INSERT INTO layer.bus_stops (geom, name)
		SELECT ST_SetSRID(ST_MakePoint(57.1 + i * 1e-5, 50.28), 4326), 'Аялдама ' || repeat('ұзын атау ', 20) || i
		FROM generate_series(1, 12000) AS i`); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(slog.New(slog.DiscardHandler), pool)
	t.Cleanup(srv.Transit.Close)
	srv.Timeouts = DefaultHTTPTimeouts()
	// Public reads on a pool of their own, as `geoportal serve` gives them (8 connections).
	readPool, err := pgxpool.NewWithConfig(ctx, data.PublicReadConfig(pool.Config(), 8, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(readPool.Close)
	srv.Layers.SetReadPool(readPool)
	// The search index of the 12,000 stops is built first, as `serve`'s indexer would have it:
	// the search below measures the stalled readers, not the first build (seconds on a busy machine).
	if err := srv.Layers.RefreshSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	addr := slowServer(t, srv)

	// The stalled readers: a tiny receive buffer, a request, and nothing read.
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10) })
	}}
	conns := make([]net.Conn, 16)
	for i := range conns {
		c, err := dialer.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /ogc/collections/bus_stops/items?limit=10000&offset=%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		conns[i] = c
	}
	// Each answer has begun (one byte is taken of it, the rest left unread): the database part of
	// every request is done or under way.
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Fatalf("stalled reader %d: no answer began: %v", i, err)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, path := range []string{"/ogc/collections/bus_stops/items?limit=10", "/api/search?q=Аялдама", "/readyz"} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("%s with 16 stalled readers: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s with 16 stalled readers: %d", path, resp.StatusCode)
		}
	}
	var waiting int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event = 'ClientWrite'`).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 0 {
		t.Errorf("%d backends wait on a client that does not read", waiting)
	}
}

// TestQueryCancelledWhenClientLeaves: a costly public read whose client goes away stops in the
// database at once (it went on for seconds after the client had gone). The read is made to last
// by a lock held on its table, so that nothing but the disconnect can end it: its time budget is
// a minute here.
func TestQueryCancelledWhenClientLeaves(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	srv := NewServer(slog.New(slog.DiscardHandler), pool)
	t.Cleanup(srv.Transit.Close)
	srv.Timeouts = DefaultHTTPTimeouts()
	readPool, err := pgxpool.NewWithConfig(ctx, data.PublicReadConfig(pool.Config(), 8, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(readPool.Close)
	srv.Layers.SetReadPool(readPool)
	addr := slowServer(t, srv)

	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `LOCK TABLE layer.bus_stops IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	filter := "S_INTERSECTS(geom,BBOX(57.1,50.2,57.2,50.3))"
	for i := 1; i < 200; i++ {
		filter += fmt.Sprintf("%%20OR%%20S_INTERSECTS(geom,BBOX(57.1,50.2,57.2,50.%d))", 300+i)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /ogc/collections/bus_stops/items?limit=100&filter=%s HTTP/1.1\r\nHost: x\r\n\r\n", filter)
	waitingQueries := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%bus_stops%' AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for waitingQueries() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the read never reached the database")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Close() // the client goes away
	deadline = time.Now().Add(15 * time.Second)
	for waitingQueries() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the read goes on in the database after its client has gone")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
