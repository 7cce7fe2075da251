package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/modules"
	"github.com/go-chi/chi/v5"
)

// syncBuffer collects log lines from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// identity is one caller of the matrix: a role signed in by session, an API key, or nobody.
type identity struct {
	name   string
	role   accounts.Role
	user   *accounts.User
	cookie *http.Cookie
	csrf   string
	key    string
}

type authFixture struct {
	t    *testing.T
	srv  *Server
	h    http.Handler
	logs *syncBuffer
	ids  map[string]*identity
}

const testPassword = "correct horse battery"

func newAuthFixture(t *testing.T, tune func(*Server)) *authFixture {
	t.Helper()
	logs := &syncBuffer{}
	srv := NewServer(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})), dbtest.New(t))
	srv.Accounts.Params = accounts.HashParams{Memory: 64, Time: 1, Threads: 1}
	// Limits off unless a test turns them on: the matrix calls every route many times.
	srv.Security.LoginPerIP, srv.Security.LoginPerAccount = guard.RateLimit{}, guard.RateLimit{}
	srv.Security.Submit, srv.Security.Upload, srv.Security.Analysis = guard.RateLimit{}, guard.RateLimit{}, guard.RateLimit{}
	if tune != nil {
		tune(srv)
	}
	f := &authFixture{t: t, srv: srv, h: srv.Handler(), logs: logs, ids: map[string]*identity{}}
	f.ids["anonymous"] = &identity{name: "anonymous", role: accounts.Anonymous}
	for _, role := range accounts.Roles {
		f.ids[string(role)] = f.signIn(string(role), role)
	}
	f.ids["key_citizen_all_scopes"] = f.keyFor("key_citizen_all_scopes", accounts.Citizen, accounts.Scopes...)
	f.ids["key_admin_open311"] = f.keyFor("key_admin_open311", accounts.Admin, accounts.ScopeOpen311)
	return f
}

