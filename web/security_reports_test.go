package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/ogc"
	"github.com/aktobe/geoportal/web/webtest"
)

// secEnv is a real server over a fresh database with the city boundary, for the attack tests of
// the reports, sign-in and OGC write interfaces.
type secEnv struct {
	t   *testing.T
	s   *web.Server
	ts  *httptest.Server
	ctx context.Context
}

func newSecEnv(t *testing.T, tune func(*web.Server)) *secEnv {
	t.Helper()
	s := web.NewServer(slog.New(slog.DiscardHandler), dbtest.New(t))
	s.Reports.Difficulty = 6
	s.Accounts.Params = accounts.HashParams{Memory: 64, Time: 1, Threads: 1}
	if tune != nil {
		tune(s)
	}
	e := &secEnv{t: t, s: s, ctx: context.Background()}
	if _, err := s.Pool.Exec(e.ctx, `INSERT INTO layer.city_boundary (geom, name)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(s.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// testPassword is every test account's password (as in auth_test.go's fixture).
const testPassword = "correct horse battery"

// noRedirects answers redirects as they are (a form's 303 and its Location).
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// caller is how a request authenticates: nothing, a session (cookie + CSRF token) or an API key.
type caller struct{ cookie, csrf, key string }

func (e *secEnv) user(email string, role accounts.Role, dept string) *accounts.User {
	e.t.Helper()
	u, err := e.s.Accounts.CreateUser(e.ctx, accounts.NewUser{Email: email, Name: email, Role: role,
		Department: dept, Password: testPassword})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *secEnv) session(u *accounts.User) caller {
	e.t.Helper()
	tok, _, err := e.s.Accounts.CreateSession(e.ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return caller{cookie: tok, csrf: accounts.CSRFToken(tok)}
}

func (e *secEnv) apiKey(u *accounts.User, scopes ...accounts.Scope) caller {
	e.t.Helper()
	k, _, err := e.s.Accounts.CreateKey(e.ctx, u.ID, "test", scopes, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return caller{key: k}
}

// do sends one request; hdr are header name/value pairs ("Host" sets the Host header).
func (e *secEnv) do(c caller, method, path, contentType string, body io.Reader, hdr ...string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: guard.SessionCookie, Value: c.cookie})
		req.Header.Set(guard.CSRFHeader, c.csrf)
	}
	if c.key != "" {
		req.Header.Set("X-API-Key", c.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (e *secEnv) json(c caller, method, path string, body any, hdr ...string) (int, string) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	code, _, out := e.do(c, method, path, "application/json", bytes.NewReader(b), hdr...)
	return code, out
}

// solved returns a fresh challenge and its nonce, as the browser gets them.
func (e *secEnv) solved() (string, string) {
	e.t.Helper()
	_, _, b := e.do(caller{}, "GET", "/api/reports/challenge", "", nil)
	var ch reports.Challenge
	if err := json.Unmarshal([]byte(b), &ch); err != nil || ch.Challenge == "" {
		e.t.Fatalf("challenge: %s", b)
	}
	return ch.Challenge, reports.Solve(ch.Challenge, ch.Difficulty)
}

// report files a report straight through the store (no HTTP), returning its id.
func (e *secEnv) report(email string) int64 {
	e.t.Helper()
	rep, _, err := e.s.Reports.Create(e.ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
		Description: "Яма на дороге", Email: email, LinkBase: "https://test.invalid"})
	if err != nil {
		e.t.Fatal(err)
	}
	return rep.ID
}

// pngClaiming is a valid little PNG whose header says it is w × h pixels (a decompression bomb
// as image.DecodeConfig sees it).
func pngClaiming(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// signature (8), IHDR length (4), "IHDR" (4), width, height, …, CRC of type+data at 29.
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegClaiming is a little JPEG whose frame header says it is w × h pixels.
func jpegClaiming(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(b[i+5:], uint16(h))
	binary.BigEndian.PutUint16(b[i+7:], uint16(w))
	return b
}

func smallPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func reportForm(t *testing.T, fields map[string]string, photos map[string][]byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, b := range photos {
		w, err := mw.CreateFormFile("photo", name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func (e *secEnv) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.s.Pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Point 3: a report's photos are examined only once the proof of work is spent, and an image
// whose header claims too many pixels is refused without being decoded.
func TestAttackReportPhotoBeforeProofOfWork(t *testing.T) {
	e := newSecEnv(t, nil)
	fields := map[string]string{"service_code": "pothole", "lon": "57.17", "lat": "50.28", "description": "Яма"}
	bombs := map[string][]byte{"bomb.png": pngClaiming(t, 60000, 60000), "bomb.jpg": jpegClaiming(t, 65000, 65000)}
	for name, b := range bombs {
		for _, pow := range []struct{ name, challenge, nonce string }{
			{"missing", "", ""},
			{"wrong", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", "1"},
		} {
			ct, body := reportForm(t, map[string]string{"service_code": "pothole", "lon": "57.17", "lat": "50.28",
				"pow_challenge": pow.challenge, "pow_nonce": pow.nonce}, map[string][]byte{name: b})
			code, _, out := e.do(caller{}, "POST", "/api/reports/", ct, body)
			if code != 400 || !strings.Contains(out, "proof of work") {
				t.Errorf("%s with %s proof of work: %d %s, want 400 naming the proof of work", name, pow.name, code, out)
			}
		}
	}
	// A real photo with no proof of work is refused before it is decoded.
	ct, body := reportForm(t, fields, map[string][]byte{"ok.png": smallPNG(t)})
	if code, _, out := e.do(caller{}, "POST", "/api/reports/", ct, body); code != 400 || !strings.Contains(out, "proof of work") {
		t.Errorf("photo without proof of work: %d %s", code, out)
	}
	if n := e.s.Reports.PhotosDecoded(); n != 0 {
		t.Errorf("%d photos were decoded for requests without a valid proof of work", n)
	}
	// With a valid proof of work, the bombs are refused by their header alone, naming the bound.
	for name, b := range bombs {
		c, nonce := e.solved()
		f := map[string]string{"pow_challenge": c, "pow_nonce": nonce}
		for k, v := range fields {
			f[k] = v
		}
		ct, body := reportForm(t, f, map[string][]byte{name: b})
		code, _, out := e.do(caller{}, "POST", "/api/reports/", ct, body)
		if code != 400 || !strings.Contains(out, name) || !strings.Contains(out, "megapixels") {
			t.Errorf("%s with a valid proof of work: %d %s, want 400 naming the pixel bound", name, code, out)
		}
	}
	if n := e.s.Reports.PhotosDecoded(); n != 0 {
		t.Errorf("%d bombs were decoded", n)
	}
	if n := e.count(`SELECT count(*) FROM layer.citizen_reports`); n != 0 {
		t.Errorf("%d reports stored", n)
	}
	// A real photo with a valid proof of work is decoded once and stored.
	c, nonce := e.solved()
	f := map[string]string{"pow_challenge": c, "pow_nonce": nonce}
	for k, v := range fields {
		f[k] = v
	}
	ct, body = reportForm(t, f, map[string][]byte{"ok.png": smallPNG(t)})
	if code, _, out := e.do(caller{}, "POST", "/api/reports/", ct, body); code != 201 {
		t.Fatalf("report with a photo: %d %s", code, out)
	}
	if n := e.s.Reports.PhotosDecoded(); n != 1 {
		t.Errorf("%d photos decoded for one good photo", n)
	}
}

// Point 4: the link in a confirmation e-mail or SMS is the configured public address, whatever
// Host header the request came with.
func TestAttackConfirmationLinkFromHostHeader(t *testing.T) {
	const public = "https://geo.aktobe.example"
	e := newSecEnv(t, func(s *web.Server) { s.Security.PublicURL = public })
	c, nonce := e.solved()
	code, out := e.json(caller{}, "POST", "/api/reports/", map[string]any{"service_code": "pothole", "lon": 57.17, "lat": 50.28,
		"description": "Яма", "email": "aigul@example.kz", "phone": "+7 701 555 44 33", "device_id": "dev-1",
		"pow_challenge": c, "pow_nonce": nonce}, "Host", "evil.example", "X-Forwarded-Proto", "http")
	if code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	var created struct {
		Report    reports.Report
		Follow    string
		FollowURL string `json:"follow_url"`
	}
	json.Unmarshal([]byte(out), &created)
	if created.FollowURL != public+"/#report/"+created.Follow {
		t.Errorf("follow_url %q", created.FollowURL)
	}
	id := created.Report.ID
	// The resend and the supporter's e-mail take the same path.
	if code, out := e.json(caller{}, "POST", "/api/reports/confirm/resend", map[string]any{"follow": created.Follow, "channel": "sms"},
		"Host", "evil.example"); code != 202 {
		t.Fatalf("resend: %d %s", code, out)
	}
	c, nonce = e.solved()
	if code, out := e.json(caller{}, "POST", "/api/reports/"+strconv.FormatInt(id, 10)+"/support", map[string]any{
		"device_id": "dev-2", "email": "neighbour@example.kz", "pow_challenge": c, "pow_nonce": nonce}, "Host", "evil.example"); code != 200 {
		t.Fatalf("support: %d %s", code, out)
	}
	rows, err := e.s.Pool.Query(e.ctx, `SELECT channel, to_addr, body FROM reports.outbox WHERE report_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var ch, to, body string
		if err := rows.Scan(&ch, &to, &body); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.Contains(body, "evil.example") || !strings.Contains(body, public+"/#confirm/c") {
			t.Errorf("%s to %s: %q, want a link to %s", ch, to, body, public)
		}
	}
	if n != 4 { // e-mail and SMS to the reporter, the resent SMS, the supporter's e-mail
		t.Errorf("%d messages in the outbox, want 4", n)
	}
}

