package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/web/pages"
)

// Before: any department's staff read any vehicle's track (personal data of its driver).
func TestAttackTrackOfOtherDepartment(t *testing.T) {
	f := newAuthFixture(t, nil) // department_staff works for "roads"
	ctx := context.Background()
	add := func(dev, plate, dept string) int64 {
		v, _, err := f.srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: dev, Plate: plate, Department: dept})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
		if _, err := f.srv.Transit.Ingest(ctx, []transit.Position{{VehicleID: v.ID, At: at, Lon: 57.1669, Lat: 50.2839,
			SpeedKmh: 20, Heading: 90, AltM: math.NaN(), Sats: 9, Source: transit.SourceHTTP}}); err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	roads := add("roads-1", "ROADS 1", "roads")
	housing := add("housing-1", "HOUSING 1", "housing")
	nobody := add("plain-1", "PLAIN 1", "")
	staffKey := f.keyFor("staff_key", accounts.DepartmentStaff, accounts.ScopeRead)
	for _, tc := range []struct {
		who     *identity
		vehicle int64
		want    int
	}{
		{f.ids["department_staff"], housing, http.StatusForbidden},
		{f.ids["department_staff"], nobody, http.StatusForbidden},
		{staffKey, housing, http.StatusForbidden},
		{f.ids["department_staff"], roads, http.StatusOK},
		{staffKey, roads, http.StatusOK},
		{f.ids["dispatcher"], housing, http.StatusOK},
		{f.ids["admin"], nobody, http.StatusOK},
	} {
		w := f.do(tc.who, "GET", fmt.Sprintf("/api/vehicles/%d/track", tc.vehicle), "")
		if w.Code != tc.want {
			t.Errorf("%s, track of vehicle %d: %d %s, want %d", tc.who.name, tc.vehicle, w.Code, trim(w.Body.String()), tc.want)
		}
		body := w.Body.String()
		if tc.want == http.StatusForbidden && (strings.Contains(body, "57.1669") || strings.Contains(body, "features")) {
			t.Errorf("%s, refused track of vehicle %d still carries data: %s", tc.who.name, tc.vehicle, trim(body))
		}
		if tc.want == http.StatusOK && !strings.Contains(body, "57.1669") {
			t.Errorf("%s, track of vehicle %d has no fix: %s", tc.who.name, tc.vehicle, trim(body))
		}
	}
	// The dispatch page's track view follows the same rule and shows nothing of the vehicle.
	w := f.do(f.ids["department_staff"], "GET", fmt.Sprintf("/staff/dispatch/track?vehicle=%d&lang=en", housing), "")
	if w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "HOUSING 1") || strings.Contains(w.Body.String(), "57.1669") {
		t.Errorf("track page of another department's vehicle: %d\n%.1500s", w.Code, w.Body.String())
	}
	if w := f.do(f.ids["department_staff"], "GET", fmt.Sprintf("/staff/dispatch/track?vehicle=%d&lang=en", roads), ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ROADS 1") {
		t.Errorf("track page of the department's own vehicle: %d", w.Code)
	}
}

