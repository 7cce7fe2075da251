// Command treecheck refuses a tree that would break in a fresh clone: a tracked file that names a
// place outside the checkout (the "shared" folder beside it, a home or work folder, a relative path
// that climbs out of the repository), go.mod and go.sum that `go mod tidy` would change, Go files that gofmt would
// change. `.ci/run` runs it before `make test`.
//
//	go run ./scripts/treecheck            # the repository the working directory is in
//	go run ./scripts/treecheck -C DIR     # another checkout
//
// It prints one line per problem (file:line: what) and exits 1 when there is any. A line that must
// hold such a path on purpose (a hostile input in a test: a zip entry named "../../x") carries the
// marker treecheck:allow.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "treecheck:", err)
		os.Exit(1)
	}
}

// errProblems is returned when the tree has problems (already printed).
var errProblems = errors.New("the tree would break in a fresh clone (see above)")

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("treecheck", flag.ContinueOnError)
	dir := fs.String("C", ".", "a folder inside the checkout to check")
	skipGo := fs.Bool("no-go", false, "skip the go mod tidy and gofmt checks (paths only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := gitOutput(*dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return fmt.Errorf("not in a git checkout: %w", err)
	}
	root = strings.TrimSpace(root)
	list, err := gitOutput(root, "ls-files", "-z")
	if err != nil {
		return err
	}
	files := strings.Split(strings.TrimRight(list, "\x00"), "\x00")

	var problems []string
	for _, f := range files {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // deleted in the work tree, not yet committed
			}
			return err
		}
		problems = append(problems, outsideRefs(root, f, b)...)
	}
	if !*skipGo {
		p, err := goChecks(root, files)
		if err != nil {
			return err
		}
		problems = append(problems, p...)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return errProblems
	}
	return nil
}

// sharedName is the folder beside the checkout, spelled so that this file does not name it.
const sharedName = "sha" + "red"

var (
	// sharedRef is the folder beside the checkout that earlier work read from, written as a path
	// or as path elements (filepath.Join with "..", then the name).
	sharedRef = regexp.MustCompile(`\.\./` + sharedName + `\b|"\.\."\s*,\s*"` + sharedName + `"`)
	// absoluteRef is an absolute path into a folder that belongs to one machine or one person:
	// system folders (/usr, /etc, /tmp, /proc, /dev) are on every Debian machine, these are not.
	absoluteRef = regexp.MustCompile(`(?:^|[\s"'=:(\[,` + "`" + `])(/(?:work|home|root|srv|opt|mnt|media|Users)/[^\s"'` + "`" + `)\]]*)`)
	// climbRef is a relative path that starts by going up: it is resolved from the file's folder.
	climbRef = regexp.MustCompile(`(?:^|[^.\w/])((?:\.\./)+[\w.-]*(?:/[\w.-]+)*)`)
)

// outsideRefs lists the places in file f (content b) that name something outside the checkout.
// Binary files are skipped; so are the third-party inputs under testdata/ folders, which are
// checked only for the shared folder, and so are lines marked treecheck:allow.
func outsideRefs(root, f string, b []byte) []string {
	if bytes.IndexByte(b[:min(len(b), 8000)], 0) >= 0 {
		return nil
	}
	thirdParty := strings.HasPrefix(f, "testdata/") || strings.Contains(f, "/testdata/")
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if sharedRef.MatchString(line) {
			out = append(out, fmt.Sprintf("%s:%d: names ../%s, which a fresh clone does not have", f, n, sharedName))
			continue
		}
		if thirdParty || strings.Contains(line, "treecheck:"+"allow") {
			continue
		}
		if m := absoluteRef.FindStringSubmatch(line); m != nil {
			out = append(out, fmt.Sprintf("%s:%d: names %s, an absolute path outside the checkout", f, n, m[1]))
			continue
		}
		for _, m := range climbRef.FindAllStringSubmatch(line, -1) {
			target := filepath.Join(root, filepath.Dir(f), m[1])
			if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				out = append(out, fmt.Sprintf("%s:%d: %s climbs out of the checkout", f, n, m[1]))
				break
			}
		}
	}
	return out
}

// goChecks runs go mod tidy -diff and gofmt -l over the tracked Go files.
func goChecks(root string, files []string) ([]string, error) {
	var out []string
	cmd := exec.Command("go", "mod", "tidy", "-diff")
	cmd.Dir = root
	diff, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && len(diff) > 0:
		out = append(out, "go.mod/go.sum: go mod tidy would change them:\n"+string(diff))
	case err != nil:
		return nil, fmt.Errorf("go mod tidy -diff: %w\n%s", err, stderrOf(err))
	}
	var gofiles []string
	for _, f := range files {
		if strings.HasSuffix(f, ".go") {
			if _, err := os.Stat(filepath.Join(root, f)); err == nil {
				gofiles = append(gofiles, f)
			}
		}
	}
	if len(gofiles) > 0 {
		cmd := exec.Command("gofmt", append([]string{"-l"}, gofiles...)...)
		cmd.Dir = root
		list, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("gofmt -l: %w\n%s", err, stderrOf(err))
		}
		for _, f := range strings.Fields(string(list)) {
			out = append(out, f+": gofmt would change it (run gofmt -w "+f+")")
		}
	}
	return out, nil
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, stderrOf(err))
	}
	return string(b), nil
}

func stderrOf(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}
