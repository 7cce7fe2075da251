package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"

	"github.com/aktobe/geoportal/bench/city"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// generator is what the layers share: the frame they are drawn in, the street segments the point
// layers stand along, and the seed and scale their random streams and sizes come from.
type generator struct {
	f        frame
	seed     uint64
	scale    float64
	segments []segment
}

func newGenerator(seed uint64, scale float64) *generator {
	g := &generator{f: newFrame(city.Bound), seed: seed, scale: scale}
	g.segments = g.streetGrid(g.count(20_000))
	return g
}

// rng is the random stream of one layer.
func (g *generator) rng(layer string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(layer))
	return rand.New(rand.NewPCG(g.seed, h.Sum64()))
}

// count is a layer's size at the city's scale, at least one.
func (g *generator) count(full int) int {
	return max(1, int(math.Round(float64(full)*g.scale)))
}

// feature is one feature of a layer whose properties are a P.
func feature[P any](id int, geom orb.Geometry, p P) geojson.FeatureOf[P] {
	return geojson.FeatureOf[P]{ID: id, Type: "Feature", Geometry: geom, Properties: p}
}

// writeLayer writes features as one FeatureCollection, a feature a line, and returns how many.
func writeLayer[P any](path, name string, features []geojson.FeatureOf[P]) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	quoted, _ := json.Marshal(name)
	fmt.Fprintf(w, "{\"type\":\"FeatureCollection\",\"name\":%s,\"features\":[\n", quoted)
	for i, ft := range features {
		b, err := ft.MarshalJSON()
		if err != nil {
			return 0, fmt.Errorf("feature %d: %w", i+1, err)
		}
		if i > 0 {
			w.WriteString(",\n")
		}
		w.Write(b)
	}
	w.WriteString("\n]}\n")
	if err := w.Flush(); err != nil {
		return 0, err
	}
	return len(features), f.Close()
}
