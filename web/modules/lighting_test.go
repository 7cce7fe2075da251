package modules_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/web/webtest"
)

// The CSV export gives the same numbers as the hand-checked audit in layers/modules
// (TestLightingAudit): the same lamps, the same districts, tariff 25.
func TestLightingAuditCSVHandChecked(t *testing.T) {
	e := webtest.NewSite(t)
	var da, db int64
	for i, d := range []struct {
		x0               float64
		name, ru, kk, en string
	}{{57.0, "Astana", "Астанинский", "Астана", "Astana"}, {57.1, "Almaty", "Алматинский", "Алматы", "Almaty"}} {
		var id int64
		if err := e.Pool.QueryRow(t.Context(), `INSERT INTO layer.districts (geom, name, name_ru, name_kk, name_en)
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
		e.Exec(`INSERT INTO layer.street_lights (geom, lamp_type, power_w, hours_per_year)
			VALUES (ST_SetSRID(ST_MakePoint($1::float8, 50.05), 4326), $2, $3::int, $4::int)`, l.x, l.typ, l.power, l.hours)
	}
	code, body := e.Do(webtest.Caller{}, "GET", "/api/modules/lighting/audit.csv?tariff=25&lang=kk", nil)
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
	page := e.Want(webtest.Caller{}, "GET", "/lighting/audit?lang=en&tariff=25", nil, 200, "<td>LED 100 W</td>")
	if !strings.Contains(page, "<th scope=\"row\">XYZ 100 W</th><td>no LED equivalent</td>") {
		t.Errorf("unknown lamp type on the page:\n%.4000s", page)
	}
	// Names follow ?lang=.
	_, en := e.Do(webtest.Caller{}, "GET", "/api/modules/lighting/audit.csv?tariff=25&lang=en", nil)
	if !strings.Contains(en, ",Outside districts,1,") || !strings.Contains(en, "HPS 250 W → LED 100 W") || !strings.Contains(en, ",Total,6,") {
		t.Errorf("en csv:\n%s", en)
	}
}
