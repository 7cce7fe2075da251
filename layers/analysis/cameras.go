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
	// Sectors has each camera's view sector (not clipped): id, name, heading, fov, range_m.
	Sectors *geojson.FeatureCollection `json:"sectors,omitempty"`
	Notes   []string                   `json:"notes"`
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
	if !*p.Geometry {
		return res, nil
	}
	unseen := newCollection()
	pieces := coverage.Unseen(samples, seen)
	for i := 0; i < len(pieces); {
		line := pieces[i].Line
		var parts orb.MultiLineString
		length := 0.0
		for ; i < len(pieces) && pieces[i].Line == line; i++ {
			parts = append(parts, orb.LineString(pop.proj.InverseLine(coverage.Cut(sn.lines[line], pieces[i].From, pieces[i].To))))
			length += pieces[i].To - pieces[i].From
		}
		unseen.Append(feature(sn.ids[line], parts, map[string]any{"id": sn.ids[line], "name": sn.names[line], "unseen_m": round(length, 1)}))
	}
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
