package importers

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// corpusDir is the real-world shapefile corpus in the repository's testdata/shapefiles
// (testdata/README.md names each file's source and license).
func corpusDir(t testing.TB) string {
	t.Helper()
	return testfiles.Path(t, "shapefiles")
}

// gdalFeature is one feature as ogrinfo prints it.
type gdalFeature struct {
	fid    int
	values map[string]string
	types  map[string]string
}

type gdalLayer struct {
	ok       bool
	count    int // "Feature Count" of ogrinfo -so
	output   string
	features []gdalFeature
}

var fieldLine = regexp.MustCompile(`^  (.+?) \(([A-Za-z0-9]+(?:\([A-Za-z0-9]+\))?)\) = (.*)$`)
var featureLine = regexp.MustCompile(`^OGRFeature\(.*\):(\d+)$`)

// ogrinfo runs GDAL on a file and parses every feature's attributes.
func ogrinfo(t *testing.T, path string) gdalLayer {
	t.Helper()
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-q", path).CombinedOutput()
	l := gdalLayer{ok: err == nil && !bytes.Contains(out, []byte("FAILURE")) && !bytes.Contains(out, []byte("ERROR")), output: string(out)}
	if !l.ok {
		return l
	}
	so, err := exec.Command("ogrinfo", "-ro", "-al", "-so", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo -so %s: %v\n%s", path, err, so)
	}
	m := regexp.MustCompile(`Feature Count: (\d+)`).FindSubmatch(so)
	if m == nil {
		t.Fatalf("ogrinfo -so %s: no feature count\n%s", path, so)
	}
	l.count, _ = strconv.Atoi(string(m[1]))
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := featureLine.FindStringSubmatch(line); m != nil {
			fid, _ := strconv.Atoi(m[1])
			l.features = append(l.features, gdalFeature{fid: fid, values: map[string]string{}, types: map[string]string{}})
			continue
		}
		if m := fieldLine.FindStringSubmatch(line); m != nil && len(l.features) > 0 {
			f := &l.features[len(l.features)-1]
			f.values[m[1]], f.types[m[1]] = m[3], m[2]
		}
	}
	return l
}

// corpusCase is one importable unit of the corpus: a .shp, a .zip or a lone .dbf.
type corpusCase struct {
	name string // relative path
	path string
	gdal string // what ogrinfo opens
}

func corpusCases(t *testing.T, dir string) []corpusCase {
	var cases []corpusCase
	covered := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		ext := strings.ToLower(filepath.Ext(p))
		base := strings.TrimSuffix(p, filepath.Ext(p))
		switch {
		case ext == ".shp":
			cases = append(cases, corpusCase{name: rel, path: p, gdal: p})
		case ext == ".zip":
			g := "/vsizip/" + p
			if zr, err := zip.OpenReader(p); err == nil {
				for _, f := range zr.File {
					if strings.EqualFold(filepath.Ext(f.Name), ".shp") && strings.Contains(f.Name, "/") {
						g += "/" + f.Name
					}
				}
				zr.Close()
			}
			cases = append(cases, corpusCase{name: rel, path: p, gdal: g})
		case ext == ".dbf" && findSibling(base, ".shp") == "":
			cases = append(cases, corpusCase{name: rel, path: p, gdal: p})
		}
		covered[rel] = true
		return nil
	})
	// Every file of the corpus is a case or a part of one (sidecars, notes).
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		ext := strings.ToLower(filepath.Ext(p))
		switch ext {
		case ".shp", ".zip", ".dbf", ".shx", ".prj", ".cpg", ".sbn", ".sbx", ".xml", ".txt", ".md", ".py":
		default:
			if filepath.Base(p) != "README" {
				t.Errorf("corpus file %s is not covered by the corpus test", rel)
			}
		}
		return nil
	})
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// TestCorpus imports every shapefile of the shared corpus and compares the result with GDAL's
// reading: the same feature count, and for every written feature the same attribute values;
// files GDAL cannot read, and files we refuse, must be refused with an error naming the file.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	pool := dbtest.New(t)
	im := New(pool, nil)
	cases := corpusCases(t, dir)
	if len(cases) < 100 {
		t.Fatalf("found only %d corpus cases", len(cases))
	}
	imported := 0
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gl := ogrinfo(t, tc.gdal)
			slug := fmt.Sprintf("corpus_%d", i)
			src, err := Open([]string{tc.path}, Options{TempDir: t.TempDir()})
			var rep *Report
			if err == nil {
				rep, err = im.Import(context.Background(), src, Request{Layer: slug, Mode: ModeCreate})
				src.Close()
			}
			if err != nil {
				// Refused: the message must name the file (or the archive) and a reason.
				msg := err.Error()
				base := filepath.Base(tc.path)
				stem := strings.TrimSuffix(base, filepath.Ext(base))
				if !strings.Contains(msg, stem) && !strings.Contains(msg, ".shp") && !strings.Contains(msg, ".dbf") {
					t.Errorf("refused without naming the file: %v", err)
				}
				t.Logf("refused (GDAL reads it: %v): %v", gl.ok, err)
				if gl.ok && len(gl.features) > 0 && strings.Contains(msg, "records but") {
					t.Errorf("GDAL reads %d features but we refuse with a count mismatch: %v", len(gl.features), err)
				}
				assertNoLayer(t, pool, slug)
				return
			}
			if !gl.ok {
				t.Fatalf("imported %d records of a file GDAL refuses:\n%s", rep.Written, gl.output)
			}
			imported++
			if rep.Read != gl.count {
				t.Fatalf("read %d records, GDAL counts %d", rep.Read, gl.count)
			}
			if rep.Written+rep.Rejected != rep.Read {
				t.Fatalf("written %d + rejected %d != read %d", rep.Written, rep.Rejected, rep.Read)
			}
			rejected := map[int]bool{}
			for _, r := range rep.Rejections {
				if r.Record < 1 || r.Reason == "" {
					t.Errorf("rejection without record or reason: %+v", r)
				}
				rejected[r.Record] = true
			}
			dec, err := LookupEncoding(src.Info().Encoding)
			if err != nil {
				t.Fatal(err)
			}
			compareWithGDAL(t, pool, slug, src.Info().Fields, gl, rejected, dec)
			checkNewLayer(t, pool, slug)
		})
	}
	if imported < 60 {
		t.Errorf("only %d corpus files imported", imported)
	}
}

