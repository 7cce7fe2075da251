package analysis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/geo/coverage"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
)

// The fixture town, in metres east and north of (57.17, 50.28):
//
//	districts: West x -1000..0, East x 0..1000 (y -500..500)
//	buildings (10 m squares): B1 (-300,0) 100 residents, B2 (-600,0) 50, B3 (300,0) 200,
//	  B4 (800,300) 40, B5 (2000,0) 10 (outside the districts), a blocker at (50,-20) and a
//	  house with no residents estimate
//	bus stops: S1 (-300,50), S2 (300,-50)
//	streets: y=-20 from x=-1000 to 1000 (split at 0 and 800), x=800 from y=-20 to 400,
//	  and an unconnected street y=-20 from x=2000 to 2500
//	cameras: installed at (0,-20) looking east (fov 90, range 100); a planned one elsewhere;
//	  an installed one with no range (it sees nothing)
//	smart crossings: (30,-20) and (-300,-20)
//	clinics: K1 (-450,0) capacity 30, K2 (300,0) capacity 20, K3 without capacity
var origin = coverage.NewLocal(57.17, 50.28)

func ll(x, y float64) orb.Point { return origin.Inverse(orb.Point{x, y}) }

func wktPoint(x, y float64) string {
	p := ll(x, y)
	return fmt.Sprintf("SRID=4326;POINT(%.9f %.9f)", p[0], p[1])
}

func wktLine(pts ...[2]float64) string {
	var s []string
	for _, q := range pts {
		p := ll(q[0], q[1])
		s = append(s, fmt.Sprintf("%.9f %.9f", p[0], p[1]))
	}
	return "SRID=4326;LINESTRING(" + strings.Join(s, ",") + ")"
}

func wktBox(x0, y0, x1, y1 float64) string {
	var s []string
	for _, q := range [][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}} {
		p := ll(q[0], q[1])
		s = append(s, fmt.Sprintf("%.9f %.9f", p[0], p[1]))
	}
	return "SRID=4326;POLYGON((" + strings.Join(s, ",") + "))"
}

