package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
)

// cheap keeps argon2id fast under the race detector; the production cost is tested in
// TestHashPasswordDefaultCost.
var cheap = HashParams{Memory: 64, Time: 1, Threads: 1}

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s := NewStore(dbtest.New(t))
	s.Params = cheap
	return s
}

func mustUser(t *testing.T, s *Store, email string, role Role, dept string) *User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Email: email, Name: "Test " + string(role), Role: role,
		Department: dept, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

func TestHashPasswordDefaultCost(t *testing.T) {
	h := HashPassword("пароль-Құпиясөз-1", DefaultHashParams)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry the argon2id parameters", h)
	}
	if ok, err := VerifyPassword("пароль-Құпиясөз-1", h); err != nil || !ok {
		t.Fatalf("verify right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword("пароль-Құпиясөз-2", h); ok {
		t.Fatal("a wrong password verified")
	}
	if h2 := HashPassword("пароль-Құпиясөз-1", DefaultHashParams); h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	for _, h := range []string{"", "$argon2id$", "$bcrypt$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=99999999,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"} {
		if ok, err := VerifyPassword("x", h); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", h, ok, err)
		}
	}
}

func TestDummyHashUsesTheStoreCost(t *testing.T) {
	s := &Store{Params: cheap}
	if !strings.Contains(s.dummyHash(), "$m=64,t=1,p=1$") {
		t.Fatalf("dummy hash %q is not made with the store's cost, so unknown users would answer faster", s.dummyHash())
	}
}

