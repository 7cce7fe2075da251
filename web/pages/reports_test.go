package pages_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/webtest"
)

// Department staff work a report through the console pages, with a session cookie and the
// form's CSRF token; the pages escape what residents wrote.
func TestStaffConsolePages(t *testing.T) {
	env := webtest.NewReports(t)
	ctx := context.Background()
	rep, _, err := env.Srv.Reports.Create(ctx, reports.NewReport{ServiceCode: "street_light", Lon: 57.17, Lat: 50.28,
		Description: `<script>alert("x")</script> фонарь`, Email: "me@example.kz", Attributes: map[string]string{"state": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(rep.ID, 10)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := noRedirect.Get(env.TS.URL + "/staff/reports")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous console: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	session := func(email string, role accounts.Role, dept string) (string, string) {
		u, err := env.Srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: email, Role: role, Department: dept, Password: "a long enough password 3"})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := env.Srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return tok, accounts.CSRFToken(tok)
	}
	do := func(tok, method, path string, form url.Values) (int, string, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, env.TS.URL+path, body)
		req.Header.Set("Cookie", "geoportal_session="+tok)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", env.TS.URL)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}

	citizen, _ := session("citizen@example.kz", accounts.Citizen, "")
	if code, _, _ := do(citizen, "GET", "/staff/reports", nil); code != 403 {
		t.Fatalf("citizen console: %d", code)
	}
	tok, csrf := session("housing@akimat.kz", accounts.DepartmentStaff, "housing")
	code, _, page := do(tok, "GET", "/staff/reports?lang=ru", nil)
	if code != 200 || !strings.Contains(page, "Не горит уличный фонарь") || !strings.Contains(page, "me@example.kz") {
		t.Fatalf("console: %d\n%.3000s", code, page)
	}
	if strings.Contains(page, `<script>alert("x")</script>`) || !strings.Contains(page, "&lt;script&gt;") {
		t.Fatal("resident's text is not escaped on the console")
	}
	// a form without its CSRF token changes nothing
	if code, _, _ := do(tok, "POST", "/staff/reports/"+id+"/status", url.Values{"status": {"accepted"}}); code != 403 {
		t.Fatalf("status form without CSRF: %d", code)
	}
	code, loc, _ := do(tok, "POST", "/staff/reports/"+id+"/status", url.Values{"status": {"accepted"}, "comment": {"Принято"}, "csrf_token": {csrf}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "msg=saved") {
		t.Fatalf("status form: %d %s", code, loc)
	}
	// a refused change shows the page with the reason
	code, _, page = do(tok, "POST", "/staff/reports/"+id+"/status", url.Values{"status": {"rejected"}, "csrf_token": {csrf}})
	if code != 400 || !strings.Contains(page, "reason") {
		t.Fatalf("rejection without reason: %d\n%.2000s", code, page)
	}
	code, _, page = do(tok, "GET", "/staff/reports/"+id+"?lang=en", nil)
	if code != 200 || !strings.Contains(page, "Accepted") || !strings.Contains(page, "housing@akimat.kz") {
		t.Fatalf("report page: %d\n%.3000s", code, page)
	}
	code, loc, _ = do(tok, "POST", "/staff/reports/bulk", url.Values{"id": {id}, "status": {"in_progress"}, "csrf_token": {csrf}})
	if code != http.StatusSeeOther {
		t.Fatalf("bulk: %d %s", code, loc)
	}
	got, _ := env.Srv.Reports.Get(ctx, rep.ID)
	if got.Status != "in_progress" {
		t.Fatalf("after bulk: %s", got.Status)
	}
	other, _ := session("roads@akimat.kz", accounts.DepartmentStaff, "roads")
	if code, _, _ := do(other, "GET", "/staff/reports/"+id, nil); code != 403 {
		t.Fatalf("other department's report page: %d", code)
	}
}

// The public statistics page draws its charts on the server, in the chosen language.
func TestReportStatsPage(t *testing.T) {
	env := webtest.NewReports(t)
	ctx := context.Background()
	for _, code := range []string{"street_light", "street_light", "pothole"} {
		n := reports.NewReport{ServiceCode: code, Lon: 57.17, Lat: 50.28, Description: "x"}
		if code == "street_light" {
			n.Attributes = map[string]string{"state": "off"}
		}
		if _, _, err := env.Srv.Reports.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(env.TS.URL + "/reports/stats?lang=ru")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != 200 || strings.Count(page, "<svg") != 4 || !strings.Contains(page, "По категориям") ||
		!strings.Contains(page, "<td>Не горит уличный фонарь</td><td>2</td><td>2</td>") || !strings.Contains(page, "Обращений: <b>3</b>") {
		t.Fatalf("stats page: %d\n%.4000s", resp.StatusCode, page)
	}
}

// The statistics page names a district in the page's language (kk and en fall back to ru).
func TestReportStatsDistrictNames(t *testing.T) {
	env := webtest.NewReports(t)
	ctx := context.Background()
	if _, err := env.Srv.Pool.Exec(ctx, `INSERT INTO layer.districts (geom, name, name_ru, name_kk, name_en)
		VALUES (ST_Multi(ST_MakeEnvelope(57.1, 50.2, 57.3, 50.4, 4326)), 'Алматинский', 'Алматинский район', 'Алматы ауданы', 'Almaty district')`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Srv.Reports.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28, Description: "x"}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"kk": "Алматы ауданы", "ru": "Алматинский район", "en": "Almaty district"}
	for lang, want := range names {
		resp, err := http.Get(env.TS.URL + "/reports/stats?lang=" + lang)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		if resp.StatusCode != 200 || !strings.Contains(page, "<td>"+want+"</td>") {
			t.Errorf("%s stats page lacks %q: %d", lang, want, resp.StatusCode)
		}
		for other, name := range names {
			if other != lang && strings.Contains(page, name) {
				t.Errorf("%s stats page shows the %s district name %q", lang, other, name)
			}
		}
	}
}
