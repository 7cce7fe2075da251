package importers

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
)

// TestConcurrentCreate: two creations of one layer at once. The import that finds the name free
// but is overtaken by another transaction's commit gets the same clear "already exists" answer as
// when the two run one after the other (not the unique constraint's text), and the layer holds
// the winner's rows only.
func TestConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	im := New(pool, nil)
	nc := filepath.Join(corpusDir(t), "debian-r-cran-sf", "nc.shp")

	// The winner: a transaction that has created layer "counties" but not committed yet, so the
	// import's look-up does not see it and its own creation waits on the winner's row.
	winner, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer winner.Rollback(ctx)
	if _, err := winner.Exec(ctx, `SELECT geoportal.create_layer('{"slug": "counties", "direction": 0,
		"geometry_type": "MultiPolygon", "title_en": "Counties", "title_ru": "Округа", "title_kk": "Округтар",
		"attributes": []}'::jsonb)`); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		src, err := Open([]string{nc}, Options{})
		if err != nil {
			done <- err
			return
		}
		defer src.Close()
		_, err = im.Import(ctx, src, Request{Layer: "counties", Mode: ModeCreate})
		done <- err
	}()
	// Commit once the import waits on the winner's catalog row (it then fails at once).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%create_layer%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the import ended before waiting on the other creation: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the import never waited on the other creation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := winner.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Fatalf("loser: %v (code %q), want a conflict", err, geoportal.ErrorCode(err))
	}
	msg := geoportal.ErrorMessage(err)
	if !strings.Contains(msg, "layer counties already exists") || strings.Contains(msg, "constraint") || strings.Contains(msg, "duplicate key") {
		t.Errorf("loser's message %q", msg)
	}
	// The layer is the winner's: its table empty, its catalog row as the winner made it.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM layer.counties`).Scan(&n); err != nil || n != 0 {
		t.Errorf("layer.counties holds %d rows (%v), want the winner's 0", n, err)
	}
	var title string
	if err := pool.QueryRow(ctx, `SELECT title_en FROM geoportal.layers WHERE slug = 'counties'`).Scan(&title); err != nil || title != "Counties" {
		t.Errorf("catalog row: %q %v", title, err)
	}
}
