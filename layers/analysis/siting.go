package analysis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/aktobe/geoportal/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Kinds of candidate sites and of demand.
const (
	CandidatesIntersections = "intersections" // street nodes where three or more ends meet
	CandidatesMidpoints     = "midpoints"     // the middle of every street line
	candidatesLayerPrefix   = "layer:"        // the features of a layer, e.g. layer:cameras

	DemandResidents = "residents" // residents per H3 cell
	DemandStreets   = "streets"   // metres of street
)

// SitingParams asks for the next N sites among Candidates that cover the most demand within
// Distance metres, measured by Method as coverage is (straight line, or walking along the
// streets), with the features of Layer (matching Filter) kept as they are.
type SitingParams struct {
	Layer           string  `json:"layer"`
	Method          string  `json:"method"` // line (default) or network
	Filter          string  `json:"filter,omitempty"`
	Candidates      string  `json:"candidates"`
	CandidateFilter string  `json:"candidate_filter,omitempty"`
	N               int     `json:"n"`
	Distance        float64 `json:"distance"`
	// Demand is residents (default) or streets (default for a camera layer: metres of street,
	// with existing cameras seeing through their view sectors).
	Demand string  `json:"demand,omitempty"`
	Res    int     `json:"res,omitempty"`  // H3 resolution of residents demand, default 10
	Step   float64 `json:"step,omitempty"` // street sample length for streets demand, default 10 m
	// Private (a camera layer, streets demand) counts what the approved private cameras with
	// their owners' consent see as covered already, so no site is spent there; the figures
	// with and without them are in SitingResult.WithPrivate (cameras.go).
	Private bool `json:"private,omitempty"`
	// Lang is the language the proposed sites are named in (by their nearest address), default ru.
	Lang string `json:"lang,omitempty"`
}

// MaxNamedSites is how many of the chosen sites, best first, are named by their address.
const MaxNamedSites = 100

// Normalize fills defaults and checks the parameters that need no database.
func (p *SitingParams) Normalize() error {
	if p.Res == 0 {
		p.Res = 10
	}
	if p.Step == 0 {
		p.Step = 10
	}
	if p.Candidates == "" {
		p.Candidates = CandidatesIntersections
	}
	if p.Method == "" {
		p.Method = MethodLine
	}
	if p.Lang == "" {
		p.Lang = "ru"
	}
	if p.Method != MethodLine && p.Method != MethodNetwork {
		return geoportal.Errorf(geoportal.EINVALID, "method must be %q or %q, got %q", MethodLine, MethodNetwork, p.Method)
	}
	if !layers.ValidLanguage(p.Lang) {
		return geoportal.Errorf(geoportal.EINVALID, "lang must be kk, ru or en, got %q", p.Lang)
	}
	if err := checkDistance(p.Distance); err != nil {
		return err
	}
	if p.N < 1 || p.N > MaxSites {
		return geoportal.Errorf(geoportal.EINVALID, "n must be from 1 to %d, got %d", MaxSites, p.N)
	}
	switch {
	case p.Candidates == CandidatesIntersections, p.Candidates == CandidatesMidpoints:
	case strings.HasPrefix(p.Candidates, candidatesLayerPrefix) && len(p.Candidates) > len(candidatesLayerPrefix):
	default:
		return geoportal.Errorf(geoportal.EINVALID, "candidates must be %q, %q or \"layer:SLUG\", got %q",
			CandidatesIntersections, CandidatesMidpoints, p.Candidates)
	}
	if p.Demand != "" && p.Demand != DemandResidents && p.Demand != DemandStreets {
		return geoportal.Errorf(geoportal.EINVALID, "demand must be %q or %q, got %q", DemandResidents, DemandStreets, p.Demand)
	}
	if p.Step < 1 || p.Step > 100 {
		return geoportal.Errorf(geoportal.EINVALID, "step must be from 1 to 100 metres, got %v", p.Step)
	}
	for _, f := range []string{p.Filter, p.CandidateFilter} {
		if _, err := ParseFilter(f); err != nil {
			return err
		}
	}
	return checkResolution(p.Res)
}

