package importers_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/importers"
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

func TestOSMDelawareSmoke(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	im := importers.New(pool, nil)
	rep, err := im.ImportOSM(ctx, osmTestdata(t, "delaware-latest.osm.pbf"), importers.OSMRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Layers {
		t.Logf("%-18s read %6d written %6d inserted %6d rejected %d %v", l.Layer, l.Read, l.Written, l.Inserted, l.Rejected, l.Rejections[:min(2, len(l.Rejections))])
	}
	t.Logf("nodes %d ways %d relations %d node bytes %d skipped %d %v in %v", rep.Nodes, rep.Ways, rep.Relations, rep.NodeBytes, rep.Skipped, rep.Problems[:min(5, len(rep.Problems))], rep.Duration)
}
