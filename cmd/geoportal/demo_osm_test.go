package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestDemoFromOSMStaysInTheCity loads the Aktobe demo, then the demo of Delaware's extract over
// it: every feature of every public layer lies within the extract's bounds, the generated ones
// (buses, stops, cameras…) within the city the extract gave, and the city the map is centred on
// is Delaware's.
func TestDemoFromOSMStaysInTheCity(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.NewURL(t)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"demo"}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	counts := func() string {
		t.Helper()
		var s string
		if err := pool.QueryRow(ctx, `SELECT string_agg(slug || '=' || feature_count, ' ' ORDER BY slug) FROM geoportal.layers`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// A broken extract is refused, naming it, and the demo stays as it was.
	before := counts()
	broken := filepath.Join(t.TempDir(), "broken.osm")
	if err := os.WriteFile(broken, []byte(`<?xml version="1.0"?><osm version="0.6"><node id="1" lat="39.1" lon=`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"demo", "-osm", broken}, getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "broken.osm") {
		t.Errorf("demo -osm of a broken extract: %v, want an error naming it", err)
	}
	if after := counts(); after != before {
		t.Errorf("a refused extract changed the demo:\n%s\n%s", before, after)
	}

	out.Reset()
	if err := run(ctx, []string{"demo", "-osm", testfiles.OSM(t, "delaware-latest.osm.pbf")}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("demo -osm: %v\n%s", err, out.String())
	}

	// Delaware, with a margin: the extract's bounds are -75.79, 38.45 to -75.05, 39.84
	const west, south, east, north = -76.0, 38.3, -74.9, 40.0
	rows, err := pool.Query(ctx, `SELECT slug, title_kk, title_ru, title_en FROM geoportal.layers
		WHERE visibility = 'public' AND to_regclass(format('layer.%I', slug)) IS NOT NULL ORDER BY slug`)
	if err != nil {
		t.Fatal(err)
	}
	type layer struct{ slug, kk, ru, en string }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (layer, error) {
		var l layer
		return l, r.Scan(&l.slug, &l.kk, &l.ru, &l.en)
	})
	if err != nil {
		t.Fatal(err)
	}
	var generated int
	for _, l := range all {
		if l.kk == l.en || l.ru == l.en {
			t.Errorf("layer %s: titles %q, %q, %q, want them in Kazakh, Russian and English", l.slug, l.kk, l.ru, l.en)
		}
		table := pgx.Identifier{"layer", l.slug}.Sanitize()
		var outside, strayDemo, demo int
		if err := pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE NOT ST_Within(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))),
			count(*) FILTER (WHERE is_demo AND NOT ST_Within(geom, (SELECT ST_Union(geom) FROM layer.city_boundary))),
			count(*) FILTER (WHERE is_demo)
			FROM `+table+` WHERE $5 <> 'city_boundary'`, west, south, east, north, l.slug).Scan(&outside, &strayDemo, &demo); err != nil {
			t.Fatalf("layer %s: %v", l.slug, err)
		}
		if outside > 0 {
			t.Errorf("layer %s: %d features outside Delaware", l.slug, outside)
		}
		if strayDemo > 0 {
			t.Errorf("layer %s: %d generated features outside the city boundary", l.slug, strayDemo)
		}
		generated += demo
	}
	var vehicles, stops int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM layer.vehicles), (SELECT count(*) FROM layer.bus_stops)`).Scan(&vehicles, &stops); err != nil {
		t.Fatal(err)
	}
	if vehicles == 0 || stops == 0 || generated == 0 {
		t.Errorf("%d vehicles, %d stops, %d generated features, want some of each in Delaware\n%s", vehicles, stops, generated, out.String())
	}

	city, err := layers.NewStore(pool).City(ctx, layers.City{})
	if err != nil {
		t.Fatal(err)
	}
	if c := city.Center; len(c) != 2 || c[0] < west || c[0] > east || c[1] < south || c[1] > north {
		t.Errorf("the city's centre is %v, want one in Delaware; city %+v", c, city)
	}
}

// standsOn counts the generated points of layer within distance (degrees) of a line of onto from
// the extract, and those of them that lie on one.
func standsOn(t *testing.T, pool *pgxpool.Pool, layer, onto string, distance float64) (near, on int) {
	t.Helper()
	o := pgx.Identifier{"layer", onto}.Sanitize()
	if err := pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM `+o+` s
			WHERE s.osm_id IS NOT NULL AND ST_DWithin(s.geom, p.geom, 1e-9)))
		FROM `+pgx.Identifier{"layer", layer}.Sanitize()+` p
		WHERE p.is_demo AND EXISTS (SELECT 1 FROM `+o+` s WHERE s.osm_id IS NOT NULL AND ST_DWithin(s.geom, p.geom, $1))`, distance).Scan(&near, &on); err != nil {
		t.Fatal(err)
	}
	return near, on
}
