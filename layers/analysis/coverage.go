package analysis

import (
	"context"
	"fmt"
	"math"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Methods of measuring distance.
const (
	MethodLine    = "line"    // straight line
	MethodNetwork = "network" // walking along layer.streets
)

// CoverageParams asks who lives within Distance metres of a facility of Layer.
type CoverageParams struct {
	Layer    string  `json:"layer"`
	Filter   string  `json:"filter,omitempty"` // attribute:value, e.g. status:installed
	Distance float64 `json:"distance"`
	Method   string  `json:"method"` // line (default) or network
	Res      int     `json:"res"`    // H3 resolution of the unserved map, default 9
	Curve    bool    `json:"curve,omitempty"`
}

// Normalize fills defaults and checks the parameters.
func (p *CoverageParams) Normalize() error {
	if p.Method == "" {
		p.Method = MethodLine
	}
	if p.Res == 0 {
		p.Res = 9
	}
	if p.Method != MethodLine && p.Method != MethodNetwork {
		return geoportal.Errorf(geoportal.EINVALID, "method must be %q or %q, got %q", MethodLine, MethodNetwork, p.Method)
	}
	if err := checkDistance(p.Distance); err != nil {
		return err
	}
	if _, err := ParseFilter(p.Filter); err != nil {
		return err
	}
	return checkResolution(p.Res)
}

// DistrictCoverage is one row of the per-district table; ID is nil for residents outside every
// district.
type DistrictCoverage struct {
	ID               *int64  `json:"id"`
	Name             string  `json:"name"`
	NameKK           string  `json:"name_kk,omitempty"`
	NameRU           string  `json:"name_ru,omitempty"`
	NameEN           string  `json:"name_en,omitempty"`
	ResidentsTotal   float64 `json:"residents_total"`
	ResidentsCovered float64 `json:"residents_covered"`
	CoveredShare     float64 `json:"covered_share"`
}

// CurvePoint is the covered share at one distance.
type CurvePoint struct {
	Distance     float64 `json:"distance"`
	CoveredShare float64 `json:"covered_share"`
}

// CoverageResult is the answer to CoverageParams.
type CoverageResult struct {
	CoverageParams
	Facilities int `json:"facilities"`
	// FacilitiesOffNetwork counts facilities further than SnapRadius from any street (network
	// method): they serve nobody.
	FacilitiesOffNetwork int                `json:"facilities_off_network,omitempty"`
	Buildings            int                `json:"buildings"`
	ResidentsTotal       float64            `json:"residents_total"`
	ResidentsCovered     float64            `json:"residents_covered"`
	CoveredShare         float64            `json:"covered_share"`
	Districts            []DistrictCoverage `json:"districts"`
	// UnservedHexes holds one hexagon per H3 cell with residents beyond the distance:
	// properties h3 (cell id) and residents.
	UnservedHexes geojson.FeatureCollection `json:"unserved_hexes"`
	Curve         []CurvePoint              `json:"curve,omitempty"`
	Notes         []string                  `json:"notes"`
}

const lineNote = "straight-line distances in a local equirectangular projection around the city (error under 0.3 %)"

func networkNote() string {
	return fmt.Sprintf("walking distance: straight to the nearest street (within %.0f m), along layer.streets (ends within %.1f m joined), straight to the facility", SnapRadius, SnapTolerance)
}

// Coverage answers CoverageParams. staff allows staff-only layers.
func (s *Store) Coverage(ctx context.Context, p CoverageParams, staff bool) (*CoverageResult, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	f, _ := ParseFilter(p.Filter)
	stage(ctx, StageLayers, 0, 0.02)
	l, err := s.layerFor(ctx, p.Layer, staff)
	if err != nil {
		return nil, err
	}
	fac, err := s.facilities(ctx, l, f)
	if err != nil {
		return nil, err
	}
	// Shares of the whole work, for the progress bar: loading residents (and the street graph)
	// dominate a cold start; afterwards the distances do.
	residentsTo, distancesFrom := 0.4, 0.4
	if p.Method == MethodNetwork {
		residentsTo, distancesFrom = 0.25, 0.8
	}
	stage(ctx, StageResidents, 0.02, residentsTo)
	pop, err := s.population(ctx)
	if err != nil {
		return nil, err
	}
	facXY := make([]orb.Point, len(fac))
	for i, fc := range fac {
		facXY[i] = pop.proj.Forward(fc.Point)
	}
	res := &CoverageResult{CoverageParams: p, Facilities: len(fac), Buildings: len(pop.xy)}
	limit := p.Distance
	var curve []float64
	if p.Curve {
		for k := 1; k <= 10; k++ {
			curve = append(curve, p.Distance*float64(k)/5)
		}
		limit = curve[len(curve)-1]
	}
	// dist[i] is the distance from building i to its nearest facility, +Inf beyond limit; for the
	// straight line without a curve only covered/not is needed, which is cheaper.
	var covered []bool
	var dist []float64
	switch p.Method {
	case MethodLine:
		res.Notes = append(res.Notes, lineNote)
		stage(ctx, StageDistances, distancesFrom, 0.9)
		if p.Curve {
			dist = make([]float64, len(pop.xy))
			g := coverage.NewGrid(facXY, p.Distance)
			for i, q := range pop.xy {
				if i%4096 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					step(ctx, i, len(pop.xy))
				}
				if _, d := g.Nearest(q, limit); d <= limit {
					dist[i] = d
				} else {
					dist[i] = math.Inf(1)
				}
			}
		} else if covered, err = coverage.CoveredStraight(ctx, pop.xy, facXY, p.Distance); err != nil {
			return nil, err
		}
	case MethodNetwork:
		res.Notes = append(res.Notes, networkNote())
		stage(ctx, StageStreets, residentsTo, distancesFrom)
		sn, err := s.network(ctx, pop)
		if err != nil {
			return nil, err
		}
		stage(ctx, StageDistances, distancesFrom, 0.9)
		snaps := make([]coverage.Snap, len(facXY))
		for i, q := range facXY {
			snaps[i] = sn.net.Snap(q, SnapRadius)
			if snaps[i].Edge < 0 {
				res.FacilitiesOffNetwork++
			}
		}
		nd, err := sn.net.Distances(ctx, snaps, limit)
		if err != nil {
			return nil, err
		}
		on := coverage.OnEdge(snaps)
		step(ctx, 1, 2)
		dist = make([]float64, len(pop.xy))
		for i, d := range sn.demand {
			dist[i] = sn.net.DistanceTo(nd, on, d)
		}
	}
	stage(ctx, StageSummary, 0.9, 1)
	if covered == nil {
		covered = make([]bool, len(dist))
		for i, d := range dist {
			covered[i] = d <= p.Distance
		}
	}
	res.ResidentsTotal, res.ResidentsCovered = coverage.Share(pop.weights, covered)
	res.CoveredShare = share(res.ResidentsCovered, res.ResidentsTotal)
	res.Districts = districtTable(pop, covered)
	for _, d := range curve {
		c := 0.0
		for i, x := range dist {
			if x <= d {
				c += pop.weights[i]
			}
		}
		res.Curve = append(res.Curve, CurvePoint{Distance: d, CoveredShare: share(c, res.ResidentsTotal)})
	}
	cells, _, err := pop.cellsAt(p.Res)
	if err != nil {
		return nil, err
	}
	unserved := make([]float64, len(covered))
	for i, c := range covered {
		if !c {
			unserved[i] = pop.weights[i]
		}
	}
	res.UnservedHexes = hexCollection(coverage.SumByCell(cells, unserved), "residents")
	step(ctx, 1, 1)
	return res, nil
}

