package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestDemoCommandLoadsTheCity(t *testing.T) {
	url := dbtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": url}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-seed", "5"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatalf("geoportal demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"cameras", "buildings", "city_boundary", "total", "residents", "OpenStreetMap"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var empty []string
	if err := pool.QueryRow(context.Background(),
		`SELECT coalesce(array_agg(slug ORDER BY slug), '{}') FROM geoportal.layers WHERE feature_count = 0 AND slug IN
		('city_boundary','districts','places','streets','buildings','cameras','smart_crossings','overpasses','interchanges',
		 'schools','bus_stops','bus_routes','vehicles','utility_networks','street_lights','waste_sites','clinics','pharmacies',
		 'ramps','sports_grounds','playgrounds','biotoilets','parks','yards','leisure_places')`).Scan(&empty); err != nil {
		t.Fatal(err)
	}
	if len(empty) > 0 {
		t.Errorf("layers still empty after geoportal demo: %v", empty)
	}
}

func TestDemoCommandRejectsBadSeed(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"demo", "-seed", "many"}, func(string) string { return "" }, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error()+stderr.String(), "seed") {
		t.Fatalf("demo -seed many = %v (%s), want an error about -seed", err, stderr.String())
	}
}

func TestLoadDemoIfEmpty(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	db := &database{Pool: pool}
	logger := slog.New(slog.DiscardHandler)
	if err := loadDemoIfEmpty(ctx, db, logger); err != nil {
		t.Fatal(err)
	}
	var cameras, version int64
	if err := pool.QueryRow(ctx, `SELECT feature_count, version FROM geoportal.layers WHERE slug = 'cameras'`).Scan(&cameras, &version); err != nil {
		t.Fatal(err)
	}
	if cameras != 700 {
		t.Fatalf("cameras after loadDemoIfEmpty: %d, want 700", cameras)
	}
	// a second start finds features and leaves them alone
	if err := loadDemoIfEmpty(ctx, db, logger); err != nil {
		t.Fatal(err)
	}
	var version2 int64
	if err := pool.QueryRow(ctx, `SELECT version FROM geoportal.layers WHERE slug = 'cameras'`).Scan(&version2); err != nil {
		t.Fatal(err)
	}
	if version2 != version {
		t.Errorf("loadDemoIfEmpty rewrote a database with features (version %d -> %d)", version, version2)
	}
}