func (f *authFixture) createUser(email string, role accounts.Role) *accounts.User {
	f.t.Helper()
	dept := ""
	if role == accounts.DepartmentStaff {
		dept = "roads"
	}
	u, err := f.srv.Accounts.CreateUser(context.Background(), accounts.NewUser{Email: email, Name: string(role),
		Role: role, Department: dept, Password: testPassword})
	if err != nil {
		f.t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// signIn creates a user with role and signs in through POST /api/auth/login.
func (f *authFixture) signIn(name string, role accounts.Role) *identity {
	f.t.Helper()
	u := f.createUser(name+"@test.kz", role)
	id := &identity{name: name, role: role, user: u}
	f.login(id, u.Email, testPassword)
	return id
}

func (f *authFixture) login(id *identity, email, pw string) {
	f.t.Helper()
	w := f.do(&identity{name: "anonymous"}, "POST", "/api/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw))
	if w.Code != http.StatusOK {
		f.t.Fatalf("login %s: %d %s", email, w.Code, w.Body)
	}
	var resp struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal(w.Body.Bytes(), &resp)
	id.csrf = resp.CSRF
	for _, c := range w.Result().Cookies() {
		if c.Name == guard.SessionCookie {
			id.cookie = c
		}
	}
	if id.cookie == nil || id.csrf == "" {
		f.f("login %s: no session cookie or CSRF token", email)
	}
}

func (f *authFixture) f(format string, args ...any) { f.t.Helper(); f.t.Fatalf(format, args...) }

func (f *authFixture) keyFor(name string, owner accounts.Role, scopes ...accounts.Scope) *identity {
	f.t.Helper()
	u := f.createUser(name+"@test.kz", owner)
	key, _, err := f.srv.Accounts.CreateKey(context.Background(), u.ID, name, scopes, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return &identity{name: name, role: owner, user: u, key: key}
}

// do sends a request as id: session cookie plus CSRF header, or API key, or nothing.
func (f *authFixture) do(id *identity, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if id != nil && id.cookie != nil {
		r.AddCookie(id.cookie)
		if id.csrf != "" {
			r.Header.Set(guard.CSRFHeader, id.csrf)
		}
	}
	if id != nil && id.key != "" {
		r.Header.Set("Authorization", "Bearer "+id.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
		} else {
			r.Header.Set(hdr[i], hdr[i+1])
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r.WithContext(ctx))
	return w
}

// writeRule is who may call a write route.
type writeRule struct {
	public bool            // anyone: the handler itself decides what an anonymous caller may do
	roles  []accounts.Role // session roles let through; keys follow their owner's role and scopes
	scope  accounts.Scope  // if set, an API key with this scope is let through whatever its owner's role
}

// writeRules lists the write routes that are not "any staff" (the default for every route not
// listed, so a new route is staff-only until someone decides otherwise here).
var writeRules = map[string]writeRule{
	"POST /login":               {public: true}, // the sign-in form
	"POST /logout":              {public: true},
	"POST /api/auth/login":      {public: true},
	"POST /api/auth/logout":     {public: true},
	"POST /api/auth/password":   {public: true}, // refuses callers without a session itself (TestSessionRevocation)
	"POST /api/analysis/siting": {public: true}, // planner analyses run over public layers for anyone
	"POST /api/analysis/jobs":   {public: true}, // the same analyses as jobs with progress
	// A job's id is a random 128-bit token: whoever started it may cancel it (TestAnalysisJobCancel).
	"DELETE /api/analysis/jobs/{id}": {public: true},
	// A reporter confirms a contact with the code sent to it, without an account (TestReportContactConfirmation).
	"POST /api/reports/confirm":        {public: true},
	"POST /api/reports/confirm/resend": {public: true},
	"POST /api/reports/":               {public: true}, // residents report problems without an account
	"POST /api/reports/{id}/support":   {public: true},
	// GeoReport v2 clients send an API key of scope open311 (the api_key field).
	`POST /open311/v2/{file:requests\.(json|xml)}`: {scope: accounts.ScopeOpen311},
	// Tracker ingest: only device keys or API keys with scope tracker, never a browser session.
	"POST /api/vehicles/positions": {scope: accounts.ScopeTracker},
	// Best-yard contest: every signed-in account (citizens too) nominates and votes.
	"POST /api/modules/yards/nominations":           {roles: modules.VoterRoles},
	"POST /api/modules/yards/nominations/{id}/vote": {roles: modules.VoterRoles},
	// Private cameras: every signed-in account registers, edits and withdraws its own.
	"POST /api/modules/cameras":               {roles: modules.VoterRoles},
	"PUT /api/modules/cameras/{id}":           {roles: modules.VoterRoles},
	"POST /api/modules/cameras/{id}/withdraw": {roles: modules.VoterRoles},
	// The owners' page posts the same as forms.
	"POST /cameras":               {roles: modules.VoterRoles},
	"POST /cameras/{id}":          {roles: modules.VoterRoles},
	"POST /cameras/{id}/withdraw": {roles: modules.VoterRoles},
}

func ruleFor(method, pattern string) writeRule {
	if r, ok := writeRules[method+" "+pattern]; ok {
		return r
	}
	if strings.HasPrefix(pattern, "/api/admin/") || strings.HasPrefix(pattern, "/admin/") {
		return writeRule{roles: []accounts.Role{accounts.Admin}}
	}
	return writeRule{roles: accounts.StaffRoles}
}

var paramRe = regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)

// samplePath fills a route pattern's parameters with values that name existing or harmless
// things; ids that do not exist keep admin calls from changing the fixture's own accounts.
// A parameter with a regular expression gets the first candidate it matches.
func samplePath(pattern string) string {
	p := paramRe.ReplaceAllStringFunc(pattern, func(m string) string {
		sub := paramRe.FindStringSubmatch(m)
		name := sub[1]
		if sub[2] != "" {
			re := regexp.MustCompile("^(?:" + sub[2][1:] + ")$")
			for _, c := range []string{"requests.json", "json", "999999", "cameras", "0", "nosuch"} {
				if re.MatchString(c) {
					return c
				}
			}
		}
		switch {
		case name == "format":
			return "json"
		case name == "z" || name == "x" || name == "y":
			return "0"
		case name == "slug" || name == "collectionId" || name == "layer" || name == "layers":
			return "cameras"
		case strings.HasSuffix(strings.ToLower(name), "id"):
			return "999999"
		}
		return "nosuch"
	})
	return strings.ReplaceAll(p, "*", "nosuch")
}

// TestWriteRouteMatrix calls every non-GET route of the whole router, as every role and with
// API keys, and checks that whoever may not write is refused with 401 or 403. Routes that
// engineers add later are covered automatically: a write route reachable by anonymous callers
// fails this test until it is listed in publicWrites.
func TestWriteRouteMatrix(t *testing.T) {
	f := newAuthFixture(t, nil)
	router, ok := f.h.(chi.Routes)
	if !ok {
		t.Fatalf("Handler() is %T, not a chi router", f.h)
	}
	type route struct{ method, pattern string }
	var routes []route
	err := chi.Walk(router, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions {
			routes = append(routes, route{method, strings.ReplaceAll(pattern, "/*/", "/")})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 10 {
		t.Fatalf("only %d write routes found; chi.Walk did not see the router", len(routes))
	}
	order := []string{"anonymous", "citizen", "key_citizen_all_scopes", "key_admin_open311", "gis_staff", "planner",
		"department_staff", "dispatcher", "admin"}
	for _, rt := range routes {
		key := rt.method + " " + rt.pattern
		path := samplePath(rt.pattern)
		rule := ruleFor(rt.method, rt.pattern)
		t.Run(key, func(t *testing.T) {
			for _, name := range order {
				id := f.ids[name]
				w := f.do(id, rt.method, path, "{}")
				f.keepSignedIn(id) // a logout route ends the session; the next route needs it
				if w.Code >= 500 {
					t.Errorf("%s %s as %s: %d %s (bad input must get a 4xx)", rt.method, path, name, w.Code, trim(w.Body.String()))
				}
				if rule.public {
					continue
				}
				var mayWrite bool
				if id.key == "" {
					mayWrite = id.user.HasRole(rule.roles...)
				} else {
					k := &accounts.APIKey{Scopes: scopesOf(f, id)}
					mayWrite = rule.scope != "" && k.HasScope(rule.scope) ||
						id.user.HasRole(rule.roles...) && guard.KeyAllows(k, rt.method, path)
				}
				refused := w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden
				if !mayWrite && !refused {
					t.Errorf("%s %s as %s: %d %s; want 401 or 403 (add the route to writeRules if more callers may use it)",
						rt.method, path, name, w.Code, trim(w.Body.String()))
				}
				if mayWrite && id.key == "" && id.role == accounts.Admin && refused {
					t.Errorf("%s %s as admin: %d %s; the admin must be let through", rt.method, path, w.Code, trim(w.Body.String()))
				}
			}
		})
	}
}

// keepSignedIn signs id in again when its session has ended.
func (f *authFixture) keepSignedIn(id *identity) {
	f.t.Helper()
	if id.cookie == nil {
		return
	}
	if _, err := f.srv.Accounts.SessionUser(context.Background(), id.cookie.Value); err != nil {
		f.login(id, id.user.Email, testPassword)
	}
}

func scopesOf(f *authFixture, id *identity) []accounts.Scope {
	u, err := f.srv.Accounts.KeyUser(context.Background(), id.key)
	if err != nil {
		f.t.Fatal(err)
	}
	return u.Key.Scopes
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	f := newAuthFixture(t, func(s *Server) { s.Map.BasemapURL = "https://tiles.example.kz/{z}/{x}/{y}.png" })
	for _, p := range []string{"/healthz", "/api/layers", "/no/such/path", "/login", "/api/admin/users"} {
		w := f.do(nil, "GET", p, "")
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "worker-src 'self' blob:", "child-src 'self' blob:",
			"img-src 'self' data: blob: https://tiles.example.kz", "connect-src 'self' https://tiles.example.kz",
			"frame-ancestors 'none'", "object-src 'none'", "script-src 'self';", "style-src 'self';"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows unsafe sources: %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "strict-origin-when-cross-origin" ||
			h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
}

func TestCSRF(t *testing.T) {
	f := newAuthFixture(t, nil)
	admin := f.ids["admin"]
	body := `{"email":"new@test.kz","role":"citizen","password":"long enough pw"}`
	noToken := *admin
	noToken.csrf = ""
	wrong := *admin
	wrong.csrf = accounts.CSRFToken("some other session token 123456789012345678")
	otherSession := *admin
	otherSession.csrf = f.ids["gis_staff"].csrf
	for _, tc := range []struct {
		name string
		id   *identity
		hdr  []string
	}{
		{"no token", &noToken, nil},
		{"wrong token", &wrong, nil},
		{"another session's token", &otherSession, nil},
		{"cross-site origin", admin, []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", admin, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(tc.id, "POST", "/api/admin/users", body, tc.hdr...)
			if w.Code != http.StatusForbidden {
				t.Fatalf("status %d %s; want 403", w.Code, w.Body)
			}
		})
	}
	if _, err := f.srv.Accounts.UserByEmail(context.Background(), "new@test.kz"); err == nil {
		t.Fatal("a refused request created the user")
	}
	if !strings.Contains(f.logs.String(), "CSRF") {
		t.Error("no log line for the refused CSRF request")
	}
	// The form field works like the header.
	form := url.Values{"csrf_token": {admin.csrf}, "email": {"form@test.kz"}, "role": {"citizen"}}
	r := httptest.NewRequest("POST", "/admin/users", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(admin.cookie)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "form@test.kz") {
		t.Fatalf("form post with csrf_token field: %d", w.Code)
	}
	// The right token and same origin pass.
	if w := f.do(admin, "POST", "/api/admin/users", body, "Origin", "http://example.com"); w.Code != http.StatusCreated {
		t.Fatalf("with token: %d %s", w.Code, w.Body)
	}
	// API keys carry no ambient credentials and need no token.
	adminKey := f.keyFor("adminkey", accounts.Admin, accounts.ScopeAdmin)
	if w := f.do(adminKey, "POST", "/api/admin/users", `{"email":"bykey@test.kz","role":"citizen","password":"long enough pw"}`); w.Code != http.StatusCreated {
		t.Fatalf("API key write: %d %s", w.Code, w.Body)
	}
}

func TestLoginFormCSRF(t *testing.T) {
	f := newAuthFixture(t, nil)
	// GET /login sets the login CSRF cookie and puts the token in the form.
	w := f.do(nil, "GET", "/login?lang=kk", "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Құпиясөз") {
		t.Fatalf("login page: %d", w.Code)
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == guard.LoginCSRFCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode ||
		!strings.Contains(w.Body.String(), `name="csrf_token" value="`+cookie.Value+`"`) {
		t.Fatalf("login CSRF cookie %+v not set or not in the form", cookie)
	}
	post := func(token string, withCookie bool) *httptest.ResponseRecorder {
		form := url.Values{"email": {"admin@test.kz"}, "password": {testPassword}, "csrf_token": {token}, "next": {"//evil.example/x"}}
		r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			r.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w
	}
	if w := post("", true); w.Code != http.StatusForbidden {
		t.Fatalf("no token: %d", w.Code)
	}
	if w := post(cookie.Value, false); w.Code != http.StatusForbidden {
		t.Fatalf("no cookie: %d", w.Code)
	}
	if w := post("x"+cookie.Value[1:], true); w.Code != http.StatusForbidden {
		t.Fatalf("wrong token: %d", w.Code)
	}
	w = post(cookie.Value, true)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin?lang=ru" {
		t.Fatalf("good login: %d to %q; want 303 to /admin (never to another site)", w.Code, w.Header().Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == guard.SessionCookie {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure {
		t.Fatalf("session cookie %+v; want HttpOnly, SameSite=Lax, Path=/ (not Secure on plain http in auto mode)", sc)
	}
	f.srv.Security.CookieSecure = "on"
	if w := f.do(nil, "GET", "/login", ""); !w.Result().Cookies()[0].Secure {
		t.Fatal("CookieSecure=on did not make the cookie Secure")
	}
}

func TestNoUserEnumeration(t *testing.T) {
	f := newAuthFixture(t, nil)
	f.srv.Accounts.SetDisabled(context.Background(), f.ids["dispatcher"].user.ID, true)
	var first string
	for _, creds := range [][2]string{{"admin@test.kz", "wrong password!!"}, {"nobody@test.kz", testPassword},
		{"dispatcher@test.kz", testPassword}, {"' OR 1=1 --", "x"}} {
		w := f.do(nil, "POST", "/api/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, creds[0], creds[1]))
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("%s: %d", creds[0], w.Code)
		}
		if first == "" {
			first = w.Body.String()
		} else if w.Body.String() != first {
			t.Fatalf("%s: answer %q differs from %q: it tells which accounts exist", creds[0], w.Body, first)
		}
	}
	if !strings.Contains(first, "wrong email or password") {
		t.Fatalf("answer %q", first)
	}
	if n := strings.Count(f.logs.String(), "login failed"); n != 4 {
		t.Errorf("%d 'login failed' log lines; want 4", n)
	}
}

func TestSessionRevocation(t *testing.T) {
	f := newAuthFixture(t, nil)
	ctx := context.Background()
	gis := f.ids["gis_staff"]
	me := func(id *identity) string {
		w := f.do(id, "GET", "/api/auth/me", "")
		var resp struct {
			User *accounts.User `json:"user"`
		}
		json.Unmarshal(w.Body.Bytes(), &resp)
		if resp.User == nil {
			return ""
		}
		return resp.User.Email
	}
	if got := me(gis); got != "gis_staff@test.kz" {
		t.Fatalf("me = %q", got)
	}

	t.Run("forged cookie", func(t *testing.T) {
		forged := &identity{cookie: &http.Cookie{Name: guard.SessionCookie, Value: strings.Repeat("A", 43)}, csrf: accounts.CSRFToken(strings.Repeat("A", 43))}
		if got := me(forged); got != "" {
			t.Fatalf("forged cookie signed in as %q", got)
		}
		if w := f.do(forged, "POST", "/api/admin/users", `{}`); w.Code != http.StatusUnauthorized {
			t.Fatalf("forged cookie write: %d", w.Code)
		}
	})
	t.Run("logout", func(t *testing.T) {
		id := &identity{}
		f.login(id, "planner@test.kz", testPassword)
		if w := f.do(id, "POST", "/api/auth/logout", ""); w.Code != http.StatusOK {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		if got := me(id); got != "" {
			t.Fatalf("the logged-out cookie still signs in as %q", got)
		}
	})
	t.Run("admin revokes", func(t *testing.T) {
		id := &identity{}
		f.login(id, "dispatcher@test.kz", testPassword)
		uid := f.ids["dispatcher"].user.ID
		w := f.do(f.ids["admin"], "POST", fmt.Sprintf("/api/admin/users/%d/revoke-sessions", uid), "")
		if w.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		if me(id) != "" || me(f.ids["dispatcher"]) != "" {
			t.Fatal("sessions alive after the admin revoked them")
		}
	})
	t.Run("password change", func(t *testing.T) {
		u := f.createUser("changer@test.kz", accounts.Planner)
		a, b := &identity{}, &identity{}
		f.login(a, u.Email, testPassword)
		f.login(b, u.Email, testPassword)
		w := f.do(a, "POST", "/api/auth/password", `{"current_password":"`+testPassword+`","new_password":"brand new password"}`)
		if w.Code != http.StatusOK {
			t.Fatalf("change password: %d %s", w.Code, w.Body)
		}
		if me(a) != "" || me(b) != "" {
			t.Fatal("old sessions alive after a password change")
		}
		c := &identity{}
		for _, ck := range w.Result().Cookies() {
			if ck.Name == guard.SessionCookie {
				c.cookie = ck
			}
		}
		if me(c) != u.Email {
			t.Fatal("the browser that changed the password did not get a new session")
		}
		if w := f.do(nil, "POST", "/api/auth/password", `{"current_password":"x","new_password":"yyyyyyyyyyyy"}`); w.Code != http.StatusUnauthorized {
			t.Fatalf("anonymous password change: %d", w.Code)
		}
	})
	t.Run("expired", func(t *testing.T) {
		id := &identity{}
		f.login(id, "department_staff@test.kz", testPassword)
		f.srv.Pool.Exec(ctx, `UPDATE auth.sessions SET expires_at = now() - interval '1 second'`)
		if me(id) != "" {
			t.Fatal("an expired session still signs in")
		}
		// A stale cookie on a write makes the request anonymous and clears the cookie.
		w := f.do(id, "POST", "/api/auth/logout", "")
		if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Set-Cookie"), guard.SessionCookie+"=;") {
			t.Fatalf("stale cookie logout: %d %v", w.Code, w.Header())
		}
	})
}

func TestAPIKeyAuth(t *testing.T) {
	f := newAuthFixture(t, nil)
	ctx := context.Background()
	owner := f.createUser("integration@test.kz", accounts.GISStaff)
	key, k, err := f.srv.Accounts.CreateKey(ctx, owner.ID, "integration", []accounts.Scope{accounts.ScopeRead}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, hdr := range [][]string{{"Authorization", "Bearer " + key}, {"X-API-Key", key}, {"Authorization", "bearer  " + key}} {
		w := f.do(nil, "GET", "/api/auth/me", "", hdr...)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"via":"api_key"`) {
			t.Fatalf("%s: %d %s", hdr[0], w.Code, w.Body)
		}
	}
	// The key's scopes bound what it reaches, whatever its owner's role.
	if w := f.do(nil, "POST", "/api/admin/users", `{}`, "X-API-Key", key); w.Code != http.StatusForbidden {
		t.Fatalf("read-only key writing: %d", w.Code)
	}
	// A bad key is refused, never treated as anonymous.
	for _, bad := range []string{"gpk_" + strings.Repeat("x", 43), "nonsense", key + "x"} {
		if w := f.do(nil, "GET", "/api/layers", "", "X-API-Key", bad); w.Code != http.StatusUnauthorized {
			t.Fatalf("bad key %q: %d", bad, w.Code)
		}
	}
	// Revoking works at once.
	if w := f.do(f.ids["admin"], "DELETE", fmt.Sprintf("/api/admin/keys/%d", k.ID), ""); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := f.do(nil, "GET", "/api/auth/me", "", "X-API-Key", key); w.Code != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(f.logs.String(), "API key is not valid") {
		t.Error("no log line for the refused key")
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newAuthFixture(t, nil)
	// The fixture has signed in already; the limits start now.
	f.srv.Security.LoginPerIP = guard.RateLimit{PerMinute: 1, Burst: 5}
	f.srv.Security.LoginPerAccount = guard.RateLimit{PerMinute: 1, Burst: 3}
	f.srv.guard.ResetLimits()
	login := func(email, ip string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":"wrong password"}`, email)))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = ip + ":1234"
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w
	}
	// Per account: the fourth try at one account is refused, from whatever address.
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		w := login("admin@test.kz", ip)
		want := http.StatusUnauthorized
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if w.Code != want {
			t.Fatalf("try %d at one account: %d; want %d", i+1, w.Code, want)
		}
	}
	// Per address: the sixth try from one address is refused, whatever the account.
	for i := range 6 {
		w := login(fmt.Sprintf("user%d@test.kz", i), "10.0.0.9")
		if i < 5 && w.Code != http.StatusUnauthorized || i == 5 && w.Code != http.StatusTooManyRequests {
			t.Fatalf("try %d from one address: %d", i+1, w.Code)
		}
		if i == 5 && w.Header().Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	// The correct password is refused too while the account is limited.
	r := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(`{"email":"admin@test.kz","password":"`+testPassword+`"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("right password while limited: %d", w.Code)
	}
	if !strings.Contains(f.logs.String(), "rate limited") {
		t.Error("no log line for the rate limit")
	}
}

func TestRateLimitMiddleware(t *testing.T) {
	f := newAuthFixture(t, func(s *Server) { s.Security.Submit = guard.RateLimit{PerMinute: 60, Burst: 2} })
	now := time.Unix(1_700_000_000, 0)
	f.srv.guard.Limiter(guard.LimitSubmit).Now = func() time.Time { return now }
	h := f.srv.guard.LimitBody(f.srv.guard.Authenticate(f.srv.guard.RateLimit(guard.LimitSubmit)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))))
	call := func(ip string, id *identity) int {
		r := httptest.NewRequest("POST", "/api/reports/", nil)
		r.RemoteAddr = ip + ":5"
		if id != nil {
			r.AddCookie(id.cookie)
			r.Header.Set(guard.CSRFHeader, id.csrf)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	got := []int{call("10.1.0.1", nil), call("10.1.0.1", nil), call("10.1.0.1", nil), call("10.1.0.2", nil)}
	if fmt.Sprint(got) != "[201 201 429 201]" {
		t.Fatalf("statuses %v; want the third call from one address limited", got)
	}
	now = now.Add(time.Second)
	if c := call("10.1.0.1", nil); c != http.StatusCreated {
		t.Fatalf("after a second the bucket has a token again; got %d", c)
	}
	// Signed in, the account is limited across addresses.
	cit := f.ids["citizen"]
	got = []int{call("10.2.0.1", cit), call("10.2.0.2", cit), call("10.2.0.3", cit)}
	if fmt.Sprint(got) != "[201 201 429]" {
		t.Fatalf("account statuses %v", got)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newAuthFixture(t, nil)
	big := `{"email":"x@test.kz","name":"` + strings.Repeat("a", 2<<20) + `","role":"citizen","password":"long enough pw"}`
	w := f.do(f.ids["admin"], "POST", "/api/admin/users", big)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB body: %d %s", w.Code, trim(w.Body.String()))
	}
	// A route may raise the limit.
	h := f.srv.guard.LimitBody(f.srv.guard.MaxBody(4 << 20)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			f.srv.reply.Error(w, r, err)
			return
		}
		fmt.Fprint(w, n)
	})))
	for _, tc := range []struct {
		size int
		want int
	}{{3 << 20, 200}, {5 << 20, 413}} {
		r := httptest.NewRequest("POST", "/upload", strings.NewReader(strings.Repeat("x", tc.size)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%d bytes under a 4 MiB route limit: %d", tc.size, w.Code)
		}
		r = httptest.NewRequest("POST", "/upload", io.NopCloser(strings.NewReader(strings.Repeat("x", tc.size))))
		r.ContentLength = -1 // chunked: the limit holds while reading
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%d bytes chunked: %d", tc.size, w.Code)
		}
	}
}

func TestAuditTrailOfAdminActions(t *testing.T) {
	f := newAuthFixture(t, nil)
	admin := f.ids["admin"]
	w := f.do(admin, "POST", "/api/admin/users", `{"email":"newbie@test.kz","name":"<img src=x onerror=alert(1)>","role":"planner"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var created struct {
		User     accounts.User `json:"user"`
		Password string        `json:"password"`
	}
	json.Unmarshal(w.Body.Bytes(), &created)
	if len(created.Password) < 20 {
		t.Fatalf("generated password %q", created.Password)
	}
	if strings.Contains(w.Body.String(), "<img") {
		t.Fatal("JSON answer carries unescaped markup")
	}
	w = f.do(admin, "PATCH", fmt.Sprintf("/api/admin/users/%d", created.User.ID), `{"role":"department_staff","department":"lighting"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("patch: %d %s", w.Code, w.Body)
	}
	w = f.do(admin, "GET", "/api/admin/audit?actor=admin@test.kz&action=user.*&since="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "")
	var resp struct {
		Records []accounts.AuditRecord `json:"records"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != 200 {
		t.Fatalf("audit: %d %s", w.Code, w.Body)
	}
	if len(resp.Records) != 2 {
		t.Fatalf("%d records; want user.create and user.role: %+v", len(resp.Records), resp.Records)
	}
	role := resp.Records[0]
	if role.Action != "user.role" || role.IP != "192.0.2.1" || role.ActorID == nil || *role.ActorID != admin.user.ID ||
		!strings.Contains(string(role.Before), `"role":"planner"`) || !strings.Contains(string(role.After), `"department":"lighting"`) {
		t.Fatalf("role record = %+v before=%s after=%s", role, role.Before, role.After)
	}
	if strings.Contains(string(role.After), "password_hash") || strings.Contains(string(role.After), "argon2") {
		t.Fatal("the audit log holds password material")
	}
	// Logins, good and bad, are in the log too.
	f.do(nil, "POST", "/api/auth/login", `{"email":"newbie@test.kz","password":"wrong password"}`)
	w = f.do(admin, "GET", "/api/admin/audit?action=login.failed", "")
	if !strings.Contains(w.Body.String(), `"actor":"newbie@test.kz"`) {
		t.Fatalf("failed login not in the audit log: %s", w.Body)
	}
	for _, bad := range []string{"since=yesterday", "limit=-1", "limit=99999", "before_id=x"} {
		if w := f.do(admin, "GET", "/api/admin/audit?"+bad, ""); w.Code != http.StatusBadRequest {
			t.Errorf("audit ?%s: %d", bad, w.Code)
		}
	}
	if w := f.do(f.ids["gis_staff"], "GET", "/api/admin/audit", ""); w.Code != http.StatusForbidden {
		t.Fatalf("staff reading the audit log: %d", w.Code)
	}
}

func TestAdminPage(t *testing.T) {
	f := newAuthFixture(t, nil)
	ctx := context.Background()
	hostile := `"><script>alert(1)</script>`
	f.srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: "hostile@test.kz", Name: hostile, Role: accounts.Citizen, Password: testPassword})
	f.srv.Accounts.CreateKey(ctx, f.ids["citizen"].user.ID, hostile, []accounts.Scope{accounts.ScopeRead}, nil)
	f.srv.Accounts.SetTrackerPassword(ctx, `../../etc/passwd`, "tracker-pw-1", hostile) // hostile input (treecheck:allow)
	// Audit rows hold what attackers typed (failed logins), shown on the page too.
	f.do(nil, "POST", "/api/auth/login", `{"email":"\u003cscript\u003ealert(1)\u003c/script\u003e@x.kz","password":"x"}`)
	if w := f.do(nil, "GET", "/admin", ""); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?") {
		t.Fatalf("anonymous /admin: %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := f.do(f.ids["planner"], "GET", "/admin?lang=en", ""); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "You may not open this page") {
		t.Fatalf("planner /admin: %d", w.Code)
	}
	for lang, want := range map[string]string{"kk": "Пайдаланушылар", "ru": "Пользователи", "en": "Users"} {
		w := f.do(f.ids["admin"], "GET", "/admin?lang="+lang, "")
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, want) || !strings.Contains(body, `lang="`+lang+`"`) {
			t.Fatalf("/admin?lang=%s: %d, no %q", lang, w.Code, want)
		}
		if strings.Contains(body, "<script>") || strings.Count(body, "&lt;script&gt;") < 4 {
			t.Fatal("the admin page shows a name, key name, note or audit actor unescaped")
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, " style=") {
			t.Fatal("the admin page loads something from elsewhere or uses inline styles the CSP forbids")
		}
		if !strings.Contains(body, `name="csrf_token" value="`+f.ids["admin"].csrf+`"`) {
			t.Fatal("forms lack the session's CSRF token")
		}
	}
	// A key made on the page is shown once.
	form := url.Values{"csrf_token": {f.ids["admin"].csrf}, "user_id": {fmt.Sprint(f.ids["dispatcher"].user.ID)},
		"name": {"AktobeBus"}, "scopes": {"tracker", "read"}}
	r := httptest.NewRequest("POST", "/admin/keys?lang=en", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(f.ids["admin"].cookie)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	key := regexp.MustCompile(`gpk_[A-Za-z0-9_-]{43}`).FindString(w.Body.String())
	if w.Code != http.StatusOK || key == "" {
		t.Fatalf("create key on the page: %d", w.Code)
	}
	if u, err := f.srv.Accounts.KeyUser(ctx, key); err != nil || u.ID != f.ids["dispatcher"].user.ID {
		t.Fatalf("the shown key does not work: %v", err)
	}
	if w := f.do(f.ids["admin"], "GET", "/admin", ""); strings.Contains(w.Body.String(), key) {
		t.Fatal("the key is shown again")
	}
	// A bad form is answered with the page and the error, and changes nothing.
	form = url.Values{"csrf_token": {f.ids["admin"].csrf}, "email": {"bad"}, "role": {"citizen"}}
	r = httptest.NewRequest("POST", "/admin/users?lang=en", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(f.ids["admin"].cookie)
	w = httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "is not an address") {
		t.Fatalf("bad form: %d", w.Code)
	}
	// An admin cannot lock themselves out.
	w = f.do(f.ids["admin"], "PATCH", fmt.Sprintf("/api/admin/users/%d", f.ids["admin"].user.ID), `{"role":"citizen"}`)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("self-demotion: %d", w.Code)
	}
}

func TestTrackerAdminAPI(t *testing.T) {
	f := newAuthFixture(t, nil)
	admin := f.ids["admin"]
	if w := f.do(admin, "POST", "/api/admin/trackers", `{"login":"862462030000001","password":"bus12-secret","note":"bus 12"}`); w.Code != http.StatusOK {
		t.Fatalf("set tracker: %d %s", w.Code, w.Body)
	}
	w := f.do(admin, "GET", "/api/admin/trackers", "")
	if !strings.Contains(w.Body.String(), "862462030000001") || strings.Contains(w.Body.String(), "argon2") {
		t.Fatalf("trackers: %s", w.Body)
	}
	if ok, _ := f.srv.Accounts.VerifyTracker(context.Background(), "862462030000001", "bus12-secret"); !ok {
		t.Fatal("tracker password does not verify")
	}
	if w := f.do(admin, "DELETE", "/api/admin/trackers/862462030000001", ""); w.Code != http.StatusOK {
		t.Fatalf("delete: %d", w.Code)
	}
}

// TestImportPage checks who gets the upload page: nobody signed in is sent to the sign-in page
// and back, roles that may not import are refused, GIS staff and admins get it in kk/ru/en with
// the page's wording handed to its script (web/pages/catalog_test.go checks it has every language) (and no inline script: CSP script-src 'self').
func TestImportPage(t *testing.T) {
	f := newAuthFixture(t, nil)
	for path, want := range map[string]string{"/staff/import.js": "text/javascript", "/pages/pages.css": "text/css"} {
		w := f.do(f.ids["anonymous"], "GET", path, "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), want) || w.Body.Len() < 200 {
			t.Errorf("GET %s: %d %s (%d bytes)", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
	w := f.do(f.ids["anonymous"], "GET", "/staff/import?lang=kk", "")
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?lang=kk&next=%2Fstaff%2Fimport") {
		t.Errorf("anonymous: %d to %q, want a redirect to the sign-in page and back", w.Code, loc)
	}
	for _, role := range []accounts.Role{accounts.Citizen, accounts.Planner, accounts.DepartmentStaff} {
		if w := f.do(f.ids[string(role)], "GET", "/staff/import", ""); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", role, w.Code)
		}
	}
	for _, tc := range []struct{ role, lang, want string }{
		{"gis_staff", "kk", "Қабатты импорттау"}, {"gis_staff", "ru", "Импорт слоя"}, {"admin", "en", "Import a layer"},
	} {
		w := f.do(f.ids[tc.role], "GET", "/staff/import?lang="+tc.lang, "")
		body := w.Body.String()
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s %s: %d %s", tc.role, tc.lang, w.Code, w.Header().Get("Content-Type"))
		}
		if !strings.Contains(body, `<html lang="`+tc.lang+`">`) || !strings.Contains(body, "<h1>"+tc.want+"</h1>") ||
			!strings.Contains(body, tc.role+"@test.kz") || !strings.Contains(body, `data-csrf="`+f.ids[tc.role].csrf+`"`) {
			t.Errorf("%s %s: page lacks its language, title, user or CSRF token:\n%s", tc.role, tc.lang, body)
		}
		if !strings.Contains(body, `src="/staff/import.js"`) || strings.Contains(body, "<script>") {
			t.Errorf("the page must load its script from a file (CSP script-src 'self')")
		}
		// The script's wording: a JSON object in a data block, in the page's language.
		_, rest, _ := strings.Cut(body, `<script type="application/json" id="import-text">`)
		js, _, _ := strings.Cut(rest, "</script>")
		var text map[string]string
		if err := json.Unmarshal([]byte(js), &text); err != nil || text["title"] != tc.want || text["refused"] == "" {
			t.Errorf("%s: script wording %q: %v", tc.lang, js, err)
		}
	}
}
