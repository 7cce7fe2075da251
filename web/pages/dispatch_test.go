package pages_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
	gtfsimport "github.com/aktobe/geoportal/layers/transit/gtfs"
	"github.com/aktobe/geoportal/web/webtest"
)

// The dispatchers' page lists a vehicle put off its route with links to the map and to its
// track; the track page draws the fixes, marks a teleport and refuses bad input.
func TestDispatchPages(t *testing.T) {
	ctx := context.Background()
	srv, ts := webtest.NewTransit(t)
	if _, _, err := importers.New(srv.Pool, nil).ImportGTFS(ctx, os.DirFS("../../layers/transit/gtfs/testdata/small"), "small", gtfsimport.Options{}, importers.Request{}); err != nil {
		t.Fatal(err)
	}
	off, offKey, err := srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: "off-1", Plate: "<i>OFF</i> 1", Route: "5"})
	if err != nil {
		t.Fatal(err)
	}
	on, onKey, err := srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: "on-1", Plate: "ON 1", Route: "5", LowFloor: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	// About 1.5 km north of route 5's line (which runs near latitude 50.286 there).
	if code, res := webtest.PostPositions(t, ts.URL, offKey, fmt.Sprintf(`{"positions":[{"time":%q,"lat":50.2990,"lon":57.1700,"heading":0}]}`,
		now.Add(-20*time.Second).Format(time.RFC3339))); code != 200 {
		t.Fatalf("post off-route fix: %d %v", code, res)
	}
	// Three fixes along the first stretch of the line (~26 km/h), then a jump of 5 km in 20 s.
	var fixes []string
	start := now.Add(-2 * time.Minute)
	for i := 0; i < 3; i++ {
		f := float64(i) * 0.2
		fixes = append(fixes, fmt.Sprintf(`{"time":%q,"lat":%.6f,"lon":%.6f,"speed_kmh":26,"heading":80}`,
			start.Add(time.Duration(i)*20*time.Second).Format(time.RFC3339), 50.28+0.0005*f, 57.13+0.01*f))
	}
	fixes = append(fixes, fmt.Sprintf(`{"time":%q,"lat":50.289,"lon":57.22,"speed_kmh":26,"heading":80}`,
		start.Add(60*time.Second).Format(time.RFC3339)))
	if code, res := webtest.PostPositions(t, ts.URL, onKey, `{"positions":[`+strings.Join(fixes, ",")+`]}`); code != 200 || res["flagged"] != float64(1) {
		t.Fatalf("post track: %d %v", code, res)
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	session := func(email string, role accounts.Role) string {
		u, err := srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: email, Role: role, Password: "a long enough password 3"})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	do := func(tok, path string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if tok != "" {
			req.Header.Set("Cookie", "geoportal_session="+tok)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}

	if code, loc, _ := do("", "/staff/dispatch"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("anonymous: %d %s", code, loc)
	}
	if code, _, _ := do(session("citizen@example.kz", accounts.Citizen), "/staff/dispatch"); code != http.StatusForbidden {
		t.Fatalf("citizen: %d", code)
	}
	tok := session("dispatch@example.kz", accounts.Dispatcher)

	// The live hub learns of the fixes through NOTIFY: wait for the map link.
	mapLink := fmt.Sprintf("vehicle=%d", off.ID)
	var page string
	for deadline := time.Now().Add(10 * time.Second); ; {
		var code int
		code, _, page = do(tok, "/staff/dispatch?lang=ru")
		if code != 200 {
			t.Fatalf("dispatch page: %d\n%.2000s", code, page)
		}
		if strings.Contains(page, mapLink) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	row := regexp.MustCompile(fmt.Sprintf(`(?s)<table id="off-route">.*?<tr data-vehicle="%d">(.*?)</tr>`, off.ID)).FindStringSubmatch(page)
	if row == nil {
		t.Fatalf("no off-route row for vehicle %d:\n%s", off.ID, page)
	}
	for _, want := range []string{"<td>5</td>", "&lt;i&gt;OFF&lt;/i&gt; 1", mapLink, fmt.Sprintf("/staff/dispatch/track?vehicle=%d&amp;lang=ru", off.ID), "На карте", "Трек"} {
		if !strings.Contains(row[1], want) {
			t.Errorf("off-route row lacks %q:\n%s", want, row[1])
		}
	}
	if m := regexp.MustCompile(`<td class="num">(\d{1,3}(?:\x{00a0}\d{3})+)</td>`).FindStringSubmatch(row[1]); m == nil {
		t.Errorf("distance from the route: %v (want over 1000 m)", m)
	}
	if strings.Contains(page, "<i>OFF</i>") {
		t.Error("the plate is not escaped")
	}
	if !strings.Contains(page, "Сход с маршрута") || !strings.Contains(page, `lang="ru"`) {
		t.Error("the page is not in Russian")
	}
	// The vehicle on its line is not off route.
	offTable := regexp.MustCompile(`(?s)<table id="off-route">.*?</table>`).FindString(page)
	if strings.Contains(offTable, fmt.Sprintf(`data-vehicle="%d"`, on.ID)) {
		t.Error("the vehicle on its line is listed off route")
	}
	_, _, page = do(tok, "/staff/dispatch?lang=kk&route=12")
	if strings.Contains(page, fmt.Sprintf(`data-vehicle="%d"`, off.ID)) || !strings.Contains(page, "Бағыттан ауытқу") {
		t.Error("route filter or Kazakh text")
	}
	_, _, page = do(tok, "/staff/dispatch?lang=en")
	if !strings.Contains(page, "Vehicles off their route") {
		t.Error("English text")
	}

	// The track page.
	q := url.Values{"vehicle": {fmt.Sprint(on.ID)}, "lang": {"ru"},
		"from": {start.Add(-time.Minute).In(time.FixedZone("", 5*3600)).Format("2006-01-02T15:04")},
		"to":   {now.Add(time.Minute).In(time.FixedZone("", 5*3600)).Format("2006-01-02T15:04")}}
	code, _, page := do(tok, "/staff/dispatch/track?"+q.Encode())
	if code != 200 {
		t.Fatalf("track page: %d\n%.3000s", code, page)
	}
	for _, want := range []string{`data-drawn="3"`, `data-flagged="1"`, `id="track-line" d="M`, `class="route-line"`, "animateMotion",
		"скачок", "Отметки: 4", fmt.Sprintf("/api/vehicles/%d/track?from=", on.ID), "ON 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("track page lacks %q", want)
		}
	}
	if n := strings.Count(page, `<tr class="flagged">`); n != 1 {
		t.Errorf("%d flagged rows, want 1", n)
	}
	// Each drawn point lies inside the picture.
	d := regexp.MustCompile(`id="track-line" d="([^"]+)"`).FindStringSubmatch(page)[1]
	for _, xy := range regexp.MustCompile(`(-?[\d.]+) (-?[\d.]+)`).FindAllStringSubmatch(d, -1) {
		var x, y float64
		fmt.Sscan(xy[1], &x)
		fmt.Sscan(xy[2], &y)
		if x < 0 || x > 640 || y < 0 || y > 420 {
			t.Errorf("track point %v outside the picture", xy[0])
		}
	}
	// A range without fixes says so.
	q.Set("to", start.Add(-30*time.Second).In(time.FixedZone("", 5*3600)).Format("2006-01-02T15:04"))
	q.Set("from", start.Add(-50*time.Minute).In(time.FixedZone("", 5*3600)).Format("2006-01-02T15:04"))
	if code, _, page := do(tok, "/staff/dispatch/track?"+q.Encode()); code != 200 || !strings.Contains(page, `id="no-fixes"`) {
		t.Errorf("empty range: %d", code)
	}

	// Bad input gets the page with a clear error.
	for path, want := range map[string]int{
		"/staff/dispatch/track?vehicle=abc&lang=en":                                                              400,
		"/staff/dispatch/track?vehicle=999999&lang=en":                                                           404,
		fmt.Sprintf("/staff/dispatch/track?vehicle=%d&from=yesterday&lang=en", on.ID):                            400,
		fmt.Sprintf("/staff/dispatch/track?vehicle=%d&from=2026-01-02T10:00&to=2026-01-01T10:00&lang=en", on.ID): 400,
		fmt.Sprintf("/staff/dispatch/track?vehicle=%d&from=2026-01-01T10:00&to=2026-03-01T10:00&lang=en", on.ID): 400,
	} {
		code, _, page := do(tok, path)
		if code != want || !strings.Contains(page, `class="error" role="alert"`) {
			t.Errorf("%s: %d, want %d with an error", path, code, want)
		}
	}
	if code, _, page := do(tok, "/staff/dispatch/track?vehicle=abc&lang=en"); code != 400 || !strings.Contains(page, `vehicle &#34;abc&#34; is not a vehicle number`) {
		t.Errorf("error text: %d %s", code, page)
	}
	if code, _, _ := do("", fmt.Sprintf("/staff/dispatch/track?vehicle=%d", on.ID)); code != http.StatusSeeOther {
		t.Errorf("anonymous track: %d", code)
	}
}
