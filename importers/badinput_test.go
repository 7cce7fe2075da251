package importers

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
)

// copyShapefile copies the parts of a corpus shapefile into dir under a new base name.
func copyShapefile(t *testing.T, corpus, rel, dir, base string, exts ...string) string {
	t.Helper()
	for _, ext := range exts {
		b, err := os.ReadFile(filepath.Join(corpus, rel+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, base+ext), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, base+".shp")
}

func writeZip(t *testing.T, p string, entries map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncateFile(t *testing.T, p string, size int64) {
	t.Helper()
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
}

// TestBadInput feeds broken and hostile files to the importer: each is refused with a clear
// error naming the file (and record, where there is one), and nothing is written.
func TestBadInput(t *testing.T) {
	corpus := corpusDir(t)
	pool := dbtest.New(t)
	im := New(pool, nil)
	all := []string{".shp", ".shx", ".dbf", ".prj"}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) []string
		opt   Options
		code  string
		want  []string // substrings of the error
	}{
		{"truncated shp", func(t *testing.T, dir string) []string {
			p := copyShapefile(t, corpus, "debian-r-cran-sf/nc", dir, "nc", all...)
			truncateFile(t, p, 30000)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"nc.shp is truncated", "record"}},
		{"truncated dbf", func(t *testing.T, dir string) []string {
			p := copyShapefile(t, corpus, "debian-r-cran-sf/nc", dir, "nc", all...)
			truncateFile(t, filepath.Join(dir, "nc.dbf"), 20000)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"nc.dbf", "record", "truncated"}},
		{"truncated shx", func(t *testing.T, dir string) []string {
			p := copyShapefile(t, corpus, "debian-r-cran-sf/nc", dir, "nc", all...)
			truncateFile(t, filepath.Join(dir, "nc.shx"), 500)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"nc.shp", ".shx"}},
		{"shp/dbf count mismatch", func(t *testing.T, dir string) []string {
			p := copyShapefile(t, corpus, "go-shp/point", dir, "pts", ".shp", ".shx")
			b, _ := os.ReadFile(filepath.Join(corpus, "go-shp/multipoint.dbf"))
			os.WriteFile(filepath.Join(dir, "pts.dbf"), b, 0o644)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"pts.shp has 3 records but pts.dbf has 1"}},
		{"missing shx", func(t *testing.T, dir string) []string {
			return []string{copyShapefile(t, corpus, "debian-r-cran-sf/nc", dir, "nc", ".shp", ".dbf", ".prj")}
		}, Options{}, geoportal.EINVALID, []string{"nc.shx is missing"}},
		{"HTML saved as prj", func(t *testing.T, dir string) []string {
			p := copyShapefile(t, corpus, "shapefile-js/utf", dir, "utf", ".shp", ".shx", ".dbf")
			b, _ := os.ReadFile(filepath.Join(corpus, "shapefile-js/htmlprj.prj"))
			os.WriteFile(filepath.Join(dir, "utf.prj"), b, 0o644)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"utf.prj", "HTML"}},
		{"zip slip", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "evil.zip")
			writeZip(t, p, map[string][]byte{"../../evil.shp": []byte("x"), "ok.txt": []byte("y")}) // a hostile entry name (treecheck:allow)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"evil.zip", "zip-slip"}},
		{"zip slip absolute", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "evil.zip")
			writeZip(t, p, map[string][]byte{"/tmp/evil.shp": []byte("x")})
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"evil.zip", "zip-slip"}},
		{"zip bomb ratio", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "bomb.zip")
			writeZip(t, p, map[string][]byte{"bomb.shp": make([]byte, 64<<20)})
			return []string{p}
		}, Options{}, geoportal.ETOOLARGE, []string{"bomb.zip", "bomb.shp", "times its compressed size"}},
		{"zip total size", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "big.zip")
			writeZip(t, p, map[string][]byte{"a.shp": bytes.Repeat([]byte("abcdefgh"), 1<<18)})
			return []string{p}
		}, Options{Zip: ZipLimits{MaxTotal: 1 << 20}}, geoportal.ETOOLARGE, []string{"big.zip", "limit"}},
		{"too many zip entries", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "many.zip")
			m := map[string][]byte{}
			for i := 0; i < 20; i++ {
				m[strings.Repeat("x", i+1)+".txt"] = []byte("x")
			}
			writeZip(t, p, m)
			return []string{p}
		}, Options{Zip: ZipLimits{MaxEntries: 10}}, geoportal.ETOOLARGE, []string{"many.zip", "20 files"}},
		{"text named zip", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "data.zip")
			os.WriteFile(p, []byte("hello, this is not a zip"), 0o644)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"data.zip is not a zip archive"}},
		{"png named shp", func(t *testing.T, dir string) []string {
			p := copyShapefile(t, corpus, "go-shp/point", dir, "img", ".shx", ".dbf")
			os.WriteFile(p, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 200)...), 0o644)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"img.shp: not a shapefile"}},
		{"html named shp", func(t *testing.T, dir string) []string {
			p := copyShapefile(t, corpus, "go-shp/point", dir, "page", ".shx", ".dbf")
			os.WriteFile(p, []byte("<!DOCTYPE html><html><body>404</body></html>"), 0o644)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"page.shp is an HTML page"}},
		{"unknown extension", func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "report.docx")
			os.WriteFile(p, []byte("PK\x03\x04"), 0o644)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"report.docx", "unsupported file type"}},
		{"missing file", func(t *testing.T, dir string) []string {
			return []string{filepath.Join(dir, "nothere.shp")}
		}, Options{}, geoportal.EINVALID, []string{"nothere.shp"}},
		{"dbf only", func(t *testing.T, dir string) []string {
			b, _ := os.ReadFile(filepath.Join(corpus, "postgis-loader/mfile.dbf"))
			p := filepath.Join(dir, "mfile.dbf")
			os.WriteFile(p, b, 0o644)
			return []string{p}
		}, Options{}, geoportal.EINVALID, []string{"mfile.dbf has no .shp"}},
		{"unknown encoding", func(t *testing.T, dir string) []string {
			return []string{copyShapefile(t, corpus, "go-shp/point", dir, "pt", ".shp", ".shx", ".dbf")}
		}, Options{Encoding: "klingon"}, geoportal.EINVALID, []string{"unknown encoding", "klingon"}},
		{"unknown srid", func(t *testing.T, dir string) []string {
			return []string{copyShapefile(t, corpus, "go-shp/point", dir, "pt", ".shp", ".shx", ".dbf")}
		}, Options{SRID: 999999}, geoportal.EINVALID, []string{"999999"}},
		{"projected without prj", func(t *testing.T, dir string) []string {
			return []string{copyShapefile(t, corpus, "debian-spdata/eire", dir, "eire", ".shp", ".shx", ".dbf")}
		}, Options{}, geoportal.EINVALID, []string{"eire.shp has no .prj", "--srid"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			paths := tc.setup(t, dir)
			tc.opt.TempDir = t.TempDir()
			slug := "bad_" + string(rune('a'+i))
			src, err := Open(paths, tc.opt)
			if err == nil {
				_, err = im.Import(context.Background(), src, Request{Layer: slug})
				src.Close()
			}
			if err == nil {
				t.Fatal("imported, want an error")
			}
			if code := geoportal.ErrorCode(err); code != tc.code {
				t.Errorf("code %s, want %s: %v", code, tc.code, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			assertNoLayer(t, pool, slug)
			// Nothing escaped the extraction folder.
			if _, err := os.Stat(filepath.Join(filepath.Dir(tc.opt.TempDir), "evil.shp")); err == nil {
				t.Error("zip entry escaped its folder")
			}
			if entries, _ := os.ReadDir(tc.opt.TempDir); len(entries) != 0 {
				t.Errorf("extracted files left behind: %v", entries)
			}
		})
	}
}

