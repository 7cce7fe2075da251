package analysis_test

import (
	"context"
	"testing"

	"github.com/aktobe/geoportal/layers/analysis"
)

// Approved private cameras whose owners agreed to be counted are a separate group: the city
// cameras' figures stay, the figures with them grow; a camera without that consent, one still
// pending, or one withdrawn counts for nothing; anyone but planners sees only the sectors of the
// cameras shown on the public map.
func TestCameraCoveragePrivate(t *testing.T) {
	pool, st := fixture(t)
	ctx := context.Background()
	exec(t, pool, `INSERT INTO auth.users (email, role, password_hash) VALUES ('owner@example.kz', 'citizen', 'x')`)
	// At (-300,-20) looking east along the street y=-20, 50 m: sees 50 m the city cameras do not.
	add := func(x, y float64, status string, coverage, public bool) {
		exec(t, pool, `INSERT INTO modules.private_cameras (account_id, geom, name, heading, fov, range_m, height_m, films,
			retention_days, contact, consent_police, consent_coverage, show_public, status)
			SELECT id, $1::geometry, 'Shop', 90, 90, 50, 3, 'street', 7, '+7 700', true, $2, $3, $4 FROM auth.users`,
			wktPoint(x, y), coverage, public, status)
	}
	add(-300, -20, "approved", true, false)
	add(500, -20, "approved", false, true) // not counted: no consent
	add(600, -20, "pending", true, true)   // not counted: not approved
	off := false
	res, err := st.Cameras(ctx, analysis.CameraParams{Occlusion: &off, Crossings: "smart_crossings", Private: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	wp := res.WithPrivate
	if wp == nil || !near(res.SeenLength, 100, 0.01) || wp.Cameras != 1 || !near(wp.SeenLength, 150, 0.5) ||
		!near(wp.SeenShare, wp.SeenLength/res.StreetLength, 1e-12) || wp.CrossingsSeen < res.CrossingsSeen {
		t.Fatalf("with private: city %v, %+v", res.SeenLength, wp)
	}
	if len(wp.Sectors.Features) != 0 || wp.Streets != nil {
		t.Errorf("anyone sees a camera not on the public map: %d sectors, streets %v", len(wp.Sectors.Features), wp.Streets != nil)
	}
	res, err = st.Cameras(ctx, analysis.CameraParams{Occlusion: &off, Private: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if wp := res.WithPrivate; len(wp.Sectors.Features) != 1 || wp.Streets == nil || len(wp.Streets.Features) != 1 ||
		!near(wp.Streets.Features[0].Properties["private_seen_m"].(float64), 50, 0.5) {
		t.Errorf("planner: %+v", wp)
	}
	// Without the switch, no group.
	if res, err := st.Cameras(ctx, analysis.CameraParams{Occlusion: &off}, false); err != nil || res.WithPrivate != nil {
		t.Errorf("private off: %+v %v", res.WithPrivate, err)
	}
	// Siting: the private group's 50 m count as covered before; both figures are given.
	sit, err := st.Siting(ctx, analysis.SitingParams{Layer: "cameras", Filter: "status:installed", Candidates: "midpoints",
		N: 1, Distance: 150, Step: 5, Private: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	sp := sit.WithPrivate
	if sp == nil || sp.Cameras != 1 || !near(sp.CityBefore, 100, 0.01) || !near(sp.Before, 150, 0.5) ||
		sp.ShareBefore <= sp.CityShareBefore || sp.After < sp.CityAfter || !near(sp.After, sit.CoveredAfter, 1e-9) {
		t.Fatalf("siting with private: %+v (after %v)", sp, sit.CoveredAfter)
	}
	// Withdrawn: gone from the analysis at once.
	exec(t, pool, `UPDATE modules.private_cameras SET status = 'withdrawn'`)
	res, err = st.Cameras(ctx, analysis.CameraParams{Occlusion: &off, Private: true}, false)
	if err != nil || res.WithPrivate.Cameras != 0 || !near(res.WithPrivate.SeenLength, res.SeenLength, 1e-9) {
		t.Errorf("after withdrawal: %+v %v", res.WithPrivate, err)
	}
}
