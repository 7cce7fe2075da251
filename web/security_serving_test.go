package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/tiles"
	"github.com/jackc/pgx/v5"
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

// send sends a request over HTTP as id (session cookie and CSRF header, API key, or nobody) with
// header pairs; it returns the response with its body read.
func (s *secServer) send(id *identity, method, path, body string, hdr ...string) (*http.Response, string) {
	s.t.Helper()
	resp, b, err := s.trySend(id, method, path, body, hdr...)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, b
}

// trySend is send for other goroutines than the test's: it returns the error.
func (s *secServer) trySend(id *identity, method, path, body string, hdr ...string) (*http.Response, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.ts.URL+path, rd)
	if err != nil {
		return nil, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if id != nil && id.cookie != nil {
		req.AddCookie(&http.Cookie{Name: id.cookie.Name, Value: id.cookie.Value})
		if id.csrf != "" {
			req.Header.Set(guard.CSRFHeader, id.csrf)
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
		return nil, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
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
		if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || cc != tiles.CacheControl {
			t.Errorf("%s GET public tile: %s Cache-Control %q, want %q", id.name, resp.Status, cc, tiles.CacheControl)
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
			if c.Name == guard.SessionCookie {
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

// slowServer serves srv through HTTPServer (the production http.Server, with its timeouts) on a
// loopback port.
func slowServer(t *testing.T, srv *Server) string {
	t.Helper()
	hs := srv.HTTPServer()
	// Small send buffers (inherited by accepted connections), so that a slow reader holds up the
	// server's writes at once rather than after megabytes.
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 64<<10) })
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// cutOff sends a partial request on a fresh connection and reports whether the server closed
// the connection (reading returns EOF or a reset, after any answer) before the client's own
// 20 s patience ran out.
func cutOff(t *testing.T, addr, partial string) (bool, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, partial); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false, string(got)
	}
	return true, string(got)
}

// TestSecuritySlowClientsCutOff: a client that sends half a request header, or half a body, is
// disconnected by the server's timeouts (configured short here) instead of holding its
// connection and goroutine for as long as it likes; the live vehicle stream still streams past
// the write timeout.
func TestSecuritySlowClientsCutOff(t *testing.T) {
	pool := dbtest.New(t)
	srv := NewServer(slog.New(slog.DiscardHandler), pool)
	t.Cleanup(srv.Transit.Close)
	srv.Timeouts = HTTPTimeouts{ReadHeader: 300 * time.Millisecond, Read: 600 * time.Millisecond,
		Write: 600 * time.Millisecond, Idle: 5 * time.Second, UploadRate: 64 << 10}
	addr := slowServer(t, srv)

	t.Run("half a header", func(t *testing.T) {
		if closed, got := cutOff(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a"); !closed {
			t.Errorf("still connected after 20 s with half a header (read %q)", got)
		}
	})
	t.Run("half a body", func(t *testing.T) {
		closed, got := cutOff(t, addr, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"Content-Length: 1000\r\n\r\n{\"email\":")
		if !closed {
			t.Errorf("still connected after 20 s with half a body (read %q)", got)
		}
	})
	t.Run("an upload route gives a slow body time for its size", func(t *testing.T) {
		// The same pause that cuts off a login body (above) is within what a report with photos
		// may take: the body arrives whole and the handler judges its content.
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"service_code":"street_light","lon":57.17,"lat":50.28,"description":"x"}`
		fmt.Fprintf(conn, "POST /api/reports/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			len(body), body[:10])
		time.Sleep(1500 * time.Millisecond) // past the 600 ms read timeout of ordinary routes
		io.WriteString(conn, body[10:])
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to the slow upload: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(b), "cannot read the request body") || resp.StatusCode >= 500 {
			t.Errorf("slow upload cut off: %s %s", resp.Status, b)
		}
		t.Logf("answer: %s %s", resp.Status, b)
	})
	t.Run("export outlives the write timeout while the client reads", func(t *testing.T) {
		ctx := context.Background()
		if _, err := pool.Exec(ctx, secTileLayers+`INSERT INTO layer.sec_pub (id, geom)
			SELECT i, ST_SetSRID(ST_MakePoint(57 + i * 1e-6, 50.28), 4326) FROM generate_series(10, 150009) AS i`); err != nil {
			t.Fatal(err)
		}
		// A server of its own with a 1.5 s write timeout: the export below takes some 5 s. (At
		// 0.6 s a slow reader of a compressed answer is stalled by TCP's window updates for about
		// as long, while it keeps reading.)
		esrv := NewServer(slog.New(slog.DiscardHandler), pool)
		t.Cleanup(esrv.Transit.Close)
		esrv.Timeouts = HTTPTimeouts{ReadHeader: 300 * time.Millisecond, Read: 600 * time.Millisecond,
			Write: 1500 * time.Millisecond, Idle: 5 * time.Second, UploadRate: 64 << 10}
		eaddr := slowServer(t, esrv)
		// A small receive buffer, so that the client's kernel does not take in the whole file at once.
		dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
		}}
		for _, compressed := range []bool{false, true} {
			// Plain, and gzip (the compressor's last writes come after the handler has returned).
			client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, DisableCompression: !compressed}}
			resp, err := client.Get("http://" + eaddr + "/api/layers/sec_pub/export.csv")
			if err != nil {
				t.Fatal(err)
			}
			if resp.Uncompressed != compressed {
				t.Errorf("compressed %v: the answer was decompressed: %v", compressed, resp.Uncompressed)
			}
			// A slow reader: 64 KiB every 50 ms, some 5 s for the 6 MB file, well past the write timeout.
			var got bytes.Buffer
			buf := make([]byte, 64<<10)
			start := time.Now()
			for {
				n, err := io.ReadFull(resp.Body, buf)
				got.Write(buf[:n])
				if err != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			resp.Body.Close()
			if lines := bytes.Count(got.Bytes(), []byte("\n")); lines != 150002 {
				t.Errorf("compressed %v: export cut short: %d lines of 150002 (%d bytes)", compressed, lines, got.Len())
			}
			if took := time.Since(start); took < 2*esrv.Timeouts.Write {
				t.Errorf("compressed %v: read in %v, not long enough past the write timeout to show anything", compressed, took)
			}
		}
	})
	t.Run("live stream outlives the write timeout", func(t *testing.T) {
		ctx := context.Background()
		_, key, err := srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: "slow-1", Plate: "1", Route: "5"})
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		req, _ := http.NewRequestWithContext(sctx, http.MethodGet, "http://"+addr+"/api/vehicles/live", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		events := make(chan string, 16)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if l := sc.Text(); strings.HasPrefix(l, "event: ") {
					events <- l[7:]
				}
			}
		}()
		if e := <-events; e != "snapshot" {
			t.Fatalf("first event %q", e)
		}
		// Past the read and write timeouts (600 ms), then a bus moves.
		time.Sleep(1500 * time.Millisecond)
		at := time.Now().UTC().Add(-time.Second).Format(time.RFC3339Nano)
		body := `{"positions":[{"time":"` + at + `","lat":50.2839,"lon":57.1669,"speed_kmh":30}]}`
		preq, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/vehicles/positions", strings.NewReader(body))
		preq.Header.Set("Content-Type", "application/json")
		preq.Header.Set("X-Device-Key", key)
		presp, err := http.DefaultClient.Do(preq)
		if err != nil {
			t.Fatal(err)
		}
		presp.Body.Close()
		if presp.StatusCode != http.StatusOK {
			t.Fatalf("post position: %s", presp.Status)
		}
		select {
		case e, ok := <-events:
			if !ok || e != "vehicles" {
				t.Errorf("after the write timeout the stream gave %q (open %v), want a vehicles event", e, ok)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("no event within 15 s after the write timeout")
		}
	})
}

// withPublicReadPool gives srv the public read pool serve opens (limits.go): conns connections
// with the statement timeout d.
func withPublicReadPool(t *testing.T, srv *Server, conns int32, d time.Duration) {
	t.Helper()
	p, err := pgxpool.NewWithConfig(context.Background(), data.PublicReadConfig(srv.Pool.Config(), conns, d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	srv.Layers.SetReadPool(p)
}

// lockTables holds ACCESS EXCLUSIVE locks on tables from a connection of its own, so that any
// statement reading them waits: a query as costly as one likes, without timing. It returns the
// release.
func lockTables(t *testing.T, srv *Server, tables ...string) func() {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, srv.Pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if _, err := tx.Exec(ctx, "LOCK TABLE "+tb+" IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	release := func() { once.Do(func() { tx.Rollback(ctx); conn.Close(ctx) }) }
	t.Cleanup(release)
	return release
}

// waitForLockWaiters waits (at most 15 s) until n statements mentioning word wait for a lock.
func waitForLockWaiters(t *testing.T, srv *Server, word string, n int) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		var got int
		if err := srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_catalog.pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%'||$1||'%'
			AND pid <> pg_backend_pid()`, word).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d statements on %s wait for the lock, want %d", got, word, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSecurityPublicReadBudget: anonymous clients fire many costly OGC API reads at once (here
// reads of a table another transaction holds locked, which wait as long as a costly scan runs).
// Each is cut off by the public read budget with a clear 503, and a sign-in made meanwhile
// succeeds: the reads have their own, smaller pool.
func TestSecurityPublicReadBudget(t *testing.T) {
	s := newSecServer(t, func(srv *Server) {
		withPublicReadPool(t, srv, 2, 300*time.Millisecond)
	})
	s.exec(secTileLayers)
	u := s.createUser("budget@test.kz", "planner")
	release := lockTables(t, s.srv, "layer.sec_pub")

	const readers = 20 // more than the main pool's 16 connections
	type answer struct {
		status int
		body   string
	}
	answers := make(chan answer, readers)
	for i := range readers {
		go func() {
			resp, body, err := s.trySend(s.ids["anonymous"], "GET",
				"/ogc/collections/sec_pub/items?limit=10000&filter=id>"+strconv.Itoa(i), "")
			if err != nil {
				answers <- answer{0, err.Error()}
				return
			}
			answers <- answer{resp.StatusCode, body}
		}()
	}
	waitForLockWaiters(t, s.srv, "sec_pub", 2)
	resp, body := s.send(s.ids["anonymous"], "POST", "/api/auth/login",
		`{"email":"`+u.Email+`","password":"`+testPassword+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("sign-in during the costly reads: %s %s", resp.Status, body)
	}
	for range readers {
		a := <-answers
		if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "took longer than the time allowed") {
			t.Errorf("costly read: %d %s, want 503 naming the time budget", a.status, a.body)
		}
	}
	release()
	if resp, body := s.send(s.ids["anonymous"], "GET", "/ogc/collections/sec_pub/items", ""); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, `"numberMatched":1`) {
		t.Errorf("after the lock: %s %s", resp.Status, body)
	}
}

