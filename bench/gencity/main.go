// Command gencity writes the synthetic city the benchmarks run on: one GeoJSON FeatureCollection
// per layer (EPSG:4326, integer feature ids), byte for byte the same for the same -seed and -scale.
//
//	go run ./bench/gencity -out /tmp/city [-scale 0.1] [-seed 1] [-layers buildings,streets]
//
// At -scale 1 it holds 150,000 buildings (rotated rectangles, L and U shapes clustered in
// districts), 20,000 street segments of a perturbed grid, 1,500 bus stops, 700 cameras (240
// installed, 460 planned), 120 schools, 60 clinics, 300 sports grounds, 80 bio-toilets and 900
// ramps, all inside bench/city.Bound and named in Russian and Kazakh.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "gencity:", err)
		os.Exit(1)
	}
}

// layer is one file of the city: name.geojson, written by write.
type layer struct {
	name  string
	write func(g *generator, path string) (int, error)
}

// layers are the files written, in this order. Each layer draws from a random stream of its
// own (seeded by -seed and its name), so the size of one never changes the contents of another.
var layers = []layer{
	{"buildings", func(g *generator, path string) (int, error) {
		return writeLayer(path, "buildings", g.buildings(g.count(150_000)))
	}},
	{"streets", func(g *generator, path string) (int, error) { return writeLayer(path, "streets", g.streets()) }},
	{"bus_stops", func(g *generator, path string) (int, error) {
		return writeLayer(path, "bus_stops", g.busStops(g.count(1_500)))
	}},
	{"cameras", func(g *generator, path string) (int, error) {
		return writeLayer(path, "cameras", g.cameras(g.count(240), g.count(460)))
	}},
	{"schools", func(g *generator, path string) (int, error) {
		return writeLayer(path, "schools", g.schools(g.count(120)))
	}},
	{"clinics", func(g *generator, path string) (int, error) {
		return writeLayer(path, "clinics", g.clinics(g.count(60)))
	}},
	{"sports_grounds", func(g *generator, path string) (int, error) {
		return writeLayer(path, "sports_grounds", g.sportsGrounds(g.count(300)))
	}},
	{"biotoilets", func(g *generator, path string) (int, error) {
		return writeLayer(path, "biotoilets", g.bioToilets(g.count(80)))
	}},
	{"ramps", func(g *generator, path string) (int, error) { return writeLayer(path, "ramps", g.ramps(g.count(900))) }},
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gencity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write the layers into (created if missing)")
	scale := fs.Float64("scale", 1, "multiply every layer's size by this (0.05 for a quick check)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed and scale give the same bytes")
	only := fs.String("layers", "", "comma-separated layers to write (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("usage: gencity -out DIR [-scale S] [-seed N] [-layers a,b]")
	}
	if *scale <= 0 {
		return fmt.Errorf("-scale %g: must be positive", *scale)
	}
	want := map[string]bool{}
	for _, name := range strings.Split(*only, ",") {
		if name == "" {
			continue
		}
		if !slices.ContainsFunc(layers, func(l layer) bool { return l.name == name }) {
			return fmt.Errorf("-layers: no layer %q", name)
		}
		want[name] = true
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}

	start := time.Now()
	g := newGenerator(*seed, *scale)
	for _, l := range layers {
		if len(want) > 0 && !want[l.name] {
			continue
		}
		t := time.Now()
		path := filepath.Join(*out, l.name+".geojson")
		n, err := l.write(g, path)
		if err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		fmt.Fprintf(stderr, "%-15s %7d features  %5.1fs\n", l.name, n, time.Since(t).Seconds())
	}
	fmt.Fprintf(stderr, "city (seed %d, scale %g) written to %s in %.1fs\n", *seed, *scale, *out, time.Since(start).Seconds())
	return nil
}