func square(x, y float64) string { return wktBox(x-5, y-5, x+5, y+5) }

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func fixture(t *testing.T) (*pgxpool.Pool, *analysis.Store) {
	t.Helper()
	pool := dbtest.New(t)
	for _, d := range []struct {
		name   string
		x0, x1 float64
	}{{"West", -1000, 0}, {"East", 0, 1000}} {
		exec(t, pool, `INSERT INTO layer.districts (geom, name, name_en) VALUES (ST_Multi(ST_GeomFromEWKT($1)), $2, $2)`,
			wktBox(d.x0, -500, d.x1, 500), d.name)
	}
	for _, b := range []struct {
		x, y      float64
		residents any
	}{{-300, 0, 100}, {-600, 0, 50}, {300, 0, 200}, {800, 300, 40}, {2000, 0, 10}, {100, 100, nil}} {
		exec(t, pool, `INSERT INTO layer.buildings (geom, residents) VALUES (ST_GeomFromEWKT($1), $2)`, square(b.x, b.y), b.residents)
	}
	exec(t, pool, `INSERT INTO layer.buildings (geom, residents, use) VALUES (ST_GeomFromEWKT($1), 0, 'garage')`, square(50, -20))
	for _, s := range [][2]float64{{-300, 50}, {300, -50}} {
		exec(t, pool, `INSERT INTO layer.bus_stops (geom, name) VALUES (ST_GeomFromEWKT($1), 'stop')`, wktPoint(s[0], s[1]))
	}
	for _, l := range []string{
		wktLine([2]float64{-1000, -20}, [2]float64{0, -20}),
		wktLine([2]float64{0, -20}, [2]float64{800, -20}),
		wktLine([2]float64{800, -20}, [2]float64{1000, -20}),
		wktLine([2]float64{800, -20}, [2]float64{800, 400}),
		wktLine([2]float64{2000, -20}, [2]float64{2500, -20}),
	} {
		exec(t, pool, `INSERT INTO layer.streets (geom, name) VALUES (ST_GeomFromEWKT($1), 'street')`, l)
	}
	exec(t, pool, `INSERT INTO layer.cameras (geom, name, status, heading, fov, range_m) VALUES
		(ST_GeomFromEWKT($1), 'C1', 'installed', 90, 90, 100), (ST_GeomFromEWKT($2), 'C2', 'planned', 0, 90, 100),
		(ST_GeomFromEWKT($3), 'C3', 'installed', 0, 90, NULL)`,
		wktPoint(0, -20), wktPoint(-900, 400), wktPoint(-800, -20))
	exec(t, pool, `INSERT INTO layer.smart_crossings (geom, name) VALUES (ST_GeomFromEWKT($1), 'X1'), (ST_GeomFromEWKT($2), 'X2')`,
		wktPoint(30, -20), wktPoint(-300, -20))
	exec(t, pool, `INSERT INTO layer.clinics (geom, name, capacity) VALUES (ST_GeomFromEWKT($1), 'K1', 30),
		(ST_GeomFromEWKT($2), 'K2', 20), (ST_GeomFromEWKT($3), 'K3', NULL)`,
		wktPoint(-450, 0), wktPoint(300, 0), wktPoint(-900, -400))
	return pool, analysis.NewStore(pool, layers.NewStore(pool))
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCoverageStraightLine(t *testing.T) {
	pool, st := fixture(t)
	ctx := context.Background()
	res, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 100, Res: 10}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.ResidentsTotal != 400 || res.ResidentsCovered != 300 || res.CoveredShare != 0.75 || res.Facilities != 2 || res.Buildings != 5 {
		t.Errorf("totals: %+v", res)
	}
	want := map[string][2]float64{"West": {150, 100}, "East": {240, 200}, "outside districts": {10, 0}}
	if len(res.Districts) != 3 {
		t.Fatalf("districts %+v", res.Districts)
	}
	for _, d := range res.Districts {
		w := want[d.Name]
		if d.ResidentsTotal != w[0] || d.ResidentsCovered != w[1] {
			t.Errorf("district %s: %v of %v, want %v of %v", d.Name, d.ResidentsCovered, d.ResidentsTotal, w[1], w[0])
		}
		if (d.ID == nil) != (d.Name == "outside districts") {
			t.Errorf("district %s id %v", d.Name, d.ID)
		}
	}
	// Unserved: B2, B4 and B5, each in its own res-10 hexagon.
	hexes := map[float64]bool{}
	for _, f := range res.UnservedHexes.Features {
		hexes[f.Properties["residents"].(float64)] = true
		if f.Geometry.GeoJSONType() != "Polygon" || f.Properties["h3"] == "" {
			t.Errorf("hex feature %+v", f)
		}
	}
	if len(hexes) != 3 || !hexes[50] || !hexes[40] || !hexes[10] {
		t.Errorf("unserved hexes %v", hexes)
	}
	// The same question put to PostGIS directly (geodesic ST_DWithin) gives the same answer.
	for _, d := range []float64{100, 400, 700} {
		var sqlCovered float64
		if err := pool.QueryRow(ctx, `SELECT coalesce(sum(b.residents), 0)::float8 FROM layer.buildings b WHERE b.residents > 0
			AND EXISTS (SELECT 1 FROM layer.bus_stops s WHERE ST_DWithin(s.geom::geography, ST_Centroid(b.geom)::geography, $1))`,
			d).Scan(&sqlCovered); err != nil {
			t.Fatal(err)
		}
		r, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: d}, false)
		if err != nil {
			t.Fatal(err)
		}
		if r.ResidentsCovered != sqlCovered {
			t.Errorf("distance %v: Go says %v covered, PostGIS %v", d, r.ResidentsCovered, sqlCovered)
		}
	}
	// The curve: shares at D/5 .. 2D.
	res, err = st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 350, Curve: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Curve) != 10 || res.Curve[0].Distance != 70 || res.Curve[0].CoveredShare != 0.75 ||
		res.Curve[4].Distance != 350 || res.Curve[4].CoveredShare != 350.0/400 ||
		res.Curve[9].Distance != 700 || res.Curve[9].CoveredShare != 390.0/400 {
		t.Errorf("curve %+v", res.Curve)
	}
	if res.CoveredShare != 350.0/400 {
		t.Errorf("share with curve %v", res.CoveredShare)
	}
}

