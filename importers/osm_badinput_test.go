package importers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/importers/osm"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/jackc/pgx/v5/pgxpool"
)

func smallOSM(t *testing.T) string {
	t.Helper()
	root, err := dbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata", "osm", "small.osm")
}

// TestOSMSmallCity reads the made-up extract: names in their language columns, the park with
// its hole and two outer rings, the resident estimate, the unknown tags kept, and the broken
// objects reported one by one while the rest is imported.
func TestOSMSmallCity(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	rep, err := importers.New(pool, nil).ImportOSM(ctx, smallOSM(t), importers.OSMRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var kk, ru, en, website string
	var inclusive bool
	if err := pool.QueryRow(ctx, `SELECT name_kk, name_ru, name_en, tags->>'website', inclusive FROM layer.schools WHERE osm_id = 'node/1'`).Scan(&kk, &ru, &en, &website, &inclusive); err != nil {
		t.Fatal(err)
	}
	if kk != "№ 5 мектеп-гимназия" || ru != "Школа-гимназия № 5" || en != "School-gymnasium No. 5" || website != "https://example.kz" || !inclusive {
		t.Errorf("school: %q %q %q, website %q, inclusive %v", kk, ru, en, website, inclusive)
	}
	var parts, rings int
	var parkRU string
	if err := pool.QueryRow(ctx, `SELECT ST_NumGeometries(geom), ST_NRings(geom), name_ru FROM layer.parks WHERE osm_id = 'relation/200'`).Scan(&parts, &rings, &parkRU); err != nil {
		t.Fatal(err)
	}
	if parts != 2 || rings != 3 || parkRU != "Парк Байтерек" {
		t.Errorf("park: %d parts, %d rings, %q; want 2 parts (one with a hole), 3 rings, Парк Байтерек", parts, rings, parkRU)
	}
	var address string
	var levels, residents int
	if err := pool.QueryRow(ctx, `SELECT address, levels, residents FROM layer.buildings WHERE osm_id = 'way/100'`).Scan(&address, &levels, &residents); err != nil {
		t.Fatal(err)
	}
	// 71.6 m × 111.2 m × 9 floors / 25 m² a resident.
	if address != "Абулхаир хан даңғылы, 42" || levels != 9 || residents < 2800 || residents > 2900 {
		t.Errorf("building: %q, %d levels, %d residents", address, levels, residents)
	}
	var street, streetRU string
	var lanes int
	if err := pool.QueryRow(ctx, `SELECT name, name_ru, lanes FROM layer.streets WHERE osm_id = 'way/107'`).Scan(&street, &streetRU, &lanes); err != nil {
		t.Fatal(err)
	}
	if street != "Ағайынды Жұбановтар көшесі" || streetRU != "улица Братьев Жубановых" || lanes != 2 {
		t.Errorf("street: %q %q %d", street, streetRU, lanes)
	}
	problems := map[string]string{}
	for _, p := range rep.Problems {
		problems[p.Object] = p.Reason
	}
	for obj, want := range map[string]string{"relation/201": "references itself", "way/105": "only one node",
		"way/106": "node 999 is missing"} {
		if !strings.Contains(problems[obj], want) {
			t.Errorf("%s: reported %q, want %q", obj, problems[obj], want)
		}
	}
}

func layerCounts(t *testing.T, pool *pgxpool.Pool) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for s, v := range layerVersions(t, pool) {
		var n int64
		if err := pool.QueryRow(context.Background(), `SELECT feature_count FROM geoportal.layers WHERE slug = $1`, s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[s] = n*1_000_000 + v
	}
	return out
}

// TestOSMBadInput: each bad file or mapping is refused with an error naming what is wrong, and
// every layer is left as it was.
func TestOSMBadInput(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	im := importers.New(pool, nil)
	if _, err := im.ImportOSM(ctx, smallOSM(t), importers.OSMRequest{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pbf, err := os.ReadFile(testfiles.OSM(t, "delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := append([]byte{}, pbf...)
	for i := len(corrupt) / 2; i < len(corrupt)/2+4096; i++ {
		corrupt[i] ^= 0x5a
	}
	mapping := func(text string) *osm.Mapping {
		m, err := osm.Parse(strings.NewReader(text), "city.map")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name, file string
		mapping    *osm.Mapping
		want       string
	}{
		{"truncated PBF", write("truncated.osm.pbf", pbf[:len(pbf)/2]), nil, "truncated.osm.pbf"},
		{"corrupt PBF", write("corrupt.osm.pbf", corrupt), nil, "corrupt.osm.pbf"},
		{"XML that is not OSM", write("track.osm", []byte(`<?xml version="1.0"?><gpx version="1.1"><trk/></gpx>`)), nil, "root element is <gpx>"},
		{"not XML either", write("junk.osm.pbf", []byte("hello, world")), nil, "junk.osm.pbf"},
		{"mapping with an unknown layer", smallOSM(t), mapping("[schools]\nmatch = amenity=school\n\n[castles]\nmatch = historic=castle\n"), "city.map:4: layer castles is not in the catalog"},
		{"mapping with an unknown attribute", smallOSM(t), mapping("[schools]\nmatch = amenity=school\npupils = int(capacity)\n"), "city.map:3: layer schools has no attribute pupils"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := layerCounts(t, pool)
			_, err := im.ImportOSM(ctx, tc.file, importers.OSMRequest{Mapping: tc.mapping})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
			after := layerCounts(t, pool)
			for s, v := range before {
				if after[s] != v {
					t.Errorf("layer %s changed by a refused import", s)
				}
			}
		})
	}
}

// TestOSMMappingErrors: a bad line of a mapping file is named with its line number.
func TestOSMMappingErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[schools]\nmatch = amenity=school &\n", "city.map:2: match: condition \"\" is not key=value"},
		{"[schools]\nmatch = amenity==school\n", "city.map:2: match: condition \"amenity==school\": bad value"},
		{"[schools]\nmatch = amenity=school\nname = upper(name)\n", "city.map:3: name: unknown function upper"},
		{"[schools]\nfrom = nodes\nmatch = amenity=school\n", "city.map:2: from: \"nodes\" is not node, way or relation"},
		{"match = amenity=school\n", "city.map:1: \"match = amenity=school\" before the first [layer]"},
		{"[schools]\nname = name\n", "city.map:1: layer schools has no match line"},
		{"[Schools!]\n", "city.map:1: \"Schools!\" is not a layer name"},
	} {
		_, err := osm.Parse(strings.NewReader(tc.text), "city.map")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}
