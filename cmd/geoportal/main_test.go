package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// startServe runs `geoportal serve` in-process on a free port and returns its base URL and a
// function that stops it and returns run's error.
func startServe(t *testing.T, env map[string]string, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), getenv, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if _, url, ok := strings.Cut(sc.Text(), "listening on "); ok {
				lines <- url
			}
		}
	}()
	select {
	case url := <-lines:
		return url, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("serve did not start in 2 minutes")
	}
	return "", nil
}

func TestServeMigratesAndAnswers(t *testing.T) {
	url, stop := startServe(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t)})
	for _, path := range []string{"/healthz", "/readyz", "/api/layers"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			t.Errorf("%s: %d %v", path, resp.StatusCode, err)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("run(frobnicate) = %v", err)
	}
}

// A database that is not there yet makes serve wait and say so, and give up cleanly when told to.
func TestServeWaitsForDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var logs strings.Builder
	env := map[string]string{"DATABASE_URL": "postgres://nobody:x@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"}
	err := run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Fatalf("serve without a database = %v, want a 'not reachable' error", err)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("no retry was logged:\n%s", logs.String())
	}
}

// A wrong password or a database that does not exist is said at once, not retried for ever.
func TestServeRefusedDatabase(t *testing.T) {
	good, err := url.Parse(dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	wrongPassword := *good
	wrongPassword.User = url.UserPassword(good.User.Username(), "not the password")
	noDatabase := *good
	noDatabase.Path = "/no_such_database_here"
	for name, c := range map[string]struct{ url, want string }{
		"password": {wrongPassword.String(), "password"},
		"database": {noDatabase.String(), "does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			// Far longer than a refused connection takes; the retry loop would run until it ends.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var logs strings.Builder
			env := map[string]string{"DATABASE_URL": c.url}
			err := run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, &logs)
			if err == nil || !strings.Contains(err.Error(), "refused the connection") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("serve with a wrong %s = %v, want a 'refused' error naming %q", name, err, c.want)
			}
			if ctx.Err() != nil {
				t.Fatalf("serve kept retrying until its context ended")
			}
			if strings.Contains(logs.String(), "retrying") {
				t.Fatalf("a refused connection was retried:\n%s", logs.String())
			}
		})
	}
}

// -tile-cache-dir keeps built tiles as files that a restarted server finds again.
func TestServeTileCacheDir(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `INSERT INTO layer.biotoilets (geom, name)
		VALUES (ST_SetSRID(ST_MakePoint(57.1675, 50.2839), 4326), 'Central park')`); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tilecache")
	z, x, y := 14, 10793, 5536 // the tile holding 57.1675, 50.2839
	tilePath := fmt.Sprintf("/tiles/biotoilets/%d/%d/%d.mvt", z, x, y)
	get := func(url string) []byte {
		t.Helper()
		resp, err := http.Get(url + tilePath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || err != nil || len(body) == 0 {
			t.Fatalf("GET %s: %d, %d bytes, %v", tilePath, resp.StatusCode, len(body), err)
		}
		return body
	}
	url, stop := startServe(t, map[string]string{"DATABASE_URL": dbURL}, "-tile-cache-dir", dir)
	first := get(url)
	var files []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		files, _ = filepath.Glob(filepath.Join(dir, "biotoilets", "*", "14", "10793", "5536.mvt.gz"))
		if len(files) == 1 {
			break
		}
	}
	if len(files) != 1 {
		t.Fatalf("no tile file under %s after a tile request", dir)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Mark the file: the restarted server must answer from it, not build the tile again.
	var marked bytes.Buffer
	zw := gzip.NewWriter(&marked)
	zw.Write(append([]byte("from the disk tier:"), first...))
	zw.Close()
	if err := os.WriteFile(files[0], marked.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url, stop = startServe(t, map[string]string{"DATABASE_URL": dbURL}, "-tile-cache-dir", dir)
	defer stop()
	if second := get(url); !bytes.HasPrefix(second, []byte("from the disk tier:")) {
		t.Errorf("the restarted server built the tile again instead of reading %s", files[0])
	}
}
