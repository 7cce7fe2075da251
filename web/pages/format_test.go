package pages_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/pages"
	"github.com/aktobe/geoportal/web/webtest"
)

const nb = "\u00a0" // the no-break space between thousands and before "%"

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		lang     string
		v        float64
		decimals int
		want     string
	}{
		{"kk", 4080, 0, "4" + nb + "080"},
		{"ru", 4080, 0, "4" + nb + "080"},
		{"en", 4080, 0, "4,080"},
		{"kk", 336.44, 1, "336,4"},
		{"ru", 336.44, 1, "336,4"},
		{"en", 336.44, 1, "336.4"},
		{"kk", 542154, 0, "542" + nb + "154"},
		{"en", 1234567.25, 2, "1,234,567.25"},
		{"kk", 12.50, 2, "12,5"},
		{"kk", 999, 0, "999"},
		{"kk", -24800, 0, "-24" + nb + "800"},
		{"en", -0.04, 1, "0"},
	} {
		if got := pages.FormatNumber(tc.lang, tc.v, tc.decimals); got != tc.want {
			t.Errorf("FormatNumber(%s, %v, %d) = %q, want %q", tc.lang, tc.v, tc.decimals, got, tc.want)
		}
	}
}

func TestFormatPercentYearPlural(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{pages.FormatPercent("kk", 0.701, 1), "70,1" + nb + "%"},
		{pages.FormatPercent("ru", 0.701, 1), "70,1" + nb + "%"},
		{pages.FormatPercent("en", 0.701, 1), "70.1%"},
		{pages.FormatPercent("kk", 1, 0), "100" + nb + "%"},
		{pages.FormatPercent("ru", -0.0001, 1), "0,0" + nb + "%"},
		{pages.FormatYear(2026), "2026"},
		{pages.Plural("ru", 1, "камера", "камеры", "камер"), "камера"},
		{pages.Plural("ru", 3, "камера", "камеры", "камер"), "камеры"},
		{pages.Plural("ru", 5, "камера", "камеры", "камер"), "камер"},
		{pages.Plural("ru", 11, "камера", "камеры", "камер"), "камер"},
		{pages.Plural("ru", 21, "камера", "камеры", "камер"), "камера"},
		{pages.Plural("ru", 112, "камера", "камеры", "камер"), "камер"},
		{pages.Plural("ru", 24, "камера", "камеры", "камер"), "камеры"},
		{pages.Plural("en", 1, "camera", "cameras", "cameras"), "camera"},
		{pages.Plural("en", 2, "camera", "cameras", "cameras"), "cameras"},
		{pages.Plural("kk", 1, "камера", "камера", "камера"), "камера"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// Dates are on the city's clock (Asia/Aqtobe, UTC+5) with the month named in the language.
func TestFormatDate(t *testing.T) {
	at := time.Date(2026, 12, 6, 20, 50, 0, 0, time.UTC) // 01:50 on 7 December in Aktobe
	for _, tc := range []struct{ got, want string }{
		{pages.FormatDate("kk", at), "7 желтоқсан 2026 ж."},
		{pages.FormatDate("ru", at), "7 декабря 2026 г."},
		{pages.FormatDate("en", at), "7 December 2026"},
		{pages.FormatDateTime("kk", at), "7 желтоқсан 2026 ж., 01:50"},
		{pages.FormatDate("kk", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), "1 наурыз 2026 ж."},
		{pages.FormatMonth("kk", 2026, time.December), "2026 ж. желтоқсан"},
		{pages.FormatMonth("ru", 2026, time.December), "декабрь 2026"},
		{pages.FormatMonth("en", 2026, time.May), "May 2026"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// The staff report page names a list answer by the category's words, not its key, and the
// reporter in the history in the page's language.
func TestStaffReportAnswersInWords(t *testing.T) {
	e := webtest.NewSite(t)
	e.Exec(`INSERT INTO layer.city_boundary (geom, name) VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`)
	e.Srv.Reports.Difficulty = 6
	rep, _, err := e.Srv.Reports.Create(context.Background(), reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
		Description: "Яма у остановки", Attributes: map[string]string{"size": "large"}})
	if err != nil {
		t.Fatal(err)
	}
	staff := e.SignIn("roads@akimat.kz", accounts.Admin)
	for _, tc := range []struct{ lang, answer, actor string }{
		{"kk", "Өлшемі: Үлкен", "<td>Өтініш беруші</td>"},
		{"ru", "Размер: Большая", "<td>Заявитель</td>"},
		{"en", "Size: Large", "<td>Reporter</td>"},
	} {
		page := e.Want(staff, "GET", "/staff/reports/"+strconv.FormatInt(rep.ID, 10)+"?lang="+tc.lang, nil, 200, tc.answer)
		if !strings.Contains(page, tc.actor) || strings.Contains(page, "size: large") || strings.Contains(page, "<td>reporter</td>") {
			t.Errorf("%s: the history names the reporter as it is stored:\n%.4000s", tc.lang, page)
		}
	}
}

// The admin page's audit log is on the city's clock, as the report pages are.
func TestAdminAuditInCityTime(t *testing.T) {
	e := webtest.NewSite(t)
	admin := e.SignIn("admin@akimat.kz", accounts.Admin)
	e.Exec(`INSERT INTO auth.audit_log (at, actor, action) VALUES ('2026-12-06T20:50:00Z', 'admin@akimat.kz', 'test.night')`)
	page := e.Want(admin, "GET", "/admin?lang=ru", nil, 200, "test.night")
	if !strings.Contains(page, "<td>2026-12-07 01:50</td>") || regexp.MustCompile(`\d\d:\d\d UTC`).MatchString(page) {
		t.Errorf("audit log not in city time (want 2026-12-07 01:50):\n%.6000s", page)
	}
}

// The statistics page names months in the page's language ("2026 ж. желтоқсан", not "2026-12")
// and writes its counts with the formatter.
func TestReportStatsMonthNames(t *testing.T) {
	e := webtest.NewSite(t)
	e.Exec(`INSERT INTO layer.city_boundary (geom, name) VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`)
	e.Srv.Reports.Difficulty = 6
	if _, _, err := e.Srv.Reports.Create(context.Background(), reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
		Description: "Яма"}); err != nil {
		t.Fatal(err)
	}
	var month time.Time
	if err := e.Pool.QueryRow(context.Background(), `SELECT requested_at FROM layer.citizen_reports LIMIT 1`).Scan(&month); err != nil {
		t.Fatal(err)
	}
	month = month.In(time.FixedZone("Aktobe", 5*3600))
	for _, lang := range []string{"kk", "ru", "en"} {
		want := pages.FormatMonth(lang, month.Year(), month.Month())
		page := e.Want(webtest.Caller{}, "GET", "/reports/stats?lang="+lang, nil, 200, want)
		if strings.Contains(page, ">"+month.Format("2006-01")+"<") {
			t.Errorf("%s: the month is shown as its key:\n%.3000s", lang, page)
		}
	}
}
