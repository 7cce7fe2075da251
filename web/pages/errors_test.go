package pages_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/pages"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The pages' one error path (Pages.fail: reply.Writer.Fail, then the error page) for each way a
// request fails: the database is down, the body is too large, the thing asked for does not
// exist, the role may not see it, the visitor went away.

// records keeps every log record as one line of text, at every level.
type records struct {
	mu    sync.Mutex
	lines []string
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *records) WithGroup(string) slog.Handler            { return h }

func (h *records) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, line)
	return nil
}

// about returns the lines that mention s.
func (h *records) about(s string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// site is a served geoportal with its log.
type site struct {
	srv *web.Server
	ts  *httptest.Server
	log *records
}

func newSite(t *testing.T, pool *pgxpool.Pool) site {
	t.Helper()
	logs := &records{}
	srv := web.NewServer(slog.New(logs), pool)
	t.Cleanup(srv.Transit.Close)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return site{srv: srv, ts: ts, log: logs}
}

// session signs a new user of role in and returns the session token.
func (s site) session(t *testing.T, email string, role accounts.Role) string {
	t.Helper()
	ctx := context.Background()
	u, err := s.srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: email, Role: role, Password: "a long enough password 5"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.srv.Accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// answer is what a page answered.
type answer struct {
	status int
	header http.Header
	body   string
}

// get asks for path with the session token (none when empty).
func (s site) get(t *testing.T, token, path string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.ts.URL+path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "geoportal_session", Value: token})
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// isErrorPage says whether a is the HTML error page in lang saying text.
func (a answer) isErrorPage(lang, text string) bool {
	return strings.HasPrefix(a.header.Get("Content-Type"), "text/html") && strings.Contains(a.body, `<html lang="`+lang+`">`) &&
		strings.Contains(a.body, `<p class="error" role="alert">`+text+`</p>`)
}

// With the database down, a page answers 503 with Retry-After and the error page in the
// visitor's language (never a JSON body, never a 500).
func TestHTMLDatabaseDown503(t *testing.T) {
	// Nothing listens on port 1: every statement fails to connect.
	pool, err := pgxpool.New(context.Background(), "postgres://geoportal@127.0.0.1:1/geoportal?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := newSite(t, pool)
	const csrf = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ" // a login form's 43-character token
	login := func() *http.Request {
		form := url.Values{"email": {"a@b.kz"}, "password": {"a long enough password"}, "csrf_token": {csrf}, "lang": {"kk"}}
		req, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "geoportal_login_csrf", Value: csrf})
		return req
	}
	for _, tc := range []struct {
		name, lang string
		req        func() *http.Request
	}{
		{"statistics", "en", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, s.ts.URL+"/reports/stats?lang=en", nil)
			return req
		}},
		{"lighting audit", "ru", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, s.ts.URL+"/lighting/audit?lang=ru", nil)
			return req
		}},
		{"sign-in form", "kk", login},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			a := do(t, req)
			if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
				t.Fatalf("%d, Retry-After %q, want 503 with Retry-After\n%.500s", a.status, a.header.Get("Retry-After"), a.body)
			}
			if !a.isErrorPage(tc.lang, pages.Text(tc.lang, "page.unavailable")) {
				t.Errorf("not the error page in %s:\n%.1000s", tc.lang, a.body)
			}
			// Unlike a canceled request, it is ours and logged as an error.
			if lines := s.log.about("path=" + req.URL.Path); len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "ERROR") {
				t.Errorf("the 503 was not logged as an error: %q", lines)
			}
		})
	}
}

