package layers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/cql2"
	"github.com/google/go-cmp/cmp"
)

func TestParseCRS(t *testing.T) {
	for in, want := range map[string]layers.CRS{
		"http://www.opengis.net/def/crs/OGC/1.3/CRS84": layers.CRS84,
		"CRS84":       layers.CRS84,
		"OGC:CRS84":   layers.CRS84,
		"[EPSG:3857]": layers.EPSG3857,
		"EPSG:4326":   layers.EPSG4326,
		"http://www.opengis.net/def/crs/EPSG/0/32640": layers.EPSG32640,
		"https://www.opengis.net/def/crs/EPSG/0/4326": layers.EPSG4326,
	} {
		got, err := layers.ParseCRS(in)
		if err != nil || got != want {
			t.Errorf("ParseCRS(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "EPSG:2154", "http://www.opengis.net/def/crs/EPSG/0/43260"} {
		if _, err := layers.ParseCRS(in); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("ParseCRS(%q): %v", in, err)
		}
	}
}

func TestParseDatetime(t *testing.T) {
	ts := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	tests := []struct {
		in   string
		want layers.Interval
	}{
		{"2024-05-01T10:00:00Z", layers.Interval{Start: ts("2024-05-01T10:00:00Z"), End: ts("2024-05-01T10:00:00Z")}},
		{"2024-05-01", layers.Interval{Start: ts("2024-05-01T00:00:00Z"), End: ts("2024-05-02T00:00:00Z"), EndExclusive: true}},
		{"2024-05-01T10:00:00Z/..", layers.Interval{Start: ts("2024-05-01T10:00:00Z")}},
		{"/2024-05-01T10:00:00+05:00", layers.Interval{End: ts("2024-05-01T05:00:00Z")}},
		{"2024-05-01/2024-05-03", layers.Interval{Start: ts("2024-05-01T00:00:00Z"), End: ts("2024-05-04T00:00:00Z"), EndExclusive: true}},
	}
	for _, tc := range tests {
		got, err := layers.ParseDatetime(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		same := func(a, b *time.Time) bool { return a == nil && b == nil || a != nil && b != nil && a.Equal(*b) }
		if !same(got.Start, tc.want.Start) || !same(got.End, tc.want.End) || got.EndExclusive != tc.want.EndExclusive {
			t.Errorf("%s: got %+v want %+v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "..", "../..", "/", "tomorrow", "2024-05-01/2024-04-01", "a/b/c", "2024-13-01"} { // hostile input (treecheck:allow)
		if _, err := layers.ParseDatetime(in); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("ParseDatetime(%q): %v", in, err)
		}
	}
}

func TestFeaturesCountEstimateAndWrites(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	s := layers.NewStore(pool)
	err := s.CreateLayer(ctx, nil, layers.Layer{Slug: "zones", Title: layers.Titles{EN: "Zones", RU: "Зоны", KK: "Аймақтар"},
		GeometryType: "MultiPolygon", Attributes: []layers.Attribute{{Name: "kind", Type: "text"}, {Name: "meta", Type: "jsonb"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO layer.zones (geom, kind)
		SELECT ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(57 + i * 0.001, 50), 4326), 0.0004)), CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END
		FROM generate_series(1, 2000) AS i; ANALYZE layer.zones`); err != nil {
		t.Fatal(err)
	}
	l, err := s.Layer(ctx, "zones", false)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := cql2.ParseText(`kind = 'a'`)
	if err != nil {
		t.Fatal(err)
	}
	q := layers.FeatureQuery{Limit: 5, Filter: filter}
	page, err := s.Features(ctx, l, q, func(layers.Feature) error { return nil })
	if err != nil || page.NumberMatched != 1000 || page.Estimated || !page.More {
		t.Fatalf("exact count: %+v %v", page, err)
	}
	// Keyset paging: the page starts after the cursor; numberMatched still counts every match.
	cursor := int64(100)
	var first int64
	page, err = s.Features(ctx, l, layers.FeatureQuery{Limit: 5, Filter: filter, AfterID: &cursor, Offset: 50},
		func(f layers.Feature) error {
			if first == 0 {
				first = f.ID
			}
			return nil
		})
	if err != nil || first != 102 || page.NumberMatched != 1000 || page.NumberReturned != 5 {
		t.Fatalf("cursor page: first %d %+v %v", first, page, err)
	}
	// A layer too big to count exactly gets the planner's estimate, marked as such.
	big := l
	big.FeatureCount = 50_000_000
	page, err = s.Features(ctx, big, q, func(layers.Feature) error { return nil })
	if err != nil || !page.Estimated || page.NumberMatched < 500 || page.NumberMatched > 1500 {
		t.Fatalf("estimate: %+v %v", page, err)
	}

	// Writes: a Polygon is promoted to the layer's MultiPolygon; a bow-tie is refused.
	v0 := l.Version
	id, err := s.CreateFeature(ctx, l, layers.FeatureInput{
		Geometry:   json.RawMessage(`{"type":"Polygon","coordinates":[[[57,50],[57.01,50],[57.01,50.01],[57,50]]]}`),
		Properties: map[string]json.RawMessage{"kind": json.RawMessage(`"c"`), "meta": json.RawMessage(`{"source":"test"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Feature(ctx, l, id, layers.CRS84)
	if err != nil || string(f.Properties) != `{"kind":"c","meta":{"source": "test"}}` {
		t.Fatalf("created %s %v", f.Properties, err)
	}
	var gtype string
	pool.QueryRow(ctx, `SELECT GeometryType(geom) FROM layer.zones WHERE id = $1`, id).Scan(&gtype)
	if gtype != "MULTIPOLYGON" {
		t.Errorf("stored %s", gtype)
	}
	_, err = s.CreateFeature(ctx, l, layers.FeatureInput{
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[57,50],[57.01,50.01],[57.01,50],[57,50.01],[57,50]]]}`),
	})
	if geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("bow-tie polygon: %v", err)
	}
	var n int64
	pool.QueryRow(ctx, `SELECT count(*) FROM layer.zones`).Scan(&n)
	if n != 2001 {
		t.Errorf("%d rows after a refused write, want 2001", n)
	}
	after, _ := s.Layer(ctx, "zones", false)
	if after.Version != v0+1 || after.FeatureCount != 2001 {
		t.Errorf("version %d -> %d, count %d", v0, after.Version, after.FeatureCount)
	}
}

// Every feature write through the store leaves one audit entry, in the same transaction, naming
// who did it and what the feature looked like before and after; a refused write leaves none.
func TestFeatureWritesAreAudited(t *testing.T) {
	pool := dbtest.New(t)
	ctx := accounts.WithActor(context.Background(), accounts.Actor{Label: "editor@example.kz", IP: "127.0.0.9"})
	s := layers.NewStore(pool)
	if err := s.CreateLayer(ctx, nil, layers.Layer{Slug: "benches", Title: layers.Titles{EN: "Benches", RU: "Скамейки", KK: "Орындықтар"},
		GeometryType: "Point", Visibility: "public",
		Attributes: []layers.Attribute{{Name: "seats", Type: "integer", Title: layers.Titles{EN: "Seats", RU: "Мест", KK: "Орын"}}}}); err != nil {
		t.Fatal(err)
	}
	l, err := s.Layer(ctx, "benches", false)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.CreateFeature(ctx, l, layers.FeatureInput{Geometry: json.RawMessage(`{"type":"Point","coordinates":[57.1,50.3]}`),
		Properties: map[string]json.RawMessage{"seats": json.RawMessage(`4`)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateFeature(ctx, l, id, layers.FeatureInput{Properties: map[string]json.RawMessage{"seats": json.RawMessage(`6`)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateFeature(ctx, l, id, layers.FeatureInput{Properties: map[string]json.RawMessage{"seats": json.RawMessage(`"many"`)}}); err == nil {
		t.Fatal("a text value for an integer attribute was accepted")
	}
	if err := s.DeleteFeature(ctx, l, id); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFeature(ctx, l, id); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("second delete: %v", err)
	}

	rows, err := pool.Query(ctx, `SELECT action, object_id, actor, ip, before->>'seats', after->>'seats',
			coalesce(after->'geom'->>'type', before->'geom'->>'type')
		FROM auth.audit_log WHERE object_type = 'feature' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var action, object, actor, ip string
		var before, after, geom *string
		if err := rows.Scan(&action, &object, &actor, &ip, &before, &after, &geom); err != nil {
			t.Fatal(err)
		}
		str := func(p *string) string {
			if p == nil {
				return "-"
			}
			return *p
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s>%s %s", action, object, actor, ip, str(before), str(after), str(geom)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("feature.create benches/%d editor@example.kz 127.0.0.9 ->4 Point", id),
		fmt.Sprintf("feature.update benches/%d editor@example.kz 127.0.0.9 4>6 Point", id),
		fmt.Sprintf("feature.delete benches/%d editor@example.kz 127.0.0.9 6>- Point", id),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}
