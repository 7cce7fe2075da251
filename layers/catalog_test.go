package layers_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
)

// The layers DESIGN.md names exist out of the box, titled in all three languages.
var cityLayers = []string{
	"cameras", "smart_crossings", "overpasses", "interchanges", "ramps", "sports_grounds", "playgrounds",
	"biotoilets", "parks", "bus_stops", "bus_routes", "vehicles", "utility_networks", "street_lights",
	"schools", "clinics", "waste_sites", "yards", "leisure_places", "city_boundary", "districts",
	"streets", "buildings",
}

func TestCatalogHasCityLayers(t *testing.T) {
	store := layers.NewStore(dbtest.New(t))
	all, err := store.Layers(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	bySlug := map[string]layers.Layer{}
	for _, l := range all {
		bySlug[l.Slug] = l
	}
	for _, slug := range cityLayers {
		t.Run(slug, func(t *testing.T) {
			l, ok := bySlug[slug]
			if !ok {
				t.Fatalf("layer %s missing from the catalog", slug)
			}
			if l.Title.KK == "" || l.Title.RU == "" || l.Title.EN == "" {
				t.Errorf("titles not in all three languages: %+v", l.Title)
			}
			if l.Direction < 0 || l.Direction > 6 {
				t.Errorf("direction %d", l.Direction)
			}
			for _, a := range l.Attributes {
				if a.Title.KK == "" || a.Title.RU == "" || a.Title.EN == "" {
					t.Errorf("attribute %s titles not in all three languages", a.Name)
				}
			}
			var style map[string]any
			if err := json.Unmarshal(l.Style, &style); err != nil || style["type"] == nil {
				t.Errorf("style %s is not a MapLibre layer fragment: %v", l.Style, err)
			}
		})
	}
}

func TestStaffOnlyLayersAreHidden(t *testing.T) {
	ctx := context.Background()
	store := layers.NewStore(dbtest.New(t))
	public, err := store.Layers(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range public {
		if l.Visibility != "public" {
			t.Errorf("anonymous catalog lists %s (%s)", l.Slug, l.Visibility)
		}
	}
	if _, err := store.Layer(ctx, "utility_networks", false); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("staff-only layer for anonymous: %v, want not found", err)
	}
	if _, err := store.Layer(ctx, "utility_networks", true); err != nil {
		t.Errorf("staff-only layer for staff: %v", err)
	}
}

func TestLayerNotFound(t *testing.T) {
	store := layers.NewStore(dbtest.New(t))
	for _, slug := range []string{"nope", "cameras'; DROP TABLE geoportal.layers; --", "", "CAMERAS"} {
		_, err := store.Layer(context.Background(), slug, true)
		if geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
			t.Errorf("Layer(%q) = %v, want not found", slug, err)
		}
	}
}

// Writes to a layer's table keep the catalog's count, extent and version current.
func TestCatalogFollowsWrites(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	store := layers.NewStore(pool)
	before, _ := store.Layer(ctx, "schools", true)
	if _, err := pool.Exec(ctx, `INSERT INTO layer.schools (geom, name) VALUES
		(ST_SetSRID(ST_MakePoint(57.1, 50.2), 4326), 'Мектеп №1'),
		(ST_SetSRID(ST_MakePoint(57.2, 50.3), 4326), 'Школа №2')`); err != nil {
		t.Fatal(err)
	}
	after, _ := store.Layer(ctx, "schools", true)
	if after.FeatureCount != 2 || after.Version <= before.Version {
		t.Fatalf("after insert: count %d version %d (before %d)", after.FeatureCount, after.Version, before.Version)
	}
	if len(after.BBox) != 4 || after.BBox[0] > 57.1 || after.BBox[3] < 50.3 {
		t.Fatalf("bbox %v does not cover the inserted points", after.BBox)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM layer.schools WHERE name = 'Школа №2'`); err != nil {
		t.Fatal(err)
	}
	deleted, _ := store.Layer(ctx, "schools", true)
	if deleted.FeatureCount != 1 || deleted.Version <= after.Version {
		t.Fatalf("after delete: count %d version %d", deleted.FeatureCount, deleted.Version)
	}
}

func TestCreateLayerRefusesBadDefinitions(t *testing.T) {
	ctx := context.Background()
	store := layers.NewStore(dbtest.New(t))
	good := layers.Layer{Slug: "benches", Title: layers.Titles{KK: "Орындықтар", RU: "Скамейки", EN: "Benches"},
		GeometryType: "Point", Attributes: []layers.Attribute{{Name: "species", Type: "text"}}}
	if err := store.CreateLayer(ctx, nil, good); err != nil {
		t.Fatalf("good layer: %v", err)
	}
	tests := []struct {
		name string
		edit func(l *layers.Layer)
		code string
	}{
		{"duplicate slug", func(l *layers.Layer) {}, geoportal.ECONFLICT},
		{"slug with SQL", func(l *layers.Layer) { l.Slug = `x"; drop table geoportal.layers; --` }, geoportal.EINVALID},
		{"unknown attribute type", func(l *layers.Layer) {
			l.Slug = "t2"
			l.Attributes = []layers.Attribute{{Name: "a", Type: "money"}}
		}, geoportal.EINVALID},
		{"attribute named like a system column", func(l *layers.Layer) {
			l.Slug = "t3"
			l.Attributes = []layers.Attribute{{Name: "geom", Type: "text"}}
		}, geoportal.EINVALID},
		{"bad geometry type", func(l *layers.Layer) { l.Slug = "t4"; l.GeometryType = "Blob" }, geoportal.EINVALID},
		{"missing title", func(l *layers.Layer) { l.Slug = "t5"; l.Title.KK = "" }, geoportal.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := good
			tc.edit(&l)
			err := store.CreateLayer(ctx, nil, l)
			if got := geoportal.ErrorCode(err); got != tc.code {
				t.Fatalf("CreateLayer = %v (code %q), want code %q", err, got, tc.code)
			}
		})
	}
	all, _ := store.Layers(ctx, true)
	n := 0
	for _, l := range all {
		if l.Slug == "benches" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("catalog has %d rows for benches", n)
	}
}

// A layer's catalog entry changing is announced on layer_catalog_changed (data/migrations/0200)
// with the layer's slug; feature writes, which only move the entry's count, extent and version,
// are not (they announce themselves on layer_changed). Nothing is timed: the feature write comes
// first, so the first announcement heard after both must be the catalog change's.
func TestCatalogChangesAreAnnounced(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	listen, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Release()
	if _, err := listen.Exec(ctx, `LISTEN layer_catalog_changed`); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ name, sql, want string }{
		{"feature written", `INSERT INTO layer.playgrounds (geom, name) VALUES (ST_SetSRID(ST_MakePoint(57.2, 50.3), 4326), 'x')`, ""},
		{"style changed", `UPDATE geoportal.layers SET style = '{"type": "circle"}' WHERE slug = 'schools'`, `{"layer" : "schools"}`},
		{"feature deleted", `DELETE FROM layer.playgrounds`, ""},
		{"layer dropped", `SELECT geoportal.drop_layer('biotoilets')`, `{"layer" : "biotoilets"}`},
	}
	for _, st := range steps {
		if _, err := pool.Exec(ctx, st.sql); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.want == "" {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := listen.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: no announcement heard: %v", st.name, err)
		}
		if n.Payload != st.want {
			t.Errorf("%s: heard %s, want %s (a feature write announced as a catalog change?)", st.name, n.Payload, st.want)
		}
	}
}
