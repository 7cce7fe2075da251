package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
	"github.com/jackc/pgx/v5/pgxpool"
)

type modulesEnv struct {
	t    *testing.T
	ts   *httptest.Server
	srv  *web.Server
	pool *pgxpool.Pool
}

// caller is a signed-in account (session cookie and CSRF token), or anonymous when zero.
type caller struct{ token, csrf string }

func newModulesEnv(t *testing.T) *modulesEnv {
	t.Helper()
	pool := dbtest.New(t)
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &modulesEnv{t: t, ts: ts, srv: srv, pool: pool}
}

func (e *modulesEnv) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *modulesEnv) signIn(email string, role accounts.Role) caller {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: email, Role: role, Password: "a long enough password 3"})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return caller{token: tok, csrf: accounts.CSRFToken(tok)}
}

// do sends a request; a string body goes as JSON.
func (e *modulesEnv) do(c caller, method, path string, body any, contentType ...string) (int, string) {
	e.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	}
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Origin", e.ts.URL)
	}
	if c.token != "" {
		req.Header.Set("Cookie", "geoportal_session="+c.token)
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *modulesEnv) want(c caller, method, path string, body any, status int, says string) string {
	e.t.Helper()
	code, out := e.do(c, method, path, body)
	if code != status || !strings.Contains(out, says) {
		e.t.Fatalf("%s %s: %d %.600s; want %d containing %q", method, path, code, out, status, says)
	}
	return out
}

func TestLightingAuditAPIAndPage(t *testing.T) {
	e := newModulesEnv(t)
	e.exec(`INSERT INTO layer.districts (geom, name, name_ru, name_kk, name_en)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.0, 57.1, 50.1, 4326)), 'Astana', 'Астанинский', 'Астана ауданы', 'Astana district')`)
	// HPS 250 W × 4000 h = 1000 kWh (LED 100 W: 400); LED 60 W × 4000 h = 240 kWh.
	e.exec(`INSERT INTO layer.street_lights (geom, lamp_type, power_w, hours_per_year) VALUES
		(ST_SetSRID(ST_MakePoint(57.05, 50.05), 4326), 'HPS', 250, 4000),
		(ST_SetSRID(ST_MakePoint(57.06, 50.05), 4326), 'LED', 60, 4000)`)
	out := e.want(caller{}, "GET", "/api/modules/lighting/audit?tariff=20", nil, 200, `"tariff_kzt_per_kwh":20`)
	var a struct {
		Total struct {
			KWh    float64 `json:"kwh_year"`
			Cost   float64 `json:"cost_kzt"`
			Saving float64 `json:"saving_kzt"`
		} `json:"total"`
	}
	json.Unmarshal([]byte(out), &a)
	if a.Total.KWh != 1240 || a.Total.Cost != 24800 || a.Total.Saving != 12000 {
		t.Errorf("total = %+v", a.Total)
	}
	e.want(caller{}, "GET", "/api/modules/lighting/audit?tariff=abc", nil, 400, `tariff \"abc\" is not a number`)
	e.want(caller{}, "GET", "/api/modules/lighting/audit?tariff=-3", nil, 400, "out of range")

	code, body := e.do(caller{}, "GET", "/api/modules/lighting/audit.csv?tariff=20&lang=ru", nil)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if code != 200 || err != nil || len(rows) != 7 || rows[0][0] != "section" || rows[1][2] != "Астанинский" ||
		rows[1][5] != "1240" || rows[4][0] != "total" {
		t.Fatalf("csv: %d %v\n%s", code, err, body)
	}

	page := e.want(caller{}, "GET", "/lighting/audit?lang=kk&tariff=20", nil, 200, "Көше жарығының энергоаудиті")
	if !strings.Contains(page, "Астана ауданы") || !strings.Contains(page, "24\u202f800") || !strings.Contains(page, `lang="kk"`) {
		t.Errorf("kk page misses the district or the cost:\n%.3000s", page)
	}
	e.want(caller{}, "GET", "/lighting/audit?lang=en", nil, 200, "Street-lighting energy audit")
	// A bad tariff on the page: a 400 page naming the problem, with the default-tariff numbers.
	e.want(caller{}, "GET", "/lighting/audit?lang=ru&tariff=x", nil, 400, "is not a number")
}

