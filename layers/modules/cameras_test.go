package modules_test

import (
	"context"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
)

// A camera at the centre looking east (heading 90°, 60° wide, 50 m): a place 30 m east is
// seen, one 30 m west (behind) or 80 m east (beyond range) is not.
func TestPrivateCameraIncidentSector(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	u, err := accounts.NewStore(pool).CreateUser(ctx, accounts.NewUser{Email: "shop@example.kz", Role: accounts.Citizen, Password: "a long enough password 3"})
	if err != nil {
		t.Fatal(err)
	}
	n := modules.NewCamera{Lon: 57.2, Lat: 50.3, Name: "Дүкен", Heading: 90, FOV: 60, Range: 50, Height: 3, Films: "street",
		RetentionDays: 7, Contact: "+7 700 000 00 00", ConsentPolice: true, ConsentCoverage: true, ShowPublic: true}
	bad := n
	bad.FOV = 400
	if _, err := m.RegisterCamera(ctx, u.ID, bad); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("fov 400: %v", err)
	}
	c, err := m.RegisterCamera(ctx, u.ID, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RegisterCamera(ctx, u.ID, n); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := m.DecideCamera(ctx, 0, c.ID, modules.DecisionApprove, ""); err != nil {
		t.Fatal(err)
	}
	onMap := func() (n int) {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM layer.private_cameras`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if onMap() != 1 {
		t.Errorf("approved and shown: %d on the public layer", onMap())
	}
	now := time.Now()
	metre := 1 / (111320 * 0.6387) // degrees of longitude per metre at 50.3° N
	for _, tc := range []struct {
		name  string
		dx    float64
		found bool
	}{{"in front", 30, true}, {"behind", -30, false}, {"beyond range", 80, false}} {
		got, err := m.IncidentLookup(ctx, 57.2+tc.dx*metre, 50.3, now.Add(-time.Hour), now, now)
		if err != nil {
			t.Fatal(err)
		}
		if (len(got.Cameras) == 1) != tc.found {
			t.Errorf("%s: cameras = %+v", tc.name, got.Cameras)
		}
	}
	old, err := m.IncidentLookup(ctx, 57.2+30*metre, 50.3, now.Add(-10*24*time.Hour), now, now)
	if err != nil || len(old.Cameras) != 1 || old.Cameras[0].RetentionReaches {
		t.Errorf("10 days back, 7 days kept: %+v %v", old.Cameras, err)
	}
	if _, err := m.WithdrawCamera(ctx, u.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if onMap() != 0 {
		t.Errorf("withdrawn: %d on the public layer", onMap())
	}
	if _, err := m.DecideCamera(ctx, 0, c.ID, modules.DecisionApprove, ""); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Errorf("approve withdrawn: %v", err)
	}
}
