package transit_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/wialon"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
)

// wialonServer runs s's Wialon listener on 127.0.0.1:0 until the test ends.
func wialonServer(t *testing.T, s *transit.Service) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeWialon(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Error("listener did not stop")
		}
	})
	return ln.Addr().String()
}

type tracker struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

// dialFrom connects to addr from the loopback address from ("" for the default); every test
// socket has a deadline, so no test waits for ever.
func dialFrom(t *testing.T, addr, from string) *tracker {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(15 * time.Second))
	return &tracker{t: t, c: c, r: bufio.NewReader(c)}
}

// say sends a packet and returns the answer line ("" and the error when the server hung up).
func (tr *tracker) say(pkt string) (string, error) {
	tr.t.Helper()
	if _, err := tr.c.Write([]byte(pkt)); err != nil {
		return "", err
	}
	return tr.r.ReadString('\n')
}

// closed reports whether the server hung up (EOF or reset) rather than leaving the socket open
// until the test's deadline.
func (tr *tracker) closed() bool {
	_, err := tr.r.ReadString('\n')
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func refusals(t *testing.T, s *transit.Service) map[string]float64 {
	t.Helper()
	mfs, err := s.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "geoportal_wialon_refused_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "reason")] = m.GetCounter().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func storedWialon(t *testing.T, pool *pgxpool.Pool, device string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM transit.positions p JOIN transit.vehicles v ON v.id = p.vehicle_id
		WHERE v.device_id = $1`, device).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Before: a vehicle with no tracker password took any login ("#AL#1"), and deleting a unit's
// tracker login unlocked it; its positions went to the public map.
func TestAttackWialonLoginWithoutPassword(t *testing.T) {
	ctx := context.Background()
	s, pool := newService(t)
	store := accounts.NewStore(pool)
	addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000777", Route: "5"})
	addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000888", WialonPassword: "bus-888-secret"})
	addr := wialonServer(t, s)
	fix := string(wialon.EncodeData(wialon.Fix{Time: time.Now().Add(-time.Minute).Truncate(time.Second).UTC(),
		Lat: 50.28, Lon: 57.17, HasPos: true, Speed: 20, Alt: 200, Sats: 9, HDOP: 1}))

	attempt := func(unit, pw string) string {
		t.Helper()
		tr := dialFrom(t, addr, "")
		got, err := tr.say(string(wialon.EncodeLogin(unit, pw)))
		if err != nil {
			t.Fatalf("login %s: %v", unit, err)
		}
		if got == "#AL#1\r\n" {
			tr.say(fix) // what an attacker does next
		} else if !tr.closed() {
			t.Errorf("login %s refused (%q) but the connection stays open", unit, got)
		}
		return got
	}
	// A unit without a password: refused, whatever it sends.
	for _, pw := range []string{"", "NA", "anything"} {
		if got := attempt("860000000000777", pw); got != "#AL#01\r\n" {
			t.Errorf("unit without a password, password %q: %q, want #AL#01", pw, got)
		}
	}
	if n := storedWialon(t, pool, "860000000000777"); n != 0 {
		t.Fatalf("%d positions stored for a unit that has no password", n)
	}
	// An unknown unit and a wrong password get the very same answer.
	unknown, wrong := attempt("999999999999999", "guess"), attempt("860000000000888", "guess")
	if unknown != wrong || unknown != "#AL#01\r\n" {
		t.Errorf("unknown unit answered %q, wrong password %q: must be the same", unknown, wrong)
	}
	if got := refusals(t, s); got[transit.RefusedBadCredentials] != 5 || len(got) != 1 {
		t.Errorf("refusals = %v, want 5 bad_credentials (one reason for unknown units and wrong passwords)", got)
	}
	if got := attempt("860000000000888", "bus-888-secret"); got != "#AL#1\r\n" {
		t.Fatalf("the right password: %q", got)
	}
	// Deleting the tracker login locks the unit; it does not open it.
	if err := store.DeleteTracker(ctx, "860000000000888"); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"bus-888-secret", "NA"} {
		if got := attempt("860000000000888", pw); got != "#AL#01\r\n" {
			t.Errorf("after deleting its tracker login, password %q: %q, want #AL#01", pw, got)
		}
	}
	// Only an administrator's explicit choice opens a unit.
	if err := store.SetTrackerOpen(ctx, "860000000000777", "old tracker, cannot store a password"); err != nil {
		t.Fatal(err)
	}
	if got := attempt("860000000000777", "NA"); got != "#AL#1\r\n" {
		t.Errorf("open unit: %q", got)
	}
	if n := storedWialon(t, pool, "860000000000777"); n != 1 {
		t.Errorf("open unit: %d positions stored, want 1", n)
	}
	ts, _ := store.Trackers(ctx)
	if len(ts) != 1 || !ts[0].Open {
		t.Errorf("trackers = %+v, want the open one", ts)
	}
	// Passwords: one place, at least 8 characters, never "NA".
	for _, pw := range []string{"NA", "na", "short", "with;semicolon"} {
		if _, _, err := s.AddVehicle(ctx, transit.NewVehicle{DeviceID: "860000000000999", WialonPassword: pw}); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("vehicle add with password %q: %v, want EINVALID", pw, err)
		}
		if err := store.SetTrackerPassword(ctx, "860000000000777", pw, ""); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("tracker set with password %q: %v, want EINVALID", pw, err)
		}
	}
	if _, err := s.VehicleByDevice(ctx, "860000000000999"); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("a refused vehicle add stored the vehicle: %v", err)
	}
	if ts, _ := store.Trackers(ctx); len(ts) != 1 || !ts[0].Open {
		t.Errorf("a refused password changed the tracker: %+v", ts)
	}
}

// Before: nothing bounded connections, and a socket that only pinged stayed open for ever.
func TestAttackWialonConnectionFlood(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		s, _ := newService(t)
		s.Wialon.MaxConns, s.Wialon.MaxConnsPerAddr = 0, 3
		addr := wialonServer(t, s)
		var open []*tracker
		for range 3 {
			tr := dialFrom(t, addr, "127.0.0.1")
			if got, err := tr.say("#P#\r\n"); got != "#AP#\r\n" {
				t.Fatalf("connection within the limit: %q %v", got, err)
			}
			open = append(open, tr)
		}
		for range 5 {
			if tr := dialFrom(t, addr, "127.0.0.1"); !tr.closed() {
				t.Fatal("a 4th connection from one address was kept open")
			}
		}
		// Another address still gets in.
		if got, err := dialFrom(t, addr, "127.0.0.2").say("#P#\r\n"); got != "#AP#\r\n" {
			t.Fatalf("another address: %q %v", got, err)
		}
		if got := refusals(t, s)[transit.RefusedTooManyFromAddr]; got != 5 {
			t.Errorf("too_many_from_address = %v, want 5", got)
		}
		// Closing one frees its place.
		open[0].c.Close()
		for i := 0; ; i++ {
			if got, _ := dialFrom(t, addr, "127.0.0.1").say("#P#\r\n"); got == "#AP#\r\n" {
				break
			}
			if i == 100 {
				t.Fatal("a closed connection's place is not freed")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("total", func(t *testing.T) {
		s, _ := newService(t)
		s.Wialon.MaxConns, s.Wialon.MaxConnsPerAddr = 4, 0
		addr := wialonServer(t, s)
		for i := range 4 {
			tr := dialFrom(t, addr, fmt.Sprintf("127.0.0.%d", 10+i))
			if got, err := tr.say("#P#\r\n"); got != "#AP#\r\n" {
				t.Fatalf("connection within the limit: %q %v", got, err)
			}
		}
		if tr := dialFrom(t, addr, "127.0.0.20"); !tr.closed() {
			t.Fatal("a connection past the total was kept open")
		}
		if got := refusals(t, s)[transit.RefusedTooManyConns]; got != 1 {
			t.Errorf("too_many_connections = %v, want 1", got)
		}
	})
	t.Run("pings do not hold a socket before login", func(t *testing.T) {
		s, _ := newService(t)
		s.Wialon.LoginTimeout = time.Second
		addr := wialonServer(t, s)
		tr := dialFrom(t, addr, "")
		// Ping for up to 10 s (ten times the login deadline): the server must hang up first.
		hungUp := false
		for range 50 {
			if got, err := tr.say("#P#\r\n"); err != nil || got != "#AP#\r\n" {
				hungUp = true
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !hungUp {
			t.Fatal("a connection that only pings stays open past the login deadline")
		}
		if got := refusals(t, s)[transit.RefusedLoginTimeout]; got != 1 {
			t.Errorf("login_timeout = %v, want 1", got)
		}
	})
}

// Before: every login attempt was checked (one argon2id hash each), without limit, so a
// password could be guessed as fast as the server hashed.
func TestAttackWialonPasswordGuessing(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		s, pool := newService(t)
		s.Wialon.FailuresPerAddr = transit.Rate{PerMinute: 0.001, Burst: 3}
		s.Wialon.FailuresPerUnit = transit.Rate{}
		addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000123", WialonPassword: "right-password"})
		addr := wialonServer(t, s)
		for i := range 3 {
			if got, _ := dialFrom(t, addr, "127.0.0.3").say(string(wialon.EncodeLogin("860000000000123", fmt.Sprintf("guess-%d", i)))); got != "#AL#01\r\n" {
				t.Fatalf("guess %d: %q", i, got)
			}
		}
		// The address has spent its failures: even the right password is not checked now, and the
		// answer is the one of a wrong password.
		if got, _ := dialFrom(t, addr, "127.0.0.3").say(string(wialon.EncodeLogin("860000000000123", "right-password"))); got != "#AL#01\r\n" {
			t.Fatalf("login after the guesses: %q, want #AL#01", got)
		}
		// Another address (the real tracker) logs in.
		if got, _ := dialFrom(t, addr, "127.0.0.4").say(string(wialon.EncodeLogin("860000000000123", "right-password"))); got != "#AL#1\r\n" {
			t.Fatalf("the tracker from its own address: %q", got)
		}
		got := refusals(t, s)
		if got[transit.RefusedBadCredentials] != 3 || got[transit.RefusedThrottledAddr] != 1 {
			t.Errorf("refusals = %v, want 3 bad_credentials and 1 throttled_address", got)
		}
		if n := storedWialon(t, pool, "860000000000123"); n != 0 {
			t.Errorf("%d positions stored", n)
		}
	})
	t.Run("in parallel", func(t *testing.T) {
		// Guesses sent at once still get no more password checks than the burst.
		s, _ := newService(t)
		s.Wialon.FailuresPerAddr = transit.Rate{PerMinute: 0.001, Burst: 3}
		addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000125", WialonPassword: "right-password"})
		addr := wialonServer(t, s)
		var trs []*tracker
		for range 12 {
			trs = append(trs, dialFrom(t, addr, "127.0.0.5"))
		}
		errs := make(chan error, len(trs))
		for i, tr := range trs {
			go func() {
				if _, err := tr.c.Write(wialon.EncodeLogin("860000000000125", fmt.Sprintf("guess-%d", i))); err != nil {
					errs <- err
					return
				}
				line, err := tr.r.ReadString('\n')
				if err == nil && line != "#AL#01\r\n" {
					err = fmt.Errorf("answer %q", line)
				}
				errs <- err
			}()
		}
		for range trs {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		got := refusals(t, s)
		if got[transit.RefusedBadCredentials] != 3 || got[transit.RefusedThrottledAddr] != 9 {
			t.Errorf("refusals = %v, want 3 bad_credentials (checked) and 9 throttled_address", got)
		}
	})
	t.Run("per unit", func(t *testing.T) {
		s, _ := newService(t)
		s.Wialon.FailuresPerAddr = transit.Rate{}
		s.Wialon.FailuresPerUnit = transit.Rate{PerMinute: 0.001, Burst: 2}
		addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000124", WialonPassword: "right-password"})
		addr := wialonServer(t, s)
		// Guesses spread over many addresses still count against the unit.
		for i := range 2 {
			if got, _ := dialFrom(t, addr, fmt.Sprintf("127.0.1.%d", i+1)).say(string(wialon.EncodeLogin("860000000000124", "guess"))); got != "#AL#01\r\n" {
				t.Fatalf("guess %d: %q", i, got)
			}
		}
		if got, _ := dialFrom(t, addr, "127.0.1.9").say(string(wialon.EncodeLogin("860000000000124", "right-password"))); got != "#AL#01\r\n" {
			t.Fatalf("login after the unit's failures are spent: %q, want #AL#01", got)
		}
		// An unknown unit id is throttled the same way (the limit does not tell which ids exist).
		for i := range 3 {
			if got, _ := dialFrom(t, addr, fmt.Sprintf("127.0.2.%d", i+1)).say(string(wialon.EncodeLogin("nosuchunit", "guess"))); got != "#AL#01\r\n" {
				t.Fatalf("unknown unit, try %d: %q", i, got)
			}
		}
		got := refusals(t, s)
		if got[transit.RefusedBadCredentials] != 4 || got[transit.RefusedThrottledUnit] != 2 {
			t.Errorf("refusals = %v, want 4 bad_credentials and 2 throttled_unit", got)
		}
	})
}

// The migration keeps every tracker hash that worked, in one place, and opens nothing.
func TestMigrationMovesTrackerPasswords(t *testing.T) {
	ctx := context.Background()
	base, err := url.Parse(dbtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, base.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "geoportal_mig_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base.String())
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u := *base
	u.Path = "/" + name
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ms, err := data.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []data.Migration
	for _, m := range ms {
		if m.Version < 103 {
			before = append(before, m)
		}
	}
	if _, err := data.Apply(ctx, pool, before); err != nil {
		t.Fatal(err)
	}
	own := accounts.HashPassword("vehicle-own", accounts.TrackerHashParams)
	both := accounts.HashPassword("vehicle-wins", accounts.TrackerHashParams)
	adminHash := accounts.HashPassword("admin-page", accounts.TrackerHashParams)
	shadowed := accounts.HashPassword("shadowed", accounts.TrackerHashParams)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO transit.vehicles (device_id, wialon_password_hash) VALUES ('own', $1), ('both', $2), ('admin', NULL), ('none', NULL)`, []any{own, both}},
		{`INSERT INTO auth.tracker_passwords (login, password_hash, note) VALUES ('both', $1, 'b'), ('admin', $2, 'a'), ('spare', $2, 's')`, []any{shadowed, adminHash}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := data.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := transit.New(pool, nil)
	defer s.Close()
	for _, tc := range []struct {
		unit, pw string
		ok       bool
	}{
		{"own", "vehicle-own", true}, {"both", "vehicle-wins", true}, {"both", "shadowed", false},
		{"admin", "admin-page", true}, {"admin", "x", false}, {"none", "NA", false}, {"none", "", false},
	} {
		_, err := s.CheckWialonLogin(ctx, tc.unit, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("login %s/%s after the migration: %v, want ok=%v", tc.unit, tc.pw, err, tc.ok)
		}
	}
	var hash string
	pool.QueryRow(ctx, `SELECT password_hash FROM auth.tracker_passwords WHERE login = 'own'`).Scan(&hash)
	if hash != own {
		t.Error("the vehicle's hash was not moved unchanged")
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM auth.tracker_passwords WHERE open`).Scan(&n)
	if n != 0 {
		t.Errorf("the migration opened %d units", n)
	}
	pool.QueryRow(ctx, `SELECT count(*) FROM auth.audit_log WHERE action = 'tracker.locked' AND object_id = 'none'`).Scan(&n)
	if n != 1 {
		t.Error("the locked unit is not in the audit log")
	}
	var cols int
	pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'transit' AND column_name = 'wialon_password_hash'`).Scan(&cols)
	if cols != 0 {
		t.Error("transit.vehicles still has its own password column")
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:4242":         "127.0.0.1",
		"10.1.2.3":               "10.1.2.3",
		"[2001:db8:1:2::1]:4242": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":   "2001:db8:1:2::/64",
		"::ffff:10.0.0.1":        "10.0.0.1",
		"not an address":         "not an address",
	} {
		if got := transit.AddrKey(in); got != want {
			t.Errorf("AddrKey(%q) = %q, want %q", in, got, want)
		}
	}
}