// districtTable sums residents and covered residents per district; residents outside every
// district come last with a nil id (only when there are any).
func districtTable(pop *population, covered []bool) []DistrictCoverage {
	out := make([]DistrictCoverage, len(pop.districts)+1)
	for i, d := range pop.districts {
		id := d.ID
		out[i] = DistrictCoverage{ID: &id, Name: d.Name, NameKK: d.NameKK, NameRU: d.NameRU, NameEN: d.NameEN}
	}
	outside := len(pop.districts)
	out[outside].Name = "outside districts"
	for i, r := range pop.residents {
		k := r.District
		if k < 0 {
			k = outside
		}
		out[k].ResidentsTotal += r.Residents
		if covered[i] {
			out[k].ResidentsCovered += r.Residents
		}
	}
	for i := range out {
		out[i].CoveredShare = share(out[i].ResidentsCovered, out[i].ResidentsTotal)
	}
	if out[outside].ResidentsTotal == 0 {
		out = out[:outside]
	}
	return out
}

// hexCollection turns per-cell sums into hexagon features with the sum under prop.
func hexCollection(sums []coverage.CellSum, prop string) geojson.FeatureCollection {
	fc := newCollection()
	for _, c := range sums {
		id := c.Cell.String()
		fc.Append(feature(id, coverage.HexPolygon(c.Cell), map[string]any{"h3": id, prop: round(c.Value, 2)}))
	}
	return fc
}
