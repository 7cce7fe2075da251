package pages_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/webtest"
)

// A report filed without an address reads as a place: the staff list and detail pages in the
// page's language, the CSV and Open311's address show the address found for its point.
func TestReportPlaceShown(t *testing.T) {
	env := webtest.NewReports(t)
	ctx := context.Background()
	for _, s := range []string{
		`INSERT INTO layer.streets (id, geom, name, name_kk) VALUES
			(1, ST_SetSRID(ST_MakeLine(ST_MakePoint(57.170, 50.280), ST_MakePoint(57.180, 50.280)), 4326), 'ул. Курмангазы', 'Құрманғазы көшесі')`,
		`INSERT INTO layer.buildings (id, geom, address) VALUES (1, ST_MakeEnvelope(57.1720, 50.2803, 57.1723, 50.2806, 4326), 'ул. Курмангазы, 1')`,
	} {
		if _, err := env.Srv.Pool.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rep, _, err := env.Srv.Reports.Create(ctx, reports.NewReport{ServiceCode: "street_light", Lon: 57.17215, Lat: 50.28045,
		Description: "фонарь", Attributes: map[string]string{"state": "off"}, DeviceID: "dev-1"})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(rep.ID, 10)
	u, err := env.Srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: "housing@akimat.kz", Role: accounts.DepartmentStaff,
		Department: "housing", Password: "a long enough password 3"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := env.Srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", env.TS.URL+path, nil)
		req.Header.Set("Cookie", "geoportal_session="+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d\n%.2000s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	for _, tc := range []struct{ path, want string }{
		{"/staff/reports?lang=kk", "<td>Құрманғазы көшесі, 1</td>"},
		{"/staff/reports?lang=ru", "<td>ул. Курмангазы, 1</td>"},
		{"/staff/reports/" + id + "?lang=en", "ул. Курмангазы, 1 <span class=\"coords\">(50.28045, 57.17215)</span>"},
		{"/staff/reports/" + id + "?lang=kk", "Құрманғазы көшесі, 1 <span class=\"coords\">"},
		{"/api/staff/reports/export.csv?lang=kk", ",Құрманғазы көшесі, 1,"},
		{"/staff/reports?lang=en", `export.csv?lang=en"`},
	} {
		if page := get(tc.path); !strings.Contains(strings.ReplaceAll(page, `"Құрманғазы көшесі, 1"`, "Құрманғазы көшесі, 1"), tc.want) {
			t.Errorf("%s does not show %q:\n%.4000s", tc.path, tc.want, page)
		}
	}
	code, _, b := webtest.Fetch(t, "GET", env.TS.URL+"/open311/v2/requests/"+id+".json?locale=kk", "", nil)
	var one []struct {
		Address string `json:"address"`
	}
	if code != 200 || json.Unmarshal(b, &one) != nil || len(one) != 1 || one[0].Address != "Құрманғазы көшесі, 1" {
		t.Fatalf("open311 request: %d %s", code, b)
	}
}
