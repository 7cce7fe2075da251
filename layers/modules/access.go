package modules

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// The barrier-free criteria: what a resident with limited mobility needs within reach of home.
const (
	NeedRamp     = "ramp"              // a ramp that meets the slope rule (AccessibleRamp)
	NeedLowFloor = "low_floor_stop"    // a bus stop served by a route with low-floor buses
	NeedToilet   = "accessible_toilet" // an accessible bio-toilet
)

// MaxRampSlopePct is the steepest ramp that counts as accessible: 1:12 (8 %), the limit that
// SP 59.13330.2020 "Accessibility of buildings and structures for persons with reduced mobility"
// (the updated SNiP 35-01-2001, applied in Kazakhstan beside SP RK 3.06-101) allows for existing
// buildings that are reconstructed or adapted, which is what a city's entrance ramps mostly are
// (a new building's outdoor ramp must be 1:20, 5 %; 1:10 only for a rise of 0.2 m or less, which
// the layer does not record). The web map's "accessible places only" filter uses the same rule
// (web/frontend/src/ext/access.js).
const MaxRampSlopePct = 8.0

// AccessibleRamp is the SQL condition on a row of layer.ramps (its $1 is MaxRampSlopePct): the
// slope within the norm (a lowered kerb from OpenStreetMap has none, and counts) and the
// condition not poor.
const AccessibleRamp = `(slope_pct IS NULL OR slope_pct <= $1) AND coalesce(condition, '') <> 'poor'`

// Needs lists the criteria in the order of the score.
var Needs = []string{NeedRamp, NeedLowFloor, NeedToilet}

// AccessDistrict is a district's barrier-free score.
type AccessDistrict struct {
	ID        *int64             `json:"id"`
	Names     Names              `json:"names"`
	Residents float64            `json:"residents"`
	Shares    map[string]float64 `json:"shares"` // need → share of residents within reach (0..1)
	// Score is the mean of the shares, 0..100.
	Score float64 `json:"score"`
}

// AccessGap is a building whose residents miss one or more needs.
type AccessGap struct {
	BuildingID int64    `json:"building_id"`
	Address    string   `json:"address"`
	Lon        float64  `json:"lon"`
	Lat        float64  `json:"lat"`
	Residents  float64  `json:"residents"`
	Missing    []string `json:"missing"`
	DistrictID *int64   `json:"district_id"`
}

// AccessReport is the accessibility score per district and the worst gaps.
type AccessReport struct {
	Distance  float64            `json:"distance_m"`
	Residents float64            `json:"residents"`
	Shares    map[string]float64 `json:"shares"`
	Score     float64            `json:"score"`
	Districts []AccessDistrict   `json:"districts"`
	Gaps      []AccessGap        `json:"worst_gaps"`
	Notes     []string           `json:"notes"`
}

