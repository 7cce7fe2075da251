package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/accounts"
)

// The map's view of the contest: every season (open, then closed with winners) and the
// resident's own vote and nominations.
func TestYardSeasonsAndMine(t *testing.T) {
	e := newModulesEnv(t)
	staff := e.signInStaff("contest@akimat.kz")
	alice := e.signIn("alice@example.kz", accounts.Citizen)
	bob := e.signIn("bob@example.kz", accounts.Citizen)
	e.want(caller{}, "GET", "/api/modules/yards/seasons", nil, 200, `{"seasons":[]}`)
	e.want(staff, "POST", "/api/modules/yards/seasons", `{"season":2025}`, 201, `"status":"open"`)
	e.want(staff, "POST", "/api/modules/yards/seasons/2025/close", `{"winners":1}`, 200, `"status":"closed"`)
	e.want(staff, "POST", "/api/modules/yards/seasons", `{"season":2026}`, 201, `"status":"open"`)

	e.want(caller{}, "GET", "/api/modules/yards/mine?season=2026", nil, 401, "sign in")
	e.want(alice, "GET", "/api/modules/yards/mine?season=x", nil, 400, `season \"x\" is not a year`)
	e.want(alice, "GET", "/api/modules/yards/mine?season=1990", nil, 404, "no best-yard season 1990")
	e.want(alice, "GET", "/api/modules/yards/mine?season=2026", nil, 200, `{"season":2026,"voted_for":null,"nominations":[],"nominations_left":3}`)

	out := e.want(alice, "POST", "/api/modules/yards/nominations",
		`{"title":"Двор на Абая 5","geometry":{"type":"Polygon","coordinates":[[[57.1,50.2],[57.101,50.2],[57.101,50.201],[57.1,50.201],[57.1,50.2]]]}}`, 201, `"Двор на Абая 5"`)
	var nom struct{ ID int64 }
	json.Unmarshal([]byte(out), &nom)
	e.want(alice, "GET", "/api/modules/yards/mine?season=2026", nil, 200,
		fmt.Sprintf(`{"season":2026,"voted_for":null,"nominations":[%d],"nominations_left":2}`, nom.ID))
	e.want(bob, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", nom.ID), "", 201, "voted")
	e.want(bob, "GET", "/api/modules/yards/mine?season=2026", nil, 200, fmt.Sprintf(`"voted_for":%d`, nom.ID))
	e.want(bob, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", nom.ID), "", 409, "already voted")

	// Latest first: the open 2026, then 2025 (closed without nominations, so without winners).
	var seasons struct {
		Seasons []struct {
			Season  int
			Status  string
			Winners []int64
		}
	}
	json.Unmarshal([]byte(e.want(caller{}, "GET", "/api/modules/yards/seasons", nil, 200, "seasons")), &seasons)
	if len(seasons.Seasons) != 2 || seasons.Seasons[0].Season != 2026 || seasons.Seasons[0].Status != "open" ||
		seasons.Seasons[1].Season != 2025 || seasons.Seasons[1].Status != "closed" || len(seasons.Seasons[1].Winners) != 0 {
		t.Fatalf("seasons = %+v", seasons)
	}
	e.want(staff, "POST", "/api/modules/yards/seasons/2026/close", `{"winners":3}`, 200, fmt.Sprintf(`"winners":[%d]`, nom.ID))
	json.Unmarshal([]byte(e.want(caller{}, "GET", "/api/modules/yards/seasons", nil, 200, "seasons")), &seasons)
	if seasons.Seasons[0].Status != "closed" || len(seasons.Seasons[0].Winners) != 1 || seasons.Seasons[0].Winners[0] != nom.ID {
		t.Fatalf("closed season = %+v", seasons.Seasons[0])
	}
}

// signInStaff signs in a department's staff member: the role that runs the contest in the city.
func (e *modulesEnv) signInStaff(email string) caller {
	e.t.Helper()
	ctx := e.t.Context()
	u, err := e.srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: email, Role: accounts.DepartmentStaff, Department: "social",
		Password: "a long enough password 3"})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return caller{token: tok, csrf: accounts.CSRFToken(tok)}
}

