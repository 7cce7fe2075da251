package importers_test

import (
	"compress/bzip2"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/importers/osm"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/jackc/pgx/v5/pgxpool"
)

// gdalLoad loads an OSM file with GDAL's OSM driver (ogr2ogr) into schema gdal of the test
// database: the oracle the OSM import is compared with. GDAL is required: without ogr2ogr the
// test fails.
func gdalLoad(t *testing.T, pool *pgxpool.Pool, file string) {
	t.Helper()
	bin, err := exec.LookPath("ogr2ogr")
	if err != nil {
		t.Fatalf("ogr2ogr (GDAL) is needed to check the OSM import against GDAL's OSM driver: %v (apt-get install gdal-bin)", err)
	}
	root, err := dbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `CREATE SCHEMA gdal`); err != nil {
		t.Fatal(err)
	}
	c := pool.Config().ConnConfig
	pg := fmt.Sprintf("PG:host=%s port=%d dbname=%s user=%s", c.Host, c.Port, c.Database, c.User)
	if c.Password != "" {
		pg += " password=" + c.Password
	}
	cmd := exec.Command(bin, "-f", "PostgreSQL", pg, file, "-oo", "CONFIG_FILE="+filepath.Join(root, "testdata", "osm", "gdal-osmconf.ini"),
		"-lco", "SCHEMA=gdal", "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=NONE", "--config", "PG_USE_COPY", "YES",
		"points", "lines", "multipolygons", "multilinestrings")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr %s: %v\n%s", filepath.Base(file), err, out)
	}
}

// gdalFilter is a mapping rule's tag filter as SQL over GDAL's all_tags column
// ("key"=>"value",…), so that both sides select with the same filter.
func gdalFilter(r *osm.Rule) string {
	var any []string
	for _, all := range r.Match {
		var and []string
		for _, c := range all {
			q := func(s string) string { return strings.ReplaceAll(s, "'", "''") }
			var in []string
			if len(c.Values) == 0 {
				in = append(in, fmt.Sprintf(`strpos(coalesce(all_tags, ''), '"%s"=>') > 0`, q(c.Key)))
			}
			for _, v := range c.Values {
				in = append(in, fmt.Sprintf(`strpos(coalesce(all_tags, ''), '"%s"=>"%s"') > 0`, q(c.Key), q(v)))
			}
			e := "(" + strings.Join(in, " OR ") + ")"
			if c.Negate {
				e = "NOT " + e
			}
			and = append(and, e)
		}
		any = append(any, "("+strings.Join(and, " AND ")+")")
	}
	return "(" + strings.Join(any, " OR ") + ")"
}

// gdalCount counts GDAL's features that the mapping's rules for one layer take: nodes from
// GDAL's points; ways from its lines and the closed ways of its multipolygons (only the
// latter for an area layer); multipolygon and boundary relations from its multipolygons,
// route relations from its multilinestrings.
func gdalIDs(t *testing.T, m *osm.Mapping, layer, gtype string) string {
	t.Helper()
	kinds := map[int][]string{}
	for _, r := range m.Rules {
		if r.Layer != layer {
			continue
		}
		for _, k := range []int{osm.KindNode, osm.KindWay, osm.KindRelation} {
			if r.Kinds&k != 0 {
				kinds[k] = append(kinds[k], gdalFilter(r))
			}
		}
	}
	area := strings.HasSuffix(gtype, "Polygon")
	var parts []string
	add := func(table, extra string, filters []string) {
		id := map[string]string{"points": "'node/' || osm_id", "lines": "'way/' || osm_id",
			"multipolygons": "coalesce('relation/' || osm_id, 'way/' || osm_way_id)", "multilinestrings": "'relation/' || osm_id"}[table]
		parts = append(parts, fmt.Sprintf(`SELECT %s AS osm_id FROM gdal.%s WHERE %s (%s)`, id, table, extra, strings.Join(filters, " OR ")))
	}
	if f := kinds[osm.KindNode]; len(f) > 0 && !area && !strings.HasSuffix(gtype, "LineString") {
		add("points", "", f)
	}
	if f := kinds[osm.KindWay]; len(f) > 0 {
		if !area {
			add("lines", "", f)
		}
		add("multipolygons", "osm_way_id IS NOT NULL AND", f)
	}
	if f := kinds[osm.KindRelation]; len(f) > 0 {
		if !strings.HasSuffix(gtype, "LineString") {
			add("multipolygons", "osm_id IS NOT NULL AND", f)
		}
		if !area {
			add("multilinestrings", "", f)
		}
	}
	return strings.Join(parts, " UNION ALL ")
}

