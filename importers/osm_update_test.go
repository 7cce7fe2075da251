package importers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/jackc/pgx/v5"
)

// TestOSMUpdateAppliesAnEditedExtract imports Andorra, adds a feature by hand, then imports an
// edited copy (a tree moved, a building's way deleted, a place renamed): exactly those three
// changes are applied, each layer in place, the hand-added feature survives, and the changed
// layers announce their change to the tile caches.
func TestOSMUpdateAppliesAnEditedExtract(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	im := importers.New(pool, nil)
	dir := t.TempDir()
	orig := unbzip2(t, testfiles.OSM(t, "andorra-latest.osm.bz2"), dir)
	if _, err := im.ImportOSM(ctx, orig, importers.OSMRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO layer.schools (geom, name) VALUES (ST_SetSRID(ST_MakePoint(1.52, 42.51), 4326), 'Drawn by hand')`); err != nil {
		t.Fatal(err)
	}

	// The objects to edit: a tree, a building drawn by a way alone, a named place.
	var tree, building, place, placeName string
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT osm_id FROM layer.trees ORDER BY osm_id LIMIT 1),
		(SELECT osm_id FROM layer.buildings WHERE osm_id LIKE 'way/%' ORDER BY osm_id LIMIT 1),
		(SELECT osm_id FROM layer.places WHERE name IS NOT NULL AND name NOT LIKE '%"%' ORDER BY osm_id LIMIT 1),
		(SELECT name FROM layer.places WHERE name IS NOT NULL AND name NOT LIKE '%"%' ORDER BY osm_id LIMIT 1)`).Scan(&tree, &building, &place, &placeName); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	edit := func(re string, repl func(string) string) {
		t.Helper()
		rx := regexp.MustCompile(re)
		if !rx.MatchString(text) {
			t.Fatalf("edit: %s not found", re)
		}
		text = rx.ReplaceAllStringFunc(text, repl)
	}
	treeID, buildingID, placeID := strings.TrimPrefix(tree, "node/"), strings.TrimPrefix(building, "way/"), strings.TrimPrefix(place, "node/")
	edit(`<node id="`+treeID+`" lat="[0-9.]+" lon="[0-9.]+"`, func(string) string {
		return `<node id="` + treeID + `" lat="42.5000000" lon="1.5000000"`
	})
	edit(`(?s)\t<way id="`+buildingID+`" .*?</way>\n`, func(string) string { return "" })
	edit(`(?s)<node id="`+placeID+`" [^>]*>.*?</node>`, func(s string) string {
		return strings.Replace(s, `k="name" v="`+placeName+`"`, `k="name" v="`+placeName+` (edited)"`, 1)
	})
	edited := filepath.Join(dir, "andorra-edited.osm")
	if err := os.WriteFile(edited, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	before := layerVersions(t, pool)
	listen, err := pgx.Connect(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close(ctx)
	if _, err := listen.Exec(ctx, `LISTEN layer_changed`); err != nil {
		t.Fatal(err)
	}
	rep, err := im.ImportOSM(ctx, edited, importers.OSMRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]int{"trees": {0, 1, 0}, "buildings": {0, 0, 1}, "places": {0, 1, 0}}
	for _, l := range rep.Layers {
		got := [3]int{l.Inserted, l.Updated, l.Deleted}
		if got != want[l.Layer] {
			t.Errorf("layer %s: inserted, updated, deleted %v, want %v", l.Layer, got, want[l.Layer])
		}
	}
	after := layerVersions(t, pool)
	for s, v := range before {
		_, changed := want[s]
		if changed != (after[s] != v) {
			t.Errorf("layer %s: version %d → %d (changed: %v)", s, v, after[s], changed)
		}
	}

	var moved string
	var gone bool
	var renamed, hand string
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT ST_AsText(geom) FROM layer.trees WHERE osm_id = $1),
		NOT EXISTS (SELECT 1 FROM layer.buildings WHERE osm_id = $2),
		(SELECT name FROM layer.places WHERE osm_id = $3),
		coalesce((SELECT name FROM layer.schools WHERE osm_id IS NULL), '')`, tree, building, place).Scan(&moved, &gone, &renamed, &hand); err != nil {
		t.Fatal(err)
	}
	if moved != "POINT(1.5 42.5)" {
		t.Errorf("moved tree %s is at %s", tree, moved)
	}
	if !gone {
		t.Errorf("building %s deleted from the extract is still in the layer", building)
	}
	if renamed != placeName+" (edited)" {
		t.Errorf("place %s is named %q, want %q", place, renamed, placeName+" (edited)")
	}
	if hand != "Drawn by hand" {
		t.Errorf("the school drawn by hand is gone")
	}

	// The tile caches drop tiles on the layer_changed notices (tiles.Cache listens to them).
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute) // a safety net, not a measure
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < 3 {
		n, err := listen.WaitForNotification(wctx)
		if err != nil {
			t.Fatal(err)
		}
		for s := range want {
			if strings.Contains(n.Payload, fmt.Sprintf(`"layer" : "%s"`, s)) || strings.Contains(n.Payload, fmt.Sprintf(`"layer":"%s"`, s)) {
				seen[s] = true
			}
		}
		if len(seen) < 3 && !strings.Contains(n.Payload, "layer") {
			t.Fatalf("unexpected notice %s", n.Payload)
		}
	}
}
