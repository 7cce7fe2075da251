// Package analysis answers the planners' questions over the city's layers: who is served by a
// kind of facility (straight line or walking along streets), what the cameras see, where the next
// sites should go, and how much capacity each resident can reach (2SFCA). It loads layers from
// PostGIS and runs the algorithms of geo/coverage on them.
//
// Population (buildings with a residents estimate, with their district) and the street graph are
// kept in memory between requests and rebuilt when the layers' versions change, so an answer
// costs one small query for the facilities plus the computation.
package analysis

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

// Limits on requests, so one request cannot occupy the server.
const (
	MaxDistance = 10000 // metres
	MaxSites    = 5000
	// SnapRadius is how far a building or facility may lie from the nearest street and still be
	// reached along the network.
	SnapRadius = 1000.0
	// SnapTolerance merges street ends closer than this into one node.
	SnapTolerance = 1.0
)

// The layers the analyses read besides the facility layer.
const (
	buildingsLayer = "buildings"
	districtsLayer = "districts"
	streetsLayer   = "streets"
	residentsAttr  = "residents"
)

// Store runs analyses over the layers in one database.
type Store struct {
	pool   *pgxpool.Pool // the primary: jobs, scenarios
	reads  reads         // the analyses' reads of the layers: pool, or a replica.Reads (SetReads)
	layers *layers.Store

	// loading guards pop, net and obs: one analysis loads them while the others wait, and a
	// cancelled analysis stops waiting (a channel, unlike a mutex, can be left on ctx.Done).
	loading chan struct{}
	pop     *population
	net     *streetNet
	obs     *coverage.Obstacles
	obsKey  string

	jobsOnce sync.Once
	jobs     *jobs // background analyses (jobs.go)
}

// NewStore returns an analysis store over pool; ls reads the layer catalog.
func NewStore(pool *pgxpool.Pool, ls *layers.Store) *Store {
	return &Store{pool: pool, reads: pool, layers: ls, loading: make(chan struct{}, 1)}
}

// reads is what the analyses read the layers with: a *pgxpool.Pool or a *replica.Reads.
type reads interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Acquire(ctx context.Context) (*pgxpool.Conn, error)
}

// SetReads makes the analyses read the layers through r (a replica.Reads: a read replica that
// has every change this node heard of, else the primary). Call it before serving.
func (s *Store) SetReads(r reads) { s.reads = r }

// District is one row of layer.districts.
type District struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	NameKK string `json:"name_kk,omitempty"`
	NameRU string `json:"name_ru,omitempty"`
	NameEN string `json:"name_en,omitempty"`
}

// population is the residents snapshot for one version of the buildings and districts layers.
type population struct {
	key       string
	proj      coverage.Local
	residents []coverage.Resident
	xy        []orb.Point // building centroids in metres
	weights   []float64
	districts []District
	total     float64

	cellsMu sync.Mutex
	cells   map[int][]h3.Cell
	popc    map[int][]coverage.PopCell
}

func (p *population) cellsAt(res int) ([]h3.Cell, []coverage.PopCell, error) {
	p.cellsMu.Lock()
	defer p.cellsMu.Unlock()
	if c, ok := p.cells[res]; ok {
		return c, p.popc[res], nil
	}
	c := coverage.CellsOf(p.residents, res)
	pc, err := coverage.Aggregate(p.residents, c)
	if err != nil {
		return nil, nil, err
	}
	p.cells[res], p.popc[res] = c, pc
	return c, pc, nil
}

// streetNet is the street graph for one population snapshot and one streets version.
type streetNet struct {
	key   string
	net   *coverage.Network
	ids   []int64  // street feature id per input line
	names []string // street name per input line
	lines [][]orb.Point
	// snaps of the population's buildings onto the graph, made once.
	demand []coverage.Snap

	samplesMu sync.Mutex
	samples   map[float64]sampled
}

// sampled is the streets cut into pieces of one length, with the pieces' midpoints.
type sampled struct {
	pieces []coverage.Sample
	mids   []orb.Point
}

// sampleAt returns the streets cut every step metres, cut once per step and kept.
func (sn *streetNet) sampleAt(step float64) sampled {
	sn.samplesMu.Lock()
	defer sn.samplesMu.Unlock()
	if sm, ok := sn.samples[step]; ok {
		return sm
	}
	if sn.samples == nil || len(sn.samples) >= 4 {
		sn.samples = map[float64]sampled{}
	}
	pieces := coverage.SampleLines(sn.lines, step)
	mids := make([]orb.Point, len(pieces))
	for i, p := range pieces {
		mids[i] = p.Mid
	}
	sn.samples[step] = sampled{pieces, mids}
	return sn.samples[step]
}