func TestCoverageNetwork(t *testing.T) {
	_, st := fixture(t)
	ctx := context.Background()
	if err := st.Warm(ctx); err != nil {
		t.Fatalf("warm: %v", err)
	}
	for _, tc := range []struct {
		d       float64
		line    float64
		network float64
	}{
		{100, 300, 300}, // B1 90 m on foot, B3 50 m
		{400, 350, 350}, // B2 390 m on foot (304 straight)
		{700, 390, 350}, // B4: 610 m straight, 850 m on foot
		{900, 390, 390},
	} {
		for method, want := range map[string]float64{analysis.MethodLine: tc.line, analysis.MethodNetwork: tc.network} {
			res, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: tc.d, Method: method}, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.ResidentsCovered != want {
				t.Errorf("%s %v m: covered %v, want %v", method, tc.d, res.ResidentsCovered, want)
			}
		}
	}
	// B5 is on a street of its own that no stop reaches, at any distance.
	res, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 5000, Method: analysis.MethodNetwork}, false)
	if err != nil || res.ResidentsCovered != 390 {
		t.Errorf("network at 5 km: %v, %v", res, err)
	}
}

func TestCameraCoverage(t *testing.T) {
	pool, st := fixture(t)
	ctx := context.Background()
	off, on := false, true
	res, err := st.Cameras(ctx, analysis.CameraParams{Occlusion: &off, Crossings: "smart_crossings"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// Lengths are measured in the store's own projection (centred on the buildings), so they
	// differ from the fixture's metres by a few millimetres.
	if res.Cameras != 1 || res.CamerasSkipped != 1 || !near(res.StreetLength, 2920, 0.5) || !near(res.SeenLength, 100, 0.01) {
		t.Errorf("without occlusion: cameras %d (%d skipped), seen %v of %v", res.Cameras, res.CamerasSkipped, res.SeenLength, res.StreetLength)
	}
	if res.CrossingsTotal != 2 || res.CrossingsSeen != 1 || res.CrossingsShare != 0.5 {
		t.Errorf("crossings %d of %d", res.CrossingsSeen, res.CrossingsTotal)
	}
	// The garage at x 45..55 on the street hides the rest of the view.
	res, err = st.Cameras(ctx, analysis.CameraParams{Occlusion: &on}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !near(res.SeenLength, 45, 0.01) || !near(res.SeenShare, res.SeenLength/res.StreetLength, 1e-12) {
		t.Errorf("with occlusion: seen %v", res.SeenLength)
	}
	unseen := 0.0
	for _, f := range res.UnseenStreets.Features {
		unseen += f.Properties["unseen_m"].(float64)
	}
	if !near(unseen, res.StreetLength-45, 0.5) || len(res.UnseenStreets.Features) != 5 {
		t.Errorf("unseen streets: %d features, %v m", len(res.UnseenStreets.Features), unseen)
	}
	if len(res.Sectors.Features) != 1 || res.Sectors.Features[0].Geometry.GeoJSONType() != "Polygon" {
		t.Errorf("sectors %+v", res.Sectors)
	}
	// Intersections as crossings: the only one is (800,-20), which C1 does not see.
	res, err = st.Cameras(ctx, analysis.CameraParams{Crossings: "intersections", Filter: "all"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.CrossingsTotal != 1 || res.CrossingsSeen != 0 || res.Cameras != 2 {
		t.Errorf("intersections %d of %d, cameras %d", res.CrossingsSeen, res.CrossingsTotal, res.Cameras)
	}
	// With no smart crossings in the city, the default falls back to the intersections.
	exec(t, pool, `DELETE FROM layer.smart_crossings`)
	res, err = st.Cameras(ctx, analysis.CameraParams{}, false)
	if err != nil || res.CrossingsSource != "intersections" || res.CrossingsTotal != 1 {
		t.Errorf("fallback: %v %v", res, err)
	}
	// Named explicitly, an unknown crossings layer is an error.
	if _, err := st.Cameras(ctx, analysis.CameraParams{Crossings: "zebra"}, false); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("unknown crossings layer: %v", err)
	}
}

func TestSiting(t *testing.T) {
	_, st := fixture(t)
	ctx := context.Background()
	// Existing stops cover B1 and B3 at 150 m; midpoints of the streets are the candidates.
	res, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Candidates: "midpoints", N: 2, Distance: 150, Res: 11}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.CandidatesCount != 5 || res.Existing != 2 || res.DemandTotal != 400 || res.CoveredBefore != 300 || res.CoveredAfter != 390 {
		t.Errorf("totals %+v", res)
	}
	if len(res.Sites) != 2 || res.Sites[0].Gain != 50 || res.Sites[1].Gain != 40 || res.Sites[1].Covered != 390 {
		t.Fatalf("sites %+v", res.Sites)
	}
	for i, want := range [][2]float64{{-500, -20}, {800, 190}} {
		p := ll(want[0], want[1])
		if !near(res.Sites[i].Lon, p[0], 1e-5) || !near(res.Sites[i].Lat, p[1], 1e-5) {
			t.Errorf("site %d at %v,%v, want %v", i, res.Sites[i].Lon, res.Sites[i].Lat, p)
		}
	}
	if res.Bound.Guarantee != 1-1/math.E || res.Bound.OptimumAddedAtMost < 90 || len(res.SitesGeoJSON.Features) != 2 {
		t.Errorf("bound %+v", res.Bound)
	}
	// A third site adds nothing: the greedy stops and says so.
	res, err = st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Candidates: "midpoints", N: 3, Distance: 150, Res: 11}, false)
	if err != nil || !res.Exhausted || len(res.Sites) != 2 || res.Bound.Certified != 1 {
		t.Errorf("exhausted: %+v %v", res, err)
	}
	// Cameras: demand is street length; the best new pole is the middle of the 800..1000 street:
	// 200 m of it, 50 m of the street before the junction and 110 m up the side street.
	res, err = st.Siting(ctx, analysis.SitingParams{Layer: "cameras", Filter: "status:installed", Candidates: "midpoints",
		N: 1, Distance: 150, Step: 5}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Demand != analysis.DemandStreets || res.Unit != "metres" || len(res.Sites) != 1 || !near(res.Sites[0].Gain, 360, 0.01) ||
		!near(res.CoveredBefore, 100, 0.01) {
		t.Errorf("camera siting %+v", res)
	}
	// Layer candidates report their feature ids.
	res, err = st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Candidates: "layer:clinics", N: 1, Distance: 200}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sites[0].ID == nil || res.Sites[0].Name != "K1" || res.Sites[0].Gain != 50 {
		t.Errorf("layer candidates %+v", res.Sites)
	}
}

func TestAccess2SFCA(t *testing.T) {
	_, st := fixture(t)
	res, err := st.Access(context.Background(), analysis.AccessParams{Layer: "clinics", Distance: 200, Res: 11}, false)
	if err != nil {
		t.Fatal(err)
	}
	// K1 reaches B1 and B2 (150 residents): 30/150; K2 reaches B3 (200): 20/200.
	if len(res.Facilities) != 2 || res.FacilitiesWithoutCapacity != 1 {
		t.Fatalf("facilities %+v", res.Facilities)
	}
	if f := res.Facilities[0]; f.Name != "K1" || f.Residents != 150 || f.PerThousand != 200 {
		t.Errorf("K1 %+v", f)
	}
	if f := res.Facilities[1]; f.Name != "K2" || f.Residents != 200 || f.PerThousand != 100 {
		t.Errorf("K2 %+v", f)
	}
	if res.ResidentsTotal != 400 || res.ResidentsWithoutAccess != 50 || res.MeanAccess != 125 {
		t.Errorf("totals: %v residents, %v without, mean %v", res.ResidentsTotal, res.ResidentsWithoutAccess, res.MeanAccess)
	}
	for _, d := range res.Districts {
		want := map[string]float64{"West": 200, "East": 83.3333, "outside districts": 0}[d.Name]
		if !near(d.MeanAccess, want, 1e-4) {
			t.Errorf("district %s mean %v, want %v", d.Name, d.MeanAccess, want)
		}
	}
	if len(res.Hexes.Features) != 5 {
		t.Errorf("%d hexes, want 5", len(res.Hexes.Features))
	}
}

func TestPopulationGrid(t *testing.T) {
	_, st := fixture(t)
	for _, res := range []int{9, 10} {
		p, err := st.Population(context.Background(), res)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, f := range p.Hexes.Features {
			sum += f.Properties["residents"].(float64)
		}
		if p.ResidentsTotal != 400 || sum != 400 || p.Buildings != 5 {
			t.Errorf("res %d: total %v, hex sum %v, buildings %d", res, p.ResidentsTotal, sum, p.Buildings)
		}
	}
}

func TestBadInput(t *testing.T) {
	pool, st := fixture(t)
	ctx := context.Background()
	ls := layers.NewStore(pool)
	if err := ls.CreateLayer(ctx, nil, layers.Layer{Slug: "secret_points", GeometryType: "Point", Visibility: "staff",
		Title: layers.Titles{EN: "Secret", RU: "Секрет", KK: "Құпия"}}); err != nil {
		t.Fatal(err)
	}
	exec(t, pool, `INSERT INTO layer.secret_points (geom) VALUES (ST_GeomFromEWKT($1))`, wktPoint(-300, 0))
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown layer", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "no_such", Distance: 100}, false)
			return err
		}, `unknown layer "no_such"`},
		{"staff layer for the public", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "secret_points", Distance: 100}, false)
			return err
		}, `unknown layer "secret_points"`},
		{"negative distance", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: -5}, false)
			return err
		}, "distance must be a positive number"},
		{"huge distance", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 1e6}, false)
			return err
		}, "too large"},
		{"bad method", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 100, Method: "bus"}, false)
			return err
		}, "method must be"},
		{"bad resolution", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 100, Res: 3}, false)
			return err
		}, "res must be"},
		{"line layer", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "streets", Distance: 100}, false)
			return err
		}, "LineString"},
		{"empty layer", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "schools", Distance: 100}, false)
			return err
		}, `layer "schools" has no features`},
		{"unknown filter attribute", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Filter: "colour:red", Distance: 100}, false)
			return err
		}, `no attribute "colour"`},
		{"filter matching nothing", func() error {
			_, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "cameras", Filter: "status:broken", Distance: 100}, false)
			return err
		}, `no features with status = "broken"`},
		{"n beyond the candidates", func() error {
			_, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Candidates: "midpoints", N: 6, Distance: 100}, false)
			return err
		}, "more than the 5 candidates"},
		{"n zero", func() error {
			_, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", N: 0, Distance: 100}, false)
			return err
		}, "n must be"},
		{"bad candidates", func() error {
			_, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Candidates: "anywhere", N: 1, Distance: 100}, false)
			return err
		}, "candidates must be"},
		{"unknown capacity attribute", func() error {
			_, err := st.Access(ctx, analysis.AccessParams{Layer: "clinics", Capacity: "beds", Distance: 100}, false)
			return err
		}, `no attribute "beds"`},
		{"text capacity attribute", func() error {
			_, err := st.Access(ctx, analysis.AccessParams{Layer: "clinics", Capacity: "name", Distance: 100}, false)
			return err
		}, "not a number"},
		{"not a camera layer", func() error {
			_, err := st.Cameras(ctx, analysis.CameraParams{Layer: "bus_stops", Filter: "all"}, false)
			return err
		}, "not a camera layer"},
		{"scenario kind", func() error {
			_, err := st.SaveScenario(ctx, analysis.ScenarioRequest{Name: "x", Kind: "magic"}, true, "")
			return err
		}, "kind must be"},
		{"scenario params", func() error {
			_, err := st.SaveScenario(ctx, analysis.ScenarioRequest{Name: "x", Kind: "coverage", Params: []byte(`{"layer":"bus_stops","distanse":5}`)}, true, "")
			return err
		}, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(geoportal.ErrorMessage(err), tc.want) {
				t.Errorf("error %v, want invalid: %s", err, tc.want)
			}
		})
	}
	// Staff see the staff-only layer.
	res, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "secret_points", Distance: 100}, true)
	if err != nil || res.ResidentsCovered != 100 {
		t.Errorf("staff coverage: %v, %v", res, err)
	}
}