func TestCreateUserValidation(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	cases := []struct {
		name string
		nu   NewUser
		want string
	}{
		{"bad email", NewUser{Email: "not-an-email", Role: Citizen, Password: "long enough pw"}, "email"},
		{"empty email", NewUser{Email: " ", Role: Citizen, Password: "long enough pw"}, "email is required"},
		{"bad role", NewUser{Email: "a@b.kz", Role: "root", Password: "long enough pw"}, "role"},
		{"anonymous role", NewUser{Email: "a@b.kz", Role: Anonymous, Password: "long enough pw"}, "role"},
		{"short password", NewUser{Email: "a@b.kz", Role: Citizen, Password: "short"}, "at least 10"},
		{"department missing", NewUser{Email: "a@b.kz", Role: DepartmentStaff, Password: "long enough pw"}, "needs a department"},
		{"department on planner", NewUser{Email: "a@b.kz", Role: Planner, Department: "roads", Password: "long enough pw"}, "only role department_staff"},
		{"control characters", NewUser{Email: "a@b.kz", Name: "a\x00b", Role: Citizen, Password: "long enough pw"}, "control characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateUser(ctx, tc.nu)
			if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want EINVALID mentioning %q", err, tc.want)
			}
		})
	}
	mustUser(t, s, "Dup@Akimat.kz", Citizen, "")
	if _, err := s.CreateUser(ctx, NewUser{Email: "dup@akimat.kz", Role: Citizen, Password: "long enough pw"}); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Fatalf("duplicate email (other case): err = %v; want ECONFLICT", err)
	}
	var n int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM auth.users`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d users stored; the refused ones must not be", n)
	}
}

func TestHostileTextIsStoredVerbatim(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	name := `Robert'); DROP TABLE auth.users;-- <script>alert(1)</script>`
	u, err := s.CreateUser(ctx, NewUser{Email: "bobby@tables.kz", Name: name, Role: DepartmentStaff,
		Department: `roads' OR '1'='1`, Password: "long enough pw"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.Department != `roads' OR '1'='1` {
		t.Fatalf("stored %q / %q", got.Name, got.Department)
	}
	if _, err := s.AuditLog(ctx, AuditFilter{Actor: `' OR 1=1 --`, Action: `x'; DELETE FROM auth.audit_log; --*`}); err != nil {
		t.Fatalf("hostile audit filter: %v", err)
	}
	recs, _ := s.AuditLog(ctx, AuditFilter{})
	if len(recs) != 1 || recs[0].Action != "user.create" {
		t.Fatalf("audit log = %+v; want the one user.create", recs)
	}
}

func TestAuthenticateNoEnumeration(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "staff@akimat.kz", GISStaff, "")
	disabled := mustUser(t, s, "gone@akimat.kz", GISStaff, "")
	if _, err := s.SetDisabled(ctx, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	got, err := s.Authenticate(ctx, " STAFF@akimat.kz ", "correct horse battery", "10.0.0.1")
	if err != nil || got.ID != u.ID {
		t.Fatalf("right password: %v, %v", got, err)
	}
	for _, tc := range []struct{ email, pw, detail string }{
		{"staff@akimat.kz", "wrong password!", "wrong password"},
		{"nobody@akimat.kz", "correct horse battery", "unknown email"},
		{"gone@akimat.kz", "correct horse battery", "account disabled"},
		{"not an email", "x", "unknown email"},
		{"staff@akimat.kz", strings.Repeat("x", 5000), "wrong password"},
	} {
		_, err := s.Authenticate(ctx, tc.email, tc.pw, "10.0.0.2")
		if !errors.Is(err, ErrBadLogin) || err.Error() != ErrBadLogin.Error() {
			t.Errorf("%s: err = %v; want the one ErrBadLogin", tc.detail, err)
		}
	}
	recs, err := s.AuditLog(ctx, AuditFilter{Action: "login.*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("%d login records; want 6", len(recs))
	}
	if recs[5].Action != "login.ok" || recs[5].IP != "10.0.0.1" || recs[5].ActorID == nil || *recs[5].ActorID != u.ID {
		t.Errorf("first record = %+v; want login.ok of the user from 10.0.0.1", recs[5])
	}
	if recs[3].Action != "login.failed" || recs[3].Detail != "unknown email" || recs[3].Actor != "nobody@akimat.kz" {
		t.Errorf("unknown-email record = %+v", recs[3])
	}
}

func TestSessions(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "planner@akimat.kz", Planner, "")
	tok, sess, err := s.CreateSession(ctx, u.ID, "10.1.1.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if !ValidSessionToken(tok) {
		t.Fatalf("token %q has the wrong shape", tok)
	}
	var stored []byte
	s.pool.QueryRow(ctx, `SELECT token_hash FROM auth.sessions WHERE id = $1`, sess.ID).Scan(&stored)
	if strings.Contains(string(stored), tok) || len(stored) != 32 {
		t.Fatal("the session token itself is stored; only its SHA-256 may be")
	}
	got, err := s.SessionUser(ctx, tok)
	if err != nil || got.ID != u.ID || got.Session == nil || got.Session.ID != sess.ID {
		t.Fatalf("SessionUser: %+v, %v", got, err)
	}
	if _, err := s.SessionUser(ctx, forge(tok)); !errors.Is(err, ErrNoSession) {
		t.Fatalf("forged token: err = %v", err)
	}
	if _, err := s.SessionUser(ctx, "../../etc/passwd"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("garbage token: err = %v", err)
	}

	t.Run("expired", func(t *testing.T) {
		tok, sess, _ := s.CreateSession(ctx, u.ID, "", "")
		s.pool.Exec(ctx, `UPDATE auth.sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, sess.ID)
		if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("expired session: err = %v", err)
		}
	})
	t.Run("idle", func(t *testing.T) {
		tok, sess, _ := s.CreateSession(ctx, u.ID, "", "")
		s.pool.Exec(ctx, `UPDATE auth.sessions SET last_seen_at = now() - interval '3 hours' WHERE id = $1`, sess.ID)
		if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("idle session: err = %v", err)
		}
	})
	t.Run("touch", func(t *testing.T) {
		tok, sess, _ := s.CreateSession(ctx, u.ID, "", "")
		s.pool.Exec(ctx, `UPDATE auth.sessions SET last_seen_at = now() - interval '90 minutes' WHERE id = $1`, sess.ID)
		if _, err := s.SessionUser(ctx, tok); err != nil {
			t.Fatal(err)
		}
		var age time.Duration
		s.pool.QueryRow(ctx, `SELECT extract(epoch FROM now() - last_seen_at)::bigint * 1000000000 FROM auth.sessions WHERE id = $1`, sess.ID).Scan(&age)
		if age > time.Minute {
			t.Fatalf("last_seen_at is %v old after use; want it refreshed", age)
		}
	})
	t.Run("old sessions are cleared", func(t *testing.T) {
		_, old, _ := s.CreateSession(ctx, u.ID, "", "")
		s.pool.Exec(ctx, `UPDATE auth.sessions SET revoked_at = now() - interval '2 days' WHERE id = $1`, old.ID)
		s.CreateSession(ctx, u.ID, "", "")
		var n int
		s.pool.QueryRow(ctx, `SELECT count(*) FROM auth.sessions WHERE id = $1`, old.ID).Scan(&n)
		if n != 0 {
			t.Fatal("a session revoked two days ago was kept")
		}
	})
	t.Run("logout", func(t *testing.T) {
		tok, _, _ := s.CreateSession(ctx, u.ID, "", "")
		if err := s.RevokeSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("revoked session: err = %v", err)
		}
	})
	t.Run("password change ends all", func(t *testing.T) {
		a, _, _ := s.CreateSession(ctx, u.ID, "", "")
		b, _, _ := s.CreateSession(ctx, u.ID, "", "")
		if err := s.ChangePassword(ctx, u.ID, "wrong current pw", "a new long password"); geoportal.ErrorCode(err) != geoportal.EFORBIDDEN {
			t.Fatalf("wrong current password: err = %v", err)
		}
		if _, err := s.SessionUser(ctx, a); err != nil {
			t.Fatal("a refused password change ended the sessions")
		}
		if err := s.ChangePassword(ctx, u.ID, "correct horse battery", "a new long password"); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{a, b} {
			if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNoSession) {
				t.Fatalf("session alive after password change: err = %v", err)
			}
		}
		if _, err := s.Authenticate(ctx, u.Email, "a new long password", ""); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
	t.Run("disable ends all", func(t *testing.T) {
		v := mustUser(t, s, "disp@akimat.kz", Dispatcher, "")
		tok, _, _ := s.CreateSession(ctx, v.ID, "", "")
		if _, err := s.SetDisabled(ctx, v.ID, true); err != nil {
			t.Fatal(err)
		}
		s.SetDisabled(ctx, v.ID, false)
		if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("session alive after disable: err = %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "bus-integration@akimat.kz", Dispatcher, "")
	if _, _, err := s.CreateKey(ctx, u.ID, "x", nil, nil); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("no scopes: err = %v", err)
	}
	if _, _, err := s.CreateKey(ctx, u.ID, "x", []Scope{"root"}, nil); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("bad scope: err = %v", err)
	}
	if _, _, err := s.CreateKey(ctx, 9999, "x", []Scope{ScopeTracker}, nil); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("no such user: err = %v", err)
	}
	key, k, err := s.CreateKey(ctx, u.ID, "AktobeBus tracker gateway", []Scope{ScopeTracker, ScopeRead}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ValidKeyShape(key) || !strings.HasPrefix(key, k.Prefix) {
		t.Fatalf("key %q, prefix %q", key, k.Prefix)
	}
	var n int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM auth.api_keys WHERE key_hash = $1 AND NOT position($2 in encode(key_hash, 'escape')) > 0`,
		hashToken(key), key).Scan(&n)
	if n != 1 {
		t.Fatal("key not stored as its hash")
	}
	got, err := s.KeyUser(ctx, key)
	if err != nil || got.ID != u.ID || got.Key == nil || !got.Key.HasScope(ScopeTracker) || got.Key.HasScope(ScopeAdmin) {
		t.Fatalf("KeyUser: %+v %v", got, err)
	}
	ks, _ := s.Keys(ctx)
	if len(ks) != 1 || ks[0].LastUsedAt == nil {
		t.Fatalf("keys = %+v; want last_used_at set", ks)
	}
	if _, err := s.KeyUser(ctx, forge(key)); !errors.Is(err, ErrBadKey) {
		t.Fatalf("forged key: err = %v", err)
	}
	if err := s.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KeyUser(ctx, key); !errors.Is(err, ErrBadKey) {
		t.Fatalf("revoked key: err = %v", err)
	}
	if err := s.RevokeKey(ctx, 12345); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("revoke unknown key: err = %v", err)
	}

	past := time.Now().Add(-time.Hour)
	if _, _, err := s.CreateKey(ctx, u.ID, "x", []Scope{ScopeRead}, &past); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("expiry in the past: err = %v", err)
	}
	soon := time.Now().Add(time.Hour)
	key2, k2, err := s.CreateKey(ctx, u.ID, "x", []Scope{ScopeRead}, &soon)
	if err != nil {
		t.Fatal(err)
	}
	s.pool.Exec(ctx, `UPDATE auth.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, k2.ID)
	if _, err := s.KeyUser(ctx, key2); !errors.Is(err, ErrBadKey) {
		t.Fatalf("expired key: err = %v", err)
	}

	key3, _, _ := s.CreateKey(ctx, u.ID, "x", []Scope{ScopeRead}, nil)
	s.SetDisabled(ctx, u.ID, true)
	if _, err := s.KeyUser(ctx, key3); !errors.Is(err, ErrBadKey) {
		t.Fatalf("key of a disabled user: err = %v", err)
	}
	recs, _ := s.AuditLog(ctx, AuditFilter{Action: "key.*"})
	if len(recs) != 4 || recs[1].Action != "key.revoke" && recs[2].Action != "key.revoke" {
		t.Fatalf("key audit records = %+v", recs)
	}
}

func TestTrackerPasswords(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if err := s.SetTrackerPassword(ctx, "", "x", ""); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("empty login: err = %v", err)
	}
	if err := s.SetTrackerPassword(ctx, "862462030000001", "", ""); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("empty password: err = %v", err)
	}
	for _, bad := range []string{"NA", "na", "short", "semi;colon", strings.Repeat("x", 101)} {
		if err := s.SetTrackerPassword(ctx, "862462030000001", bad, ""); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("tracker password %q: err = %v, want EINVALID", bad, err)
		}
	}
	if err := s.SetTrackerPassword(ctx, "862462030000001", "bus12-secret", "bus 12"); err != nil {
		t.Fatal(err)
	}
	var hash string
	s.pool.QueryRow(ctx, `SELECT password_hash FROM auth.tracker_passwords`).Scan(&hash)
	if !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("tracker password stored as %q", hash)
	}
	for _, tc := range []struct {
		login, pw string
		want      bool
	}{{"862462030000001", "bus12-secret", true}, {"862462030000001", "BUS12-SECRET", false}, {"862462030000002", "bus12-secret", false}} {
		if ok, err := s.VerifyTracker(ctx, tc.login, tc.pw); err != nil || ok != tc.want {
			t.Errorf("VerifyTracker(%s, %s) = %v, %v", tc.login, tc.pw, ok, err)
		}
	}
	if err := s.SetTrackerPassword(ctx, "862462030000001", "new-pass-1", "bus 12"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.VerifyTracker(ctx, "862462030000001", "bus12-secret"); ok {
		t.Fatal("old tracker password still works")
	}
	// Open: any password, until a password is set again.
	if err := s.SetTrackerOpen(ctx, "862462030000001", "old tracker"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.VerifyTracker(ctx, "862462030000001", "NA"); !ok {
		t.Fatal("open tracker refused")
	}
	if err := s.SetTrackerPassword(ctx, "862462030000001", "new-pass-2", "bus 12"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.VerifyTracker(ctx, "862462030000001", "NA"); ok {
		t.Fatal("a tracker given a password stays open")
	}
	if err := s.DeleteTracker(ctx, "862462030000001"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTracker(ctx, "862462030000001"); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("delete twice: err = %v", err)
	}
	recs, _ := s.AuditLog(ctx, AuditFilter{ObjectType: "tracker"})
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	if strings.Join(actions, " ") != "tracker.delete tracker.password tracker.open tracker.password tracker.create" {
		t.Fatalf("tracker audit = %+v", recs)
	}
}

func TestAuditHelper(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "gis@akimat.kz", GISStaff, "")
	actx := WithActor(ctx, Actor{UserID: u.ID, Label: u.Email, IP: "10.9.9.9"})

	// A write and its audit record commit together, or not at all.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Audit(actx, tx, Entry{Action: "feature.update", ObjectType: "feature", ObjectID: "cameras/7",
		Before: map[string]any{"status": "planned"}, After: map[string]any{"status": "installed"}}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)
	if recs, _ := s.AuditLog(ctx, AuditFilter{Action: "feature.update"}); len(recs) != 0 {
		t.Fatal("an audit record outlived its rolled-back transaction")
	}
	tx, _ = s.pool.Begin(ctx)
	Audit(actx, tx, Entry{Action: "feature.update", ObjectType: "feature", ObjectID: "cameras/7",
		Before: map[string]any{"status": "planned"}, After: map[string]any{"status": "installed"}})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Audit(ctx, s.pool, Entry{}); err == nil {
		t.Fatal("an entry without an action was accepted")
	}
	for _, f := range []AuditFilter{{Actor: "gis@akimat.kz"}, {Action: "feature.*"}, {ObjectID: "cameras/7"},
		{Since: time.Now().Add(-time.Minute), Action: "feature.update"}} {
		recs, err := s.AuditLog(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 {
			t.Fatalf("filter %+v: %d records; want 1", f, len(recs))
		}
		r := recs[0]
		if r.IP != "10.9.9.9" || r.ActorID == nil || *r.ActorID != u.ID || string(r.Before) != `{"status": "planned"}` ||
			string(r.After) != `{"status": "installed"}` {
			t.Fatalf("record = %+v (before %s after %s)", r, r.Before, r.After)
		}
	}
	if recs, _ := s.AuditLog(ctx, AuditFilter{Until: time.Now().Add(-time.Hour)}); len(recs) != 0 {
		t.Fatalf("until filter: %d records", len(recs))
	}
	if _, err := s.AuditLog(ctx, AuditFilter{Limit: 5000}); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("limit 5000: err = %v", err)
	}
}

func TestParseScopesAndRoles(t *testing.T) {
	sc, err := ParseScopes("tracker, open311,tracker")
	if err != nil || len(sc) != 2 || sc[0] != ScopeTracker || sc[1] != ScopeOpen311 {
		t.Fatalf("ParseScopes = %v, %v", sc, err)
	}
	for _, bad := range []string{"", " , ", "all", "admin;drop"} {
		if _, err := ParseScopes(bad); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("ParseScopes(%q): err = %v", bad, err)
		}
	}
	if r, err := ParseRole(" GIS_Staff "); err != nil || r != GISStaff {
		t.Fatalf("ParseRole = %v, %v", r, err)
	}
	if !Admin.IsStaff() || Citizen.IsStaff() || Anonymous.IsStaff() {
		t.Fatal("IsStaff is wrong")
	}
}

func FuzzVerifyPassword(f *testing.F) {
	f.Add("pw", HashPassword("pw", cheap))
	f.Add("", "$argon2id$v=19$m=64,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, pw, encoded string) {
		// Malformed hashes must fail cleanly, never panic or run with absurd costs.
		if strings.Contains(encoded, "m=") && !strings.Contains(encoded, "m=64,") {
			return
		}
		VerifyPassword(pw, encoded)
	})
}

// BenchmarkSessionUser is the cost a signed-in request pays to be recognised (one indexed
// lookup; the last-seen write happens at most once a minute).
func BenchmarkSessionUser(b *testing.B) {
	s := NewStore(dbtest.New(b))
	s.Params = cheap
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Email: "bench@akimat.kz", Role: GISStaff, Password: "correct horse battery"})
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := s.CreateSession(ctx, u.ID, "", "")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.SessionUser(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHashPassword is the cost of one login (and of one failed login for an unknown user).
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		HashPassword("correct horse battery", DefaultHashParams)
	}
}

// forge returns tok with one character in its middle changed, so it always differs from tok
// (changing the last character could leave it equal, or decode to the same bytes).
func forge(tok string) string {
	i := len(tok) / 2
	c := byte('A')
	if tok[i] == c {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}