// Accessibility scores each district by the share of its residents (buildings' resident
// estimates, at a point on each building) within distance metres in a straight line of a ramp
// meeting the slope rule (MaxRampSlopePct),
// of a low-floor bus stop and of an accessible bio-toilet; the score is the mean of the three
// shares (0..100). Gaps are the limit buildings missing the most needs, most residents first.
func (s *Store) Accessibility(ctx context.Context, distance float64, limit int) (*AccessReport, error) {
	if math.IsNaN(distance) || distance < 10 || distance > 5000 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "distance %g m is out of range 10..5000", distance)
	}
	if limit < 1 || limit > 1000 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "limit %d is out of range 1..1000", limit)
	}
	tx, err := s.beginReport(ctx)
	if err != nil {
		return nil, fmt.Errorf("accessibility: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Facilities of each need, as points.
	frows, err := tx.Query(ctx, `
		SELECT 0, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM layer.ramps WHERE `+AccessibleRamp+`
		UNION ALL
		SELECT 1, ST_X(st.geom), ST_Y(st.geom) FROM layer.bus_stops st
		WHERE regexp_split_to_array(btrim(coalesce(st.routes, '')), '\s*[,;]\s*')
		      && ARRAY(SELECT r.ref FROM layer.bus_routes r WHERE r.low_floor_share > 0 AND r.ref IS NOT NULL)
		UNION ALL
		SELECT 2, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM layer.biotoilets WHERE accessible`, MaxRampSlopePct)
	if err != nil {
		return nil, fmt.Errorf("accessibility: facilities: %w", err)
	}
	var fac [3][]orb.Point
	var bound orb.Bound
	first := true
	extend := func(p orb.Point) {
		if first {
			bound, first = orb.Bound{Min: p, Max: p}, false
		} else {
			bound = bound.Extend(p)
		}
	}
	for frows.Next() {
		var k int
		var p orb.Point
		if err := frows.Scan(&k, &p[0], &p[1]); err != nil {
			frows.Close()
			return nil, fmt.Errorf("accessibility: facilities: %w", err)
		}
		fac[k] = append(fac[k], p)
		extend(p)
	}
	frows.Close()
	if err := frows.Err(); err != nil {
		return nil, fmt.Errorf("accessibility: facilities: %w", err)
	}
	// Districts, to place each building by point-in-polygon here rather than in SQL.
	type district struct {
		id    int64
		names Names
		geom  orb.Geometry
		bound orb.Bound
	}
	var districts []district
	drows, err := tx.Query(ctx, `SELECT id, coalesce(name, ''), coalesce(name_kk, ''), coalesce(name_ru, ''), coalesce(name_en, ''),
		ST_AsBinary(geom) FROM layer.districts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("accessibility: districts: %w", err)
	}
	for drows.Next() {
		var d district
		var name, kk, ru, en string
		var wkbGeom []byte
		if err := drows.Scan(&d.id, &name, &kk, &ru, &en, &wkbGeom); err != nil {
			drows.Close()
			return nil, fmt.Errorf("accessibility: districts: %w", err)
		}
		g, err := wkb.Unmarshal(wkbGeom)
		if err != nil {
			drows.Close()
			return nil, fmt.Errorf("accessibility: district %d: %w", d.id, err)
		}
		d.names = Names{KK: firstOf(kk, name), RU: firstOf(ru, name), EN: firstOf(en, name)}
		d.geom, d.bound = g, g.Bound()
		districts = append(districts, d)
	}
	drows.Close()
	if err := drows.Err(); err != nil {
		return nil, fmt.Errorf("accessibility: districts: %w", err)
	}
	inDistrict := func(p orb.Point) *district {
		for i := range districts {
			d := &districts[i]
			if !d.bound.Contains(p) {
				continue
			}
			switch g := d.geom.(type) {
			case orb.MultiPolygon:
				if planar.MultiPolygonContains(g, p) {
					return d
				}
			case orb.Polygon:
				if planar.PolygonContains(g, p) {
					return d
				}
			}
		}
		return nil
	}
	// Buildings with residents, at a point on each.
	rows, err := tx.Query(ctx, `
		SELECT id, coalesce(address, ''), ST_X(p), ST_Y(p), residents::float8
		FROM (SELECT id, address, residents, ST_PointOnSurface(geom) p FROM layer.buildings WHERE residents > 0) b
		ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("accessibility: %w", err)
	}
	defer rows.Close()
	type building struct {
		g                AccessGap
		did              *int64
		name, kk, ru, en string
	}
	var bs []building
	for rows.Next() {
		var x building
		if err := rows.Scan(&x.g.BuildingID, &x.g.Address, &x.g.Lon, &x.g.Lat, &x.g.Residents); err != nil {
			return nil, fmt.Errorf("accessibility: %w", err)
		}
		if d := inDistrict(orb.Point{x.g.Lon, x.g.Lat}); d != nil {
			id := d.id
			x.did, x.name, x.kk, x.ru, x.en = &id, "", d.names.KK, d.names.RU, d.names.EN
		}
		extend(orb.Point{x.g.Lon, x.g.Lat})
		bs = append(bs, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accessibility: %w", err)
	}
	// Straight-line distances in the analyses' local metric projection (error under 0.3 %).
	proj := coverage.LocalFor(bound)
	var grids [3]*coverage.Grid
	for k := range fac {
		xy := make([]orb.Point, len(fac[k]))
		for i, p := range fac[k] {
			xy[i] = proj.Forward(p)
		}
		grids[k] = coverage.NewGrid(xy, distance)
	}
	type acc struct {
		d       AccessDistrict
		reached [3]float64
	}
	var total acc
	dists := map[int64]*acc{}
	var order []int64
	outside := &acc{d: AccessDistrict{Names: Names{KK: "Аудандардан тыс", RU: "Вне районов", EN: "Outside districts"}}}
	var gaps []AccessGap
	for _, x := range bs {
		g, did, name, kk, ru, en := x.g, x.did, x.name, x.kk, x.ru, x.en
		var have [3]bool
		p := proj.Forward(orb.Point{g.Lon, g.Lat})
		for k := range grids {
			have[k] = grids[k].Any(p, distance)
		}
		a := outside
		if did != nil {
			if a = dists[*did]; a == nil {
				id := *did
				a = &acc{d: AccessDistrict{ID: &id, Names: Names{KK: firstOf(kk, name), RU: firstOf(ru, name), EN: firstOf(en, name)}}}
				dists[id] = a
				order = append(order, id)
			}
		}
		for _, x := range []*acc{a, &total} {
			x.d.Residents += g.Residents
			for i, h := range have {
				if h {
					x.reached[i] += g.Residents
				}
			}
		}
		for i, h := range have {
			if !h {
				g.Missing = append(g.Missing, Needs[i])
			}
		}
		if len(g.Missing) > 0 {
			g.DistrictID = did
			gaps = append(gaps, g)
		}
	}
	finish := func(a *acc) AccessDistrict {
		a.d.Shares = map[string]float64{}
		sum := 0.0
		for i, n := range Needs {
			sh := 0.0
			if a.d.Residents > 0 {
				sh = a.reached[i] / a.d.Residents
			}
			a.d.Shares[n] = round(sh, 4)
			sum += sh
		}
		a.d.Score = round(100*sum/float64(len(Needs)), 1)
		a.d.Residents = round(a.d.Residents, 1)
		return a.d
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	rep := &AccessReport{Distance: distance, Districts: []AccessDistrict{}, Gaps: []AccessGap{}}
	for _, id := range order {
		rep.Districts = append(rep.Districts, finish(dists[id]))
	}
	if outside.d.Residents > 0 {
		rep.Districts = append(rep.Districts, finish(outside))
	}
	t := finish(&total)
	rep.Residents, rep.Shares, rep.Score = t.Residents, t.Shares, t.Score
	sort.SliceStable(gaps, func(i, j int) bool {
		if len(gaps[i].Missing) != len(gaps[j].Missing) {
			return len(gaps[i].Missing) > len(gaps[j].Missing)
		}
		if gaps[i].Residents != gaps[j].Residents {
			return gaps[i].Residents > gaps[j].Residents
		}
		return gaps[i].BuildingID < gaps[j].BuildingID
	})
	if len(gaps) > limit {
		gaps = gaps[:limit]
	}
	rep.Gaps = append(rep.Gaps, gaps...)
	rep.Notes = []string{
		"residents are the buildings' resident estimates, counted at a point on each building",
		"straight-line distances in a local metric projection (error under 0.3 %); a low-floor stop is a bus stop whose routes field names a route with low_floor_share > 0",
		"score = mean of the three shares × 100",
		fmt.Sprintf("a ramp counts when its slope is at most %g %% (1:12, SP 59.13330.2020 for existing buildings adapted) and its condition is not poor", MaxRampSlopePct),
	}
	return rep, nil
}
