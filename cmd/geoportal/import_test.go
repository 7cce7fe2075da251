package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/jackc/pgx/v5/pgxpool"
)

func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	return testfiles.Path(t, "shapefiles", filepath.FromSlash(rel))
}

func TestImportCommand(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.NewURL(t), "USER": "gis-operator"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	nc := corpusFile(t, "debian-r-cran-sf/nc.shp")

	var out bytes.Buffer
	if err := run(ctx, []string{"import", "--preview", nc}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("preview: %v", err)
	}
	for _, want := range []string{"EPSG:4267 (NAD27) (from prj)", "ISO-8859-1 (from dbf language byte)", "records:   100", "Ashe"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("preview lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, []string{"import", "--quiet", "--layer", "counties", "--title-ru", "Округа", nc}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "read 100, written 100") || !strings.Contains(out.String(), ": ok") {
		t.Errorf("report:\n%s", out.String())
	}
	// A failing import says so, writes nothing, and the command fails.
	out.Reset()
	err := run(ctx, []string{"import", "--quiet", "--layer", "counties", "--mode", "upsert", "--key", "sid74", nc}, getenv, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "nothing written") || !strings.Contains(err.Error(), "appears") {
		t.Errorf("failing upsert: %v\n%s", err, out.String())
	}
	err = run(ctx, []string{"import", "--quiet", corpusFile(t, "shapefile-js/htmlprj.shp")}, getenv, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "htmlprj") {
		t.Errorf("broken shapefile: %v", err)
	}
	if err := run(ctx, []string{"import"}, getenv, io.Discard, io.Discard); err == nil {
		t.Error("import without a file succeeded")
	}
	// The audit log holds the one import that committed, by the system account, not the failed ones.
	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var actor, object, inserted string
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) OVER (), actor, object_id, after->>'inserted' FROM auth.audit_log
		WHERE action = 'layer.import'`).Scan(&n, &actor, &object, &inserted); err != nil {
		t.Fatal(err)
	}
	if n != 1 || actor != "cli:gis-operator" || object != "counties" || inserted != "100" {
		t.Errorf("audit: %d entries, last by %q on %q, %s inserted", n, actor, object, inserted)
	}
}