func form(c caller, kv ...string) string {
	v := url.Values{"csrf_token": {c.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// The staff page runs a season in the browser's plain forms: open, take a nomination out,
// close and publish the winners, which the page then lists (kk/ru/en).
func TestYardStaffPageForms(t *testing.T) {
	e := newModulesEnv(t)
	staff := e.signInStaff("contest@akimat.kz")
	alice := e.signIn("alice@example.kz", accounts.Citizen)
	bob := e.signIn("bob@example.kz", accounts.Citizen)
	const formCT = "application/x-www-form-urlencoded"
	post := func(c caller, path, body string) (int, string) {
		return e.do(c, "POST", path, body, formCT)
	}
	// A resident may not run the contest.
	if code, _ := post(alice, "/staff/modules/yards/seasons", form(alice, "season", "2026", "lang", "en")); code != 403 {
		t.Fatalf("resident opening a season: %d", code)
	}
	code, page := post(staff, "/staff/modules/yards/seasons", form(staff, "season", "2026", "lang", "en"))
	if code != 200 || !strings.Contains(page, "Saved.") || !strings.Contains(page, "/staff/modules/yards/seasons/2026/close") {
		t.Fatalf("open season: %d %.2000s", code, page)
	}
	ids := map[string]int64{}
	for _, n := range []struct {
		who   caller
		title string
	}{{alice, "Green yard"}, {bob, "Advert"}} {
		out := e.want(n.who, "POST", "/api/modules/yards/nominations",
			fmt.Sprintf(`{"title":%q,"geometry":{"type":"Point","coordinates":[57.17,50.28]}}`, n.title), 201, n.title)
		var x struct{ ID int64 }
		json.Unmarshal([]byte(out), &x)
		ids[n.title] = x.ID
	}
	e.want(bob, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", ids["Advert"]), "", 201, "voted")
	e.want(alice, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", ids["Green yard"]), "", 201, "voted")

	// Moderation: a reason is required; then the nomination leaves the ranking with its vote.
	hide := fmt.Sprintf("/staff/modules/yards/nominations/%d/hide", ids["Advert"])
	if code, page := post(staff, hide, form(staff, "reason", " ", "lang", "ru")); code != 400 || !strings.Contains(page, "reason is required") {
		t.Fatalf("hide without a reason: %d %.2000s", code, page)
	}
	if code, page := post(staff, hide, form(staff, "reason", "реклама", "lang", "ru")); code != 200 || !strings.Contains(page, "Сохранено.") ||
		strings.Contains(page, "Advert") || !strings.Contains(page, "Green yard") {
		t.Fatalf("hide: %d %.3000s", code, page)
	}
	// A bad number of winners is named; then the season is closed and the winner published.
	closePath := "/staff/modules/yards/seasons/2026/close"
	if code, page := post(staff, closePath, form(staff, "winners", "many", "lang", "en")); code != 400 || !strings.Contains(page, `winners &#34;many&#34; is not a whole number`) {
		t.Fatalf("close with bad winners: %d %.2000s", code, page)
	}
	// After closing, the page offers to open the next season (the city's clock is UTC+5).
	nextSeason := max(time.Now().In(time.FixedZone("UTC+5", 5*3600)).Year(), 2027)
	code, page = post(staff, closePath, form(staff, "winners", "3", "lang", "kk"))
	if code != 200 || !strings.Contains(page, "Сақталды.") || !strings.Contains(page, "2026 маусымы жабылды. Жеңімпаздар:") ||
		!strings.Contains(page, fmt.Sprintf(`<li data-nomination="%d"><b>Green yard</b>`, ids["Green yard"])) ||
		!strings.Contains(page, "Маусымды ашу") || !strings.Contains(page, fmt.Sprintf(`name="season" value="%d"`, nextSeason)) {
		t.Fatalf("closed season on the staff page: %d %.4000s", code, page)
	}
	for lang, says := range map[string]string{"ru": "Сезон 2026 закрыт. Победители:", "en": "Season 2026 is closed. Winners:"} {
		e.want(staff, "GET", "/staff/modules?lang="+lang, nil, 200, says)
	}
	e.want(caller{}, "GET", "/api/modules/yards/ranking?season=2026", nil, 200, `"winner":true`)
}

// The CSV export gives the same numbers as the hand-checked audit in layers/modules
// (TestLightingAudit): the same lamps, the same districts, tariff 25.
func TestLightingAuditCSVHandChecked(t *testing.T) {
	e := newModulesEnv(t)
	var da, db int64
	for i, d := range []struct {
		x0               float64
		name, ru, kk, en string
	}{{57.0, "Astana", "Астанинский", "Астана", "Astana"}, {57.1, "Almaty", "Алматинский", "Алматы", "Almaty"}} {
		var id int64
		if err := e.pool.QueryRow(t.Context(), `INSERT INTO layer.districts (geom, name, name_ru, name_kk, name_en)
			VALUES (ST_Multi(ST_MakeEnvelope($1, 50.0, $2, 50.1, 4326)), $3, $4, $5, $6) RETURNING id`,
			d.x0, d.x0+0.1, d.name, d.ru, d.kk, d.en).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			da = id
		} else {
			db = id
		}
	}
	for _, l := range []struct {
		x     float64
		typ   any
		power any
		hours any
	}{
		{57.01, "HPS", 250, 4000}, // 1000 kWh; LED 100 W → 400; saving 600
		{57.02, "HPS", 250, 4000}, // the same
		{57.03, "LED", 100, 4000}, // 400 kWh, no saving
		{57.11, "MH", 150, 3000},  // 450 kWh; LED 60 W → 180; saving 270
		{57.12, "hps", 175, 4000}, // 700 kWh; LED 40 % = 70 W → 280; saving 420
		{58.50, "XYZ", 100, 1000}, // outside the districts; unknown type: 100 kWh, no saving
		{57.04, "HPS", nil, 4000}, // no power: left out
	} {
		e.exec(`INSERT INTO layer.street_lights (geom, lamp_type, power_w, hours_per_year)
			VALUES (ST_SetSRID(ST_MakePoint($1::float8, 50.05), 4326), $2, $3::int, $4::int)`, l.x, l.typ, l.power, l.hours)
	}
	code, body := e.do(caller{}, "GET", "/api/modules/lighting/audit.csv?tariff=25&lang=kk", nil)
	if code != 200 || !strings.HasPrefix(body, "\ufeffsection,") {
		t.Fatalf("csv: %d %.300q", code, body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Join(rows[0], ",")
	if header != "section,key,name,lamps,power_kw,kwh_year,cost_kzt,led_kwh_year,saving_kwh_year,saving_kzt,saving_share,tariff_kzt_per_kwh" {
		t.Fatalf("header = %s", header)
	}
	got := map[string][]string{}
	for _, r := range rows[1:] {
		got[r[0]+"/"+r[1]] = r[2:]
	}
	// name, lamps, kW, kWh, cost, LED kWh, saving kWh, saving KZT, share, tariff — all by hand:
	// kWh × 25 KZT; HPS lamps 2700 kWh, saving 600+600+420 = 1620 (60 %).
	want := map[string]string{
		fmt.Sprintf("district/%d", da): "Астана,3,0.6,2400,60000,1200,1200,30000,0.5,25",
		fmt.Sprintf("district/%d", db): "Алматы,2,0.325,1150,28750,460,690,17250,0.6,25",
		"district/outside":             "Аудандардан тыс,1,0.1,100,2500,100,0,0,0,25",
		"lamp_type/HPS":                "Натрий шамдары (ДНаТ),3,0.675,2700,67500,1080,1620,40500,0.6,25",
		"lamp_type/MH":                 "Металлогалоген шамдары,1,0.15,450,11250,180,270,6750,0.6,25",
		"lamp_type/LED":                "Жарықдиодты (LED),1,0.1,400,10000,400,0,0,0,25",
		"lamp_type/XYZ":                "XYZ,1,0.1,100,2500,100,0,0,0,25",
		"total/total":                  "Барлығы,6,1.025,3650,91250,1760,1890,47250,0.5178,25",
		"led_replacement/HPS 250":      "HPS 250 Вт → LED 100 Вт,2,0.5,,,,1200,30000,,25",
		"led_replacement/HPS 175":      "HPS 175 Вт → LED 70 Вт,1,0.175,,,,420,10500,,25",
		"led_replacement/MH 150":       "MH 150 Вт → LED 60 Вт,1,0.15,,,,270,6750,,25",
		"led_replacement/LED 100":      "LED 100 Вт → LED 100 Вт,1,0.1,,,,0,0,,25",
		"led_replacement/XYZ 100":      "XYZ 100 Вт: жарықдиодты баламасы жоқ,1,0.1,,,,0,0,,25",
		"without_data/":                "Қуаты немесе жану сағаты жоқ шамдар (есептелмеді),1,,,,,,,,25",
	}
	for k, w := range want {
		if g := strings.Join(got[k], ","); g != w {
			t.Errorf("%s = %s\n%*s want %s", k, g, len(k), "", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d:\n%s", len(got), len(want), body)
	}
	// Rows in the order of the page: districts, lamp types by consumption, the total, replacements.
	if rows[1][1] != fmt.Sprint(da) || rows[3][1] != "outside" || rows[4][1] != "HPS" || rows[8][0] != "total" || rows[9][1] != "HPS 250" {
		t.Errorf("row order:\n%s", body)
	}
	// The printable page names the LED replacement, or says a lamp type has none.
	page := e.want(caller{}, "GET", "/lighting/audit?lang=en&tariff=25", nil, 200, "<td>LED 100 W</td>")
	if !strings.Contains(page, "<th scope=\"row\">XYZ 100 W</th><td>no LED equivalent</td>") {
		t.Errorf("unknown lamp type on the page:\n%.4000s", page)
	}
	// Names follow ?lang=.
	_, en := e.do(caller{}, "GET", "/api/modules/lighting/audit.csv?tariff=25&lang=en", nil)
	if !strings.Contains(en, ",Outside districts,1,") || !strings.Contains(en, "HPS 250 W → LED 100 W") || !strings.Contains(en, ",Total,6,") {
		t.Errorf("en csv:\n%s", en)
	}
}