func TestOutagesAPI(t *testing.T) {
	e := newModulesEnv(t)
	e.exec(`INSERT INTO layer.buildings (geom, address, residents)
		VALUES (ST_MakeEnvelope(57.100, 50.100, 57.102, 50.102, 4326), 'Абай даңғылы 12', 40)`)
	outage := `{"network":"water","starts_at":"2026-11-25T08:00:00Z","expected_end":"2026-11-25T20:00:00Z",
		"description":{"ru":"Ремонт водопровода","kk":"Су құбырын жөндеу","en":"Water main repair"},
		"geometry":{"type":"Polygon","coordinates":[[[57.099,50.099],[57.101,50.099],[57.101,50.11],[57.099,50.11],[57.099,50.099]]]}}`
	e.want(caller{}, "POST", "/api/modules/outages", outage, 401, "sign in")
	citizen := e.signIn("resident@example.kz", accounts.Citizen)
	e.want(citizen, "POST", "/api/modules/outages", outage, 403, "may not")
	dispatcher := e.signIn("dispatch@akimat.kz", accounts.Dispatcher)
	// Without the CSRF token a session cannot write.
	e.want(caller{token: dispatcher.token}, "POST", "/api/modules/outages", outage, 403, "CSRF")
	e.want(dispatcher, "POST", "/api/modules/outages", `{"network":"wifi"}`, 400, "network")
	out := e.want(dispatcher, "POST", "/api/modules/outages", outage, 201, `"network":"water"`)
	var o struct{ ID int64 }
	json.Unmarshal([]byte(out), &o)

	e.want(caller{}, "GET", "/api/modules/outages", nil, 200, "Ремонт водопровода")
	e.want(caller{}, "GET", "/api/modules/outages/affected?lon=57.1015&lat=50.101", nil, 200, `"affected":true`)
	e.want(caller{}, "GET", "/api/modules/outages/affected?lon=57.3&lat=50.3", nil, 200, `"affected":false`)
	e.want(caller{}, "GET", "/api/modules/outages/affected?address="+strings.ReplaceAll("Абай 12", " ", "%20"), nil, 200, `"affected":true`)
	e.want(caller{}, "GET", "/api/modules/outages/affected?lon=abc&lat=50", nil, 400, "must be numbers")
	e.want(caller{}, "GET", "/api/modules/outages/affected", nil, 400, "lon and lat are required")
	e.want(caller{}, "GET", "/api/modules/outages/affected?lon=57&lat=95", nil, 400, "not on the Earth")
	var bid int64
	e.pool.QueryRow(context.Background(), `SELECT id FROM layer.buildings WHERE address = 'Абай даңғылы 12'`).Scan(&bid)
	e.want(caller{}, "GET", fmt.Sprintf("/api/modules/outages/affected?building=%d", bid), nil, 200, `"affected":true`)
	e.want(caller{}, "GET", fmt.Sprintf("/api/modules/outages/affected?building=%d", bid+99), nil, 404, "does not exist")
	e.want(caller{}, "GET", "/api/modules/outages/affected?building=-3", nil, 400, "not a positive integer")
	// The outage is a catalog layer, so the map lists it.
	e.want(caller{}, "GET", "/api/layers/outages", nil, 200, `"outages"`)

	e.want(dispatcher, "POST", fmt.Sprintf("/api/modules/outages/%d/close", o.ID), "", 200, `"closed_at"`)
	e.want(dispatcher, "POST", fmt.Sprintf("/api/modules/outages/%d/close", o.ID), "", 404, "not on the map")
	e.want(dispatcher, "POST", "/api/modules/outages/abc/close", "", 400, "not a positive")
	e.want(caller{}, "GET", "/api/modules/outages/affected?lon=57.1015&lat=50.101", nil, 200, `"affected":false`)
	var audited int
	e.pool.QueryRow(context.Background(), `SELECT count(*) FROM auth.audit_log WHERE action LIKE 'outage.%' AND actor = 'dispatch@akimat.kz'`).Scan(&audited)
	if audited != 2 {
		t.Errorf("audit entries by the dispatcher = %d, want 2", audited)
	}
}

