// Package testfiles finds the real third-party files the tests read, kept in the repository's
// testdata/ folder (testdata/README.md names each file's source and license).
//
//	nc := testfiles.Path(t, "shapefiles", "debian-r-cran-sf", "nc.shp")
package testfiles

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root is the repository's testdata folder: the one beside the go.mod above the working
// directory. It fails the test when there is none.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testfiles: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path is the file or folder rel (slash-separated parts) under the repository's testdata folder.
// It fails the test when the file is missing, so a lost fixture is never a silent skip.
func Path(tb testing.TB, rel ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Root(tb)}, rel...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("testfiles: %v", err)
	}
	return p
}

// OSM is a file of the github.com/paulmach/osm module's testdata (Delaware's PBF, Andorra's XML;
// © OpenStreetMap contributors, ODbL), found in the module cache and downloaded through the Go
// module proxy when missing. It fails the test when the file cannot be had.
func OSM(tb testing.TB, name string) string {
	tb.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/paulmach/osm@v0.8.0").Output()
	if err != nil {
		tb.Fatalf("locating github.com/paulmach/osm in the module cache: %v", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		tb.Fatalf("go mod download -json github.com/paulmach/osm@v0.8.0: no Dir in %s (%v)", out, err)
	}
	p := filepath.Join(m.Dir, "testdata", name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("OSM test data: %v", err)
	}
	return p
}
