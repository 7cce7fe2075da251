package analysis

import (
	"context"
	"math"
	"sort"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uber/h3-go/v4"
)

// AccessParams asks for capacity-aware access (2SFCA) to the facilities of Layer, whose supply is
// the numeric attribute Capacity, within a catchment of Distance metres (straight line).
type AccessParams struct {
	Layer    string  `json:"layer"`
	Filter   string  `json:"filter,omitempty"`
	Capacity string  `json:"capacity"` // default capacity
	Distance float64 `json:"distance"`
	Res      int     `json:"res"` // H3 resolution of the demand and the map, default 9
}

// Normalize fills defaults and checks the parameters.
func (p *AccessParams) Normalize() error {
	if p.Capacity == "" {
		p.Capacity = "capacity"
	}
	if p.Res == 0 {
		p.Res = 9
	}
	if err := checkDistance(p.Distance); err != nil {
		return err
	}
	if _, err := ParseFilter(p.Filter); err != nil {
		return err
	}
	return checkResolution(p.Res)
}

// AccessFacility is one facility's step-1 figures.
type AccessFacility struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	Lon      float64 `json:"lon"`
	Lat      float64 `json:"lat"`
	Capacity float64 `json:"capacity"`
	// Residents within the catchment, and capacity per 1,000 of them.
	Residents   float64 `json:"residents"`
	PerThousand float64 `json:"capacity_per_1000"`
}

// AccessDistrict is the residents-weighted mean access in a district.
type AccessDistrict struct {
	ID            *int64  `json:"id"`
	Name          string  `json:"name"`
	Residents     float64 `json:"residents"`
	MeanAccess    float64 `json:"mean_access_per_1000"`
	WithoutAccess float64 `json:"residents_without_access"`
}

// AccessResult answers AccessParams. Access is capacity per 1,000 residents.
type AccessResult struct {
	AccessParams
	Facilities []AccessFacility `json:"facilities"`
	// FacilitiesWithoutCapacity counts facilities whose capacity is empty: they are left out.
	FacilitiesWithoutCapacity int              `json:"facilities_without_capacity"`
	ResidentsTotal            float64          `json:"residents_total"`
	ResidentsWithoutAccess    float64          `json:"residents_without_access"`
	MeanAccess                float64          `json:"mean_access_per_1000"`
	Districts                 []AccessDistrict `json:"districts"`
	// Hexes: one hexagon per populated H3 cell: h3, residents, access_per_1000.
	Hexes geojson.FeatureCollection `json:"hexes"`
	Notes []string                  `json:"notes"`
}

// Access answers AccessParams with 2SFCA (Luo & Wang 2003) over H3 cells of residents.
func (s *Store) Access(ctx context.Context, p AccessParams, staff bool) (*AccessResult, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	l, err := s.layerFor(ctx, p.Layer, staff)
	if err != nil {
		return nil, err
	}
	f, _ := ParseFilter(p.Filter)
	all, err := s.facilities(ctx, l, f, p.Capacity)
	if err != nil {
		return nil, err
	}
	pop, err := s.population(ctx)
	if err != nil {
		return nil, err
	}
	res := &AccessResult{AccessParams: p, Facilities: []AccessFacility{}}
	var fac []facility
	var facXY []orb.Point
	var supply []float64
	for _, fc := range all {
		if c := fc.Nums[0]; math.IsNaN(c) || c < 0 {
			res.FacilitiesWithoutCapacity++
			continue
		}
		fac = append(fac, fc)
		facXY = append(facXY, pop.proj.Forward(fc.Point))
		supply = append(supply, fc.Nums[0])
	}
	if len(fac) == 0 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "no feature of layer %q has a %s", l.Slug, p.Capacity)
	}
	_, pcs, err := pop.cellsAt(p.Res)
	if err != nil {
		return nil, err
	}
	demand := make([]orb.Point, len(pcs))
	residents := make([]float64, len(pcs))
	for i, pc := range pcs {
		demand[i] = pop.proj.Forward(pc.Point)
		residents[i] = pc.Residents
	}
	a, err := coverage.TwoStepFCA(ctx, demand, residents, facXY, supply, p.Distance)
	if err != nil {
		return nil, err
	}
	for j, fc := range fac {
		res.Facilities = append(res.Facilities, AccessFacility{ID: fc.ID, Name: fc.Name, Lon: r7(fc.Point[0]), Lat: r7(fc.Point[1]),
			Capacity: supply[j], Residents: a.Demand[j], PerThousand: round(a.Ratio[j]*1000, 4)})
	}
	// Districts and the map.
	dist := make([]AccessDistrict, len(pop.districts)+1)
	for i, d := range pop.districts {
		id := d.ID
		dist[i] = AccessDistrict{ID: &id, Name: d.Name}
	}
	outside := len(pop.districts)
	dist[outside].Name = "outside districts"
	type cellAcc struct{ residents, weighted float64 }
	cells := map[h3.Cell]*cellAcc{}
	weighted := 0.0
	for i, pc := range pcs {
		k := pc.District
		if k < 0 {
			k = outside
		}
		dist[k].Residents += pc.Residents
		dist[k].MeanAccess += pc.Residents * a.Index[i]
		res.ResidentsTotal += pc.Residents
		weighted += pc.Residents * a.Index[i]
		if a.Index[i] == 0 {
			dist[k].WithoutAccess += pc.Residents
			res.ResidentsWithoutAccess += pc.Residents
		}
		c := cells[pc.Cell]
		if c == nil {
			c = &cellAcc{}
			cells[pc.Cell] = c
		}
		c.residents += pc.Residents
		c.weighted += pc.Residents * a.Index[i]
	}
	res.MeanAccess = round(share(weighted, res.ResidentsTotal)*1000, 4)
	for i := range dist {
		dist[i].MeanAccess = round(share(dist[i].MeanAccess, dist[i].Residents)*1000, 4)
	}
	if dist[outside].Residents == 0 {
		dist = dist[:outside]
	}
	res.Districts = dist
	ids := make([]h3.Cell, 0, len(cells))
	for c := range cells {
		ids = append(ids, c)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	res.Hexes = newCollection()
	for _, c := range ids {
		ca := cells[c]
		id := c.String()
		res.Hexes.Append(feature(id, coverage.HexPolygon(c), map[string]any{"h3": id, "residents": round(ca.residents, 2),
			"access_per_1000": round(share(ca.weighted, ca.residents)*1000, 4)}))
	}
	res.Notes = append(res.Notes, lineNote,
		"2SFCA (Luo & Wang 2003): each facility's capacity is shared among the residents within the distance; a resident's access sums the shares of the facilities within the distance")
	return res, nil
}

// PopulationResult is the residents on an H3 grid.
type PopulationResult struct {
	Res            int                       `json:"res"`
	ResidentsTotal float64                   `json:"residents_total"`
	Buildings      int                       `json:"buildings"`
	Hexes          geojson.FeatureCollection `json:"hexes"`
}

// Population returns the residents per H3 cell at res (properties h3, residents).
func (s *Store) Population(ctx context.Context, res int) (*PopulationResult, error) {
	if err := checkResolution(res); err != nil {
		return nil, err
	}
	pop, err := s.population(ctx)
	if err != nil {
		return nil, err
	}
	cells, _, err := pop.cellsAt(res)
	if err != nil {
		return nil, err
	}
	return &PopulationResult{Res: res, ResidentsTotal: pop.total, Buildings: len(pop.xy),
		Hexes: hexCollection(coverage.SumByCell(cells, pop.weights), "residents")}, nil
}