// checkCountsAgainstGDAL compares every mapped layer's count with GDAL's for the same filter;
// the features the import rejected (with the reason in its report) are the only difference
// allowed.
func checkCountsAgainstGDAL(t *testing.T, pool *pgxpool.Pool, rep *importers.OSMReport, known map[string][]string) {
	m := osm.Default()
	for _, slug := range m.Layers() {
		t.Run(slug, func(t *testing.T) {
			var n int
			var gtype string
			if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM layer.`+slug+` WHERE osm_id IS NOT NULL),
				(SELECT geometry_type FROM geoportal.layers WHERE slug = $1)`, slug).Scan(&n, &gtype); err != nil {
				t.Fatal(err)
			}
			lr := rep.Layer(slug)
			ids := gdalIDs(t, m, slug, gtype)
			var onlyGDAL, onlyOurs []string
			if err := pool.QueryRow(context.Background(), `WITH g AS (`+ids+`), o AS (SELECT osm_id FROM layer.`+slug+` WHERE osm_id IS NOT NULL)
				SELECT coalesce((SELECT array_agg(osm_id ORDER BY osm_id) FROM (SELECT osm_id FROM g EXCEPT SELECT osm_id FROM o) x), '{}'),
					coalesce((SELECT array_agg(osm_id ORDER BY osm_id) FROM (SELECT osm_id FROM o EXCEPT SELECT osm_id FROM g) x), '{}')`).Scan(&onlyGDAL, &onlyOurs); err != nil {
				t.Fatal(err)
			}
			// GDAL's features the import rejected or skipped with a reason in its report are
			// no difference (a way whose nodes are all one node: GDAL makes a line of no
			// length of it; a building that repairs into two parts cannot be one Polygon).
			explained := map[string]bool{}
			for _, rj := range lr.Rejections {
				explained[strings.SplitN(rj.Reason, ":", 2)[0]] = true
			}
			for _, p := range rep.Problems {
				if strings.Contains(p.Reason, "only one node") {
					explained[p.Object] = true
				}
			}
			var diff []string
			for _, id := range onlyGDAL {
				if !explained[id] {
					diff = append(diff, "GDAL's "+id)
				}
			}
			for _, id := range onlyOurs {
				diff = append(diff, "our "+id)
			}
			if got, want := strings.Join(diff, " "), strings.Join(known[slug], " "); got != want {
				t.Errorf("layer %s (%d features, %d rejected): differences from GDAL's OSM driver\n got: %s\nwant: %s (the known ones)", slug, n, lr.Rejected, got, want)
			}
		})
	}
}

// The known differences from GDAL in the test extracts, by layer: where GDAL's rules for "an
// outer way is drawn by its multipolygon relation" differ from ours (docs/osm.md, "Compared
// with GDAL"). Any other difference fails the test.
var (
	delawareKnown = map[string][]string{
		// Way 273403669 is the outer of relation 3643243, whose only tags are type and
		// source: GDAL takes it for an old-style multipolygon and drops the way, we do not.
		"sports_grounds": {"our way/273403669"},
		// Highways that are outer ways of multipolygon relations: we keep some GDAL draws
		// by the relation only, and the other way round.
		"streets": {"GDAL's way/186988708", "GDAL's way/220013319", "GDAL's way/387047366", "GDAL's way/48057841",
			"GDAL's way/48101252", "our way/154593526"},
	}
	andorraKnown = map[string][]string{}
	// Multipolygons GEOS repairs (MakeValid): two overlapping outer rings become one, an
	// inner ring touching its outer along an edge becomes part of the outline.
	delawareRepaired = "relation/3401779 (1/2 parts, 1/2 rings), relation/5493655 (1/1 parts, 1/2 rings)"
)

func gdalHas(t *testing.T, pool *pgxpool.Pool, ids, obj string) bool {
	var ok bool
	if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM (`+ids+`) g WHERE osm_id = $1)`, obj).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// problemsOf returns the reasons the import gave for skipping some objects.
func problemsOf(rep *importers.OSMReport, ids []string) []osm.Problem {
	var out []osm.Problem
	for _, p := range rep.Problems {
		for _, id := range ids {
			if p.Object == id {
				out = append(out, p)
			}
		}
	}
	return out
}

func TestOSMDelawareMatchesGDAL(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	file := testfiles.OSM(t, "delaware-latest.osm.pbf")
	im := importers.New(pool, nil)
	rep, err := im.ImportOSM(ctx, file, importers.OSMRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Nodes != 723870 || rep.Ways != 73144 {
		t.Errorf("read %d nodes and %d ways, want 723870 and 73144", rep.Nodes, rep.Ways)
	}
	gdalLoad(t, pool, file)
	checkCountsAgainstGDAL(t, pool, rep, delawareKnown)

	t.Run("multipolygons", func(t *testing.T) {
		// Every multipolygon relation in an area layer has GDAL's parts, rings and area.
		var total, holes, differ int
		var sample string
		err := pool.QueryRow(ctx, `WITH ours AS (
				SELECT osm_id, geom FROM layer.buildings UNION ALL SELECT osm_id, geom FROM layer.parks
				UNION ALL SELECT osm_id, geom FROM layer.districts UNION ALL SELECT osm_id, geom FROM layer.city_boundary),
			pairs AS (SELECT o.osm_id, o.geom AS a, g.geom AS b FROM ours o
				JOIN gdal.multipolygons g ON o.osm_id = 'relation/' || g.osm_id)
			SELECT count(*), count(*) FILTER (WHERE ST_NRings(b) > ST_NumGeometries(b)),
				count(*) FILTER (WHERE ST_NumGeometries(ST_Multi(a)) <> ST_NumGeometries(b) OR ST_NRings(a) <> ST_NRings(b)
					OR abs(ST_Area(a) - ST_Area(b)) > 1e-6 * ST_Area(b)),
				coalesce(string_agg(osm_id || ' (' || ST_NumGeometries(ST_Multi(a)) || '/' || ST_NumGeometries(b) || ' parts, ' || ST_NRings(a) || '/' || ST_NRings(b) || ' rings)', ', ' ORDER BY osm_id)
					FILTER (WHERE ST_NumGeometries(ST_Multi(a)) <> ST_NumGeometries(b) OR ST_NRings(a) <> ST_NRings(b) OR abs(ST_Area(a) - ST_Area(b)) > 1e-6 * ST_Area(b)), '')
			FROM pairs`).Scan(&total, &holes, &differ, &sample)
		if err != nil {
			t.Fatal(err)
		}
		if total < 30 || holes < 10 {
			t.Fatalf("only %d multipolygon relations compared (%d with holes): the check proves nothing", total, holes)
		}
		if sample != delawareRepaired {
			t.Errorf("%d of %d multipolygon relations differ from GDAL's in parts, rings or area (%s)", differ, total, sample)
		}
		t.Logf("%d multipolygon relations (%d with holes) as GDAL assembles them", total, holes)
	})

	t.Run("reimport changes nothing", func(t *testing.T) {
		before := layerVersions(t, pool)
		again, err := im.ImportOSM(ctx, file, importers.OSMRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range again.Layers {
			if l.Inserted+l.Updated+l.Deleted != 0 {
				t.Errorf("layer %s: re-import inserted %d, updated %d, deleted %d", l.Layer, l.Inserted, l.Updated, l.Deleted)
			}
		}
		after := layerVersions(t, pool)
		for s, v := range before {
			if after[s] != v {
				t.Errorf("layer %s: version %d → %d after re-importing the same file", s, v, after[s])
			}
		}
	})
}

func layerVersions(t *testing.T, pool *pgxpool.Pool) map[string]int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT slug, version FROM geoportal.layers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var v int64
		if err := rows.Scan(&s, &v); err != nil {
			t.Fatal(err)
		}
		out[s] = v
	}
	return out
}

// unbzip2 writes the decompressed copy of a .bz2 file into dir, for GDAL (which cannot read
// bzip2).
func unbzip2(t *testing.T, file, dir string) string {
	t.Helper()
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p := filepath.Join(dir, strings.TrimSuffix(filepath.Base(file), ".bz2"))
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, bzip2.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOSMAndorraXMLMatchesGDAL(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	file := testfiles.OSM(t, "andorra-latest.osm.bz2")
	rep, err := importers.New(pool, nil).ImportOSM(ctx, file, importers.OSMRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != "osm.bz2" {
		t.Errorf("format %q, want osm.bz2", rep.Format)
	}
	gdalLoad(t, pool, unbzip2(t, file, t.TempDir()))
	checkCountsAgainstGDAL(t, pool, rep, andorraKnown)

	t.Run("names", func(t *testing.T) {
		// Every layer's language columns hold the object's name:kk, name:ru and name:en.
		var wrong, en, ru int
		for _, slug := range osm.Default().Layers() {
			var w, e, r int
			err := pool.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE name_kk IS DISTINCT FROM tags->>'name:kk' OR name_ru IS DISTINCT FROM tags->>'name:ru'
					OR name_en IS DISTINCT FROM tags->>'name:en' OR name IS DISTINCT FROM tags->>'name'),
				count(name_en), count(name_ru) FROM layer.`+slug+` WHERE osm_id IS NOT NULL`).Scan(&w, &e, &r)
			if err != nil && strings.Contains(err.Error(), "does not exist") {
				continue // a layer without names (buildings, street lights…)
			} else if err != nil {
				t.Fatal(err)
			}
			wrong, en, ru = wrong+w, en+e, ru+r
		}
		if wrong != 0 {
			t.Errorf("%d features whose name columns are not their name tags", wrong)
		}
		if en == 0 || ru == 0 {
			t.Errorf("%d English and %d Russian names: Andorra has both", en, ru)
		}
		var name, nameRU string
		if err := pool.QueryRow(ctx, `SELECT name, coalesce(name_ru, '') FROM layer.places WHERE name = 'Andorra la Vella'`).Scan(&name, &nameRU); err != nil {
			t.Fatalf("Andorra la Vella in places: %v", err)
		}
		if nameRU == "" {
			t.Errorf("Andorra la Vella has no Russian name")
		}
		t.Logf("%d English and %d Russian names; Andorra la Vella is %q in Russian", en, ru, nameRU)
	})
}
