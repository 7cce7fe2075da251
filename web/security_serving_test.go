package web

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The security tests of serving, exports and resource limits: each performs the attack over
// HTTP against a real server and database.

// secServer is an auth fixture served over a real HTTP listener.
type secServer struct {
	*authFixture
	ts *httptest.Server
}

func newSecServer(t *testing.T, tune func(*Server)) *secServer {
	t.Helper()
	f := newAuthFixture(t, tune)
	ts := httptest.NewServer(f.h)
	t.Cleanup(ts.Close)
	return &secServer{authFixture: f, ts: ts}
}

// get sends a request over HTTP as id (session cookie and CSRF header, API key, or nobody) with
// header pairs; it returns the response with its body read.
func (s *secServer) send(id *identity, method, path, body string, hdr ...string) (*http.Response, string) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.ts.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if id != nil && id.cookie != nil {
		req.AddCookie(&http.Cookie{Name: id.cookie.Name, Value: id.cookie.Value})
		if id.csrf != "" {
			req.Header.Set(csrfHeader, id.csrf)
		}
	}
	if id != nil && id.key != "" {
		req.Header.Set("Authorization", "Bearer "+id.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (s *secServer) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.srv.Pool.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatal(err)
	}
}

const secTileLayers = `
SELECT geoportal.create_layer('{"slug": "sec_pub", "direction": 0, "geometry_type": "Point",
  "title_en": "Public points", "title_ru": "Тест", "title_kk": "Тест", "attributes": []}'::jsonb);
SELECT geoportal.create_layer('{"slug": "sec_staff", "direction": 1, "geometry_type": "Point", "visibility": "staff",
  "title_en": "Staff points", "title_ru": "Тест", "title_kk": "Тест", "attributes": []}'::jsonb);
INSERT INTO layer.sec_pub (id, geom) VALUES (1, ST_SetSRID(ST_MakePoint(57.1702, 50.2801), 4326));
INSERT INTO layer.sec_staff (id, geom) VALUES (2, ST_SetSRID(ST_MakePoint(57.1702, 50.2801), 4326));
`

// TestSecurityStaffTilesNotPublic: tiles, TileJSON and OGC answers of staff-only layers must not
// be marked for shared caches (a CDN would hand them to anonymous users); public ones still are.
func TestSecurityStaffTilesNotPublic(t *testing.T) {
	s := newSecServer(t, nil)
	s.exec(secTileLayers)
	staff := s.ids["gis_staff"]
	anon := s.ids["anonymous"]
	const tile = "/16/43175/22146.mvt" // holds 57.1702, 50.2801
	private := []string{
		"/tiles/sec_staff" + tile,
		"/tiles/sec_pub,sec_staff" + tile, // a composite mixing a staff-only layer
		"/tiles/sec_staff.json",
		"/tiles/sec_pub,sec_staff.json",
		"/ogc/collections/sec_staff",
		"/ogc/collections/sec_staff/items",
		"/ogc/collections/sec_staff/items/2",
		"/ogc/collections/sec_staff/queryables",
	}
	for _, p := range private {
		for round := 0; round < 2; round++ { // the second from the tile cache
			resp, body := s.send(staff, "GET", p, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("staff GET %s: %s %s", p, resp.Status, body)
			}
			cc := resp.Header.Get("Cache-Control")
			if !strings.Contains(cc, "private") || strings.Contains(cc, "public") {
				t.Errorf("staff GET %s (round %d): Cache-Control %q, want private", p, round, cc)
			}
			if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Cookie") {
				t.Errorf("staff GET %s: Vary %q, want Cookie in it", p, resp.Header.Values("Vary"))
			}
		}
		if resp, body := s.send(anon, "GET", p, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("anonymous GET %s: %s %s, want 404", p, resp.Status, body)
		}
	}
	// Public layers stay cacheable by anyone, also when staff fetch them.
	for _, id := range []*identity{anon, staff} {
		resp, _ := s.send(id, "GET", "/tiles/sec_pub"+tile, "")
		if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || cc != tileCacheControl {
			t.Errorf("%s GET public tile: %s Cache-Control %q, want %q", id.name, resp.Status, cc, tileCacheControl)
		}
	}
}

// TestSecurityCSVFormulaInjection: a citizen report whose description is a spreadsheet formula
// comes out of every CSV export neutralised (a leading apostrophe), while a negative number in a
// numeric column stays a plain number.
func TestSecurityCSVFormulaInjection(t *testing.T) {
	s := newSecServer(t, nil)
	const evil = `=HYPERLINK("http://evil.example")`
	if _, _, err := s.srv.Reports.Create(context.Background(), reports.NewReport{ServiceCode: "street_light",
		Lon: 57.1702, Lat: 50.2801, Address: "@evil", Description: evil,
		Attributes: map[string]string{"state": "off"}}); err != nil {
		t.Fatal(err)
	}
	s.exec(`SELECT geoportal.create_layer('{"slug": "sec_nums", "direction": 0, "geometry_type": "Point",
  "title_en": "Numbers", "title_ru": "Тест", "title_kk": "Тест",
  "attributes": [{"name": "value", "type": "double", "title": {"en": "v", "ru": "v", "kk": "v"}},
                 {"name": "note", "type": "text", "title": {"en": "n", "ru": "n", "kk": "n"}}]}'::jsonb);
INSERT INTO layer.sec_nums (id, geom, value, note) VALUES (1, ST_SetSRID(ST_MakePoint(57.17, 50.28), 4326), -12.5, '+SUM(A1:A2)')`)

	read := func(id *identity, path string) [][]string {
		t.Helper()
		resp, body := s.send(id, "GET", path, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, body)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatalf("GET %s: not CSV: %v\n%s", path, err, body)
		}
		return rows
	}
	cell := func(rows [][]string, row int, col string) string {
		t.Helper()
		for i, h := range rows[0] {
			if h == col && row < len(rows) {
				return rows[row][i]
			}
		}
		t.Fatalf("no column %q row %d in %q", col, row, rows)
		return ""
	}
	for _, tc := range []struct {
		name, path string
		id         *identity
	}{
		{"layer export (anonymous)", "/api/layers/citizen_reports/export.csv", s.ids["anonymous"]},
		{"staff report export", "/api/staff/reports/export.csv", s.ids["admin"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := read(tc.id, tc.path)
			if len(rows) != 2 {
				t.Fatalf("%d rows, want a header and one report: %q", len(rows), rows)
			}
			if got := cell(rows, 1, "description"); got != "'"+evil {
				t.Errorf("description cell %q, want %q", got, "'"+evil)
			}
			if got := cell(rows, 1, "address"); got != "'@evil" {
				t.Errorf("address cell %q, want '@evil", got)
			}
		})
	}
	rows := read(s.ids["anonymous"], "/api/layers/sec_nums/export.csv")
	if got := cell(rows, 1, "value"); got != "-12.5" {
		t.Errorf("numeric cell %q, want -12.5 (a number, not text)", got)
	}
	if got := cell(rows, 1, "note"); got != "'+SUM(A1:A2)" {
		t.Errorf("text cell %q, want '+SUM(A1:A2)", got)
	}
}

