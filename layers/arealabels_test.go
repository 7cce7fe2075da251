package layers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
)

// Each district and the city get one label point, inside their area, with their names; other
// layers and bad lists are refused with a message naming what is wrong.
func TestAreaLabels(t *testing.T) {
	store, pool := demoSearch(t)
	ctx := context.Background()
	fc, err := store.AreaLabels(ctx, []string{"districts", "city_boundary", "districts"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry struct {
				Type        string     `json:"type"`
				Coordinates [2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(fc, &got); err != nil {
		t.Fatalf("%v: %.300s", err, fc)
	}
	want := count(t, pool, `SELECT count(*) FROM layer.districts`) + count(t, pool, `SELECT count(*) FROM layer.city_boundary`)
	if got.Type != "FeatureCollection" || len(got.Features) != want || want < 2 {
		t.Fatalf("%s with %d features, want %d (districts named twice count once)", got.Type, len(got.Features), want)
	}
	for _, f := range got.Features {
		layer, _ := f.Properties["layer"].(string)
		id, _ := f.Properties["id"].(float64)
		if f.Geometry.Type != "Point" || (layer != "districts" && layer != "city_boundary") {
			t.Fatalf("feature %+v", f)
		}
		if f.Properties["name_ru"] == nil && f.Properties["name"] == nil {
			t.Errorf("%s %v: no name in %v", layer, id, f.Properties)
		}
		// Inside its own area, and well inside it: at least 300 m from its edge.
		var inside bool
		var edge float64
		if err := pool.QueryRow(ctx, `SELECT ST_Contains(geom, p), ST_Distance(ST_Boundary(geom)::geography, p::geography)
			FROM layer.`+layer+`, ST_SetSRID(ST_MakePoint($2, $3), 4326) p WHERE id = $1`,
			int64(id), f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]).Scan(&inside, &edge); err != nil {
			t.Fatal(err)
		}
		if !inside || edge < 300 {
			t.Errorf("%s %v: label at %v is inside %v, %.0f m from the edge", layer, id, f.Geometry.Coordinates, inside, edge)
		}
		// Where the area's people are: among its buildings (the demo's districts reach far into
		// the steppe, and the middle of their polygons lies out of the town).
		var toBuilding float64
		if err := pool.QueryRow(ctx, `SELECT min(ST_Distance(b.geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography))
			FROM layer.buildings b WHERE b.geom && ST_Expand(ST_SetSRID(ST_MakePoint($1, $2), 4326), 0.05)`,
			f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]).Scan(&toBuilding); err != nil {
			t.Fatal(err)
		}
		if toBuilding > 500 {
			t.Errorf("%s %v: label %.0f m from the nearest building", layer, id, toBuilding)
		}
	}
	// A renamed district is labelled by its new name: the kept answer goes with the old version.
	if _, err := pool.Exec(ctx, `UPDATE layer.districts SET name_ru = 'Новый район' WHERE id = (SELECT min(id) FROM layer.districts)`); err != nil {
		t.Fatal(err)
	}
	if fc, err := store.AreaLabels(ctx, []string{"districts"}, false); err != nil || !strings.Contains(string(fc), "Новый район") {
		t.Errorf("after a rename: %v %.300s", err, fc)
	}
	for _, tc := range []struct {
		layers []string
		code   string
		says   string
	}{
		{nil, geoportal.EINVALID, "name 1 to 8 layers"},
		{[]string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, geoportal.EINVALID, "name 1 to 8 layers"},
		{[]string{"clinics"}, geoportal.EINVALID, `layer "clinics" holds Point, not areas`},
		{[]string{"no_such_layer"}, geoportal.ENOTFOUND, "no_such_layer"},
	} {
		_, err := store.AreaLabels(ctx, tc.layers, false)
		if geoportal.ErrorCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v, want %s naming %q", tc.layers, err, tc.code, tc.says)
		}
	}
}