func TestEmptyBuildings(t *testing.T) {
	pool := dbtest.New(t)
	st := analysis.NewStore(pool, layers.NewStore(pool))
	exec(t, pool, `INSERT INTO layer.bus_stops (geom) VALUES (ST_GeomFromEWKT($1))`, wktPoint(0, 0))
	_, err := st.Coverage(context.Background(), analysis.CoverageParams{Layer: "bus_stops", Distance: 100}, false)
	if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), "no buildings with residents") {
		t.Errorf("error %v", err)
	}
	if err := st.Warm(context.Background()); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("warm without residents: %v", err)
	}
}

func TestCanceled(t *testing.T) {
	_, st := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 100}, false); err == nil {
		t.Error("canceled analysis ran")
	}
}

func TestScenarios(t *testing.T) {
	_, st := fixture(t)
	ctx := context.Background()
	a, err := st.SaveScenario(ctx, analysis.ScenarioRequest{Name: "stops 100 m", Kind: analysis.KindCoverage,
		Params: []byte(`{"layer":"bus_stops","distance":100}`)}, false, "planner@example.kz")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.SaveScenario(ctx, analysis.ScenarioRequest{Name: "stops 400 m", Kind: analysis.KindCoverage,
		Params: []byte(`{"layer":"bus_stops","distance":400}`)}, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Summary["covered_share"] != 0.75 || a.CreatedBy != "planner@example.kz" {
		t.Errorf("saved %+v", a)
	}
	list, err := st.Scenarios(ctx, 10)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[0].Result != nil {
		t.Fatalf("list %+v %v", list, err)
	}
	got, err := st.Scenario(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var params analysis.CoverageParams
	var result analysis.CoverageResult
	if err := json.Unmarshal(got.Params, &params); err != nil || params.Method != "line" || params.Res != 9 {
		t.Errorf("saved params %s (%v)", got.Params, err)
	}
	if err := json.Unmarshal(got.Result, &result); err != nil || len(result.UnservedHexes.Features) != 3 || result.ResidentsCovered != 300 {
		t.Errorf("saved result %.200s (%v)", got.Result, err)
	}
	c, err := st.Compare(ctx, a.ID, b.ID)
	if err != nil || c.Difference["residents_covered"] != 50 || !near(c.Difference["covered_share"], 0.125, 1e-12) {
		t.Errorf("compare %+v %v", c, err)
	}
	if _, err := st.Scenario(ctx, 999); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("missing scenario: %v", err)
	}
}
