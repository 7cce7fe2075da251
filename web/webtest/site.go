package webtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Site is a served fresh database with helpers to fill it, sign callers in and send them; the
// city modules' JSON and pages tests share it.
type Site struct {
	T    *testing.T
	TS   *httptest.Server
	Srv  *web.Server
	Pool *pgxpool.Pool
}

// Caller is a signed-in account (session cookie and CSRF token), or anonymous when zero.
type Caller struct{ Token, CSRF string }

// NewSite serves a fresh, migrated database.
func NewSite(t *testing.T) *Site {
	t.Helper()
	pool := dbtest.New(t)
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &Site{T: t, TS: ts, Srv: srv, Pool: pool}
}

// Exec runs one SQL statement on the site's database.
func (e *Site) Exec(sql string, args ...any) {
	e.T.Helper()
	if _, err := e.Pool.Exec(context.Background(), sql, args...); err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
}

// SignIn creates an account of role and a session for it.
func (e *Site) SignIn(email string, role accounts.Role) Caller {
	e.T.Helper()
	return e.signIn(accounts.NewUser{Email: email, Role: role, Password: "a long enough password 3"})
}

// SignInStaff signs in a department's staff member: the role that runs the contest in the city.
func (e *Site) SignInStaff(email string) Caller {
	e.T.Helper()
	return e.signIn(accounts.NewUser{Email: email, Role: accounts.DepartmentStaff, Department: "social",
		Password: "a long enough password 3"})
}

// SignInDepartment signs in a staff member of the named department (safe_city moderates the
// private cameras).
func (e *Site) SignInDepartment(email, department string) Caller {
	e.T.Helper()
	return e.signIn(accounts.NewUser{Email: email, Role: accounts.DepartmentStaff, Department: department,
		Password: "a long enough password 3"})
}

func (e *Site) signIn(n accounts.NewUser) Caller {
	e.T.Helper()
	ctx := context.Background()
	u, err := e.Srv.Accounts.CreateUser(ctx, n)
	if err != nil {
		e.T.Fatal(err)
	}
	tok, _, err := e.Srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		e.T.Fatal(err)
	}
	return Caller{Token: tok, CSRF: accounts.CSRFToken(tok)}
}

// Do sends a request; a string or []byte body goes as JSON unless contentType says otherwise.
func (e *Site) Do(c Caller, method, path string, body any, contentType ...string) (int, string) {
	e.T.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	}
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	req, _ := http.NewRequest(method, e.TS.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Origin", e.TS.URL)
	}
	if c.Token != "" {
		req.Header.Set("Cookie", "geoportal_session="+c.Token)
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Want sends a request and fails the test unless the answer has status and contains says.
func (e *Site) Want(c Caller, method, path string, body any, status int, says string) string {
	e.T.Helper()
	code, out := e.Do(c, method, path, body)
	if code != status || !strings.Contains(out, says) {
		e.T.Fatalf("%s %s: %d %.600s; want %d containing %q", method, path, code, out, status, says)
	}
	return out
}

// noRedirect is a client that answers with the first response, redirects included.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Page fetches a server-rendered page as c (GET when form is nil) or posts its form (the
// caller's CSRF token added, as a browser would send it), without following redirects; it
// answers with the status, the Location header and the body.
func (e *Site) Page(c Caller, path string, form url.Values) (status int, location, body string) {
	e.T.Helper()
	var rd io.Reader
	method := http.MethodGet
	if form != nil {
		form.Set("csrf_token", c.CSRF)
		rd, method = strings.NewReader(form.Encode()), http.MethodPost
	}
	req, _ := http.NewRequest(method, e.TS.URL+path, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.TS.URL)
	}
	if c.Token != "" {
		req.Header.Set("Cookie", "geoportal_session="+c.Token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// Form is a page form's body: the caller's CSRF token and the key-value pairs kv.
func Form(c Caller, kv ...string) string {
	v := url.Values{"csrf_token": {c.CSRF}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}
