// Package demo generates and loads the demo city: the real boundary of Aktobe and the real
// settlements around it (package reference, © OpenStreetMap contributors) plus a deterministic,
// seeded, clearly labelled (is_demo) city inside the boundary for every layer of the catalog:
// streets, buildings with resident estimates, cameras, stops and routes, schools, clinics and the rest.
//
//	city, err := demo.Generate(demo.Options{Seed: 1})
//	summary, err := demo.Load(ctx, pool, demo.Options{Seed: 1}, logger)
package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/aktobe/geoportal/data/reference"
	"github.com/paulmach/orb"
)

// Targets of the demo city, from the city's programme and statistics.
const (
	TargetResidents  = 570_000
	CamerasInstalled = 240
	CamerasPlanned   = 460
	targetSchools    = 120
	targetClinics    = 60
	targetStops      = 1500
	targetRoutes     = 40
	targetPharmacies = 180
	targetRamps      = 900
	targetSports     = 300
	targetBiotoilets = 80
)

// DefaultSeed is the seed of `geoportal demo` without -seed.
const DefaultSeed = 2040

// Options configure the generator and the loader.
type Options struct {
	// Seed makes the city: the same seed gives the same city.
	Seed int64
	// Now is the time of the vehicles' snapshot; zero means the time of the call.
	Now time.Time

	// Centre, when set, is where the generated city stands instead of Aktobe's centre (the demo
	// of an imported extract, `geoportal demo -osm`); the reference layers are then not
	// generated.
	Centre *orb.Point
	// Within, when set, is the area (EPSG:4326 WKB) the loaded demo features must lie in: the
	// loader removes, in its transaction, the generated features not within it.
	Within []byte
	// Keep lists the layers the loader leaves as they are (the layers an extract filled).
	Keep []string

	// beforeLayer, when set (tests), runs before each layer is written; an error aborts the load.
	beforeLayer func(slug string) error
}

// City is a generated city: one Layer per catalog layer.
type City struct {
	Layers    []*Layer
	Residents int
}

// Layer is the content of one catalog layer's table.
type Layer struct {
	Slug string
	// Demo rows are generated and stored with is_demo = true; the others are reference data.
	Demo bool
	// Columns are the attribute columns in Row.Values order (without geom and is_demo).
	Columns []string
	Rows    []Row
}

// Row is one feature.
type Row struct {
	Geom   orb.Geometry
	Values []any
}

func (l *Layer) add(g orb.Geometry, values ...any) {
	if len(values) != len(l.Columns) {
		panic(fmt.Sprintf("demo: layer %s: %d values for %d columns", l.Slug, len(values), len(l.Columns)))
	}
	l.Rows = append(l.Rows, Row{Geom: g, Values: values})
}

// Layer returns the named layer, or nil.
func (c *City) Layer(slug string) *Layer {
	for _, l := range c.Layers {
		if l.Slug == slug {
			return l
		}
	}
	return nil
}

func (c *City) newLayer(slug string, demo bool, columns ...string) *Layer {
	l := &Layer{Slug: slug, Demo: demo, Columns: columns}
	c.Layers = append(c.Layers, l)
	return l
}

// gen holds the state of one generation.
type gen struct {
	opts     Options
	boundary orb.MultiPolygon
	places   []reference.Place

	f   frame
	reg region

	cells    map[cellKey]*cell
	cellList []*cell
	units    map[unitKey]int8
	segs     []*segment
	names    map[lineKey]string

	blocks    []*block
	buildings []*building
	parks     []*parkArea
	routes    []*route
	stops     []*stop
	schools   []*facility
	clinics   []*facility

	city *City
}

// rng returns the random stream of one stage, so stages do not disturb each other.
func (g *gen) rng(stage string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(stage))
	return rand.New(rand.NewPCG(uint64(g.opts.Seed), h.Sum64()))
}

// Generate makes the demo city for opts.Seed. It is deterministic: the same options give the
// same layers, row for row.
func Generate(opts Options) (*City, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	g := &gen{opts: opts, city: &City{}}
	var err error
	if g.boundary, err = reference.CityBoundary(); err != nil {
		return nil, err
	}
	if g.places, err = reference.Places(); err != nil {
		return nil, err
	}
	if err := g.layout(); err != nil {
		return nil, err
	}
	g.nameEstates()
	g.makeBlocks()
	g.assignRoles()
	g.makeBuildings()
	g.estimateResidents(TargetResidents)
	g.makeParks()
	g.makeFacilities()
	g.makeTransit()

	if err := g.emitBase(); err != nil {
		return nil, err
	}
	g.emitSafety()
	g.emitTransit()
	g.emitUtilities()
	g.emitSocial()
	for _, b := range g.buildings {
		g.city.Residents += b.residents
	}
	if opts.Centre != nil {
		g.city.moveTo(*opts.Centre)
	}
	return g.city, nil
}
