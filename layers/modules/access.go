package modules

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/aktobe/geoportal"
)

// The barrier-free criteria: what a resident with limited mobility needs within reach of home.
const (
	NeedRamp     = "ramp"              // any ramp (layer ramps)
	NeedLowFloor = "low_floor_stop"    // a bus stop served by a route with low-floor buses
	NeedToilet   = "accessible_toilet" // an accessible bio-toilet
)

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
// estimates, at a point on each building) within distance metres in a straight line of a ramp,
// of a low-floor bus stop and of an accessible bio-toilet; the score is the mean of the three
// shares (0..100). Gaps are the limit buildings missing the most needs, most residents first.
func (s *Store) Accessibility(ctx context.Context, distance float64, limit int) (*AccessReport, error) {
	if math.IsNaN(distance) || distance < 10 || distance > 5000 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "distance %g m is out of range 10..5000", distance)
	}
	if limit < 1 || limit > 1000 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "limit %d is out of range 1..1000", limit)
	}
	// The degree pre-filter (index-friendly) is widened by the cosine of the latitude; the
	// geography test decides.
	rows, err := s.pool.Query(ctx, `
		WITH b AS (
		    SELECT id, coalesce(address, '') address, residents::float8 res, ST_PointOnSurface(geom) p
		    FROM layer.buildings WHERE residents > 0),
		bb AS (SELECT b.*, $1 / (111000 * cos(radians(ST_Y(b.p)))) deg FROM b),
		lowfloor AS (
		    SELECT st.geom FROM layer.bus_stops st
		    WHERE EXISTS (SELECT 1 FROM layer.bus_routes r
		                  WHERE r.low_floor_share > 0
		                    AND r.ref = ANY (regexp_split_to_array(btrim(coalesce(st.routes, '')), '\s*[,;]\s*'))))
		SELECT bb.id, bb.address, ST_X(bb.p), ST_Y(bb.p), bb.res,
		    EXISTS (SELECT 1 FROM layer.ramps x WHERE ST_DWithin(x.geom, bb.p, bb.deg)
		            AND ST_DWithin(x.geom::geography, bb.p::geography, $1)),
		    EXISTS (SELECT 1 FROM lowfloor x WHERE ST_DWithin(x.geom, bb.p, bb.deg)
		            AND ST_DWithin(x.geom::geography, bb.p::geography, $1)),
		    EXISTS (SELECT 1 FROM layer.biotoilets x WHERE x.accessible AND ST_DWithin(x.geom, bb.p, bb.deg)
		            AND ST_DWithin(x.geom::geography, bb.p::geography, $1)),
		    d.id, coalesce(d.name, ''), coalesce(d.name_kk, ''), coalesce(d.name_ru, ''), coalesce(d.name_en, '')
		FROM bb
		LEFT JOIN LATERAL (SELECT id, name, name_kk, name_ru, name_en FROM layer.districts d
		                   WHERE ST_Covers(d.geom, bb.p) ORDER BY id LIMIT 1) d ON true
		ORDER BY bb.id`, distance)
	if err != nil {
		return nil, fmt.Errorf("accessibility: %w", err)
	}
	defer rows.Close()
	type acc struct {
		d       AccessDistrict
		reached [3]float64
	}
	var total acc
	dists := map[int64]*acc{}
	var order []int64
	outside := &acc{d: AccessDistrict{Names: Names{KK: "Аудандардан тыс", RU: "Вне районов", EN: "Outside districts"}}}
	var gaps []AccessGap
	for rows.Next() {
		var g AccessGap
		var have [3]bool
		var did *int64
		var name, kk, ru, en string
		if err := rows.Scan(&g.BuildingID, &g.Address, &g.Lon, &g.Lat, &g.Residents, &have[0], &have[1], &have[2],
			&did, &name, &kk, &ru, &en); err != nil {
			return nil, fmt.Errorf("accessibility: %w", err)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accessibility: %w", err)
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
		"straight-line distances; a low-floor stop is a bus stop whose routes field names a route with low_floor_share > 0",
		"score = mean of the three shares × 100",
	}
	return rep, nil
}
