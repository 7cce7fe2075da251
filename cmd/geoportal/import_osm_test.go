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
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestImportOSMCommand imports the made-up extract from the command line, then again with
// --clip to a city boundary that leaves the park out, and with a broken mapping file.
func TestImportOSMCommand(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.NewURL(t), "USER": "gis-operator"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	root, err := dbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(root, "testdata", "osm", "small.osm")

	var out bytes.Buffer
	if err := run(ctx, []string{"import", "--print-mapping"}, getenv, &out, io.Discard); err != nil || !strings.Contains(out.String(), "[schools]") {
		t.Fatalf("--print-mapping: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "--quiet", small}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	for _, want := range []string{"(osm):", "schools", "skipped relation/201: references itself"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	out.Reset()
	err = run(ctx, []string{"import", "--quiet", "--clip", small}, getenv, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "city_boundary layer is empty") {
		t.Errorf("--clip without a boundary: %v", err)
	}
	// A boundary around the school and the building, not the park further north.
	if _, err := pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name) VALUES
		(ST_Multi(ST_MakeEnvelope(57.56, 50.47, 57.575, 50.485, 4326)), 'Test city')`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"import", "--quiet", "--clip", small}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("import --clip: %v\n%s", err, out.String())
	}
	var parks, schools, boundaries int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM layer.parks), (SELECT count(*) FROM layer.schools),
		(SELECT count(*) FROM layer.city_boundary)`).Scan(&parks, &schools, &boundaries); err != nil {
		t.Fatal(err)
	}
	if parks != 0 || schools != 1 || boundaries != 1 {
		t.Errorf("after --clip: %d parks, %d schools, %d boundaries; want 0, 1 and the hand-drawn 1\n%s", parks, schools, boundaries, out.String())
	}

	bad := filepath.Join(t.TempDir(), "city.map")
	if err := os.WriteFile(bad, []byte("[schools]\nmatch = amenity=school\n[towers]\nmatch = man_made=tower\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"import", "--quiet", "--mapping", bad, small}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "city.map:3: layer towers is not in the catalog") {
		t.Errorf("bad mapping: %v", err)
	}
}

// TestDemoFromOSM builds the demo from the made-up extract: the generated schools give way to
// the extract's, and the catchments are derived from them.
func TestDemoFromOSM(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.NewURL(t)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	root, err := dbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"demo", "-osm", filepath.Join(root, "testdata", "osm", "small.osm")}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("demo -osm: %v\n%s", err, out.String())
	}
	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var name string
	var catchments int
	if err := pool.QueryRow(ctx, `SELECT (SELECT string_agg(name_en, ',') FROM layer.schools),
		(SELECT count(*) FROM layer.school_catchments)`).Scan(&name, &catchments); err != nil {
		t.Fatal(err)
	}
	if name != "School-gymnasium No. 5" || catchments != 1 {
		t.Errorf("schools %q, %d catchments\n%s", name, catchments, out.String())
	}
	// The generated cameras near the extract's street stand on it.
	if near, on := standsOn(t, pool, "cameras", "streets", 0.003); near == 0 || on != near {
		t.Errorf("%d of the %d generated cameras near the extract's street stand on it\n%s", on, near, out.String())
	}
}

// TestImportOSMPreview: `geoportal import --preview` of an extract says what each layer would
// get and writes nothing.
func TestImportOSMPreview(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.NewURL(t), "USER": "gis-operator"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	root, err := dbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"import", "--preview", "--quiet", filepath.Join(root, "testdata", "osm", "small.osm")}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("import --preview: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "schools") || !strings.Contains(out.String(), "dry_run") {
		t.Errorf("preview lacks the schools' line or the dry run:\n%s", out.String())
	}
	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM layer.schools) + (SELECT count(*) FROM layer.streets)
		+ (SELECT count(*) FROM layer.parks)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the preview wrote %d features", n)
	}
}
