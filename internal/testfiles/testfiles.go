// Package testfiles finds the real third-party files the tests read, kept in the repository's
// testdata/ folder (testdata/README.md names each file's source and license).
//
//	nc := testfiles.Path(t, "shapefiles", "debian-r-cran-sf", "nc.shp")
package testfiles

import (
	"os"
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