// Site is one chosen site.
type Site struct {
	Rank      int    `json:"rank"`
	Candidate int    `json:"candidate"`    // index among the candidates
	ID        *int64 `json:"id,omitempty"` // feature id for layer candidates
	// Ref names the candidate in exports: layer/id for layer candidates, else
	// intersections/N or midpoints/N (N the candidate's index in the street graph).
	Ref string `json:"ref"`
	// Name is the candidate feature's name, else Address.
	Name string `json:"name"`
	// Address is the nearest address of the site in Lang (layers.Store.Reverse); empty when
	// nothing is near or the site is beyond MaxNamedSites.
	Address string  `json:"address,omitempty"`
	Lon     float64 `json:"lon"`
	Lat     float64 `json:"lat"`
	Gain    float64 `json:"gain"`       // demand this site newly covers
	Covered float64 `json:"cumulative"` // demand covered after this site, existing included
	Share   float64 `json:"cumulative_share"`
}

// Bound says how far the greedy answer can be from the best possible one.
type Bound struct {
	// Guarantee is 1-1/e: the greedy always adds at least this share of what the best choice of
	// N sites adds.
	Guarantee float64 `json:"guarantee"`
	// OptimumAddedAtMost bounds what any N sites could add (see coverage.SitingResult.Upper).
	OptimumAddedAtMost float64 `json:"optimum_added_at_most"`
	// Certified is the greedy's added demand over that bound: the greedy is at least this good.
	Certified float64 `json:"certified"`
}

// SitingResult answers SitingParams.
type SitingResult struct {
	SitingParams
	Unit            string                    `json:"unit"` // residents or metres
	CandidatesCount int                       `json:"candidates_count"`
	Existing        int                       `json:"existing"`
	DemandTotal     float64                   `json:"demand_total"`
	CoveredBefore   float64                   `json:"covered_before"`
	CoveredAfter    float64                   `json:"covered_after"`
	ShareBefore     float64                   `json:"share_before"`
	ShareAfter      float64                   `json:"share_after"`
	Sites           []Site                    `json:"sites"`
	Bound           Bound                     `json:"bound"`
	Exhausted       bool                      `json:"exhausted"`
	Evaluations     int                       `json:"evaluations"`
	SitesGeoJSON    geojson.FeatureCollection `json:"sites_geojson"`
	WithPrivate     *SitingPrivate            `json:"with_private,omitempty"`
	Notes           []string                  `json:"notes"`
}

