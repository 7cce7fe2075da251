package coverage

import (
	"os"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

func TestTmpProf(t *testing.T) {
	raw, _ := os.ReadFile("/tmp/city/streets.geojson")
	fc, _ := geojson.UnmarshalFeatureCollection(raw)
	proj := NewLocal(57.15, 50.28)
	var lines [][]orb.Point
	for _, f := range fc.Features {
		lines = append(lines, proj.ForwardLine(f.Geometry.(orb.LineString)))
	}
	raw, _ = os.ReadFile("/tmp/city/buildings.geojson")
	bf, _ := geojson.UnmarshalFeatureCollection(raw)
	var pts []orb.Point
	for _, f := range bf.Features {
		pts = append(pts, proj.Forward(f.Geometry.Bound().Center()))
	}
	t0 := time.Now()
	n := NewNetwork(lines, 1)
	t.Logf("network %d nodes %d edges in %v", len(n.Nodes), len(n.Edges), time.Since(t0))
	t0 = time.Now()
	far := 0
	for _, p := range pts {
		if n.Snap(p, 1000).Edge < 0 {
			far++
		}
	}
	t.Logf("%d snaps in %v (%d far)", len(pts), time.Since(t0), far)
	t0 = time.Now()
	obs := NewObstacles(nil)
	_ = obs
	samples := SampleLines(lines, 5)
	t.Logf("%d samples in %v", len(samples), time.Since(t0))
}
