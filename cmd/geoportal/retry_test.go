package main

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5"
)

// TestServeReadsSurviveTerminatedBackends: after every backend of the database is terminated (as
// a restart or pg_terminate_backend does), the next reads are answered 200, on fresh connections:
// the dead ones are found when taken from the pools, before their statement is sent. Before,
// the first requests after it failed.
func TestServeReadsSurviveTerminatedBackends(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	base, stop := startServe(t, map[string]string{"DATABASE_URL": dbURL, "GEOPORTAL_WIALON_ADDR": "off"})
	defer stop()
	admin, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	paths := []string{"/open311/v2/services.json", "/ogc/collections/bus_stops/items?limit=5",
		"/api/search?q=%D1%88%D0%BA%D0%BE%D0%BB%D0%B0", "/api/reports/services", "/readyz",
		"/tiles/bus_stops,schools/14/10744/5528.mvt"}
	get := func(p string) (int, string) {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	for round := 0; round < 3; round++ {
		for _, p := range paths { // every pool holds idle connections
			get(p)
		}
		if _, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if code, body := get(p); code != 200 && code != 204 { // 204: an empty tile
				t.Errorf("round %d: %s after the backends were terminated: %d %.200s", round, p, code, body)
			}
		}
	}
}