// Without a configured public URL, messages carry the server's own listen address (what
// `geoportal serve` sets), never the request's Host.
func TestAttackConfirmationLinkWithoutPublicURL(t *testing.T) {
	e := newSecEnv(t, func(s *web.Server) { s.Security.ListenURL = "http://127.0.0.1:8080" })
	c, nonce := e.solved()
	code, out := e.json(caller{}, "POST", "/api/reports/", map[string]any{"service_code": "pothole", "lon": 57.17, "lat": 50.28,
		"description": "Яма", "email": "aigul@example.kz", "pow_challenge": c, "pow_nonce": nonce}, "Host", "evil.example")
	if code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	var body string
	if err := e.s.Pool.QueryRow(e.ctx, `SELECT body FROM reports.outbox`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "evil.example") || !strings.Contains(body, "http://127.0.0.1:8080/#confirm/c") {
		t.Errorf("e-mail body %q", body)
	}
	// Self links in answers may follow the request (they go back to whoever asked), but the
	// scheme comes from X-Forwarded-Proto only behind a trusted proxy.
	_, _, tj := e.do(caller{}, "GET", "/ogc/", "", nil, "X-Forwarded-Proto", "https", "Accept", "application/json")
	if strings.Contains(tj, "https://") {
		t.Errorf("X-Forwarded-Proto believed without -trust-proxy: %s", tj)
	}
}

