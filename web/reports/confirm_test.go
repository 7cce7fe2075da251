package reports_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
)

// A resident files a report with an e-mail and a phone, confirms the phone with the code from
// the SMS and the e-mail with the link; the follow view and the staff console say which
// contacts are confirmed, and only confirmed contacts hear of status changes.
func TestReportContactConfirmation(t *testing.T) {
	env := newReportsEnv(t)
	ctx := context.Background()
	api := env.ts.URL + "/api/reports"
	post := func(path string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		code, _, out := fetch(t, "POST", api+path, "application/json", strings.NewReader(string(b)))
		var m map[string]any
		json.Unmarshal(out, &m)
		return code, m
	}
	var ch reports.Challenge
	_, _, b := fetch(t, "GET", api+"/challenge", "", nil)
	json.Unmarshal(b, &ch)
	code, created := post("/", map[string]any{"service_code": "pothole", "lon": 57.17, "lat": 50.28,
		"description": "Яма", "email": "aigul@example.kz", "phone": "+7 701 555 44 33",
		"pow_challenge": ch.Challenge, "pow_nonce": reports.Solve(ch.Challenge, ch.Difficulty)})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, created)
	}
	follow := created["follow"].(string)
	id := int64(created["report"].(map[string]any)["id"].(float64))
	var contacts []reports.Contact
	cb, _ := json.Marshal(created["contacts"])
	json.Unmarshal(cb, &contacts)
	want := []reports.Contact{{Channel: "email", Address: "a***@example.kz"}, {Channel: "sms", Address: "+7 *** *** ** 33"}}
	if len(contacts) != 2 || contacts[0] != want[0] || contacts[1] != want[1] {
		t.Fatalf("contacts in the answer: %s", cb)
	}

	// What the resident receives: the link starts with this site's address.
	var emailBody, smsBody string
	env.srv.Reports.SendPendingOn(ctx, reports.ChannelEmail, 10, func(m reports.Message) error { emailBody = m.Body; return nil })
	env.srv.Reports.SendPendingOn(ctx, reports.ChannelSMS, 10, func(m reports.Message) error { smsBody = m.Body; return nil })
	link := regexp.MustCompile(regexp.QuoteMeta(env.ts.URL) + `/#confirm/(c[0-9a-f]+)`).FindStringSubmatch(emailBody)
	smsCode := regexp.MustCompile(`^Aktobe geoportal: (\d{6}) `).FindStringSubmatch(smsBody)
	if link == nil || smsCode == nil {
		t.Fatalf("e-mail %q, SMS %q", emailBody, smsBody)
	}

	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"nothing", map[string]any{}, 400},
		{"wrong code", map[string]any{"follow": follow, "channel": "sms", "code": "12345x"}, 400},
		{"unknown link", map[string]any{"link": "c00"}, 404},
		{"unknown report", map[string]any{"follow": "f00", "channel": "sms", "code": smsCode[1]}, 404},
	} {
		if code, m := post("/confirm", tc.body); code != tc.want || m["error"] == nil {
			t.Errorf("%s: %d %v, want %d with an error", tc.name, code, m, tc.want)
		}
	}
	if code, m := post("/confirm", map[string]any{"follow": follow, "channel": "sms", "code": smsCode[1]}); code != 200 {
		t.Fatalf("confirm by code: %d %v", code, m)
	}
	if code, m := post("/confirm", map[string]any{"link": link[1]}); code != 200 ||
		m["confirmed"].(map[string]any)["channel"] != "email" || m["confirmed"].(map[string]any)["report_id"].(float64) != float64(id) {
		t.Fatalf("confirm by link: %d %v", code, m)
	}
	if code, _ := post("/confirm", map[string]any{"link": link[1]}); code != http.StatusConflict {
		t.Fatalf("link used twice: %d", code)
	}
	if code, _ := post("/confirm/resend", map[string]any{"follow": follow, "channel": "email"}); code != http.StatusConflict {
		t.Fatalf("resend to a confirmed address: %d", code)
	}
	_, _, b = fetch(t, "GET", api+"/follow/"+follow, "", nil)
	var fv struct{ Contacts []reports.Contact }
	json.Unmarshal(b, &fv)
	if len(fv.Contacts) != 2 || !fv.Contacts[0].Confirmed || !fv.Contacts[1].Confirmed || strings.Contains(string(b), "aigul@") {
		t.Fatalf("follow view: %s", b)
	}
	// The public view has no contacts at all.
	_, _, b = fetch(t, "GET", api+"/"+strconv.FormatInt(id, 10), "", nil)
	if strings.Contains(string(b), "contacts") || strings.Contains(string(b), "a***") {
		t.Fatalf("public view: %s", b)
	}

	// Staff see "confirmed" on the console.
	u, err := env.srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: "roads@akimat.kz", Role: accounts.DepartmentStaff,
		Department: "roads", Password: "a long enough password 4"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := env.srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/staff/reports/" + strconv.FormatInt(id, 10) + "?lang=en", "/staff/reports?lang=ru"} {
		req, _ := http.NewRequest("GET", env.ts.URL+path, nil)
		req.Header.Set("Cookie", "geoportal_session="+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := strings.Count(string(page), `data-confirmed="true"`); n != 2 || !regexp.MustCompile(`✓ (confirmed|подтверждён)`).Match(page) {
			t.Fatalf("%s: %d confirmed contacts shown", path, n)
		}
	}
}
