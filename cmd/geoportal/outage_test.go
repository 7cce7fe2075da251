package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5"
)

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu    sync.Mutex
	lines []string
}

// logMsg and logErr read a text log line's message and error attribute.
var (
	logMsg = regexp.MustCompile(`msg="(?:[^"\\]|\\.)*"|msg=\S+`)
	logErr = regexp.MustCompile(`error="(?:[^"\\]|\\.)*"|error=\S+`)
)

func (b *syncBuffer) add(l string) { b.mu.Lock(); b.lines = append(b.lines, l); b.mu.Unlock() }
func (b *syncBuffer) count() int   { b.mu.Lock(); defer b.mu.Unlock(); return len(b.lines) }

// TestServeOutageLogsBounded: while the database refuses connections, 300 requests that need it
// are answered 503, and the log gets a few lines of each kind with a count of the rest, not a
// line per request (a 10 s outage wrote some 280 repeated warnings).
func TestServeOutageLogsBounded(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			logs.add(l)
			if _, u, ok := strings.Cut(l, "listening on "); ok {
				urls <- u
			}
		}
	}()
	done := make(chan error, 1)
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": dbURL, "GEOPORTAL_WIALON_ADDR": "off"}[k]
	}
	go func() {
		// The log goes to stderr; "listening on" to stdout: both are read here.
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, getenv, pw, pw)
		pw.Close()
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not start")
	}

	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// The outage: no new connections to the database, and its open ones cut.
	db := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(context.Background(), `ALTER DATABASE `+db+` ALLOW_CONNECTIONS true`)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	before := logs.count()
	start := time.Now()
	client := &http.Client{Timeout: 30 * time.Second}
	statuses := map[int]int{}
	for i := 0; i < 300; i++ {
		resp, err := client.Get(base + "/api/search?q=%D1%88%D0%BA%D0%BE%D0%BB%D0%B0")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	time.Sleep(500 * time.Millisecond)
	elapsed := time.Since(start)
	logs.mu.Lock()
	lines := append([]string(nil), logs.lines[before:]...)
	logs.mu.Unlock()
	written := len(lines)
	if statuses[500] > 0 {
		t.Errorf("answers during the outage: %v (no 500 expected)", statuses)
	}
	if statuses[503] != 300 {
		t.Errorf("answers during the outage: %v, want 300 × 503", statuses)
	}
	// Of each kind of line (message and error), at most the throttle's 5 per 10 s window
	// (cmd/geoportal/main.go): the background listeners' reconnects add lines with the outage's
	// length (slow on a busy machine), the 300 failed requests must not add one each. A kind's
	// windows start at its first line, so the test's time touches at most elapsed/10 s + 2.
	windows := int(elapsed/(10*time.Second)) + 2
	perKind := map[string]int{}
	for _, l := range lines {
		perKind[logMsg.FindString(l)+" "+logErr.FindString(l)]++
	}
	for k, n := range perKind {
		if n > 5*windows {
			t.Errorf("%d lines of one kind in %d windows of 10 s (%v): %s", n, windows, elapsed.Round(time.Second), k)
		}
	}
	if written >= 300 {
		t.Errorf("%d log lines for 300 failed requests; the first of them:\n%s", written, strings.Join(lines[:min(10, len(lines))], "\n"))
	}
	t.Logf("statuses %v, %d log lines", statuses, written)
	cancel()
	<-done
}
