package analysis

import (
	"context"
	"fmt"
	"math"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/aktobe/geoportal/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The attributes that make a layer a camera layer.
var cameraAttrs = []string{"heading", "fov", "range_m"}

func isCameraLayer(l layers.Layer) bool {
	for _, n := range cameraAttrs {
		if a, ok := l.Attribute(n); !ok || !isNumeric(a.Type) {
			return false
		}
	}
	return true
}

// CameraParams asks what the cameras of Layer (matching Filter) see of the streets and crossings.
type CameraParams struct {
	Layer  string  `json:"layer"`  // default cameras
	Filter string  `json:"filter"` // default status:installed
	Step   float64 `json:"step"`   // street sample length, metres; default 5
	// Occlusion clips the view sectors by the building footprints (default true).
	Occlusion *bool `json:"occlusion,omitempty"`
	// Crossings is a point layer of crossings or "intersections" for the street network's
	// intersections. By default smart_crossings, or the intersections while that layer is empty.
	Crossings string `json:"crossings"`
	// Geometry includes the unseen streets and the view sectors as GeoJSON (default true).
	Geometry *bool `json:"geometry,omitempty"`
	// Private counts the approved private cameras whose owners agreed to be counted in the
	// city's coverage (issue 19) as a second, separate group: the figures with them are in
	// CameraResult.WithPrivate, the city cameras' own figures stay as they are.
	Private bool `json:"private,omitempty"`
}

// Normalize fills defaults and checks the parameters.
func (p *CameraParams) Normalize() error {
	t := true
	if p.Layer == "" {
		p.Layer = "cameras"
	}
	if p.Filter == "" {
		p.Filter = "status:installed"
	} else if p.Filter == "all" {
		p.Filter = ""
	}
	if p.Step == 0 {
		p.Step = 5
	}
	if p.Occlusion == nil {
		p.Occlusion = &t
	}
	if p.Geometry == nil {
		p.Geometry = &t
	}
	if math.IsNaN(p.Step) || p.Step < 1 || p.Step > 100 {
		return geoportal.Errorf(geoportal.EINVALID, "step must be from 1 to 100 metres, got %v", p.Step)
	}
	_, err := ParseFilter(p.Filter)
	return err
}

// CameraResult answers CameraParams.
type CameraResult struct {
	CameraParams
	Cameras int `json:"cameras"`
	// CamerasSkipped counts cameras without a range, which see nothing.
	CamerasSkipped int     `json:"cameras_skipped"`
	StreetLength   float64 `json:"street_length_m"`
	SeenLength     float64 `json:"seen_length_m"`
	SeenShare      float64 `json:"seen_share"`
	// CrossingsSource is the layer the crossings came from, or "intersections".
	CrossingsSource string  `json:"crossings_source"`
	CrossingsTotal  int     `json:"crossings_total"`
	CrossingsSeen   int     `json:"crossings_seen"`
	CrossingsShare  float64 `json:"crossings_share"`
	// UnseenStreets has one MultiLineString per street with unseen parts: id, name, unseen_m.
	UnseenStreets *geojson.FeatureCollection `json:"unseen_streets,omitempty"`
	// WithPrivate: what the city cameras and the private group see together (Private only).
	WithPrivate *PrivateFigures `json:"with_private,omitempty"`
	// Sectors has each camera's view sector (not clipped): id, name, heading, fov, range_m.
	Sectors *geojson.FeatureCollection `json:"sectors,omitempty"`
	Notes   []string                   `json:"notes"`
}

// PrivateFigures are the coverage figures "seen with private cameras too".
type PrivateFigures struct {
	// Cameras counts the approved private cameras with their owners' consent to be counted.
	Cameras        int     `json:"private_cameras"`
	SeenLength     float64 `json:"seen_length_m"`
	SeenShare      float64 `json:"seen_share"`
	CrossingsSeen  int     `json:"crossings_seen"`
	CrossingsShare float64 `json:"crossings_share"`
	// Streets are the street pieces only the private cameras see (planners and staff only:
	// they would show where the cameras not on the public map are).
	Streets *geojson.FeatureCollection `json:"streets,omitempty"`
	// Sectors are the private cameras' view sectors: for planners and staff all of them, for
	// anyone else those their owners show on the public map.
	Sectors *geojson.FeatureCollection `json:"sectors,omitempty"`
}

// privateCamera is an approved private camera counted in the coverage.
type privateCamera struct {
	ID     int64
	Name   string
	Public bool // shown on the public map
	Point  orb.Point
}

// privateCameras loads the approved private cameras whose owners agreed to be counted in the
// city's coverage (modules.private_cameras, migration 0160), as sectors in metres.
func (s *Store) privateCameras(ctx context.Context, proj coverage.Local) ([]coverage.Camera, []privateCamera, error) {
	var cams []coverage.Camera
	var meta []privateCamera
	err := s.onConn(ctx, func(db querier) error {
		rows, err := db.Query(ctx, `SELECT id, name, show_public, ST_X(geom), ST_Y(geom), heading, fov, range_m
			FROM modules.private_cameras WHERE status = 'approved' AND consent_coverage ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m privateCamera
			var c coverage.Camera
			if err := rows.Scan(&m.ID, &m.Name, &m.Public, &m.Point[0], &m.Point[1], &c.Heading, &c.FOV, &c.Range); err != nil {
				return err
			}
			c.Pos = proj.Forward(m.Point)
			cams, meta = append(cams, c), append(meta, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("private cameras: %w", err)
	}
	return cams, meta, nil
}

// privateSeen says which of pts the private group sees (nil and 0 when there are none).
func (s *Store) privateSeen(ctx context.Context, proj coverage.Local, obs *coverage.Obstacles, pts []orb.Point) ([]bool, int, error) {
	cams, _, err := s.privateCameras(ctx, proj)
	if err != nil || len(cams) == 0 {
		return nil, 0, err
	}
	seen, err := coverage.NewViewshed(cams, obs).SeenAll(ctx, pts)
	return seen, len(cams), err
}

// cameras loads camera sectors in metres with their features; cameras with no range see
// nothing and are only counted.
func (s *Store) cameras(ctx context.Context, l layers.Layer, f *Filter, proj coverage.Local) ([]coverage.Camera, []facility, int, error) {
	if !isCameraLayer(l) {
		return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "layer %q is not a camera layer: it needs numeric attributes heading, fov and range_m", l.Slug)
	}
	fac, err := s.facilities(ctx, l, f, cameraAttrs...)
	if err != nil {
		return nil, nil, 0, err
	}
	var cams []coverage.Camera
	var kept []facility
	for _, fc := range fac {
		heading, fov, rng := fc.Nums[0], fc.Nums[1], fc.Nums[2]
		if math.IsNaN(rng) || rng <= 0 {
			continue
		}
		if math.IsNaN(heading) {
			heading = 0
		}
		if math.IsNaN(fov) || fov <= 0 {
			fov = 360 // unknown field of view: assume a dome
		}
		cams = append(cams, coverage.Camera{Pos: proj.Forward(fc.Point), Heading: heading, FOV: fov, Range: rng})
		kept = append(kept, fc)
	}
	return cams, kept, len(fac) - len(kept), nil
}

// obstacles returns the building outlines in metres for the population snapshot, cached.
func (s *Store) obstacles(ctx context.Context, pop *population) (*coverage.Obstacles, error) {
	if err := s.lockLoading(ctx); err != nil {
		return nil, err
	}
	defer s.unlockLoading()
	if s.obs != nil && s.obsKey == pop.key {
		return s.obs, nil
	}
	var rings [][]orb.Point
	err := s.onConn(ctx, func(db querier) error {
		rows, err := db.Query(ctx, `SELECT ST_AsBinary(ST_Force2D(geom)) FROM layer.buildings`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				return err
			}
			g, err := wkb.Unmarshal(b)
			if err != nil {
				return err
			}
			var polys []orb.Polygon
			switch g := g.(type) {
			case orb.Polygon:
				polys = []orb.Polygon{g}
			case orb.MultiPolygon:
				polys = g
			}
			for _, pg := range polys {
				for _, r := range pg {
					rings = append(rings, pop.proj.ForwardLine(orb.LineString(r)))
				}
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("load buildings: %w", err)
	}
	s.obs, s.obsKey = coverage.NewObstacles(rings), pop.key
	return s.obs, nil
}

// Cameras answers CameraParams.
func (s *Store) Cameras(ctx context.Context, p CameraParams, staff bool) (*CameraResult, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	l, err := s.layerFor(ctx, p.Layer, staff)
	if err != nil {
		return nil, err
	}
	f, _ := ParseFilter(p.Filter)
	pop, err := s.population(ctx)
	if err != nil {
		return nil, err
	}
	cams, camFac, skipped, err := s.cameras(ctx, l, f, pop.proj)
	if err != nil {
		return nil, err
	}
	res := &CameraResult{CameraParams: p, Cameras: len(cams), CamerasSkipped: skipped}
	sn, err := s.network(ctx, pop)
	if err != nil {
		return nil, err
	}
	var obs *coverage.Obstacles
	if *p.Occlusion {
		if obs, err = s.obstacles(ctx, pop); err != nil {
			return nil, err
		}
		res.Notes = append(res.Notes, "views are blocked by building footprints (a line of sight crossing a wall)")
	}
	vs := coverage.NewViewshed(cams, obs)
	sm := sn.sampleAt(p.Step)
	samples := sm.pieces
	seen, err := vs.SeenAll(ctx, sm.mids)
	if err != nil {
		return nil, err
	}
	for i, sm := range samples {
		res.StreetLength += sm.Length
		if seen[i] {
			res.SeenLength += sm.Length
		}
	}
	res.SeenShare = share(res.SeenLength, res.StreetLength)
	res.Notes = append(res.Notes, fmt.Sprintf("streets are judged in pieces of at most %.0f m by their midpoints", p.Step))
	// Crossings.
	var crossings []orb.Point
	source := p.Crossings
	if source == "" {
		source = "smart_crossings"
	}
	if source != CandidatesIntersections {
		cl, err := s.layerFor(ctx, source, staff)
		if err != nil && p.Crossings != "" {
			return nil, err
		}
		var cf []facility
		if err == nil {
			if cf, err = s.loadFacilities(ctx, cl, nil); err != nil {
				return nil, err
			}
		}
		for _, c := range cf {
			crossings = append(crossings, pop.proj.Forward(c.Point))
		}
		if len(crossings) == 0 && p.Crossings == "" {
			source = CandidatesIntersections
		}
	}
	if source == CandidatesIntersections {
		crossings = sn.net.Intersections()
	}
	res.CrossingsSource = source
	cs, err := vs.SeenAll(ctx, crossings)
	if err != nil {
		return nil, err
	}
	res.CrossingsTotal = len(crossings)
	for _, ok := range cs {
		if ok {
			res.CrossingsSeen++
		}
	}
	res.CrossingsShare = share(float64(res.CrossingsSeen), float64(res.CrossingsTotal))
	var privOnly []bool // the samples only the private group sees
	if p.Private {
		privCams, privMeta, err := s.privateCameras(ctx, pop.proj)
		if err != nil {
			return nil, err
		}
		pvs := coverage.NewViewshed(privCams, obs)
		wp := &PrivateFigures{Cameras: len(privCams)}
		ps, err := pvs.SeenAll(ctx, sm.mids)
		if err != nil {
			return nil, err
		}
		privOnly = make([]bool, len(samples))
		for i, piece := range samples {
			if seen[i] || ps[i] {
				wp.SeenLength += piece.Length
			}
			privOnly[i] = ps[i] && !seen[i]
		}
		pc, err := pvs.SeenAll(ctx, crossings)
		if err != nil {
			return nil, err
		}
		for i := range crossings {
			if cs[i] || pc[i] {
				wp.CrossingsSeen++
			}
		}
		wp.SeenShare = share(wp.SeenLength, res.StreetLength)
		wp.CrossingsShare = share(float64(wp.CrossingsSeen), float64(res.CrossingsTotal))
		res.WithPrivate = wp
		res.Notes = append(res.Notes, fmt.Sprintf("with private cameras: %d approved private cameras whose owners agreed to be counted, as a separate group", len(privCams)))
		if *p.Geometry {
			sectors := newCollection()
			for i, c := range privCams {
				if !staff && !privMeta[i].Public {
					continue
				}
				ring := pop.proj.InverseLine(c.Sector())
				sectors.Append(feature(privMeta[i].ID, orb.Polygon{orb.Ring(ring)}, map[string]any{"id": privMeta[i].ID,
					"name": privMeta[i].Name, "heading": c.Heading, "fov": c.FOV, "range_m": c.Range}))
			}
			wp.Sectors = &sectors
		}
	}
	if !*p.Geometry {
		return res, nil
	}
	if privOnly != nil && staff {
		notOnly := make([]bool, len(privOnly))
		for i, v := range privOnly {
			notOnly[i] = !v
		}
		streets := streetPieces(coverage.Unseen(samples, notOnly), sn, pop.proj, "private_seen_m")
		res.WithPrivate.Streets = &streets
	}
	unseen := streetPieces(coverage.Unseen(samples, seen), sn, pop.proj, "unseen_m")
	res.UnseenStreets = &unseen
	sectors := newCollection()
	for i, c := range cams {
		ring := pop.proj.InverseLine(c.Sector())
		sectors.Append(feature(camFac[i].ID, orb.Polygon{orb.Ring(ring)}, map[string]any{"id": camFac[i].ID,
			"name": camFac[i].Name, "heading": c.Heading, "fov": c.FOV, "range_m": c.Range}))
	}
	res.Sectors = &sectors
	return res, nil
}

// SitingPrivate are a camera siting's figures with the private group (SitingParams.Private):
// the greedy spends no site on what private cameras see, and both figures are given.
type SitingPrivate struct {
	Cameras int `json:"private_cameras"`
	// By the city cameras alone, before and after the new sites.
	CityBefore      float64 `json:"city_covered_before"`
	CityShareBefore float64 `json:"city_share_before"`
	CityAfter       float64 `json:"city_covered_after"`
	CityShareAfter  float64 `json:"city_share_after"`
	// With the private cameras too, before and after the new sites.
	Before      float64 `json:"covered_before"`
	ShareBefore float64 `json:"share_before"`
	After       float64 `json:"covered_after"`
	ShareAfter  float64 `json:"share_after"`
}

// withPrivate adds what the private group sees to prob.Covered; it returns what the city
// cameras alone cover, for the figures without them.
func (s *Store) withPrivate(ctx context.Context, res *SitingResult, proj coverage.Local, demand []orb.Point, prob *coverage.Siting) ([]bool, error) {
	seen, n, err := s.privateSeen(ctx, proj, nil, demand)
	if err != nil {
		return nil, err
	}
	city := make([]bool, len(demand))
	copy(city, prob.Covered)
	res.WithPrivate = &SitingPrivate{Cameras: n}
	if seen != nil {
		merged := make([]bool, len(demand))
		for i := range merged {
			merged[i] = seen[i] || (prob.Covered != nil && prob.Covered[i])
		}
		prob.Covered = merged
	}
	res.Notes = append(res.Notes, fmt.Sprintf("with private cameras: what %d approved private cameras (with their owners' consent) see counts as covered", n))
	return city, nil
}

// finish fills the figures once the greedy has run (g with the private group counted).
func (wp *SitingPrivate) finish(res *SitingResult, g coverage.SitingResult, prob coverage.Siting, city []bool) {
	after := make([]bool, len(city))
	copy(after, city)
	for _, pk := range g.Picks {
		for _, d := range prob.Covers[pk.Candidate] {
			after[d] = true
		}
	}
	for i, w := range prob.Weights {
		if city[i] {
			wp.CityBefore += w
		}
		if after[i] {
			wp.CityAfter += w
		}
	}
	wp.Before, wp.After = g.Existing, g.Existing+g.Added
	wp.CityShareBefore, wp.CityShareAfter = share(wp.CityBefore, g.Total), share(wp.CityAfter, g.Total)
	wp.ShareBefore, wp.ShareAfter = share(wp.Before, g.Total), share(wp.After, g.Total)
}

// streetPieces is one feature per street of pieces (ordered by street, as coverage.Unseen gives
// them): its pieces as a multi-line and their length in metres under the property lengthProp.
func streetPieces(pieces []coverage.Piece, sn *streetNet, proj coverage.Local, lengthProp string) geojson.FeatureCollection {
	out := newCollection()
	for i := 0; i < len(pieces); {
		line := pieces[i].Line
		var parts orb.MultiLineString
		length := 0.0
		for ; i < len(pieces) && pieces[i].Line == line; i++ {
			parts = append(parts, orb.LineString(proj.InverseLine(coverage.Cut(sn.lines[line], pieces[i].From, pieces[i].To))))
			length += pieces[i].To - pieces[i].From
		}
		out.Append(feature(sn.ids[line], parts, map[string]any{"id": sn.ids[line], "name": sn.names[line], lengthProp: round(length, 1)}))
	}
	return out
}