// Before: every request to /api/vehicles/live held a stream (a goroutine, a 256-deep channel and
// a connection) for as long as the client liked, without limit.
func TestAttackLiveStreamSubscribers(t *testing.T) {
	f := newAuthFixture(t, func(s *Server) {
		s.Security.TrustForwardedFor = true // the test's clients differ by X-Forwarded-For
		s.Transit.Live = transit.LiveLimits{MaxSubscribers: 3, MaxPerClientAddr: 2}
	})
	ts := httptest.NewServer(f.h)
	t.Cleanup(ts.Close)
	t.Cleanup(f.srv.Transit.Close)
	client := &http.Client{Timeout: 20 * time.Second}
	open := func(ip string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+"/api/vehicles/live", nil)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp, string(b)
		}
		t.Cleanup(func() { resp.Body.Close() })
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || line != "event: snapshot\n" {
			t.Fatalf("stream from %s starts with %q %v", ip, line, err)
		}
		return resp, ""
	}
	var streams []*http.Response
	for _, ip := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2"} {
		resp, body := open(ip)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream from %s within the limits: %d %s", ip, resp.StatusCode, body)
		}
		streams = append(streams, resp)
	}
	// A third from the same address: 429; a fourth in total: 503; both say when to retry.
	resp, body := open("10.0.0.1")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "live streams are open from your address") {
		t.Errorf("third stream from one address: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, body = open("10.0.0.3")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "retry later") {
		t.Errorf("stream past the total: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// The snapshot endpoint is not a stream and stays open to all.
	if w := f.do(nil, "GET", "/api/vehicles", ""); w.Code != http.StatusOK {
		t.Errorf("/api/vehicles while the streams are full: %d", w.Code)
	}
	mresp, err := client.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`geoportal_live_subscribers_refused_total{reason="per_client"} 1`,
		`geoportal_live_subscribers_refused_total{reason="total"} 1`, "geoportal_live_subscribers 3"} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// A closed stream frees its place (the server notices the hang-up shortly after).
	streams[2].Body.Close()
	for i := 0; ; i++ {
		resp, _ := open("10.0.0.3")
		if resp.StatusCode == http.StatusOK {
			break
		}
		if i == 100 {
			t.Fatalf("a closed stream's place is not freed: %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Open tracker logins are an administrator's explicit choice, shown with a warning in every
// language of the admin page.
func TestAdminPageWarnsOfOpenTrackers(t *testing.T) {
	f := newAuthFixture(t, nil)
	admin := f.ids["admin"]
	for _, lang := range pages.Langs {
		if w := f.do(admin, "GET", "/admin?lang="+lang, ""); strings.Contains(w.Body.String(), pages.Text(lang, "page.tracker_open_warning")) {
			t.Fatalf("/admin?lang=%s warns of open trackers when there are none", lang)
		}
	}
	for body, want := range map[string]int{
		`{"login":"862462030000010","open":true,"password":"bus10-secret"}`: http.StatusBadRequest,
		`{"login":"862462030000010","password":"NA"}`:                       http.StatusBadRequest,
		`{"login":"862462030000010","password":"short"}`:                    http.StatusBadRequest,
		`{"login":"862462030000010","open":true,"note":"old tracker"}`:      http.StatusOK,
	} {
		if w := f.do(admin, "POST", "/api/admin/trackers", body); w.Code != want {
			t.Errorf("POST /api/admin/trackers %s: %d %s, want %d", body, w.Code, trim(w.Body.String()), want)
		}
	}
	// The page's form does the same.
	form := url.Values{"csrf_token": {admin.csrf}, "login": {"862462030000011"}, "open": {"true"}, "note": {"form"}}
	r := httptest.NewRequest("POST", "/admin/trackers?lang=en", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(admin.cookie)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("open a tracker on the page: %d %s", w.Code, trim(w.Body.String()))
	}
	if w := f.do(admin, "GET", "/api/admin/trackers", ""); strings.Count(w.Body.String(), `"open":true`) != 2 {
		t.Errorf("trackers API does not say the unit is open: %s", w.Body)
	}
	for lang, word := range map[string]string{"en": "open: any password", "ru": "открыт: любой пароль", "kk": "ашық: кез келген құпиясөз"} {
		body := f.do(admin, "GET", "/admin?lang="+lang, "").Body.String()
		if !strings.Contains(body, pages.Text(lang, "page.tracker_open_warning")) || !strings.Contains(body, word) || !strings.Contains(body, `class="warning"`) {
			t.Errorf("/admin?lang=%s does not warn of the open tracker", lang)
		}
	}
	// The audit log names the choice.
	recs, _ := f.srv.Accounts.AuditLog(context.Background(), accounts.AuditFilter{Action: "tracker.open"})
	if len(recs) != 2 || recs[1].ObjectID != "862462030000010" || recs[0].ObjectID != "862462030000011" {
		t.Errorf("audit of tracker.open: %+v", recs)
	}
}
