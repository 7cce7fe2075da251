package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/webtest"
)

type reportsEnv struct {
	ts  *httptest.Server
	srv *web.Server
	key string // an API key with the open311 scope
}

func newReportsEnv(t *testing.T) reportsEnv {
	t.Helper()
	e := webtest.NewReports(t)
	return reportsEnv{ts: e.TS, srv: e.Srv, key: e.Key}
}

var fetch = webtest.Fetch

// The web app's flow: a resident files a report with a photo (solving the proof of work), a
// second resident nearby is offered it as a duplicate and supports it, department staff move it
// through the workflow, and the reporter's private link shows the history.
func TestReportFlowOverHTTP(t *testing.T) {
	env := newReportsEnv(t)
	ctx := context.Background()
	api := env.ts.URL + "/api/reports"

	code, _, b := fetch(t, "GET", api+"/challenge", "", nil)
	var ch reports.Challenge
	if code != 200 || json.Unmarshal(b, &ch) != nil || ch.Difficulty != 6 {
		t.Fatalf("challenge: %d %s", code, b)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"service_code": "missing_ramp", "lon": "57.1700", "lat": "50.2800",
		"description": `<img src=x onerror=alert(1)> нет пандуса`, "email": "me@example.kz",
		"pow_challenge": ch.Challenge, "pow_nonce": reports.Solve(ch.Challenge, ch.Difficulty), "device_id": "dev-a"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("photo", "ramp.png")
	fw.Write(testPNG(t))
	mw.Close()
	code, _, b = fetch(t, "POST", api+"/", mw.FormDataContentType(), &body)
	var created struct {
		Report struct {
			ID     int64 `json:"id"`
			Photos int   `json:"photos"`
		} `json:"report"`
		Follow string `json:"follow"`
	}
	if code != 201 || json.Unmarshal(b, &created) != nil || created.Report.Photos != 1 || created.Follow == "" {
		t.Fatalf("create: %d %s", code, b)
	}
	id := strconv.FormatInt(created.Report.ID, 10)

	// the same challenge cannot file twice
	code, _, b = fetch(t, "POST", api+"/", "application/json", strings.NewReader(`{"service_code":"pothole","lon":57.17,"lat":50.28,"description":"x","pow_challenge":"`+ch.Challenge+`","pow_nonce":"`+reports.Solve(ch.Challenge, ch.Difficulty)+`"}`))
	if code != 400 {
		t.Fatalf("replayed challenge: %d %s", code, b)
	}

	code, h, _ := fetch(t, "GET", api+"/"+id+"/photos/1.jpg", "", nil)
	if code != 200 || h.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("photo: %d %s", code, h.Get("Content-Type"))
	}

	// a second resident nearby sees it before filing a duplicate, and supports it
	code, _, b = fetch(t, "GET", api+"/nearby?service_code=missing_ramp&lon=57.1702&lat=50.2801", "", nil)
	if code != 200 || !bytes.Contains(b, []byte(`"id":`+id)) {
		t.Fatalf("nearby: %d %s", code, b)
	}
	// (support asks for the same proof of work as a report)
	_, _, b = fetch(t, "GET", api+"/challenge", "", nil)
	json.Unmarshal(b, &ch)
	code, _, b = fetch(t, "POST", api+"/"+id+"/support", "application/json", strings.NewReader(`{"device_id":"dev-b","pow_challenge":"`+
		ch.Challenge+`","pow_nonce":"`+reports.Solve(ch.Challenge, ch.Difficulty)+`"}`))
	if code != 200 || !bytes.Contains(b, []byte(`"support_count":2`)) {
		t.Fatalf("support: %d %s", code, b)
	}

	// staff: anonymous and the wrong department are refused; the right one works it through
	code, _, _ = fetch(t, "POST", env.ts.URL+"/api/staff/reports/"+id+"/status", "application/json", strings.NewReader(`{"status":"accepted"}`))
	if code != 401 {
		t.Fatalf("anonymous status change: %d", code)
	}
	staffKey := func(dept string) string {
		u, err := env.srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: dept + "@akimat.kz", Role: accounts.DepartmentStaff,
			Department: dept, Password: "a long enough password 2"})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := env.srv.Accounts.CreateKey(ctx, u.ID, "console", []accounts.Scope{accounts.ScopeReports, accounts.ScopeRead}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	staffDo := func(key, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, env.ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	roads, social := staffKey("roads"), staffKey("social")
	if code, b := staffDo(roads, "POST", "/api/staff/reports/"+id+"/status", `{"status":"accepted"}`); code != 403 {
		t.Fatalf("other department: %d %s", code, b)
	}
	if code, b := staffDo(roads, "GET", "/api/staff/reports/", ""); code != 200 || bytes.Contains(b, []byte(`"id":`+id)) {
		t.Fatalf("other department's console lists the report: %d %s", code, b)
	}
	code, b = staffDo(social, "GET", "/api/staff/reports/?status=new", "")
	if code != 200 || !bytes.Contains(b, []byte(`"email":"me@example.kz"`)) {
		t.Fatalf("console: %d %s", code, b)
	}
	for _, step := range []string{`{"status":"accepted","comment":"Передано подрядчику"}`,
		`{"status":"in_progress","comment":"Работы начаты"}`, `{"status":"resolved","comment":"Пандус установлен"}`} {
		if code, b := staffDo(social, "POST", "/api/staff/reports/"+id+"/status", step); code != 200 {
			t.Fatalf("%s: %d %s", step, code, b)
		}
	}
	if code, b := staffDo(social, "POST", "/api/staff/reports/"+id+"/status", `{"status":"new"}`); code != 400 {
		t.Fatalf("resolved → new: %d %s", code, b)
	}

	// the reporter's private link shows the history, with no staff names
	code, _, b = fetch(t, "GET", api+"/follow/"+created.Follow, "", nil)
	var followed struct {
		Report struct {
			Status      string `json:"status"`
			Description string `json:"description"`
		} `json:"report"`
		History []struct {
			Status  string `json:"status"`
			Comment string `json:"comment"`
			Actor   string `json:"actor"`
		} `json:"history"`
	}
	if code != 200 || json.Unmarshal(b, &followed) != nil || followed.Report.Status != "resolved" || len(followed.History) != 4 {
		t.Fatalf("follow: %d %s", code, b)
	}
	if followed.History[3].Comment != "Пандус установлен" || followed.History[3].Actor != "" {
		t.Fatalf("history %+v", followed.History)
	}
	if followed.Report.Description != `<img src=x onerror=alert(1)> нет пандуса` {
		t.Fatalf("text changed on the way: %q", followed.Report.Description)
	}
	// JSON escapes the markup so that no browser parses it as HTML
	if bytes.Contains(b, []byte("<img")) {
		t.Fatal("raw markup in the JSON answer")
	}
	if code, _, _ := fetch(t, "GET", api+"/follow/f00", "", nil); code != 404 {
		t.Fatalf("wrong follow link: %d", code)
	}
	code, _, b = fetch(t, "GET", api+"/stats", "", nil)
	if code != 200 || !bytes.Contains(b, []byte(`"key":"missing_ramp"`)) {
		t.Fatalf("stats: %d %s", code, b)
	}
}

func testPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		img.Set(x, x%30, color.RGBA{200, 50, 50, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// One device is limited even when its requests come from many addresses.
func TestReportRateLimitPerDevice(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`); err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	srv.Reports.Difficulty = 1
	srv.Security.TrustForwardedFor = true
	srv.Security.Submit = guard.RateLimit{PerMinute: 1, Burst: 2}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	file := func(ip, device string) int {
		resp, err := http.Get(ts.URL + "/api/reports/challenge")
		if err != nil {
			t.Fatal(err)
		}
		var ch reports.Challenge
		json.NewDecoder(resp.Body).Decode(&ch)
		resp.Body.Close()
		body := `{"service_code":"pothole","lon":57.17,"lat":50.28,"description":"Яма","device_id":"` + device +
			`","pow_challenge":"` + ch.Challenge + `","pow_nonce":"` + reports.Solve(ch.Challenge, ch.Difficulty) + `"}`
		req, _ := http.NewRequest("POST", ts.URL+"/api/reports/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	got := []int{file("10.0.0.1", "phone-x"), file("10.0.0.2", "phone-x"), file("10.0.0.3", "phone-x"), file("10.0.0.4", "phone-y")}
	if got[0] != 201 || got[1] != 201 || got[2] != 429 || got[3] != 201 {
		t.Fatalf("statuses %v, want [201 201 429 201]: the third report of one device from a new address is refused", got)
	}
}