func TestClinicsSchoolsAccessAPI(t *testing.T) {
	e := newModulesEnv(t)
	e.exec(`INSERT INTO layer.city_boundary (geom, name) VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.0, 57.2, 50.1, 4326)), 'Aktobe')`)
	e.exec(`INSERT INTO layer.clinics (geom, name, capacity) VALUES
		(ST_SetSRID(ST_MakePoint(57.05, 50.05), 4326), 'Polyclinic 1', 100), (ST_SetSRID(ST_MakePoint(57.15, 50.05), 4326), 'Polyclinic 2', 200)`)
	e.exec(`INSERT INTO layer.schools (geom, name) VALUES (ST_SetSRID(ST_MakePoint(57.05, 50.05), 4326), 'School 7')`)
	e.exec(`INSERT INTO layer.buildings (geom, address, residents) VALUES (ST_MakeEnvelope(57.0499, 50.0499, 57.0501, 50.0501, 4326), 'b', 50)`)
	e.want(caller{}, "GET", "/api/modules/clinics/mine?lon=57.04&lat=50.05", nil, 404, "not computed yet")
	citizen := e.signIn("resident@example.kz", accounts.Citizen)
	e.want(citizen, "POST", "/api/modules/clinics/areas", "", 403, "may not")
	gis := e.signIn("gis@akimat.kz", accounts.GISStaff)
	e.want(gis, "POST", "/api/modules/clinics/areas", "", 200, `"areas":2`)
	e.want(caller{}, "GET", "/api/modules/clinics/mine?lon=57.14&lat=50.05", nil, 200, "Polyclinic 2")
	e.want(caller{}, "GET", "/api/modules/clinics/mine?lon=x&lat=50.05", nil, 400, "must be numbers")
	e.want(gis, "POST", "/api/modules/schools/catchments", "", 200, `"areas":1`)
	e.want(caller{}, "GET", "/api/modules/schools/mine?lon=57.19&lat=50.09", nil, 200, "School 7")
	e.want(caller{}, "GET", "/api/modules/clinics/planning?distance=1000", nil, 200, `"access"`)
	e.want(caller{}, "GET", "/api/modules/clinics/planning?distance=abc", nil, 400, "distance")
	e.want(caller{}, "GET", "/api/modules/schools/safety", nil, 200, `"schools_without_installed_camera":1`)
	e.want(caller{}, "GET", "/api/modules/schools/safety?radius=-1", nil, 400, "radius")
	var sid int64
	e.pool.QueryRow(context.Background(), `SELECT id FROM layer.schools WHERE name = 'School 7'`).Scan(&sid)
	e.want(caller{}, "GET", fmt.Sprintf("/api/modules/schools/%d/cameras", sid), nil, 200, `"cameras":[]`)
	e.want(caller{}, "GET", fmt.Sprintf("/api/modules/schools/%d/cameras?radius=x", sid), nil, 400, "radius")
	e.want(caller{}, "GET", fmt.Sprintf("/api/modules/schools/%d/cameras", sid+50), nil, 404, "does not exist")
	e.want(caller{}, "GET", "/api/modules/schools/abc/cameras", nil, 400, "not a positive integer")
	mine := e.want(caller{}, "GET", "/api/modules/schools/mine?lon=57.19&lat=50.09", nil, 200, `"area":{"type":"MultiPolygon"`)
	if !strings.Contains(mine, `"area_id":`) {
		t.Errorf("school answer has no area id: %s", mine)
	}
	e.want(caller{}, "GET", "/api/modules/access", nil, 200, `"worst_gaps"`)
	e.want(caller{}, "GET", "/api/modules/access?distance=1", nil, 400, "distance")
	e.want(caller{}, "GET", "/api/modules/access?limit=many", nil, 400, "limit")
}

func pngPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 20, 10))
	img.Set(3, 3, color.RGBA{G: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBestYardAPI(t *testing.T) {
	e := newModulesEnv(t)
	staff := e.signIn("yards@akimat.kz", accounts.GISStaff)
	alice := e.signIn("alice@example.kz", accounts.Citizen)
	bob := e.signIn("bob@example.kz", accounts.Citizen)
	e.want(alice, "POST", "/api/modules/yards/seasons", `{"season":2026}`, 403, "may not")
	e.want(staff, "POST", "/api/modules/yards/seasons", `{"season":2026}`, 201, `"status":"open"`)
	e.want(caller{}, "GET", "/api/modules/yards/season", nil, 200, `"season":2026`)

	// Alice nominates her yard with a photo (multipart).
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("title", "Двор на Абая 5")
	mw.WriteField("geometry", `{"type":"Point","coordinates":[57.17,50.28]}`)
	fw, _ := mw.CreateFormFile("photo", "yard.png")
	fw.Write(pngPhoto(t))
	mw.Close()
	e.want(caller{}, "POST", "/api/modules/yards/nominations", `{}`, 401, "sign in")
	code, out := e.do(alice, "POST", "/api/modules/yards/nominations", buf.Bytes(), mw.FormDataContentType())
	if code != 201 || !strings.Contains(out, `"photos":1`) {
		t.Fatalf("nominate: %d %s", code, out)
	}
	var nom struct{ ID int64 }
	json.Unmarshal([]byte(out), &nom)
	e.want(bob, "POST", "/api/modules/yards/nominations", `{"title":"x","geometry":{"type":"LineString","coordinates":[[57,50],[57.1,50]]}}`, 400, "Point or Polygon")
	code, _ = e.do(caller{}, "GET", fmt.Sprintf("/api/modules/yards/nominations/%d/photos/1.jpg", nom.ID), nil)
	if code != 200 {
		t.Errorf("photo: %d", code)
	}
	vote := fmt.Sprintf("/api/modules/yards/nominations/%d/vote", nom.ID)
	e.want(caller{}, "POST", vote, "", 401, "sign in")
	e.want(bob, "POST", vote, "", 201, "voted")
	e.want(bob, "POST", vote, "", 409, "already voted")
	e.want(alice, "POST", vote, "", 201, "voted")
	e.want(caller{}, "GET", "/api/modules/yards/ranking?season=2026", nil, 200, `"votes":2`)
	e.want(alice, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/hide", nom.ID), `{"reason":"x"}`, 403, "may not")
	e.want(staff, "POST", "/api/modules/yards/nominations/999999/hide", `{"reason":"spam"}`, 404, "no visible nomination")
	e.want(caller{}, "GET", "/api/modules/yards/ranking?season=abc", nil, 400, "not a year")
	e.want(caller{}, "GET", "/api/modules/yards/ranking?season=1990", nil, 404, "no best-yard season")
	e.want(staff, "POST", "/api/modules/yards/seasons/2026/close", `{"winners":1}`, 200, fmt.Sprintf(`"winners":[%d]`, nom.ID))
	carol := e.signIn("carol@example.kz", accounts.Citizen)
	e.want(carol, "POST", vote, "", 409, "closed")
	e.want(caller{}, "GET", "/api/modules/yards/ranking?season=2026", nil, 200, `"winner":true`)
	var votes int
	e.pool.QueryRow(context.Background(), `SELECT count(*) FROM auth.audit_log WHERE action = 'yard.vote'`).Scan(&votes)
	if votes != 2 {
		t.Errorf("audited votes = %d, want 2", votes)
	}
}

// Staff run the modules from a server-rendered page with plain forms (session cookie + the
// form's CSRF token), in kk/ru/en.
func TestModulesStaffPage(t *testing.T) {
	e := newModulesEnv(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(c caller, path string, v url.Values) (int, string, string) {
		t.Helper()
		var rd io.Reader
		method := "GET"
		if v != nil {
			v.Set("csrf_token", c.csrf)
			rd, method = strings.NewReader(v.Encode()), "POST"
		}
		req, _ := http.NewRequest(method, e.ts.URL+path, rd)
		if v != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.ts.URL)
		}
		if c.token != "" {
			req.Header.Set("Cookie", "geoportal_session="+c.token)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	if code, loc, _ := form(caller{}, "/staff/modules", nil); code != 303 || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("anonymous: %d %s", code, loc)
	}
	citizen := e.signIn("resident@example.kz", accounts.Citizen)
	if code, _, _ := form(citizen, "/staff/modules", nil); code != 403 {
		t.Fatalf("citizen: %d", code)
	}
	dispatcher := e.signIn("dispatch@akimat.kz", accounts.Dispatcher)
	code, _, page := form(dispatcher, "/staff/modules?lang=kk", nil)
	if code != 200 || !strings.Contains(page, "Коммуналдық қызметтердің өшірілуі") || strings.Contains(page, "Үздік аула байқауы") {
		t.Fatalf("dispatcher page: %d\n%.2000s", code, page)
	}
	polygon := `{"type":"Polygon","coordinates":[[[57.1,50.1],[57.2,50.1],[57.2,50.2],[57.1,50.2],[57.1,50.1]]]}`
	code, loc, _ := form(dispatcher, "/staff/modules/outages", url.Values{"lang": {"ru"}, "network": {"gas"},
		"starts_at": {"2026-11-25T09:00"}, "expected_end": {"2026-11-25T18:30"}, "description_ru": {"Замена газопровода <b>"},
		"geometry": {polygon}})
	if code != 303 || !strings.Contains(loc, "msg=saved") {
		t.Fatalf("create outage: %d %s", code, loc)
	}
	_, _, page = form(dispatcher, "/staff/modules?lang=ru", nil)
	if !strings.Contains(page, "Замена газопровода &lt;b&gt;") || !strings.Contains(page, "2026-11-25 18:30") || !strings.Contains(page, "Газ") {
		t.Fatalf("outage not listed (or not escaped):\n%.3000s", page)
	}
	code, _, page = form(dispatcher, "/staff/modules/outages", url.Values{"network": {"gas"}, "description_ru": {"x"},
		"geometry": {polygon}, "expected_end": {"tomorrow"}})
	if code != 400 || !strings.Contains(page, "not a date and time") {
		t.Fatalf("bad time: %d\n%.1500s", code, page)
	}
	var id int64
	e.pool.QueryRow(context.Background(), `SELECT id FROM layer.outages`).Scan(&id)
	if code, loc, _ := form(dispatcher, fmt.Sprintf("/staff/modules/outages/%d/close", id), url.Values{}); code != 303 || !strings.Contains(loc, "saved") {
		t.Fatalf("close: %d %s", code, loc)
	}
	if _, _, page := form(dispatcher, "/staff/modules?lang=en", nil); !strings.Contains(page, "No outages now.") {
		t.Error("closed outage still listed")
	}
	// The contest as GIS staff: open a season, then close it.
	gis := e.signIn("gis@akimat.kz", accounts.GISStaff)
	if code, _, _ := form(dispatcher, "/staff/modules/yards/seasons", url.Values{"season": {"2026"}}); code != 403 {
		t.Errorf("dispatcher opening a season: %d", code)
	}
	if code, loc, _ := form(gis, "/staff/modules/yards/seasons", url.Values{"season": {"2026"}}); code != 303 || !strings.Contains(loc, "saved") {
		t.Fatalf("open season: %d %s", code, loc)
	}
	if _, _, page := form(gis, "/staff/modules?lang=en", nil); !strings.Contains(page, "Close the season") {
		t.Errorf("no close form:\n%.2000s", page)
	}
	if code, _, page := form(gis, "/staff/modules/yards/seasons/2026/close", url.Values{"winners": {"0"}}); code != 400 || !strings.Contains(page, "out of range") {
		t.Errorf("0 winners: %d", code)
	}
	if code, loc, _ := form(gis, "/staff/modules/yards/seasons/2026/close", url.Values{"winners": {"3"}}); code != 303 || !strings.Contains(loc, "saved") {
		t.Fatalf("close season: %d %s", code, loc)
	}
	if code, _, page := form(gis, "/staff/modules/clinics/areas", url.Values{}); code != 400 || !strings.Contains(page, "no features") {
		t.Errorf("recompute without clinics: %d", code)
	}
}
