package pages_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/web/webtest"
)

// An outage's area is redrawn from the staff page: a bad area is a 400 naming the problem with the
// old area kept, another role is refused, and the change is audited with both areas.
func TestOutageAreaRedraw(t *testing.T) {
	e := webtest.NewSite(t)
	ctx := context.Background()
	o, err := e.Srv.Modules.CreateOutage(ctx, modules.NewOutage{Network: "water", Description: modules.Names{EN: "Pipe"},
		Geometry: []byte(`{"type":"Polygon","coordinates":[[[57.1,50.1],[57.2,50.1],[57.2,50.2],[57.1,50.1]]]}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := e.SignIn("dispatch@akimat.kz", accounts.Dispatcher)
	path := fmt.Sprintf("/staff/modules/outages/%d/area?lang=en", o.ID)
	send := func(c webtest.Caller, geometry string) (int, string) {
		return e.Do(c, "POST", path, webtest.Form(c, "geometry", geometry), "application/x-www-form-urlencoded")
	}
	// The page offers the edit form with the stored area.
	page := e.Want(d, "GET", fmt.Sprintf("/staff/modules?lang=en&edit=%d", o.ID), nil, 200, fmt.Sprintf(`action="/staff/modules/outages/%d/area"`, o.ID))
	if !strings.Contains(page, "Area of outage №") || !strings.Contains(page, "57.2") || !strings.Contains(page, "Save the outage") {
		t.Fatalf("edit form:\n%.3000s", page)
	}
	for _, tc := range []struct{ name, geometry, says string }{
		{"empty", "", "geometry is required"},
		{"a line", `{"type":"LineString","coordinates":[[57.1,50.1],[57.2,50.2]]}`, "must be a GeoJSON Polygon"},
		{"self-crossing", `{"type":"Polygon","coordinates":[[[57.1,50.1],[57.2,50.2],[57.2,50.1],[57.1,50.2],[57.1,50.1]]]}`, "not a valid polygon"},
	} {
		code, body := send(d, tc.geometry)
		if code != 400 || !strings.Contains(body, tc.says) || !strings.Contains(body, `id="edit-area"`) {
			t.Errorf("%s: %d, want 400 saying %q on the page with its edit form\n%.600s", tc.name, code, tc.says, body)
		}
	}
	if code, _ := send(e.SignIn("planner@akimat.kz", accounts.Planner), `{"type":"Polygon","coordinates":[[[57,50],[58,50],[58,51],[57,50]]]}`); code != 403 {
		t.Errorf("planner: %d, want 403", code)
	}
	if code, body := e.Do(d, "POST", "/staff/modules/outages/999999/area", webtest.Form(d, "geometry", `{"type":"Polygon","coordinates":[[[57,50],[58,50],[58,51],[57,50]]]}`), "application/x-www-form-urlencoded"); code != 404 {
		t.Errorf("unknown outage: %d %.300s", code, body)
	}
	if code, _ := send(d, `{"type":"Polygon","coordinates":[[[57.3,50.3],[57.4,50.3],[57.4,50.4],[57.3,50.4],[57.3,50.3]]]}`); code != 200 && code != 303 {
		t.Fatalf("redraw: %d", code)
	}
	var x float64
	e.Pool.QueryRow(ctx, `SELECT ST_XMax(geom) FROM layer.outages WHERE id = $1`, o.ID).Scan(&x)
	if x != 57.4 {
		t.Errorf("area after the redraw reaches %v, want 57.4", x)
	}
	log, err := e.Srv.Accounts.AuditLog(ctx, accounts.AuditFilter{Action: "outage.area"})
	if err != nil || len(log) != 1 || !strings.Contains(string(log[0].Before), "57.2") || !strings.Contains(string(log[0].After), "57.4") {
		t.Fatalf("audit: %v %+v", err, log)
	}
}