// A form past the body limit is answered 413 as a page, not left to time out.
func TestHTMLBodyTooLarge413(t *testing.T) {
	s := newSite(t, dbtest.New(t))
	big := strings.Repeat("x", 2<<20)
	t.Run("sign-in form", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/login?lang=en", strings.NewReader("email=a%40b.kz&password="+big))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		a := do(t, req)
		if a.status != http.StatusRequestEntityTooLarge || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(a.body, "above the limit") || !strings.Contains(a.body, `name="password"`) {
			t.Fatalf("%d %s, want 413 on the sign-in page\n%.1000s", a.status, a.header.Get("Content-Type"), a.body)
		}
	})
	t.Run("staff form", func(t *testing.T) {
		tok := s.session(t, "gis@akimat.kz", accounts.GISStaff)
		req, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/staff/modules/outages?lang=ru", strings.NewReader("network=water&geometry="+big))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", accounts.CSRFToken(tok))
		req.AddCookie(&http.Cookie{Name: "geoportal_session", Value: tok})
		a := do(t, req)
		if a.status != http.StatusRequestEntityTooLarge || !a.isErrorPage("ru", "request body is above the limit of 1048576 bytes") {
			t.Fatalf("%d, want 413 and the error page\n%.1000s", a.status, a.body)
		}
	})
	// The form sends its token as a field, as a browser does, so the CSRF check reads the body
	// and meets the limit first: still the 413 error page, not a 403 in the JSON API's shape.
	t.Run("staff form, token in the form", func(t *testing.T) {
		tok := s.session(t, "gis2@akimat.kz", accounts.GISStaff)
		req, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/staff/modules/outages?lang=ru",
			strings.NewReader("csrf_token="+accounts.CSRFToken(tok)+"&network=water&geometry="+big))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "geoportal_session", Value: tok})
		a := do(t, req)
		if a.status != http.StatusRequestEntityTooLarge || !a.isErrorPage("ru", "request body is above the limit of 1048576 bytes") {
			t.Fatalf("%d %s, want 413 and the error page\n%.1000s", a.status, a.header.Get("Content-Type"), a.body)
		}
	})
}

// A report that does not exist is the error page with 404, in the page's language.
func TestHTMLNotFound(t *testing.T) {
	s := newSite(t, dbtest.New(t))
	tok := s.session(t, "dispatch@akimat.kz", accounts.Dispatcher)
	for _, path := range []string{"/staff/reports/987654?lang=kk", "/staff/reports/not-a-number?lang=kk"} {
		a := s.get(t, tok, path)
		if a.status != http.StatusNotFound || !a.isErrorPage("kk", pages.Text("kk", "page.not_found")) {
			t.Errorf("%s: %d, want 404 and the error page\n%.1000s", path, a.status, a.body)
		}
	}
}

// A signed-in visitor whose role may not open a page gets the error page with 403; a visitor
// not signed in is sent to sign in.
func TestHTMLForbidden(t *testing.T) {
	s := newSite(t, dbtest.New(t))
	citizen := s.session(t, "resident@example.kz", accounts.Citizen)
	for _, tc := range []struct{ path, lang string }{
		{"/admin?lang=en", "en"}, {"/staff/reports?lang=ru", "ru"}, {"/staff/dispatch?lang=kk", "kk"},
		{"/staff/modules?lang=en", "en"}, {"/staff/import?lang=ru", "ru"},
	} {
		a := s.get(t, citizen, tc.path)
		if a.status != http.StatusForbidden || !a.isErrorPage(tc.lang, pages.Text(tc.lang, "page.forbidden")) {
			t.Errorf("citizen %s: %d, want 403 and the error page\n%.1000s", tc.path, a.status, a.body)
		}
		if !strings.Contains(a.body, "resident@example.kz") || !strings.Contains(a.body, `action="/logout"`) {
			t.Errorf("citizen %s: the error page does not offer to sign out", tc.path)
		}
		if a := s.get(t, "", tc.path); a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/login?lang="+tc.lang) {
			t.Errorf("anonymous %s: %d to %q, want the sign-in page", tc.path, a.status, a.header.Get("Location"))
		}
	}
}

// A visitor who went away is answered nothing and nothing is logged: it is not an error.
func TestHTMLCanceledNotLogged(t *testing.T) {
	s := newSite(t, dbtest.New(t))
	h := s.srv.Handler()
	for _, path := range []string{"/reports/stats?lang=en", "/lighting/audit?lang=en"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
		if w.Body.Len() != 0 {
			t.Errorf("%s, canceled: answered %d %.300s, want nothing", path, w.Code, w.Body)
		}
	}
	for _, path := range []string{"/reports/stats", "/lighting/audit"} {
		if lines := s.log.about(path); len(lines) > 0 {
			t.Errorf("a canceled request to %s was logged: %q", path, lines)
		}
	}
}