// lockLoading waits for the right to load (or read) the cached snapshots, or for ctx to end.
func (s *Store) lockLoading(ctx context.Context) error {
	select {
	case s.loading <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockLoading() { <-s.loading }

// versions returns the data versions of the named layers ("" for a missing layer).
func (s *Store) versions(ctx context.Context, slugs ...string) (map[string]int64, error) {
	rows, err := s.reads.Query(ctx, `SELECT slug, version FROM geoportal.layers WHERE slug = ANY($1)`, slugs)
	if err != nil {
		return nil, fmt.Errorf("layer versions: %w", err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var slug string
		var v int64
		if err := rows.Scan(&slug, &v); err != nil {
			rows.Close()
			return nil, err
		}
		out[slug] = v
	}
	return out, rows.Err()
}

// population returns the current residents snapshot, loading it when the layers changed.
func (s *Store) population(ctx context.Context) (*population, error) {
	vs, err := s.versions(ctx, buildingsLayer, districtsLayer)
	if err != nil {
		return nil, err
	}
	if _, ok := vs[buildingsLayer]; !ok {
		return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q does not exist: coverage needs buildings with residents", buildingsLayer)
	}
	key := fmt.Sprintf("b%d/d%d", vs[buildingsLayer], vs[districtsLayer])
	if err := s.lockLoading(ctx); err != nil {
		return nil, err
	}
	defer s.unlockLoading()
	if s.pop != nil && s.pop.key == key {
		return s.pop, nil
	}
	var p *population
	err = s.onConn(ctx, func(db querier) error {
		p, err = s.loadPopulation(ctx, db, key, hasKey(vs, districtsLayer))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.pop = p
	return p, nil
}

func hasKey(m map[string]int64, k string) bool { _, ok := m[k]; return ok }

func (s *Store) loadPopulation(ctx context.Context, db querier, key string, withDistricts bool) (*population, error) {
	bl, err := s.layers.Layer(ctx, buildingsLayer, true)
	if err != nil {
		return nil, err
	}
	if a, ok := bl.Attribute(residentsAttr); !ok || (a.Type != "integer" && a.Type != "bigint" && a.Type != "double") {
		return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q has no numeric attribute %q", buildingsLayer, residentsAttr)
	}
	p := &population{key: key, cells: map[int][]h3.Cell{}, popc: map[int][]coverage.PopCell{}}
	// Districts are matched in Go: a point-in-polygon test per building against the districts
	// whose bounding box holds it is much cheaper than a lateral join in SQL.
	type districtShape struct {
		bound orb.Bound
		shape orb.MultiPolygon
	}
	var shapes []districtShape
	if withDistricts {
		rows, err := db.Query(ctx, `SELECT id, coalesce(name, ''), coalesce(name_kk, ''), coalesce(name_ru, ''),
			coalesce(name_en, ''), ST_AsBinary(ST_Force2D(geom)) FROM layer.districts ORDER BY id`)
		if err != nil {
			return nil, fmt.Errorf("load districts: %w", err)
		}
		for rows.Next() {
			var d District
			var b []byte
			if err := rows.Scan(&d.ID, &d.Name, &d.NameKK, &d.NameRU, &d.NameEN, &b); err != nil {
				rows.Close()
				return nil, fmt.Errorf("load districts: %w", err)
			}
			g, err := wkb.Unmarshal(b)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("load districts: district %d: %w", d.ID, err)
			}
			var mp orb.MultiPolygon
			switch g := g.(type) {
			case orb.Polygon:
				mp = orb.MultiPolygon{g}
			case orb.MultiPolygon:
				mp = g
			}
			p.districts = append(p.districts, d)
			shapes = append(shapes, districtShape{bound: mp.Bound(), shape: mp})
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load districts: %w", err)
		}
	}
	districtOf := func(pt orb.Point) int {
		// The lowest id wins where districts overlap.
		for i, d := range shapes {
			if d.bound.Contains(pt) && planar.MultiPolygonContains(d.shape, pt) {
				return i
			}
		}
		return -1
	}
	// The planner's estimate of the row count only drives the progress bar.
	var estimate float64
	if err := db.QueryRow(ctx, `SELECT reltuples FROM pg_catalog.pg_class WHERE oid = 'layer.buildings'::regclass`).Scan(&estimate); err != nil {
		return nil, fmt.Errorf("load residents: %w", err)
	}
	q := `SELECT ST_X(c), ST_Y(c), residents::float8
		FROM (SELECT ST_Centroid(geom) AS c, residents FROM layer.buildings WHERE residents > 0) b`
	rows, err := db.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("load residents: %w", err)
	}
	var bound orb.Bound
	for rows.Next() {
		var r coverage.Resident
		if err := rows.Scan(&r.Point[0], &r.Point[1], &r.Residents); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load residents: %w", err)
		}
		r.District = districtOf(r.Point)
		if n := len(p.residents); n%4096 == 0 {
			step(ctx, n, int(max(estimate, float64(n+1))))
		}
		if len(p.residents) == 0 {
			bound = orb.Bound{Min: r.Point, Max: r.Point}
		}
		bound = bound.Extend(r.Point)
		p.residents = append(p.residents, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load residents: %w", err)
	}
	if len(p.residents) == 0 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q has no buildings with residents", buildingsLayer)
	}
	p.proj = coverage.LocalFor(bound)
	p.xy = make([]orb.Point, len(p.residents))
	p.weights = make([]float64, len(p.residents))
	for i, r := range p.residents {
		p.xy[i] = p.proj.Forward(r.Point)
		p.weights[i] = r.Residents
		p.total += r.Residents
	}
	return p, nil
}

// network returns the street graph for the population snapshot p, building it when the streets
// or the population changed.
func (s *Store) network(ctx context.Context, p *population) (*streetNet, error) {
	vs, err := s.versions(ctx, streetsLayer)
	if err != nil {
		return nil, err
	}
	if _, ok := vs[streetsLayer]; !ok {
		return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q does not exist: the network method needs streets", streetsLayer)
	}
	key := fmt.Sprintf("%s/s%d", p.key, vs[streetsLayer])
	if err := s.lockLoading(ctx); err != nil {
		return nil, err
	}
	defer s.unlockLoading()
	if s.net != nil && s.net.key == key {
		return s.net, nil
	}
	var sn *streetNet
	err = s.onConn(ctx, func(db querier) error {
		sn, err = s.loadStreets(ctx, db, p.proj)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(sn.net.Edges) == 0 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q has no streets to walk along", streetsLayer)
	}
	sn.key = key
	sn.demand = make([]coverage.Snap, len(p.xy))
	substage(ctx, StageSnapping, 0.4, 1)
	for i, q := range p.xy {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			step(ctx, i, len(p.xy))
		}
		sn.demand[i] = sn.net.Snap(q, SnapRadius)
	}
	s.net = sn
	return sn, nil
}

// loadStreets reads layer.streets as lines in metres. MultiLineStrings give one line per part.
func (s *Store) loadStreets(ctx context.Context, db querier, proj coverage.Local) (*streetNet, error) {
	rows, err := db.Query(ctx, `SELECT id, coalesce(name, ''), ST_AsBinary(ST_Force2D(geom)) FROM layer.streets ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("load streets: %w", err)
	}
	defer rows.Close()
	sn := &streetNet{}
	for rows.Next() {
		var id int64
		var name string
		var b []byte
		if err := rows.Scan(&id, &name, &b); err != nil {
			return nil, fmt.Errorf("load streets: %w", err)
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("load streets: street %d: %w", id, err)
		}
		var parts []orb.LineString
		switch g := g.(type) {
		case orb.LineString:
			parts = []orb.LineString{g}
		case orb.MultiLineString:
			parts = g
		}
		for _, l := range parts {
			sn.ids = append(sn.ids, id)
			sn.names = append(sn.names, name)
			sn.lines = append(sn.lines, proj.ForwardLine(l))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load streets: %w", err)
	}
	sn.net = coverage.NewNetwork(sn.lines, SnapTolerance)
	return sn, nil
}

// Filter keeps the features whose attribute equals a value ("status:installed").
type Filter struct {
	Attr  string
	Value string
}

// ParseFilter reads "attr:value"; "" is no filter.
func ParseFilter(s string) (*Filter, error) {
	if s == "" {
		return nil, nil
	}
	attr, val, ok := strings.Cut(s, ":")
	if !ok || attr == "" {
		return nil, geoportal.Errorf(geoportal.EINVALID, "filter %q: want attribute:value, e.g. status:installed", s)
	}
	return &Filter{Attr: attr, Value: val}, nil
}

func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.Attr + ":" + f.Value
}

// facility is one feature of a facility layer: a point (lon/lat) and optional numbers.
type facility struct {
	ID    int64
	Name  string
	Point orb.Point
	Nums  []float64 // requested numeric attributes, NaN when null
}

// layerFor returns the catalog entry of a layer the caller may read, or a 400 naming the problem.
// Staff-only layers are unknown to others, so their existence does not leak.
func (s *Store) layerFor(ctx context.Context, slug string, staff bool) (layers.Layer, error) {
	if slug == "" {
		return layers.Layer{}, geoportal.Errorf(geoportal.EINVALID, "layer is required")
	}
	l, err := s.layers.Layer(ctx, slug, staff)
	if geoportal.ErrorCode(err) == geoportal.ENOTFOUND {
		return l, geoportal.Errorf(geoportal.EINVALID, "unknown layer %q", slug)
	}
	return l, err
}

func isNumeric(t string) bool { return t == "integer" || t == "bigint" || t == "double" }

// facilities loads the features of a point or polygon layer (polygons by a point on their
// surface), with the numeric attributes nums, keeping those that match the filter. No feature
// is a bad request naming the layer (and filter).
func (s *Store) facilities(ctx context.Context, l layers.Layer, f *Filter, nums ...string) ([]facility, error) {
	out, err := s.loadFacilities(ctx, l, f, nums...)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if f != nil {
			return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q has no features with %s = %q", l.Slug, f.Attr, f.Value)
		}
		return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q has no features", l.Slug)
	}
	return out, nil
}

// loadFacilities is facilities without the check for an empty answer.
func (s *Store) loadFacilities(ctx context.Context, l layers.Layer, f *Filter, nums ...string) ([]facility, error) {
	switch l.GeometryType {
	case "Point", "MultiPoint", "Polygon", "MultiPolygon":
	default:
		return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q holds %s features: coverage needs points (or polygons)", l.Slug, l.GeometryType)
	}
	cols := []string{"id", "ST_X(ST_PointOnSurface(geom))", "ST_Y(ST_PointOnSurface(geom))"}
	if _, ok := l.Attribute("name"); ok {
		cols = append(cols, "coalesce(name::text, '')")
	} else {
		cols = append(cols, "''")
	}
	for _, n := range nums {
		a, ok := l.Attribute(n)
		if !ok {
			return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q has no attribute %q", l.Slug, n)
		}
		if !isNumeric(a.Type) {
			return nil, geoportal.Errorf(geoportal.EINVALID, "attribute %q of layer %q is %s, not a number", n, l.Slug, a.Type)
		}
		cols = append(cols, pgx.Identifier{n}.Sanitize()+"::float8")
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + l.Table()
	var args []any
	if f != nil {
		if _, ok := l.Attribute(f.Attr); !ok {
			return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q has no attribute %q to filter on", l.Slug, f.Attr)
		}
		q += " WHERE " + pgx.Identifier{f.Attr}.Sanitize() + "::text = $1"
		args = append(args, f.Value)
	}
	q += " ORDER BY id"
	var out []facility
	err := s.onConn(ctx, func(db querier) error {
		rows, err := db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var fc facility
			vals := make([]*float64, len(nums))
			dest := []any{&fc.ID, &fc.Point[0], &fc.Point[1], &fc.Name}
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			fc.Nums = make([]float64, len(nums))
			for i, v := range vals {
				fc.Nums[i] = math.NaN()
				if v != nil {
					fc.Nums[i] = *v
				}
			}
			out = append(out, fc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", l.Slug, err)
	}
	return out, nil
}

func checkDistance(d float64) error {
	if math.IsNaN(d) || d <= 0 {
		return geoportal.Errorf(geoportal.EINVALID, "distance must be a positive number of metres, got %v", d)
	}
	if d > MaxDistance {
		return geoportal.Errorf(geoportal.EINVALID, "distance %v m is too large (at most %d m)", d, MaxDistance)
	}
	return nil
}

func checkResolution(res int) error {
	if !coverage.ValidResolution(res) {
		return geoportal.Errorf(geoportal.EINVALID, "res must be an H3 resolution from 7 to 11 (9 or 10 suit a city), got %d", res)
	}
	return nil
}

// Warm loads the residents and the street graph ahead of the first request, so that it answers
// as fast as later ones. Run it in the background at start-up; an error (no buildings with
// residents yet, say) only means the first analysis will load them itself.
func (s *Store) Warm(ctx context.Context) error {
	pop, err := s.population(ctx)
	if err != nil {
		return err
	}
	_, err = s.network(ctx, pop)
	return err
}