func assertNoLayer(t *testing.T, pool *pgxpool.Pool, slug string) {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM geoportal.layers WHERE slug = $1`, slug).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("refused import left layer %s behind", slug)
	}
}

// compareWithGDAL compares the layer's rows with GDAL's features. Where GDAL iterates fewer
// features than it counts (a .dbf with fewer rows than the .shp), only those are compared.
func compareWithGDAL(t *testing.T, pool *pgxpool.Pool, slug string, fields []Field, gl gdalLayer, rejected map[int]bool, dec *Decoder) {
	t.Helper()
	names := attributeNames(fields)
	var sel []string
	for _, n := range names {
		sel = append(sel, pgx.Identifier{n}.Sanitize()+"::text")
	}
	q := `SELECT id`
	if len(sel) > 0 {
		q += `, ` + strings.Join(sel, ", ")
	}
	rows, err := pool.Query(context.Background(), q+` FROM `+pgx.Identifier{"layer", slug}.Sanitize()+` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]*string
	for rows.Next() {
		vals := make([]*string, len(names))
		dest := []any{new(int64)}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		got = append(got, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []gdalFeature
	for _, f := range gl.features {
		if !rejected[f.fid+1] {
			want = append(want, f)
		}
	}
	if len(gl.features) < gl.count && len(fields) == 0 {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("layer holds %d rows, GDAL has %d features not rejected", len(got), len(want))
	}
	for i, w := range want {
		for j, f := range fields {
			gv, ok := w.values[f.Name]
			if !ok {
				t.Fatalf("GDAL shows no field %s", f.Name)
			}
			if !utf8.ValidString(gv) {
				// GDAL did not recode this file (it knows no code page for it): the bytes must
				// be the ones we decoded with the code page we detected.
				gv = dec.Decode([]byte(gv))
			}
			if !sameValue(gv, w.types[f.Name], f, got[i][j]) {
				g := "NULL"
				if got[i][j] != nil {
					g = *got[i][j]
				}
				t.Errorf("record %d field %s: GDAL %q (%s), imported %q", w.fid+1, f.Name, gv, w.types[f.Name], g)
			}
		}
	}
}

func sameValue(gdal, gtype string, f Field, got *string) bool {
	if f.Type == TypeBoolean {
		switch strings.ToUpper(gdal) {
		case "T", "Y":
			return got != nil && *got == "true"
		case "F", "N":
			return got != nil && *got == "false"
		}
		return got == nil
	}
	if gdal == "(null)" {
		return got == nil
	}
	if got == nil {
		return gdal == "" && f.Type == TypeText
	}
	switch f.Type {
	case TypeDouble:
		a, err1 := strconv.ParseFloat(gdal, 64)
		b, err2 := strconv.ParseFloat(*got, 64)
		return err1 == nil && err2 == nil && math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a))
	case TypeDate:
		return strings.ReplaceAll(gdal, "/", "-") == *got
	}
	return gdal == *got
}
