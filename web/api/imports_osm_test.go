package api_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
)

// TestImportOSMUpload uploads the made-up extract: the preview says which layers would get how
// many features and writes nothing; the import fills them with a report and an audit entry per
// layer, by the uploading GIS specialist; broken extracts are refused with a 400 naming the
// file, every layer left as it was.
func TestImportOSMUpload(t *testing.T) {
	s, _, gis, _, postAs := importServer(t)
	ctx := context.Background()
	post := func(fields map[string]string, files map[string][]byte) (int, []byte) {
		t.Helper()
		return postAs(gis, fields, files)
	}
	counts := func() map[string]int64 {
		t.Helper()
		rows, err := s.Pool.Query(ctx, `SELECT slug, feature_count * 1000000 + version FROM geoportal.layers`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var slug string
			var n int64
			if err := rows.Scan(&slug, &n); err != nil {
				t.Fatal(err)
			}
			out[slug] = n
		}
		return out
	}
	root, err := dbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	small, err := os.ReadFile(filepath.Join(root, "testdata", "osm", "small.osm"))
	if err != nil {
		t.Fatal(err)
	}
	type report struct {
		Format string `json:"format"`
		Layers []struct {
			Layer    string `json:"layer"`
			Written  int    `json:"written"`
			Inserted int    `json:"inserted"`
			Status   string `json:"status"`
		} `json:"layers"`
	}
	written := func(b []byte) map[string]int {
		t.Helper()
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("report %s: %v", b, err)
		}
		out := map[string]int{}
		for _, l := range r.Layers {
			if l.Written > 0 {
				out[l.Layer] = l.Written
			}
		}
		return out
	}

	before := counts()
	code, b := post(map[string]string{"preview": "1"}, map[string][]byte{"small.osm": small})
	if code != 200 {
		t.Fatalf("preview: %d %s", code, b)
	}
	if w := written(b); w["schools"] != 1 || w["streets"] != 1 || w["parks"] != 1 {
		t.Errorf("preview: layers %v, want a school, a street and a park\n%s", w, b)
	}
	if after := counts(); !mapsEqual(before, after) {
		t.Error("the preview changed layers")
	}

	code, b = post(nil, map[string][]byte{"small.osm": small})
	if code != 200 {
		t.Fatalf("import: %d %s", code, b)
	}
	if w := written(b); w["schools"] != 1 || w["streets"] != 1 || w["parks"] != 1 {
		t.Errorf("import: layers %v\n%s", w, b)
	}
	var name string
	var audits, imports int
	if err := s.Pool.QueryRow(ctx, `SELECT (SELECT name_en FROM layer.schools WHERE osm_id = 'node/1'),
		(SELECT count(*) FROM auth.audit_log WHERE action = 'layer.import' AND object_id = 'schools' AND detail = 'small.osm'),
		(SELECT count(*) FROM geoportal.imports WHERE layer = 'schools' AND source = 'small.osm' AND username = 'gis@example.kz')`).Scan(&name, &audits, &imports); err != nil {
		t.Fatal(err)
	}
	if name != "School-gymnasium No. 5" || audits != 1 || imports != 1 {
		t.Errorf("school %q, %d audit entries, %d import reports by the uploader", name, audits, imports)
	}

	// The upload page asks for a stream: the report comes as one NDJSON line.
	code, b = post(map[string]string{"stream": "1"}, map[string][]byte{"small.osm": small})
	var line struct {
		Report json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal(b, &line); code != 200 || err != nil || written(line.Report)["schools"] != 1 {
		t.Errorf("streamed import: %d %s (%v)", code, b, err)
	}

	for _, tc := range []struct{ name, file, want string }{
		{"corrupt PBF", "corrupt.osm.pbf", "corrupt.osm.pbf"},
		{"truncated XML", "cut.osm", "cut.osm"},
		{"not OSM", "track.osm", "track.osm: osm: not an OpenStreetMap file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := map[string][]byte{
				"corrupt.osm.pbf": append([]byte{0, 0, 0, 14, 0x0a, 0x09}, []byte("OSMHeader\x18\x7f garbage that is no blob at all")...),
				"cut.osm":         small[:len(small)/2],
				"track.osm":       []byte(`<?xml version="1.0"?><gpx version="1.1"><trk/></gpx>`),
			}[tc.file]
			before := counts()
			code, b := post(nil, map[string][]byte{tc.file: content})
			if code != 400 || !strings.Contains(string(b), tc.want) {
				t.Errorf("%d %s; want 400 naming %q", code, b, tc.want)
			}
			if after := counts(); !mapsEqual(before, after) {
				t.Error("a refused upload changed layers")
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
