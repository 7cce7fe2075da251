package pages_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/pages"
	"github.com/aktobe/geoportal/web/webtest"
)

func TestLightingAuditAPIAndPage(t *testing.T) {
	e := webtest.NewSite(t)
	e.Exec(`INSERT INTO layer.districts (geom, name, name_ru, name_kk, name_en)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.0, 57.1, 50.1, 4326)), 'Astana', 'Астанинский', 'Астана ауданы', 'Astana district')`)
	// HPS 250 W × 4000 h = 1000 kWh (LED 100 W: 400); LED 60 W × 4000 h = 240 kWh.
	e.Exec(`INSERT INTO layer.street_lights (geom, lamp_type, power_w, hours_per_year) VALUES
		(ST_SetSRID(ST_MakePoint(57.05, 50.05), 4326), 'HPS', 250, 4000),
		(ST_SetSRID(ST_MakePoint(57.06, 50.05), 4326), 'LED', 60, 4000)`)
	out := e.Want(webtest.Caller{}, "GET", "/api/modules/lighting/audit?tariff=20", nil, 200, `"tariff_kzt_per_kwh":20`)
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
	e.Want(webtest.Caller{}, "GET", "/api/modules/lighting/audit?tariff=abc", nil, 400, `tariff \"abc\" is not a number`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/lighting/audit?tariff=-3", nil, 400, "out of range")

	code, body := e.Do(webtest.Caller{}, "GET", "/api/modules/lighting/audit.csv?tariff=20&lang=ru", nil)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if code != 200 || err != nil || len(rows) != 7 || rows[0][0] != "section" || rows[1][2] != "Астанинский" ||
		rows[1][5] != "1240" || rows[4][0] != "total" {
		t.Fatalf("csv: %d %v\n%s", code, err, body)
	}

	page := e.Want(webtest.Caller{}, "GET", "/lighting/audit?lang=kk&tariff=20", nil, 200, "Көше жарығының энергоаудиті")
	if !strings.Contains(page, "Астана ауданы") || !strings.Contains(page, "24\u00a0800") || !strings.Contains(page, `lang="kk"`) {
		t.Errorf("kk page misses the district or the cost:\n%.3000s", page)
	}
	e.Want(webtest.Caller{}, "GET", "/lighting/audit?lang=en", nil, 200, "Street-lighting energy audit")
	// A bad tariff on the page: a 400 page naming the problem, with the default-tariff numbers.
	e.Want(webtest.Caller{}, "GET", "/lighting/audit?lang=ru&tariff=x", nil, 400, "is not a number")
}

// Staff run the modules from a server-rendered page with plain forms (session cookie + the
// form's CSRF token), in kk/ru/en.
func TestModulesStaffPage(t *testing.T) {
	e := webtest.NewSite(t)
	form := e.Page
	if code, loc, _ := form(webtest.Caller{}, "/staff/modules", nil); code != 303 || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("anonymous: %d %s", code, loc)
	}
	citizen := e.SignIn("resident@example.kz", accounts.Citizen)
	if code, _, _ := form(citizen, "/staff/modules", nil); code != 403 {
		t.Fatalf("citizen: %d", code)
	}
	dispatcher := e.SignIn("dispatch@akimat.kz", accounts.Dispatcher)
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
	e.Pool.QueryRow(context.Background(), `SELECT id FROM layer.outages`).Scan(&id)
	if code, loc, _ := form(dispatcher, fmt.Sprintf("/staff/modules/outages/%d/close", id), url.Values{}); code != 303 || !strings.Contains(loc, "saved") {
		t.Fatalf("close: %d %s", code, loc)
	}
	if _, _, page := form(dispatcher, "/staff/modules?lang=en", nil); !strings.Contains(page, "No outages now.") {
		t.Error("closed outage still listed")
	}
	// The contest as GIS staff: open a season, then close it.
	gis := e.SignIn("gis@akimat.kz", accounts.GISStaff)
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

// The staff page runs a season in the browser's plain forms: open, take a nomination out,
// close and publish the winners, which the page then lists (kk/ru/en).
func TestYardStaffPageForms(t *testing.T) {
	e := webtest.NewSite(t)
	staff := e.SignInStaff("contest@akimat.kz")
	alice := e.SignIn("alice@example.kz", accounts.Citizen)
	bob := e.SignIn("bob@example.kz", accounts.Citizen)
	const formCT = "application/x-www-form-urlencoded"
	post := func(c webtest.Caller, path, body string) (int, string) {
		return e.Do(c, "POST", path, body, formCT)
	}
	// A resident may not run the contest.
	if code, _ := post(alice, "/staff/modules/yards/seasons", webtest.Form(alice, "season", "2026", "lang", "en")); code != 403 {
		t.Fatalf("resident opening a season: %d", code)
	}
	code, page := post(staff, "/staff/modules/yards/seasons", webtest.Form(staff, "season", "2026", "lang", "en"))
	if code != 200 || !strings.Contains(page, "Saved.") || !strings.Contains(page, "/staff/modules/yards/seasons/2026/close") {
		t.Fatalf("open season: %d %.2000s", code, page)
	}
	ids := map[string]int64{}
	for _, n := range []struct {
		who   webtest.Caller
		title string
	}{{alice, "Green yard"}, {bob, "Advert"}} {
		out := e.Want(n.who, "POST", "/api/modules/yards/nominations",
			fmt.Sprintf(`{"title":%q,"geometry":{"type":"Point","coordinates":[57.17,50.28]}}`, n.title), 201, n.title)
		var x struct{ ID int64 }
		json.Unmarshal([]byte(out), &x)
		ids[n.title] = x.ID
	}
	e.Want(bob, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", ids["Advert"]), "", 201, "voted")
	e.Want(alice, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", ids["Green yard"]), "", 201, "voted")

	// Moderation: a reason is required; then the nomination leaves the ranking with its vote.
	hide := fmt.Sprintf("/staff/modules/yards/nominations/%d/hide", ids["Advert"])
	if code, page := post(staff, hide, webtest.Form(staff, "reason", " ", "lang", "ru")); code != 400 || !strings.Contains(page, "reason is required") {
		t.Fatalf("hide without a reason: %d %.2000s", code, page)
	}
	if code, page := post(staff, hide, webtest.Form(staff, "reason", "реклама", "lang", "ru")); code != 200 || !strings.Contains(page, "Сохранено.") ||
		strings.Contains(page, "Advert") || !strings.Contains(page, "Green yard") {
		t.Fatalf("hide: %d %.3000s", code, page)
	}
	// A bad number of winners is named; then the season is closed and the winner published.
	closePath := "/staff/modules/yards/seasons/2026/close"
	if code, page := post(staff, closePath, webtest.Form(staff, "winners", "many", "lang", "en")); code != 400 || !strings.Contains(page, `winners &#34;many&#34; is not a whole number`) {
		t.Fatalf("close with bad winners: %d %.2000s", code, page)
	}
	// After closing, the page offers to open the next season (the city's clock is UTC+5).
	nextSeason := max(time.Now().In(time.FixedZone("UTC+5", 5*3600)).Year(), 2027)
	code, page = post(staff, closePath, webtest.Form(staff, "winners", "3", "lang", "kk"))
	if code != 200 || !strings.Contains(page, "Сақталды.") || !strings.Contains(page, "2026 маусымы жабылды. Жеңімпаздар:") ||
		!strings.Contains(page, fmt.Sprintf(`<li data-nomination="%d"><b>Green yard</b>`, ids["Green yard"])) ||
		!strings.Contains(page, "Маусымды ашу") || !strings.Contains(page, fmt.Sprintf(`name="season" value="%d"`, nextSeason)) {
		t.Fatalf("closed season on the staff page: %d %.4000s", code, page)
	}
	for lang, says := range map[string]string{"ru": "Сезон 2026 закрыт. Победители:", "en": "Season 2026 is closed. Winners:"} {
		e.Want(staff, "GET", "/staff/modules?lang="+lang, nil, 200, says)
	}
	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/ranking?season=2026", nil, 200, `"winner":true`)
}

// The audit page's method notes come from the catalog: the kk and ru pages hold none of the
// API's English sentences (the API keeps them in English).
func TestLightingAuditMethodTranslated(t *testing.T) {
	e := webtest.NewSite(t)
	e.Exec(`INSERT INTO layer.street_lights (geom, lamp_type, power_w, hours_per_year) VALUES
		(ST_SetSRID(ST_MakePoint(57.05, 50.05), 4326), 'HPS', 250, 4000),
		(ST_SetSRID(ST_MakePoint(57.06, 50.05), 4326), 'QXZ', 70, 4000)`)
	var a struct {
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(e.Want(webtest.Caller{}, "GET", "/api/modules/lighting/audit", nil, 200, `"notes"`)), &a); err != nil || len(a.Notes) != 3 {
		t.Fatalf("API notes: %v %q", err, a.Notes)
	}
	want := map[string][]string{
		"kk": {"Әдістеме", "QXZ"}, "ru": {"Методика", "QXZ"}, "en": {"Method", "QXZ"},
	}
	for lang, words := range want {
		page := e.Want(webtest.Caller{}, "GET", "/lighting/audit?lang="+lang, nil, 200, words[0])
		if !strings.Contains(page, words[1]) {
			t.Errorf("%s page does not name the lamp type without an LED equivalent", lang)
		}
		for _, note := range a.Notes {
			if english := strings.Contains(page, html.EscapeString(note)); english != (lang == "en") {
				t.Errorf("%s page: English note %q shown %v", lang, note, english)
			}
		}
		for _, key := range []string{"lighting.note_kwh", "lighting.note_led"} {
			if !strings.Contains(page, html.EscapeString(pages.Text(lang, key))) {
				t.Errorf("%s page lacks %s", lang, key)
			}
		}
	}
}
