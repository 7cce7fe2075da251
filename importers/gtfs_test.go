package importers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/transit/gtfs"
)

const smallFeed = "../layers/transit/gtfs/testdata/small"

// count runs a count(*) query.
func count(t *testing.T, im *Importer, q string, args ...any) int {
	t.Helper()
	var n int
	if err := im.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportGTFS: a feed goes through the pipeline's steps: a report per layer it replaces,
// stored in the import history, and an audit entry each, committed with the data.
func TestImportGTFS(t *testing.T) {
	im := New(dbtest.New(t), nil)
	ctx := context.Background()
	reps, sum, err := im.ImportGTFS(ctx, os.DirFS(smallFeed), "small.zip", gtfs.Options{}, Request{User: "gis"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stops != 8 || sum.Routes != 2 {
		t.Errorf("summary %+v, want 8 stops and 2 routes", *sum)
	}
	want := map[string]int{"bus_routes": 2, "bus_stops": 8}
	if len(reps) != 2 {
		t.Fatalf("%d reports, want one per layer: %+v", len(reps), reps)
	}
	for _, rep := range reps {
		if rep.Status != "ok" || rep.Format != "gtfs" || rep.Mode != ModeReplace || rep.Source != "small.zip" ||
			rep.Inserted != want[rep.Layer] || rep.Written != rep.Inserted || rep.Read == 0 || rep.ID == 0 {
			t.Errorf("report %+v", *rep)
		}
		hist, err := im.History(ctx, rep.Layer, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 || hist[0].ID != rep.ID || hist[0].Inserted != rep.Inserted {
			t.Errorf("%s history %+v, want the report %d", rep.Layer, hist, rep.ID)
		}
		if n := count(t, im, `SELECT count(*) FROM auth.audit_log WHERE action = 'layer.import' AND object_id = $1
			AND (after->>'import_id')::bigint = $2`, rep.Layer, rep.ID); n != 1 {
			t.Errorf("%s: %d audit entries, want 1", rep.Layer, n)
		}
	}

	// Again: what the first import wrote is what the second deletes.
	reps, _, err = im.ImportGTFS(ctx, os.DirFS(smallFeed), "small.zip", gtfs.Options{}, Request{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rep := range reps {
		if rep.Deleted != want[rep.Layer] || rep.Inserted != want[rep.Layer] {
			t.Errorf("second import: %s deleted %d, inserted %d; want %d each", rep.Layer, rep.Deleted, rep.Inserted, want[rep.Layer])
		}
	}
}

// TestImportGTFSDryRun: a dry run reports what it would do and leaves everything as it was.
func TestImportGTFSDryRun(t *testing.T) {
	im := New(dbtest.New(t), nil)
	ctx := context.Background()
	before := count(t, im, `SELECT count(*) FROM layer.bus_stops`)
	reps, _, err := im.ImportGTFS(ctx, os.DirFS(smallFeed), "small", gtfs.Options{}, Request{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, rep := range reps {
		if rep.Status != "dry_run" || rep.Inserted == 0 {
			t.Errorf("dry run report %+v", *rep)
		}
	}
	if n := count(t, im, `SELECT count(*) FROM layer.bus_stops`); n != before {
		t.Errorf("bus_stops has %d features after a dry run, had %d", n, before)
	}
	if n := count(t, im, `SELECT count(*) FROM transit.stops`); n != 0 {
		t.Errorf("transit.stops has %d rows after a dry run", n)
	}
	if n := count(t, im, `SELECT count(*) FROM geoportal.imports WHERE format = 'gtfs'`); n != 0 {
		t.Errorf("%d imports recorded by a dry run", n)
	}
}

// TestImportGTFSFailure: a bad feed leaves the layers as they were, and its failure is kept in
// the history of each layer, with the reason.
func TestImportGTFSFailure(t *testing.T) {
	im := New(dbtest.New(t), nil)
	ctx := context.Background()
	if _, _, err := im.ImportGTFS(ctx, os.DirFS(smallFeed), "small", gtfs.Options{}, Request{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"agency.txt", "calendar.txt", "routes.txt", "shapes.txt", "stop_times.txt", "stops.txt"} {
		b, err := os.ReadFile(filepath.Join(smallFeed, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	reps, _, err := im.ImportGTFS(ctx, os.DirFS(dir), "broken", gtfs.Options{}, Request{}) // no trips.txt
	if geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("error %v, want EINVALID", err)
	}
	for _, rep := range reps {
		hist, err := im.History(ctx, rep.Layer, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 || hist[0].Status != "failed" || hist[0].Source != "broken" || hist[0].Error == "" {
			t.Errorf("%s history %+v, want the failure first", rep.Layer, hist)
		}
	}
	if n := count(t, im, `SELECT count(*) FROM layer.bus_stops`); n != 8 {
		t.Errorf("bus_stops has %d features after a failed import, want the 8 of the first", n)
	}
}
