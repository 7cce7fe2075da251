package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/guard"
)

type reportsEnv struct {
	ts  *httptest.Server
	srv *web.Server
	key string // an API key with the open311 scope
}

func newReportsEnv(t *testing.T) reportsEnv {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`); err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	srv.Reports.Difficulty = 6
	// Links in messages go to the server's own address, as `geoportal serve` sets it.
	ts := httptest.NewUnstartedServer(srv.Handler())
	srv.Security.ListenURL = "http://" + ts.Listener.Addr().String()
	ts.Start()
	t.Cleanup(ts.Close)
	u, err := srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: "app@example.kz", Name: "City app",
		Role: accounts.Citizen, Password: "a long enough password 1"})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := srv.Accounts.CreateKey(ctx, u.ID, "open311 client", []accounts.Scope{accounts.ScopeOpen311}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return reportsEnv{ts: ts, srv: srv, key: key}
}

func fetch(t *testing.T, method, url, contentType string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// An Open311 client's session, with requests written as the GeoReport v2 specification writes them.
func TestOpen311Client(t *testing.T) {
	env := newReportsEnv(t)
	base := env.ts.URL + "/open311/v2"

	// discovery
	code, _, b := fetch(t, "GET", base+"/discovery.json", "", nil)
	var disc struct {
		Endpoints []struct {
			Specification string   `json:"specification"`
			URL           string   `json:"url"`
			Formats       []string `json:"formats"`
		} `json:"endpoints"`
	}
	if code != 200 || json.Unmarshal(b, &disc) != nil || len(disc.Endpoints) != 1 ||
		disc.Endpoints[0].URL != base || len(disc.Endpoints[0].Formats) != 2 {
		t.Fatalf("discovery: %d %s", code, b)
	}

	// GET services.xml
	code, h, b := fetch(t, "GET", base+"/services.xml?locale=kk", "", nil)
	var services struct {
		XMLName  xml.Name `xml:"services"`
		Services []struct {
			Code     string `xml:"service_code"`
			Name     string `xml:"service_name"`
			Metadata bool   `xml:"metadata"`
			Type     string `xml:"type"`
		} `xml:"service"`
	}
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") || !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Fatalf("services.xml: %d %s %s", code, h.Get("Content-Type"), b)
	}
	if err := xml.Unmarshal(b, &services); err != nil || len(services.Services) != 7 {
		t.Fatalf("services.xml: %v %s", err, b)
	}
	if s := services.Services[0]; s.Code != "street_light" || s.Name != "Көше шамы жанбайды" || !s.Metadata || s.Type != "realtime" {
		t.Fatalf("first service %+v", s)
	}

	// GET services/{code}.json (service definition)
	code, _, b = fetch(t, "GET", base+"/services/street_light.json?locale=en", "", nil)
	var def struct {
		ServiceCode string `json:"service_code"`
		Attributes  []struct {
			Variable bool   `json:"variable"`
			Code     string `json:"code"`
			Datatype string `json:"datatype"`
			Required bool   `json:"required"`
			Values   []struct{ Key, Name string }
		} `json:"attributes"`
	}
	if code != 200 || json.Unmarshal(b, &def) != nil || def.ServiceCode != "street_light" || len(def.Attributes) != 2 ||
		def.Attributes[1].Code != "state" || !def.Attributes[1].Required || len(def.Attributes[1].Values) != 3 {
		t.Fatalf("service definition: %d %s", code, b)
	}

	// POST requests.json, form-encoded with api_key
	form := url.Values{
		"api_key": {env.key}, "service_code": {"street_light"}, "lat": {"50.2839"}, "long": {"57.1669"},
		"address_string": {"пр. Абулхаир хана, 40"}, "email": {"citizen@example.kz"}, "first_name": {"Ерлан"},
		"description": {"Фонарь не горит третий день"}, "attribute[state]": {"off"}, "device_id": {"phone-1"},
	}
	code, _, b = fetch(t, "POST", base+"/requests.json", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	var created []struct {
		ID     string `json:"service_request_id"`
		Token  string `json:"token"`
		Notice string `json:"service_notice"`
	}
	if code != 200 || json.Unmarshal(b, &created) != nil || len(created) != 1 || created[0].ID == "" {
		t.Fatalf("POST requests.json: %d %s", code, b)
	}
	id := created[0].ID

	// GET requests/{id}.xml
	code, _, b = fetch(t, "GET", base+"/requests/"+id+".xml", "", nil)
	var one struct {
		Requests []struct {
			ID          string  `xml:"service_request_id"`
			Status      string  `xml:"status"`
			ServiceCode string  `xml:"service_code"`
			Agency      string  `xml:"agency_responsible"`
			Requested   string  `xml:"requested_datetime"`
			Lat         float64 `xml:"lat"`
			Long        float64 `xml:"long"`
			Address     string  `xml:"address"`
		} `xml:"request"`
	}
	if code != 200 || xml.Unmarshal(b, &one) != nil || len(one.Requests) != 1 {
		t.Fatalf("request xml: %d %s", code, b)
	}
	if r := one.Requests[0]; r.ID != id || r.Status != "open" || r.ServiceCode != "street_light" || r.Agency == "" ||
		r.Lat != 50.2839 || r.Long != 57.1669 || r.Address != "пр. Абулхаир хана, 40" || !strings.Contains(r.Requested, "T") {
		t.Fatalf("request %+v", r)
	}
	if bytes.Contains(b, []byte("citizen@example.kz")) || bytes.Contains(b, []byte("Ерлан")) {
		t.Fatal("contact details leaked into the public request")
	}

	// GET tokens/{token}.json
	code, _, b = fetch(t, "GET", base+"/tokens/"+created[0].Token+".json", "", nil)
	if code != 200 || !bytes.Contains(b, []byte(`"service_request_id":"`+id+`"`)) {
		t.Fatalf("token: %d %s", code, b)
	}

	// GET requests.json with filters
	code, _, b = fetch(t, "GET", base+"/requests.json?service_code=street_light&status=open", "", nil)
	var list []map[string]any
	if code != 200 || json.Unmarshal(b, &list) != nil || len(list) != 1 {
		t.Fatalf("requests.json open: %d %s", code, b)
	}
	code, _, b = fetch(t, "GET", base+"/requests.json?status=closed", "", nil)
	if code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("requests.json closed: %d %s", code, b)
	}
	code, _, b = fetch(t, "GET", base+"/requests.json?start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z", "", nil)
	if code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("requests.json in 2001: %d %s", code, b)
	}
	code, _, b = fetch(t, "GET", base+"/requests.json?service_request_id="+id+",999999", "", nil)
	if code != 200 || json.Unmarshal(b, &list) != nil || len(list) != 1 {
		t.Fatalf("requests.json by id: %d %s", code, b)
	}
}

func TestOpen311Errors(t *testing.T) {
	env := newReportsEnv(t)
	base := env.ts.URL + "/open311/v2"
	post := func(format string, v url.Values) (int, []byte) {
		code, _, b := fetch(t, "POST", base+"/requests."+format, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
		return code, b
	}
	good := url.Values{"api_key": {env.key}, "service_code": {"pothole"}, "lat": {"50.28"}, "long": {"57.17"}, "description": {"Яма"}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	tests := []struct {
		name   string
		format string
		form   url.Values
		status int
	}{
		{"bad key json", "json", with("api_key", "gk_not-a-real-key"), 403},
		{"no key xml", "xml", with("api_key", ""), 403},
		{"missing service_code", "json", with("service_code", ""), 400},
		{"missing location", "xml", with("lat", ""), 400},
		{"unknown service", "json", with("service_code", "ufo"), 404},
		{"outside the city", "json", with("long", "71.4"), 400},
		{"bad attribute", "json", with("attribute[size]", "enormous"), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, b := post(tc.format, tc.form)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, b)
			}
			if tc.format == "json" {
				var errs []struct {
					Code        int    `json:"code"`
					Description string `json:"description"`
				}
				if json.Unmarshal(b, &errs) != nil || len(errs) != 1 || errs[0].Code != tc.status || errs[0].Description == "" {
					t.Fatalf("not the spec's error shape: %s", b)
				}
			} else {
				var errs struct {
					XMLName xml.Name `xml:"errors"`
					Errors  []struct {
						Code        int    `xml:"code"`
						Description string `xml:"description"`
					} `xml:"error"`
				}
				if xml.Unmarshal(b, &errs) != nil || len(errs.Errors) != 1 || errs.Errors[0].Code != tc.status {
					t.Fatalf("not the spec's XML error shape: %s", b)
				}
			}
		})
	}
	if code, _, b := fetch(t, "GET", base+"/requests/424242.json", "", nil); code != 404 || !bytes.Contains(b, []byte(`"code":404`)) {
		t.Fatalf("unknown request: %d %s", code, b)
	}
	if code, _, _ := fetch(t, "GET", base+"/services.html", "", nil); code != 404 {
		t.Fatalf("unsupported format: %d", code)
	}
	var n int
	env.srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM layer.citizen_reports`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d reports stored from refused requests", n)
	}
}

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
