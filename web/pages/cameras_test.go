package pages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/webtest"
)

func cameraForm(kv ...string) url.Values {
	v := url.Values{"lon": {"57.2"}, "lat": {"50.3"}, "name": {"Дүкен «Береке»"}, "heading": {"90"}, "fov": {"60"},
		"range_m": {"40"}, "height_m": {"3"}, "films": {"street"}, "retention_days": {"14"}, "contact": {"+7 700 000 0000"},
		"consent_police": {"1"}, "consent_coverage": {"1"}, "show_public": {"1"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// The owners' page registers, edits and withdraws with plain forms; a refused form comes back
// with the error next to the field it names and nothing stored; safe-city staff decide on the
// moderation page and see the decision in the history; the incident page finds the camera.
func TestCameraPages(t *testing.T) {
	e := webtest.NewSite(t)
	form := e.Page
	count := func(sql string) int {
		var n int
		if err := e.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if code, loc, _ := form(webtest.Caller{}, "/cameras", nil); code != 303 || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("anonymous: %d %s", code, loc)
	}
	alice := e.SignIn("alice@example.kz", accounts.Citizen)
	code, _, page := form(alice, "/cameras?lang=kk", nil)
	if code != 200 || !strings.Contains(page, "Менің камераларым «Қауіпсіз қалада»") || !strings.Contains(page, `id="camera-map"`) {
		t.Fatalf("owners' page: %d\n%.1500s", code, page)
	}
	// Bad input: the error at its field, the form as sent, nothing stored.
	for _, tc := range []struct {
		name, field, says string
		v                 url.Values
	}{
		{"fov over 360", "fov", "Көру бұрышы 0°-тан үлкен", cameraForm("fov", "400", "lang", "kk")},
		{"range 0", "range_m", "Дальность должна быть больше 0", cameraForm("range_m", "0", "lang", "ru")},
		{"no police consent", "consent_police", "consent to police requests", cameraForm("consent_police", "", "lang", "en")},
		{"heading not a number", "heading", "The heading must be", cameraForm("heading", "east", "lang", "en")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, page := form(alice, "/cameras", tc.v)
			if code != 400 || !strings.Contains(page, `id="err-`+tc.field+`"`) || !strings.Contains(page, tc.says) ||
				!strings.Contains(page, `aria-describedby="err-`+tc.field+`"`) || !strings.Contains(page, `value="Дүкен «Береке»"`) {
				t.Fatalf("%d\n%.4000s", code, page)
			}
		})
	}
	if n := count(`SELECT count(*) FROM modules.private_cameras`); n != 0 {
		t.Fatalf("%d registrations stored from refused forms", n)
	}
	// Outside the city (when the city has a boundary).
	e.Exec(`INSERT INTO layer.city_boundary (geom) VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.0, 57.4, 50.5, 4326)))`)
	if code, _, page := form(alice, "/cameras", cameraForm("lon", "60", "lang", "en")); code != 400 || !strings.Contains(page, "outside the city: place the camera inside it") {
		t.Fatalf("outside: %d\n%.3000s", code, page)
	}
	if code, loc, _ := form(alice, "/cameras", cameraForm("lang", "ru")); code != 303 || !strings.Contains(loc, "msg=saved") {
		t.Fatalf("register: %d %s", code, loc)
	}
	var id int64
	e.Pool.QueryRow(context.Background(), `SELECT id FROM modules.private_cameras`).Scan(&id)
	if _, _, page := form(alice, "/cameras?lang=ru", nil); !strings.Contains(page, "На проверке") || !strings.Contains(page, fmt.Sprintf(`data-camera="%d"`, id)) {
		t.Fatalf("my cameras:\n%.4000s", page)
	}
	// The same camera twice is refused at the position.
	if code, _, page := form(alice, "/cameras", cameraForm("lang", "en")); code != 409 || !strings.Contains(page, `id="err-position"`) || !strings.Contains(page, "already registered a camera here") {
		t.Fatalf("duplicate: %d\n%.3000s", code, page)
	}
	// Someone else's camera: 403, nothing changed.
	bob := e.SignIn("bob@example.kz", accounts.Citizen)
	if code, _, page := form(bob, fmt.Sprintf("/cameras/%d/withdraw", id), url.Values{"lang": {"en"}}); code != 403 || !strings.Contains(page, "another owner") {
		t.Fatalf("bob withdraws alice's: %d\n%.2000s", code, page)
	}
	if code, _, _ := form(bob, fmt.Sprintf("/cameras/%d", id), cameraForm("name", "mine now")); code != 403 {
		t.Fatalf("bob edits alice's: %d", code)
	}
	// Edit: the form comes prefilled.
	if _, _, page := form(alice, fmt.Sprintf("/cameras?edit=%d&lang=en", id), nil); !strings.Contains(page, fmt.Sprintf(`action="/cameras/%d"`, id)) || !strings.Contains(page, `value="40"`) {
		t.Fatalf("edit form:\n%.3000s", page)
	}
	if code, _, _ := form(alice, fmt.Sprintf("/cameras/%d", id), cameraForm("range_m", "55", "lang", "en")); code != 303 {
		t.Fatalf("edit: %d", code)
	}

	// Moderation: only Safe City staff.
	if code, _, _ := form(alice, "/staff/cameras", nil); code != 403 {
		t.Fatalf("citizen on the staff page: %d", code)
	}
	if code, _, _ := form(e.SignInStaff("social@akimat.kz"), "/staff/cameras", nil); code != 403 {
		t.Fatalf("social staff on the staff page: %d", code)
	}
	// A city camera 2 m away looking nearly the same way is a duplicate to look at.
	e.Exec(`INSERT INTO layer.cameras (geom, name, status, heading, fov, range_m)
		VALUES (ST_SetSRID(ST_MakePoint(57.20002, 50.30001), 4326), 'City 77', 'installed', 100, 90, 60)`)
	staff := e.SignInDepartment("operator@safecity.kz", "safe_city")
	code, _, page = form(staff, "/staff/cameras?lang=ru", nil)
	if code != 200 || !strings.Contains(page, "Модерация частных камер") || !strings.Contains(page, "alice@example.kz") || !strings.Contains(page, `class="mini-map"`) ||
		!strings.Contains(page, `<li data-kind="city">Городская камера`) || !strings.Contains(page, "City 77") || !strings.Contains(page, `&#34;kind&#34;:&#34;city&#34;`) {
		t.Fatalf("staff page: %d\n%.5000s", code, page)
	}
	decide := fmt.Sprintf("/staff/cameras/%d/decision", id)
	if code, _, page := form(staff, decide, url.Values{"decision": {"reject"}, "lang": {"en"}}); code != 400 || !strings.Contains(page, `id="err-reason"`) {
		t.Fatalf("reject without reason: %d\n%.3000s", code, page)
	}
	if n := count(`SELECT count(*) FROM layer.private_cameras`); n != 0 {
		t.Fatalf("on the map before approval: %d", n)
	}
	if code, loc, _ := form(staff, decide, url.Values{"decision": {"approve"}, "lang": {"en"}}); code != 303 || !strings.Contains(loc, "msg=saved") {
		t.Fatalf("approve: %d %s", code, loc)
	}
	if n := count(`SELECT count(*) FROM layer.private_cameras`); n != 1 {
		t.Fatalf("public layer after approval: %d", n)
	}
	if _, _, page := form(staff, "/staff/cameras?lang=ru", nil); !strings.Contains(page, `data-action="private_camera.approve"`) || !strings.Contains(page, "Одобрена") {
		t.Fatalf("history:\n%.5000s", page)
	}
	// The incident lookup: a place 20 m east of the camera (heading 90, range 55) sees it.
	code, _, page = form(staff, "/staff/cameras/incident?lang=en&lon=57.20025&lat=50.3&from=2026-12-01T10:00&to=2026-12-01T11:00", nil)
	if code != 200 || !strings.Contains(page, fmt.Sprintf(`data-kind="private" data-camera="%d"`, id)) || !strings.Contains(page, "7 700 000 0000") {
		t.Fatalf("incident: %d\n%.4000s", code, page)
	}
	if code, _, page := form(staff, "/staff/cameras/incident?lang=en&lon=57.2&lat=50.3&from=yesterday&to=2026-12-01T11:00", nil); code != 400 || !strings.Contains(page, `id="err-from"`) {
		t.Fatalf("bad from: %d\n%.3000s", code, page)
	}
	// Withdrawal: gone from both layers; a later approval is refused.
	if code, loc, _ := form(alice, fmt.Sprintf("/cameras/%d/withdraw", id), url.Values{"lang": {"en"}}); code != 303 || !strings.Contains(loc, "withdrawn") {
		t.Fatalf("withdraw: %d %s", code, loc)
	}
	if n := count(`SELECT (SELECT count(*) FROM layer.private_cameras) + (SELECT count(*) FROM layer.private_cameras_staff)`); n != 0 {
		t.Fatalf("layers after withdrawal: %d", n)
	}
	if code, _, page := form(staff, decide, url.Values{"decision": {"approve"}, "lang": {"en"}}); code != 409 || !strings.Contains(page, "withdrawn") {
		t.Fatalf("approve withdrawn: %d\n%.2000s", code, page)
	}
}

// The public layer's tiles follow the registrations at once: approved (shown) the camera is in
// the tile of its place at the layer's new version, withdrawn it is not, and an earlier tile is
// not served for the new version.
func TestCameraTilesFresh(t *testing.T) {
	e := webtest.NewSite(t)
	alice := e.SignIn("alice@example.kz", accounts.Citizen)
	admin := e.SignIn("safecity@akimat.kz", accounts.Admin)
	cam := `{"lon":57.2,"lat":50.3,"name":"Дүкен","heading":90,"fov":60,"range_m":50,"height_m":3,"films":"street","retention_days":7,"contact":"+7 700","consent_police":true,"consent_coverage":true,"show_public":true}`
	var c struct{ ID int64 }
	json.Unmarshal([]byte(e.Want(alice, "POST", "/api/modules/cameras", cam, 201, `"status":"pending"`)), &c)
	// z16 tile of (57.2, 50.3).
	const z, x, y = 16, 43180, 22140
	tile := func() (int64, int) {
		t.Helper()
		var l struct{ Version int64 }
		json.Unmarshal([]byte(e.Want(webtest.Caller{}, "GET", "/api/layers/private_cameras", nil, 200, `"slug":"private_cameras"`)), &l)
		code, body := e.Do(webtest.Caller{}, "GET", fmt.Sprintf("/tiles/private_cameras/%d/%d/%d.mvt?v=%d", z, x, y, l.Version), nil)
		if code != 200 && code != 204 {
			t.Fatalf("tile: %d", code)
		}
		return l.Version, len(body)
	}
	v0, n0 := tile()
	if n0 != 0 {
		t.Fatalf("a pending camera in the public tile: %d bytes", n0)
	}
	e.Want(admin, "POST", fmt.Sprintf("/api/modules/cameras/%d/decision", c.ID), `{"decision":"approve"}`, 200, `"status":"approved"`)
	v1, n1 := tile()
	if v1 == v0 || n1 == 0 {
		t.Fatalf("approved: version %d → %d, tile %d bytes", v0, v1, n1)
	}
	e.Want(alice, "POST", fmt.Sprintf("/api/modules/cameras/%d/withdraw", c.ID), "", 200, `"status":"withdrawn"`)
	v2, n2 := tile()
	if v2 == v1 || n2 != 0 {
		t.Fatalf("withdrawn: version %d → %d, tile %d bytes", v1, v2, n2)
	}
}
