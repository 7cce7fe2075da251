package importers_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// osmTestdata locates a file of the paulmach/osm module's testdata (Delaware's PBF, Andorra's
// XML; © OpenStreetMap contributors, ODbL) in the module cache, downloading the module through
// the Go module proxy when it is missing. The test fails when it cannot be had.
func osmTestdata(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/paulmach/osm@v0.8.0").Output()
	if err != nil {
		t.Fatalf("locating github.com/paulmach/osm in the module cache: %v", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download -json github.com/paulmach/osm@v0.8.0: no Dir in %s (%v)", out, err)
	}
	p := filepath.Join(m.Dir, "testdata", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("OSM test data: %v", err)
	}
	return p
}
