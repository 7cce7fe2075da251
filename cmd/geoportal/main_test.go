package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
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