// TestSecurityMetricsHideStaffLayers: /metrics is open to anyone, so its series must not name
// staff-only layers (a staff user's tile request labelled a histogram with the layer's slug).
func TestSecurityMetricsHideStaffLayers(t *testing.T) {
	s := newSecServer(t, nil)
	s.exec(secTileLayers)
	for _, p := range []string{"/tiles/sec_staff/16/43175/22146.mvt", "/tiles/sec_pub/16/43175/22146.mvt"} {
		if resp, body := s.send(s.ids["gis_staff"], "GET", p, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", p, resp.Status, body)
		}
	}
	resp, body := s.send(s.ids["anonymous"], "GET", "/metrics", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %s", resp.Status)
	}
	if strings.Contains(body, "sec_staff") {
		t.Errorf("/metrics names the staff-only layer:\n%s", grepLines(body, "sec_staff"))
	}
	for _, want := range []string{`geoportal_tile_generation_seconds_count{layer="staff_only"} 1`,
		`geoportal_tile_generation_seconds_count{layer="sec_pub"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(body, "geoportal_tile_generation_seconds_count"))
		}
	}
}

func grepLines(body, word string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSecurityReadyzHidesDatabaseErrors: /readyz is public; a database failure is "database
// unavailable" there and its detail goes to the log only.
func TestSecurityReadyzHidesDatabaseErrors(t *testing.T) {
	good := dbtest.New(t)
	cfg := good.Config().Copy()
	cfg.ConnConfig.User = "sec_no_such_role"
	bad, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bad.Close)
	logs := &syncBuffer{}
	srv := NewServer(slog.New(slog.NewTextHandler(logs, nil)), bad)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz %s %s, want 503", resp.Status, body)
	}
	for _, leak := range []string{"sec_no_such_role", "SQLSTATE", "127.0.0.1", "failed to connect"} {
		if strings.Contains(body, leak) {
			t.Errorf("readyz shows the database error (%q): %s", leak, body)
		}
	}
	if !strings.Contains(body, `"database unavailable"`) {
		t.Errorf("readyz body %s, want reason \"database unavailable\"", body)
	}
	if !strings.Contains(logs.String(), "sec_no_such_role") {
		t.Errorf("the detail is not logged: %s", logs.String())
	}
}

// TestSecurityHSTSBehindProxy: behind a TLS-terminating proxy (-trust-proxy with
// X-Forwarded-Proto: https) answers carry Strict-Transport-Security and cookies in auto mode are
// Secure; without -trust-proxy the header is not believed.
func TestSecurityHSTSBehindProxy(t *testing.T) {
	for _, trust := range []bool{true, false} {
		s := newSecServer(t, func(srv *Server) { srv.Security.TrustForwardedFor = trust })
		s.exec(secTileLayers)
		u := s.createUser("hsts@test.kz", "gis_staff")
		paths := []string{"/healthz", "/api/layers", "/tiles/sec_pub/16/43175/22146.mvt", "/login"}
		// The tile twice: the second is a cache hit answered ahead of the router.
		paths = append(paths, paths[2])
		for _, p := range paths {
			resp, _ := s.send(s.ids["anonymous"], "GET", p, "", "X-Forwarded-Proto", "https")
			hsts := resp.Header.Get("Strict-Transport-Security")
			if trust && !strings.HasPrefix(hsts, "max-age=") {
				t.Errorf("trust-proxy GET %s (%s): no HSTS header", p, resp.Status)
			}
			if !trust && hsts != "" {
				t.Errorf("GET %s without trust-proxy: HSTS %q from a header anyone can send", p, hsts)
			}
			if p == "/login" {
				for _, c := range resp.Cookies() {
					if c.Secure != trust {
						t.Errorf("trust=%v: login page cookie %s Secure=%v", trust, c.Name, c.Secure)
					}
				}
			}
		}
		resp, body := s.send(s.ids["anonymous"], "POST", "/api/auth/login",
			`{"email":"`+u.Email+`","password":"`+testPassword+`"}`, "X-Forwarded-Proto", "https")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("login: %s %s", resp.Status, body)
		}
		found := false
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie {
				found = true
				if c.Secure != trust {
					t.Errorf("trust=%v: session cookie Secure=%v", trust, c.Secure)
				}
			}
		}
		if !found {
			t.Errorf("no session cookie")
		}
	}
}
