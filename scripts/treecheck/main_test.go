package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// newRepo makes a git repository with a tidy module and one formatted Go file, committed.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "go.mod", "module example.com/clone\n\ngo 1.26\n")
	write(t, dir, "main.go", "package main\n\nfunc main() {}\n")
	write(t, dir, "web/tests/a.test.mjs", "import x from '../../testdata/a.json';\n")
	write(t, dir, "testdata/a.json", "{}\n")
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init")
	return dir
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestCleanTreePasses(t *testing.T) {
	dir := newRepo(t)
	var out bytes.Buffer
	if err := run([]string{"-C", dir}, &out); err != nil {
		t.Fatalf("clean tree refused: %v\n%s", err, out.String())
	}
}

// Each case adds one file to a clean tree; the check must refuse it and name the file and line.
func TestRefusesWhatBreaksAClone(t *testing.T) {
	shared := "../" + sharedName // spelled in two parts so this file does not name it
	cases := []struct {
		name, file, content, want string
	}{
		{"shared folder in a script", "bench/run.sh", "#!/bin/sh\npython3 " + shared + "/bench/gen.py\n", "bench/run.sh:2: names ../" + sharedName},
		{"shared folder as path elements", "x_test.go", "package main\n\nvar p = []string{\"..\", \"" + sharedName + "\", \"testdata\"}\n", "x_test.go:3: names ../" + sharedName},
		{"shared folder in testdata", "testdata/README.md", "copied from " + shared + "/testdata\n", "testdata/README.md:1: names ../" + sharedName},
		{"absolute work folder", "README.md", "run `python3 /wo" + "rk/bench/gen.py`\n", "README.md:1: names /wo" + "rk/bench/gen.py, an absolute path"},
		{"home folder", "docs/a.md", "see /ho" + "me/alice/data.shp\n", "docs/a.md:1: names /ho" + "me/alice/data.shp"},
		{"relative climb out", "web/tests/b.test.mjs", "const c = '../../../corpus/x.shp';\n", "web/tests/b.test.mjs:1: ../../../corpus/x.shp climbs out"}, // treecheck:allow
		{"unformatted Go", "bad.go", "package main\nfunc  f( ) {}\n", "bad.go: gofmt would change it"},
		{"untidy go.mod", "go.mod", "module example.com/clone\n\ngo 1.26\n\nrequire example.com/unused v1.0.0\n", "go mod tidy would change them"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := newRepo(t)
			write(t, dir, tc.file, tc.content)
			git(t, dir, "add", ".")
			var out bytes.Buffer
			err := run([]string{"-C", dir}, &out)
			if err == nil {
				t.Fatalf("accepted; printed:\n%s", out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("printed %q, want it to contain %q", out.String(), tc.want)
			}
		})
	}
}

// Paths that stay inside the checkout, system folders and marked hostile inputs pass.
func TestAcceptsWhatStaysInside(t *testing.T) {
	dir := newRepo(t)
	write(t, dir, "scripts/a.sh", "#!/bin/sh\ncd \"$(dirname \"$0\")/..\"\nOUT=/tmp/bench-out ../web/x\n")
	write(t, dir, "x_test.go", "package main\n\nvar evil = \"../../etc/passwd\" // hostile input (treecheck:"+"allow)\n") // treecheck:allow
	git(t, dir, "add", ".")
	var out bytes.Buffer
	if err := run([]string{"-C", dir}, &out); err != nil {
		t.Fatalf("refused: %v\n%s", err, out.String())
	}
}
