package modules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/webtest"
)

func TestOutagesAPI(t *testing.T) {
	e := webtest.NewSite(t)
	e.Exec(`INSERT INTO layer.buildings (geom, address, residents)
		VALUES (ST_MakeEnvelope(57.100, 50.100, 57.102, 50.102, 4326), 'Абай даңғылы 12', 40)`)
	outage := `{"network":"water","starts_at":"2026-11-25T08:00:00Z","expected_end":"2026-11-25T20:00:00Z",
		"description":{"ru":"Ремонт водопровода","kk":"Су құбырын жөндеу","en":"Water main repair"},
		"geometry":{"type":"Polygon","coordinates":[[[57.099,50.099],[57.101,50.099],[57.101,50.11],[57.099,50.11],[57.099,50.099]]]}}`
	e.Want(webtest.Caller{}, "POST", "/api/modules/outages", outage, 401, "sign in")
	citizen := e.SignIn("resident@example.kz", accounts.Citizen)
	e.Want(citizen, "POST", "/api/modules/outages", outage, 403, "may not")
	dispatcher := e.SignIn("dispatch@akimat.kz", accounts.Dispatcher)
	// Without the CSRF token a session cannot write.
	e.Want(webtest.Caller{Token: dispatcher.Token}, "POST", "/api/modules/outages", outage, 403, "CSRF")
	e.Want(dispatcher, "POST", "/api/modules/outages", `{"network":"wifi"}`, 400, "network")
	out := e.Want(dispatcher, "POST", "/api/modules/outages", outage, 201, `"network":"water"`)
	var o struct{ ID int64 }
	json.Unmarshal([]byte(out), &o)

	e.Want(webtest.Caller{}, "GET", "/api/modules/outages", nil, 200, "Ремонт водопровода")
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected?lon=57.1015&lat=50.101", nil, 200, `"affected":true`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected?lon=57.3&lat=50.3", nil, 200, `"affected":false`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected?address="+strings.ReplaceAll("Абай 12", " ", "%20"), nil, 200, `"affected":true`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected?lon=abc&lat=50", nil, 400, "must be numbers")
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected", nil, 400, "lon and lat are required")
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected?lon=57&lat=95", nil, 400, "not on the Earth")
	var bid int64
	e.Pool.QueryRow(context.Background(), `SELECT id FROM layer.buildings WHERE address = 'Абай даңғылы 12'`).Scan(&bid)
	e.Want(webtest.Caller{}, "GET", fmt.Sprintf("/api/modules/outages/affected?building=%d", bid), nil, 200, `"affected":true`)
	e.Want(webtest.Caller{}, "GET", fmt.Sprintf("/api/modules/outages/affected?building=%d", bid+99), nil, 404, "does not exist")
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected?building=-3", nil, 400, "not a positive integer")
	// The outage is a catalog layer, so the map lists it.
	e.Want(webtest.Caller{}, "GET", "/api/layers/outages", nil, 200, `"outages"`)

	e.Want(dispatcher, "POST", fmt.Sprintf("/api/modules/outages/%d/close", o.ID), "", 200, `"closed_at"`)
	e.Want(dispatcher, "POST", fmt.Sprintf("/api/modules/outages/%d/close", o.ID), "", 404, "not on the map")
	e.Want(dispatcher, "POST", "/api/modules/outages/abc/close", "", 400, "not a positive")
	e.Want(webtest.Caller{}, "GET", "/api/modules/outages/affected?lon=57.1015&lat=50.101", nil, 200, `"affected":false`)
	var audited int
	e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM auth.audit_log WHERE action LIKE 'outage.%' AND actor = 'dispatch@akimat.kz'`).Scan(&audited)
	if audited != 2 {
		t.Errorf("audit entries by the dispatcher = %d, want 2", audited)
	}
}

func TestClinicsSchoolsAccessAPI(t *testing.T) {
	e := webtest.NewSite(t)
	e.Exec(`INSERT INTO layer.city_boundary (geom, name) VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.0, 57.2, 50.1, 4326)), 'Aktobe')`)
	e.Exec(`INSERT INTO layer.clinics (geom, name, capacity) VALUES
		(ST_SetSRID(ST_MakePoint(57.05, 50.05), 4326), 'Polyclinic 1', 100), (ST_SetSRID(ST_MakePoint(57.15, 50.05), 4326), 'Polyclinic 2', 200)`)
	e.Exec(`INSERT INTO layer.schools (geom, name) VALUES (ST_SetSRID(ST_MakePoint(57.05, 50.05), 4326), 'School 7')`)
	e.Exec(`INSERT INTO layer.buildings (geom, address, residents) VALUES (ST_MakeEnvelope(57.0499, 50.0499, 57.0501, 50.0501, 4326), 'b', 50)`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/clinics/mine?lon=57.04&lat=50.05", nil, 404, "not computed yet")
	citizen := e.SignIn("resident@example.kz", accounts.Citizen)
	e.Want(citizen, "POST", "/api/modules/clinics/areas", "", 403, "may not")
	gis := e.SignIn("gis@akimat.kz", accounts.GISStaff)
	e.Want(gis, "POST", "/api/modules/clinics/areas", "", 200, `"areas":2`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/clinics/mine?lon=57.14&lat=50.05", nil, 200, "Polyclinic 2")
	e.Want(webtest.Caller{}, "GET", "/api/modules/clinics/mine?lon=x&lat=50.05", nil, 400, "must be numbers")
	e.Want(gis, "POST", "/api/modules/schools/catchments", "", 200, `"areas":1`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/schools/mine?lon=57.19&lat=50.09", nil, 200, "School 7")
	e.Want(webtest.Caller{}, "GET", "/api/modules/clinics/planning?distance=1000", nil, 200, `"access"`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/clinics/planning?distance=abc", nil, 400, "distance")
	e.Want(webtest.Caller{}, "GET", "/api/modules/schools/safety", nil, 200, `"schools_without_installed_camera":1`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/schools/safety?radius=-1", nil, 400, "radius")
	var sid int64
	e.Pool.QueryRow(context.Background(), `SELECT id FROM layer.schools WHERE name = 'School 7'`).Scan(&sid)
	e.Want(webtest.Caller{}, "GET", fmt.Sprintf("/api/modules/schools/%d/cameras", sid), nil, 200, `"cameras":[]`)
	e.Want(webtest.Caller{}, "GET", fmt.Sprintf("/api/modules/schools/%d/cameras?radius=x", sid), nil, 400, "radius")
	e.Want(webtest.Caller{}, "GET", fmt.Sprintf("/api/modules/schools/%d/cameras", sid+50), nil, 404, "does not exist")
	e.Want(webtest.Caller{}, "GET", "/api/modules/schools/abc/cameras", nil, 400, "not a positive integer")
	mine := e.Want(webtest.Caller{}, "GET", "/api/modules/schools/mine?lon=57.19&lat=50.09", nil, 200, `"area":{"type":"MultiPolygon"`)
	if !strings.Contains(mine, `"area_id":`) {
		t.Errorf("school answer has no area id: %s", mine)
	}
	e.Want(webtest.Caller{}, "GET", "/api/modules/access", nil, 200, `"worst_gaps"`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/access?distance=1", nil, 400, "distance")
	e.Want(webtest.Caller{}, "GET", "/api/modules/access?limit=many", nil, 400, "limit")
}