// Point 7: the OGC API's generic writes cannot touch layers that a module owns; they name the
// workflow to use and change nothing.
func TestAttackOGCWritesOnWorkflowLayers(t *testing.T) {
	e := newSecEnv(t, nil)
	gis := e.apiKey(e.user("gis@akimat.kz", accounts.GISStaff, ""), accounts.ScopeFeaturesWrite, accounts.ScopeRead)
	id := e.report("aigul@example.kz")
	sid := strconv.FormatInt(id, 10)
	feature := `{"type":"Feature","geometry":{"type":"Point","coordinates":[57.18,50.29]},"properties":{"status":"resolved","description":"x"}}`
	before := func() string {
		var s string
		if err := e.s.Pool.QueryRow(e.ctx, `SELECT r.status || '|' || r.description || '|' || ST_AsText(r.geom) || '|' ||
				(SELECT count(*) FROM reports.private p WHERE p.report_id = r.id) || '|' ||
				(SELECT count(*) FROM reports.history h WHERE h.report_id = r.id)
			FROM layer.citizen_reports r WHERE r.id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := before()
	for _, tc := range []struct{ method, path, ct, body string }{
		{"PATCH", "/ogc/collections/citizen_reports/items/" + sid, "application/merge-patch+json", `{"properties":{"status":"resolved"}}`},
		{"PUT", "/ogc/collections/citizen_reports/items/" + sid, ogc.MediaGeoJSON, feature},
		{"DELETE", "/ogc/collections/citizen_reports/items/" + sid, "", ""},
		{"POST", "/ogc/collections/citizen_reports/items", ogc.MediaGeoJSON, feature},
	} {
		code, _, out := e.do(gis, tc.method, tc.path, tc.ct, strings.NewReader(tc.body))
		if code != http.StatusConflict || !strings.Contains(out, "/api/staff/reports") {
			t.Errorf("%s %s: %d %s, want 409 naming the reports workflow", tc.method, tc.path, code, out)
		}
	}
	if got := before(); got != want {
		t.Errorf("report changed: %s, was %s", got, want)
	}
	if n := e.count(`SELECT count(*) FROM layer.citizen_reports`); n != 1 {
		t.Errorf("%d reports", n)
	}
	// The other layers a module writes: live vehicles, outages, computed areas.
	area := `{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[57.1,50.2],[57.2,50.2],[57.2,50.3],[57.1,50.2]]]]},"properties":{}}`
	for _, tc := range []struct{ slug, says, feature string }{
		{"vehicles", "/api/vehicles/positions", `{"type":"Feature","geometry":{"type":"Point","coordinates":[57.1,50.25]},"properties":{"vehicle_id":"ghost"}}`},
		{"outages", "/api/modules/outages", area},
		{"clinic_areas", "/api/modules/clinics/areas", area},
		{"school_catchments", "/api/modules/schools/catchments", area},
	} {
		slug, says := tc.slug, tc.says
		code, _, out := e.do(gis, "POST", "/ogc/collections/"+slug+"/items", ogc.MediaGeoJSON, strings.NewReader(tc.feature))
		if code != http.StatusConflict || !strings.Contains(out, says) {
			t.Errorf("POST on %s: %d %s, want 409 naming %s", slug, code, out, says)
		}
		if n := e.count(`SELECT count(*) FROM ` + pgxIdent("layer", slug)); n != 0 {
			t.Errorf("%s: %d features stored", slug, n)
		}
	}
	// Imports are generic writes too.
	gisImport := e.apiKey(e.user("gis2@akimat.kz", accounts.GISStaff, ""), accounts.ScopeImport, accounts.ScopeRead)
	fc := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[57.1,50.25]},"properties":{"status":"new","service_code":"pothole","description":"imported"}}]}`
	for _, mode := range []string{"replace", "append"} {
		ct, body := webtest.MultipartBody(t, map[string]string{"layer": "citizen_reports", "mode": mode}, map[string][]byte{"r.geojson": []byte(fc)})
		code, _, out := e.do(gisImport, "POST", "/api/import", ct, body)
		if code != http.StatusConflict || !strings.Contains(out, "/api/staff/reports") {
			t.Errorf("import %s into citizen_reports: %d %s", mode, code, out)
		}
	}
	if got := before(); got != want {
		t.Errorf("report changed by an import: %s, was %s", got, want)
	}
	// A layer without a workflow still takes generic writes.
	if code, _, out := e.do(gis, "POST", "/ogc/collections/ramps/items", ogc.MediaGeoJSON, strings.NewReader(
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[57.1,50.25]},"properties":{"address":"x"}}`)); code != 201 {
		t.Errorf("POST on ramps: %d %s", code, out)
	}
}

func pgxIdent(schema, name string) string { return `"` + schema + `"."` + name + `"` }

// Point 12: the console shows only known message codes, never text from the address bar.
func TestAttackStaffConsoleFlashSpoof(t *testing.T) {
	e := newSecEnv(t, nil)
	staff := e.session(e.user("roads@akimat.kz", accounts.DepartmentStaff, "roads"))
	id := strconv.FormatInt(e.report(""), 10)
	spoof := "Your account is locked, call +7 700 000 00 00"
	for _, path := range []string{"/staff/reports", "/staff/reports/" + id} {
		code, _, page := e.do(staff, "GET", path+"?lang=en&msg="+strings.ReplaceAll(spoof, " ", "+"), "", nil)
		if code != 200 || strings.Contains(page, "account is locked") || strings.Contains(page, "700 000") ||
			strings.Contains(page, `class="flash"`) {
			t.Errorf("%s: %d, spoofed message shown", path, code)
		}
		for lang, want := range map[string]string{"en": "Saved.", "ru": "Сохранено.", "kk": "Сақталды."} {
			if _, _, page := e.do(staff, "GET", path+"?msg=saved&lang="+lang, "", nil); !strings.Contains(page, `role="status">`+want) {
				t.Errorf("%s?msg=saved&lang=%s: no %q", path, lang, want)
			}
		}
	}
	// The bulk form's result is a code with two numbers, shown in the page language.
	form := "id=" + id + "&status=accepted&comment=ok"
	code, hdr, _ := e.do(staff, "POST", "/staff/reports/bulk?lang=ru", "application/x-www-form-urlencoded", strings.NewReader(form))
	if code != http.StatusSeeOther {
		t.Fatalf("bulk: %d", code)
	}
	_, _, page := e.do(staff, "GET", hdr.Get("Location"), "", nil)
	if !strings.Contains(page, "Изменено 1 из 1 обращений.") {
		t.Errorf("after the bulk change (%s) the page says: %s", hdr.Get("Location"), flashOf(page))
	}
	// A refused bulk change shows its error on the page, not through the address bar.
	code, hdr, page = e.do(staff, "POST", "/staff/reports/bulk?lang=en", "application/x-www-form-urlencoded", strings.NewReader("status=accepted"))
	if code != http.StatusBadRequest || !strings.Contains(page, "select 1 to 500 reports") || strings.Contains(hdr.Get("Location"), "msg=") {
		t.Errorf("refused bulk change: %d %q %s", code, hdr.Get("Location"), flashOf(page))
	}
}

func flashOf(page string) string {
	if i := strings.Index(page, `class="flash"`); i >= 0 {
		return page[i:min(len(page), i+200)]
	}
	if i := strings.Index(page, `class="error"`); i >= 0 {
		return page[i:min(len(page), i+200)]
	}
	return "(no message)"
}

// Point 13: guessing the current password through POST /api/auth/password is limited per
// client and per account like a login.
func TestAttackPasswordChangeGuessing(t *testing.T) {
	e := newSecEnv(t, func(s *web.Server) {
		s.Security.LoginPerIP = guard.RateLimit{PerMinute: 1, Burst: 10}
		s.Security.LoginPerAccount = guard.RateLimit{PerMinute: 1, Burst: 5}
	})
	u := e.user("victim@akimat.kz", accounts.GISStaff, "")
	stolen := e.session(u)
	limited := 0
	for i := 0; i < 12; i++ {
		code, out := e.json(stolen, "POST", "/api/auth/password", map[string]string{
			"current_password": fmt.Sprintf("guess %d", i), "new_password": "a new long password 99"})
		switch code {
		case http.StatusForbidden:
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("guess %d: %d %s", i, code, out)
		}
	}
	if limited != 7 { // 5 tries per account, then refused
		t.Errorf("%d of 12 guesses refused, want 7", limited)
	}
	// Even the right password is refused while the account is over its limit, and the login
	// shares the account's budget.
	if code, _ := e.json(stolen, "POST", "/api/auth/password", map[string]string{
		"current_password": testPassword, "new_password": "a new long password 99"}); code != http.StatusTooManyRequests {
		t.Errorf("right password while limited: %d", code)
	}
	if ok, err := e.s.Accounts.Authenticate(e.ctx, u.Email, testPassword, "127.0.0.1"); err != nil || ok == nil {
		t.Errorf("the password changed: %v", err)
	}
}

// Point 13: support needs the same proof of work as a report, and is limited per address.
func TestAttackSupportInflation(t *testing.T) {
	e := newSecEnv(t, func(s *web.Server) { s.Security.Submit = guard.RateLimit{PerMinute: 1, Burst: 5} })
	id := e.report("")
	path := "/api/reports/" + strconv.FormatInt(id, 10) + "/support"
	for i := 0; i < 3; i++ {
		code, out := e.json(caller{}, "POST", path, map[string]any{"device_id": fmt.Sprintf("rotated-%d", i)})
		if code != 400 || !strings.Contains(out, "proof of work") {
			t.Errorf("support %d without proof of work: %d %s", i, code, out)
		}
	}
	if n := e.count(`SELECT support_count FROM layer.citizen_reports WHERE id = $1`, id); n != 1 {
		t.Fatalf("support count %d after supports without proof of work, want 1", n)
	}
	c, nonce := e.solved()
	if code, out := e.json(caller{}, "POST", path, map[string]any{"device_id": "a", "pow_challenge": c, "pow_nonce": nonce}); code != 200 {
		t.Fatalf("support with proof of work: %d %s", code, out)
	}
	if code, out := e.json(caller{}, "POST", path, map[string]any{"device_id": "b", "pow_challenge": c, "pow_nonce": nonce}); code != 400 ||
		!strings.Contains(out, "already used") {
		t.Errorf("replayed challenge: %d %s", code, out)
	}
	// The address's budget (burst 5) is spent: even solved challenges are refused.
	c, nonce = e.solved()
	if code, out := e.json(caller{}, "POST", path, map[string]any{"device_id": "c", "pow_challenge": c, "pow_nonce": nonce}); code != 429 {
		t.Errorf("support past the address's limit: %d %s", code, out)
	}
	if n := e.count(`SELECT support_count FROM layer.citizen_reports WHERE id = $1`, id); n != 2 {
		t.Errorf("support count %d, want 2", n)
	}
}
