package analysis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/analysis"
)

// Siting measures distance as coverage does: walked along the streets, B2 (-600,0) is 120 m
// from the midpoint (-500,-20) though 102 m away in a straight line; B4 (800,300) is 110 m
// from (800,190) either way. At 112 m the straight line adds B2 first, the walk only B4.
func TestSitingMethod(t *testing.T) {
	pool, st := fixture(t)
	ctx := context.Background()
	exec(t, pool, `UPDATE layer.streets SET name = 'ул. Курмангазы', name_kk = 'Құрманғазы көшесі'
		WHERE ST_Equals(geom, ST_GeomFromEWKT($1))`, wktLine([2]float64{800, -20}, [2]float64{800, 400}))
	line, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Candidates: "midpoints", N: 2, Distance: 112, Res: 11}, false)
	if err != nil {
		t.Fatal(err)
	}
	if line.Method != analysis.MethodLine || len(line.Sites) != 2 || line.Sites[0].Gain != 50 || line.Sites[1].Gain != 40 ||
		!strings.Contains(line.Notes[0], "straight-line") {
		t.Errorf("line: method %q, sites %+v, notes %q", line.Method, line.Sites, line.Notes)
	}
	walk, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Method: analysis.MethodNetwork, Candidates: "midpoints",
		N: 2, Distance: 112, Lang: "kk"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if walk.Method != analysis.MethodNetwork || len(walk.Sites) != 1 || walk.Sites[0].Gain != 40 || !walk.Exhausted ||
		!strings.Contains(walk.Notes[0], "walking distance") {
		t.Fatalf("network: method %q, sites %+v, notes %q", walk.Method, walk.Sites, walk.Notes)
	}
	// Before the new sites, the walked siting starts where walked coverage stands.
	cov, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Method: analysis.MethodNetwork, Distance: 112}, false)
	if err != nil {
		t.Fatal(err)
	}
	if walk.ShareBefore != cov.CoveredShare || walk.CoveredBefore != cov.ResidentsCovered {
		t.Errorf("siting starts at %v (%v), coverage says %v (%v)", walk.ShareBefore, walk.CoveredBefore, cov.CoveredShare, cov.ResidentsCovered)
	}
	// The site is named by its street, in the language asked; the export's columns are filled.
	s := walk.Sites[0]
	if s.Name != "Құрманғазы көшесі" || s.Address != s.Name || s.Ref != "midpoints/"+strconv.Itoa(s.Candidate) {
		t.Errorf("site %+v", s)
	}
	props := walk.SitesGeoJSON.Features[0].Properties
	if props["name"] != s.Name || props["ref"] != s.Ref || props["method"] != "network" {
		t.Errorf("geojson properties %v", props)
	}
	ru, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Method: analysis.MethodNetwork, Candidates: "midpoints",
		N: 1, Distance: 112, Lang: "ru"}, false)
	if err != nil || ru.Sites[0].Name != "ул. Курмангазы" {
		t.Errorf("russian name: %+v %v", ru, err)
	}
}

func TestSitingMethodErrors(t *testing.T) {
	_, st := fixture(t)
	ctx := context.Background()
	for _, p := range []analysis.SitingParams{
		{Layer: "bus_stops", Method: "crow", Candidates: "midpoints", N: 1, Distance: 100},
		{Layer: "bus_stops", Lang: "de", Candidates: "midpoints", N: 1, Distance: 100},
		{Layer: "cameras", Method: analysis.MethodNetwork, Candidates: "midpoints", N: 1, Distance: 100},
	} {
		_, err := st.Siting(ctx, p, false)
		var ge *geoportal.Error
		if !errors.As(err, &ge) || ge.Code != geoportal.EINVALID {
			t.Errorf("%+v: got %v, want invalid", p, err)
		}
	}
}
