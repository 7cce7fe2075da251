package modules_test

import (
	"context"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/modules"
)

func TestSeedSocialTaxiArea(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	m := modules.NewStore(pool, nil, nil)

	// No boundary yet: nothing to derive from.
	if n, err := m.SeedSocialTaxiArea(ctx); err != nil || n != 0 {
		t.Fatalf("without a boundary: %d, %v", n, err)
	}
	// Two parts of a boundary (10 × 10 km squares near Aktobe, one touching the other).
	if _, err := pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name) VALUES
		(ST_Multi(ST_Transform(ST_MakeEnvelope(500000, 5560000, 510000, 5570000, 32640), 4326)), 'a'),
		(ST_Multi(ST_Transform(ST_MakeEnvelope(510000, 5560000, 520000, 5570000, 32640), 4326)), 'b')`); err != nil {
		t.Fatal(err)
	}
	if n, err := m.SeedSocialTaxiArea(ctx); err != nil || n != 1 {
		t.Fatalf("first seed: %d, %v", n, err)
	}
	var km2 float64
	var valid bool
	if err := pool.QueryRow(ctx, `SELECT ST_Area(ST_Transform(geom, 32640)) / 1e6, ST_IsValid(geom) FROM layer.social_taxi_area`).
		Scan(&km2, &valid); err != nil {
		t.Fatal(err)
	}
	if km2 < 199 || km2 > 201 || !valid {
		t.Errorf("service area %.1f km² (valid %v), want the 200 km² of the boundary", km2, valid)
	}
	// An area drawn by staff is left alone, and seeding again adds nothing.
	if _, err := pool.Exec(ctx, `UPDATE layer.social_taxi_area SET operator = 'City social taxi', is_demo = false`); err != nil {
		t.Fatal(err)
	}
	if n, err := m.SeedSocialTaxiArea(ctx); err != nil || n != 0 {
		t.Fatalf("second seed: %d, %v", n, err)
	}
	var operator string
	pool.QueryRow(ctx, `SELECT string_agg(operator, ',') FROM layer.social_taxi_area`).Scan(&operator)
	if operator != "City social taxi" {
		t.Errorf("areas after the second seed: %q", operator)
	}
	// The layer is public and titled in the three languages, in the barrier-free direction.
	var dir int
	var kk, ru, en, vis string
	if err := pool.QueryRow(ctx, `SELECT direction, title_kk, title_ru, title_en, visibility FROM geoportal.layers WHERE slug = 'social_taxi_area'`).
		Scan(&dir, &kk, &ru, &en, &vis); err != nil {
		t.Fatal(err)
	}
	if dir != 6 || kk == "" || ru == "" || en == "" || vis != "public" {
		t.Errorf("catalog: direction %d, titles %q %q %q, %s", dir, kk, ru, en, vis)
	}
}
