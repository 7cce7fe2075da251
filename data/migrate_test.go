package data_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	ms, err := data.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 {
		t.Fatalf("want at least the catalog and city-layer migrations, got %d", len(ms))
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migration %s comes after %s", ms[i].Name, ms[i-1].Name)
		}
	}
}

// emptyDatabase creates a database with nothing in it beside the test's migrated one.
func emptyDatabase(t *testing.T) *pgxpool.Config {
	t.Helper()
	ctx := context.Background()
	admin := dbtest.New(t)
	name := pgx.Identifier{fmt.Sprintf("geoportal_empty_%d", rand.Int64())}.Sanitize()
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	cfg := admin.Config().Copy()
	cfg.ConnConfig.Database = strings.Trim(name, `"`)
	return cfg
}

// An empty database gets every migration once; running again applies nothing and changes nothing.
func TestMigrateTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, emptyDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	ms, _ := data.Migrations()
	n, err := data.Migrate(ctx, pool)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if n != len(ms) {
		t.Fatalf("first migrate applied %d, want %d", n, len(ms))
	}
	var layersBefore int
	pool.QueryRow(ctx, `SELECT count(*) FROM geoportal.layers`).Scan(&layersBefore)

	n, err = data.Migrate(ctx, pool)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if n != 0 {
		t.Fatalf("second migrate applied %d, want 0", n)
	}
	var layersAfter int
	pool.QueryRow(ctx, `SELECT count(*) FROM geoportal.layers`).Scan(&layersAfter)
	if layersAfter != layersBefore || layersBefore == 0 {
		t.Fatalf("catalog had %d layers, then %d", layersBefore, layersAfter)
	}
	pending, err := data.Pending(ctx, pool)
	if err != nil || pending != 0 {
		t.Fatalf("pending = %d, %v; want 0", pending, err)
	}
}

// Concurrent migrations (several processes starting at once) serialise on the advisory lock.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	cfg := emptyDatabase(t)
	type result struct {
		n   int
		err error
	}
	results := make(chan result, 3)
	for i := 0; i < 3; i++ {
		go func() {
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer pool.Close()
			n, err := data.Migrate(ctx, pool)
			results <- result{n, err}
		}()
	}
	sum := 0
	for i := 0; i < 3; i++ {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		sum += r.n
	}
	ms, _ := data.Migrations()
	if sum != len(ms) {
		t.Fatalf("three concurrent migrations applied %d in all, want %d", sum, len(ms))
	}
}
