// Command tileurls lists the z/x/y tiles (Web Mercator, XYZ scheme) that cover the benchmark
// city, bench/city.Bound: the list bench/load.sh walks.
//
//	go run ./bench/tileurls -zooms 14-16 [-sample 500] [-shuffle] [-seed 42] [-counts] [-bbox]
//
// -bbox prints each tile's bounds instead (min lon,min lat,max lon,max lat): the bbox pages of
// bench/ogc.sh.
// Tiles come by zoom, then row (north to south), then column. -sample keeps N of them, drawn
// with the seed, in that order; -shuffle puts the list in an order drawn with the seed.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal/bench/city"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "tileurls:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tileurls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	zoomList := fs.String("zooms", "14-16", "zooms: a range (14-16), a list (12,14) or both")
	sampleN := fs.Int("sample", 0, "keep this many tiles, drawn with -seed (0: all)")
	shuffle := fs.Bool("shuffle", false, "list the tiles in an order drawn with -seed")
	seed := fs.Uint64("seed", 42, "seed of -sample and -shuffle")
	counts := fs.Bool("counts", false, "print only the number of tiles per zoom")
	bbox := fs.Bool("bbox", false, "print each tile's bounds (minlon,minlat,maxlon,maxlat) instead of z/x/y")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	zooms, err := parseZooms(*zoomList)
	if err != nil {
		return err
	}
	if *sampleN < 0 {
		return fmt.Errorf("-sample %d: must not be negative", *sampleN)
	}

	var tiles []maptile.Tile
	for _, z := range zooms {
		zt := cover(city.Bound, z)
		if *counts {
			fmt.Fprintf(stdout, "z%d\t%d\n", z, len(zt))
		}
		tiles = append(tiles, zt...)
	}
	if *counts {
		fmt.Fprintf(stdout, "all\t%d\n", len(tiles))
		return nil
	}
	r := rand.New(rand.NewPCG(*seed, 0))
	if *sampleN > 0 {
		tiles = sample(r, tiles, *sampleN)
	}
	if *shuffle {
		r.Shuffle(len(tiles), func(i, j int) { tiles[i], tiles[j] = tiles[j], tiles[i] })
	}
	w := bufio.NewWriter(stdout)
	for _, t := range tiles {
		if *bbox {
			b := t.Bound()
			fmt.Fprintf(w, "%.6f,%.6f,%.6f,%.6f\n", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
			continue
		}
		fmt.Fprintf(w, "%d/%d/%d\n", t.Z, t.X, t.Y)
	}
	return w.Flush()
}

// maxZoom is the deepest zoom the server answers (geo.MaxZoom; geo itself needs cgo).
const maxZoom = 22

// parseZooms reads "14-16", "12,14" or "12,14-16" into sorted distinct zooms.
func parseZooms(s string) ([]maptile.Zoom, error) {
	var zooms []maptile.Zoom
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		from, err1 := strconv.Atoi(lo)
		to, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || from < 0 || from > to || to > maxZoom {
			return nil, fmt.Errorf("-zooms %q: %q is not a zoom or a range of zooms in 0..%d", s, part, maxZoom)
		}
		for z := from; z <= to; z++ {
			zooms = append(zooms, maptile.Zoom(z))
		}
	}
	slices.Sort(zooms)
	return slices.Compact(zooms), nil
}

// cover lists the tiles of zoom z that b touches, row by row from the north.
func cover(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	nw := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z)
	se := maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	var tiles []maptile.Tile
	for y := nw.Y; y <= se.Y; y++ {
		for x := nw.X; x <= se.X; x++ {
			tiles = append(tiles, maptile.New(x, y, z))
		}
	}
	return tiles
}

// sample keeps n of tiles, drawn with r, in their order.
func sample(r *rand.Rand, tiles []maptile.Tile, n int) []maptile.Tile {
	if n >= len(tiles) {
		return tiles
	}
	keep := r.Perm(len(tiles))[:n]
	slices.Sort(keep)
	out := make([]maptile.Tile, n)
	for i, k := range keep {
		out[i] = tiles[k]
	}
	return out
}