// failingSource yields good features, then fails: the import must leave no trace.
type failingSource struct {
	Source
	n, after int
}

func (f *failingSource) Next() (Feature, error) {
	f.n++
	if f.n > f.after {
		return Feature{}, geoportal.Errorf(geoportal.EINVALID, "disk read error at record %d", f.n)
	}
	return f.Source.Next()
}

// layerState is what must not change when an import fails.
func layerState(t *testing.T, im *Importer, slug string) string {
	t.Helper()
	var s string
	err := im.Pool.QueryRow(context.Background(), `SELECT l.feature_count || '/' || l.version || '/' ||
		(SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM layer.`+slug+` t)
		FROM geoportal.layers l WHERE slug = $1`, slug).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRollback makes imports fail in every mode after rows were already copied, and checks the
// layer is exactly as it was and the failure is in the history.
func TestRollback(t *testing.T) {
	corpus := corpusDir(t)
	pool := dbtest.New(t)
	im := New(pool, nil)
	ctx := context.Background()
	nc := filepath.Join(corpus, "debian-r-cran-sf/nc.shp")
	src, err := Open([]string{nc}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := im.Import(ctx, src, Request{Layer: "counties", Title: layers.Titles{EN: "Counties", RU: "Округа", KK: "Округтер"}})
	src.Close()
	if err != nil || rep.Written != 100 {
		t.Fatalf("first import: %v %+v", err, rep)
	}
	before := layerState(t, im, "counties")
	for _, mode := range []string{ModeReplace, ModeAppend, ModeUpsert} {
		t.Run(mode, func(t *testing.T) {
			s, err := Open([]string{nc}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			req := Request{Layer: "counties", Mode: mode}
			if mode == ModeUpsert {
				req.Key = "fips"
			}
			_, err = im.Import(ctx, &failingSource{Source: s, after: 60}, req)
			if err == nil || !strings.Contains(err.Error(), "disk read error at record 61") {
				t.Fatalf("err = %v, want the source's error", err)
			}
			if after := layerState(t, im, "counties"); after != before {
				t.Errorf("layer changed by a failed import: %s → %s", before, after)
			}
		})
	}
	t.Run("create fails", func(t *testing.T) {
		s, err := Open([]string{nc}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = im.Import(ctx, &failingSource{Source: s, after: 10}, Request{Layer: "half_made"})
		if err == nil {
			t.Fatal("no error")
		}
		assertNoLayer(t, pool, "half_made")
	})
	t.Run("upsert with duplicate keys", func(t *testing.T) {
		s, err := Open([]string{nc}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// CRESS_ID is unique, but sid74 repeats: the upsert must refuse before writing anything.
		_, err = im.Import(ctx, s, Request{Layer: "counties", Mode: ModeUpsert, Key: "sid74"})
		if err == nil || !strings.Contains(err.Error(), "appears") {
			t.Fatalf("err = %v, want duplicate key error", err)
		}
		if after := layerState(t, im, "counties"); after != before {
			t.Errorf("layer changed by a failed upsert: %s → %s", before, after)
		}
	})
	var failed, ok int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'ok')
		FROM geoportal.imports WHERE layer = 'counties'`).Scan(&failed, &ok); err != nil {
		t.Fatal(err)
	}
	if failed != 4 || ok != 1 {
		t.Errorf("history has %d failed and %d ok imports, want 4 and 1", failed, ok)
	}
}