// TestSecurityAnalysisJobsPerClient: one anonymous client posting many analysis jobs is refused
// with 429 (its own running jobs, then its rate), while another client and a planner can still
// start theirs.
func TestSecurityAnalysisJobsPerClient(t *testing.T) {
	s := newSecServer(t, func(srv *Server) {
		srv.Security.TrustForwardedFor = true // the two clients' addresses come from the proxy header
		srv.Security.Analysis = guard.RateLimit{PerMinute: 6, Burst: 3}
	})
	s.exec(`INSERT INTO layer.bus_stops (geom, name) VALUES (ST_SetSRID(ST_MakePoint(57.161, 50.280), 4326), 'Stop 1')`)
	// Jobs stay running while the buildings (the population) are locked.
	release := lockTables(t, s.srv, "layer.buildings")
	const job = `{"kind":"coverage","params":{"layer":"bus_stops","distance":300}}`
	var ids []string
	start := func(id *identity, ip string) (*http.Response, string) {
		resp, body := s.send(id, "POST", "/api/analysis/jobs", job, "X-Forwarded-For", ip)
		if resp.StatusCode == http.StatusAccepted {
			var st struct{ ID string }
			json.Unmarshal([]byte(body), &st)
			ids = append(ids, st.ID)
		}
		return resp, body
	}
	defer func() {
		release()
		for _, id := range ids {
			s.send(nil, "DELETE", "/api/analysis/jobs/"+id, "")
		}
	}()
	var refused []string
	for i := range 6 {
		resp, body := start(s.ids["anonymous"], "198.51.100.7")
		switch {
		case resp.StatusCode == http.StatusAccepted:
			if len(refused) > 0 {
				t.Errorf("job %d accepted after a refusal", i)
			}
		case resp.StatusCode == http.StatusTooManyRequests:
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"rate_limited"`) {
				t.Errorf("job %d: 429 without Retry-After or code: %v %s", i, resp.Header, body)
			}
			refused = append(refused, body)
		default:
			t.Fatalf("job %d: %s %s", i, resp.Status, body)
		}
	}
	if len(refused) != 4 {
		t.Fatalf("the flooding client had %d of 6 jobs refused, want 4 (2 may run at once): %q", len(refused), refused)
	}
	if !strings.Contains(refused[0], "you have 2 analyses running already") || !strings.Contains(refused[3], "too many requests") {
		t.Errorf("refusals do not say why: %q", refused)
	}
	if resp, body := start(s.ids["anonymous"], "198.51.100.8"); resp.StatusCode != http.StatusAccepted {
		t.Errorf("another client: %s %s, want 202", resp.Status, body)
	}
	if resp, body := start(s.ids["planner"], "198.51.100.7"); resp.StatusCode != http.StatusAccepted {
		t.Errorf("a planner behind the flooder's address: %s %s, want 202", resp.Status, body)
	}
}

// TestSecurityItemsCountBudget: counting a filtered numberMatched over a big layer on every page
// is bounded by the count budget; past it the planner's estimate is given, marked as such.
func TestSecurityItemsCountBudget(t *testing.T) {
	s := newSecServer(t, func(srv *Server) {
		withPublicReadPool(t, srv, 2, 0)
		srv.Layers.SetCountBudget(time.Millisecond) // no count of 150 000 rows takes less
	})
	s.exec(secTileLayers)
	s.exec(`INSERT INTO layer.sec_pub (id, geom) SELECT i, ST_SetSRID(ST_MakePoint(57 + i * 1e-6, 50.28), 4326)
		FROM generate_series(10, 150009) AS i; ANALYZE layer.sec_pub`)
	resp, body := s.send(s.ids["anonymous"], "GET", "/ogc/collections/sec_pub/items?limit=10&filter=id>0", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("items: %s %s", resp.Status, body)
	}
	var fc struct {
		NumberMatched   *int64 `json:"numberMatched"`
		NumberReturned  int    `json:"numberReturned"`
		MatchedEstimate bool   `json:"numberMatchedIsEstimate"`
	}
	if err := json.Unmarshal([]byte(body), &fc); err != nil {
		t.Fatal(err)
	}
	if fc.NumberReturned != 10 || !fc.MatchedEstimate || fc.NumberMatched == nil || *fc.NumberMatched < 1000 {
		t.Errorf("numberMatched %v (estimate %v), returned %d: want the estimate past the count budget",
			fc.NumberMatched, fc.MatchedEstimate, fc.NumberReturned)
	}
}