// Siting answers SitingParams with the lazy greedy of coverage.Greedy.
func (s *Store) Siting(ctx context.Context, p SitingParams, staff bool) (*SitingResult, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	stage(ctx, StageLayers, 0, 0.02)
	l, err := s.layerFor(ctx, p.Layer, staff)
	if err != nil {
		return nil, err
	}
	if p.Demand == "" {
		p.Demand = DemandResidents
		if isCameraLayer(l) {
			p.Demand = DemandStreets
		}
	}
	if p.Method == MethodNetwork && isCameraLayer(l) {
		return nil, geoportal.Errorf(geoportal.EINVALID, "method network does not apply to cameras: a camera sees along straight lines; use method line")
	}
	f, _ := ParseFilter(p.Filter)
	// An empty layer is fine here: siting the first facilities is a question too.
	existing, err := s.loadFacilities(ctx, l, f)
	if err != nil {
		return nil, err
	}
	stage(ctx, StageResidents, 0.02, 0.2)
	pop, err := s.population(ctx)
	if err != nil {
		return nil, err
	}
	// Candidates.
	stage(ctx, StageStreets, 0.2, 0.45)
	var cands []orb.Point
	var candFac []facility
	switch {
	case p.Candidates == CandidatesIntersections || p.Candidates == CandidatesMidpoints:
		sn, err := s.network(ctx, pop)
		if err != nil {
			return nil, err
		}
		if p.Candidates == CandidatesIntersections {
			cands = sn.net.Intersections()
		} else {
			cands = sn.net.Midpoints()
		}
	default:
		cl, err := s.layerFor(ctx, strings.TrimPrefix(p.Candidates, candidatesLayerPrefix), staff)
		if err != nil {
			return nil, err
		}
		cf, _ := ParseFilter(p.CandidateFilter)
		if candFac, err = s.facilities(ctx, cl, cf); err != nil {
			return nil, err
		}
		for _, c := range candFac {
			cands = append(cands, pop.proj.Forward(c.Point))
		}
	}
	if len(cands) == 0 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "there are no %s candidates", p.Candidates)
	}
	if p.N > len(cands) {
		return nil, geoportal.Errorf(geoportal.EINVALID, "n = %d is more than the %d candidates (%s)", p.N, len(cands), p.Candidates)
	}
	res := &SitingResult{SitingParams: p, CandidatesCount: len(cands), Existing: len(existing)}
	// The walking network, when distances are walked.
	var sn *streetNet
	snap := func(pts []orb.Point) []coverage.Snap {
		out := make([]coverage.Snap, len(pts))
		for i, q := range pts {
			out[i] = sn.net.Snap(q, SnapRadius)
		}
		return out
	}
	if p.Method == MethodNetwork {
		if sn, err = s.network(ctx, pop); err != nil {
			return nil, err
		}
		res.Notes = append(res.Notes, networkNote())
	} else {
		res.Notes = append(res.Notes, lineNote)
	}
	// Demand and what the existing facilities cover already.
	var prob coverage.Siting
	var demandXY []orb.Point
	existXY := make([]orb.Point, len(existing))
	for i, e := range existing {
		existXY[i] = pop.proj.Forward(e.Point)
	}
	switch p.Demand {
	case DemandResidents:
		res.Unit = "residents"
		if p.Method == MethodNetwork {
			// Walked, the demand is the buildings themselves, as coverage measures them: the
			// share before the new sites is coverage's share.
			demandXY, prob.Weights = pop.xy, pop.weights
			if prob.Covered, err = coverage.CoveredNetwork(ctx, sn.net, sn.demand, snap(existXY), p.Distance); err != nil {
				return nil, err
			}
			res.Notes = append(res.Notes, "demand: residents per building, placed on the nearest street")
			break
		}
		_, pcs, err := pop.cellsAt(p.Res)
		if err != nil {
			return nil, err
		}
		demandXY = make([]orb.Point, len(pcs))
		prob.Weights = make([]float64, len(pcs))
		for i, pc := range pcs {
			demandXY[i] = pop.proj.Forward(pc.Point)
			prob.Weights[i] = pc.Residents
		}
		if prob.Covered, err = coverage.CoveredStraight(ctx, demandXY, existXY, p.Distance); err != nil {
			return nil, err
		}
		res.Notes = append(res.Notes, "demand: residents per H3 cell, placed at the residents-weighted centre of the cell's buildings")
	case DemandStreets:
		res.Unit = "metres"
		sn, err := s.network(ctx, pop)
		if err != nil {
			return nil, err
		}
		sm := sn.sampleAt(p.Step)
		demandXY = sm.mids
		prob.Weights = make([]float64, len(sm.pieces))
		for i, piece := range sm.pieces {
			prob.Weights[i] = piece.Length
		}
		if p.Method == MethodNetwork {
			if prob.Covered, err = coverage.CoveredNetwork(ctx, sn.net, snap(demandXY), snap(existXY), p.Distance); err != nil {
				return nil, err
			}
		} else if isCameraLayer(l) && len(existing) > 0 {
			cams, _, _, err := s.cameras(ctx, l, f, pop.proj)
			if err != nil {
				return nil, err
			}
			if prob.Covered, err = coverage.NewViewshed(cams, nil).SeenAll(ctx, demandXY); err != nil {
				return nil, err
			}
			res.Notes = append(res.Notes, "existing cameras see their view sectors; a new site sees every street within the distance (a dome camera or several cameras on one pole)")
		} else if prob.Covered, err = coverage.CoveredStraight(ctx, demandXY, existXY, p.Distance); err != nil {
			return nil, err
		}
		res.Notes = append(res.Notes, "demand: metres of street, in pieces of at most the step")
	}
	var cityCovered []bool
	if p.Private && p.Demand == DemandStreets && isCameraLayer(l) {
		if cityCovered, err = s.withPrivate(ctx, res, pop.proj, demandXY, &prob); err != nil {
			return nil, err
		}
	}
	stage(ctx, StageCandidates, 0.45, 0.85)
	if p.Method == MethodNetwork {
		demandSnaps := sn.demand
		if p.Demand == DemandStreets {
			demandSnaps = snap(demandXY)
		}
		if prob.Covers, err = sn.net.CoverSets(ctx, demandSnaps, snap(cands), p.Distance,
			func(done, total int) { step(ctx, done, total) }); err != nil {
			return nil, err
		}
	} else if prob.Covers, err = coverSets(ctx, demandXY, cands, p.Distance); err != nil {
		return nil, err
	}
	stage(ctx, StageGreedy, 0.85, 0.98)
	g, err := coverage.Greedy(ctx, prob, p.N)
	if err != nil {
		return nil, err
	}
	stage(ctx, StageSummary, 0.98, 1)
	res.DemandTotal, res.CoveredBefore = g.Total, g.Existing
	res.CoveredAfter = g.Existing + g.Added
	res.ShareBefore, res.ShareAfter = share(res.CoveredBefore, res.DemandTotal), share(res.CoveredAfter, res.DemandTotal)
	res.Exhausted, res.Evaluations = g.Exhausted, g.Evaluations
	if res.WithPrivate != nil {
		res.WithPrivate.finish(res, g, prob, cityCovered)
	}
	res.Bound = Bound{Guarantee: coverage.GreedyBound, OptimumAddedAtMost: g.Upper, Certified: 1}
	if g.Upper > 0 {
		res.Bound.Certified = g.Added / g.Upper
	}
	res.SitesGeoJSON = newCollection()
	res.Sites = []Site{}
	for k, pk := range g.Picks {
		ll := pop.proj.Inverse(cands[pk.Candidate])
		site := Site{Rank: k + 1, Candidate: pk.Candidate, Lon: r7(ll[0]), Lat: r7(ll[1]),
			Ref:  fmt.Sprintf("%s/%d", p.Candidates, pk.Candidate),
			Gain: pk.Gain, Covered: pk.Covered, Share: share(pk.Covered, g.Total)}
		if candFac != nil {
			c := candFac[pk.Candidate]
			id := c.ID
			site.ID, site.Name, site.Lon, site.Lat = &id, c.Name, r7(c.Point[0]), r7(c.Point[1])
			site.Ref = fmt.Sprintf("%s/%d", strings.TrimPrefix(p.Candidates, candidatesLayerPrefix), id)
		}
		if k < MaxNamedSites {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			place, err := s.layers.Reverse(ctx, site.Lon, site.Lat, p.Lang)
			var ge *geoportal.Error
			switch {
			case err == nil:
				site.Address = place.Address
			case !errors.As(err, &ge):
				return nil, err
			}
		}
		if site.Name == "" {
			site.Name = site.Address
		}
		res.Sites = append(res.Sites, site)
		props := map[string]any{"rank": site.Rank, "ref": site.Ref, "name": site.Name, "address": site.Address,
			"method": p.Method, "distance": p.Distance, "gain": round(site.Gain, 2), "cumulative": round(site.Covered, 2),
			"cumulative_share": round(site.Share, 5)}
		if site.ID != nil {
			props["id"] = *site.ID
		}
		res.SitesGeoJSON.Append(feature(site.Rank, orb.Point{site.Lon, site.Lat}, props))
	}
	step(ctx, 1, 1)
	return res, nil
}

// coverSets lists, like coverage.CoverSets, the demand points within d metres of each
// candidate, reporting progress as it goes.
func coverSets(ctx context.Context, demand, cands []orb.Point, d float64) ([][]int32, error) {
	g := coverage.NewGrid(demand, max(d, 1))
	out := make([][]int32, len(cands))
	for j, c := range cands {
		if j%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			step(ctx, j, len(cands))
		}
		var ids []int32
		g.Within(c, d, func(id int, _ float64) bool { ids = append(ids, int32(id)); return true })
		slices.Sort(ids)
		out[j] = ids
	}
	return out, nil
}
