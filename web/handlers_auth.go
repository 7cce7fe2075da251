package web

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

//go:embed authpages
var authPagesFS embed.FS

var authTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"json": func(b json.RawMessage) string { return string(b) },
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"ptime": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"hasScope": func(k accounts.APIKey, sc accounts.Scope) bool { return k.HasScope(sc) },
}).ParseFS(authPagesFS, "authpages/*.html"))

// pageLang picks the page language: ?lang= or form field lang, then Accept-Language, then ru.
func pageLang(r *http.Request) string {
	for _, l := range []string{r.URL.Query().Get("lang"), r.PostFormValue("lang")} {
		if _, ok := pageText[l]; ok {
			return l
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag, _, _ = strings.Cut(strings.ToLower(tag), "-")
		if _, ok := pageText[tag]; ok {
			return tag
		}
	}
	return "ru"
}

// pageData is what every server-rendered page gets.
type pageData struct {
	Lang  string
	T     map[string]string
	Path  string
	CSRF  string
	User  *accounts.User
	Error string
	Flash string
}

func (s *Server) newPage(r *http.Request) pageData {
	lang := pageLang(r)
	p := pageData{Lang: lang, T: pageText[lang], Path: r.URL.Path}
	if u, ok := s.guard.CurrentUser(r); ok && u.Session != nil {
		p.User = u
		p.CSRF = accounts.CSRFToken(guard.SessionToken(r))
	}
	return p
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := authTemplates.ExecuteTemplate(w, name, data); err != nil {
		s.Logger.Error("render page", "page", name, "error", err)
	}
}

func (s *Server) handleAuthCSS(w http.ResponseWriter, r *http.Request) {
	b, err := authPagesFS.ReadFile("authpages/auth.css")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// safeNext keeps a post-login redirect on this site: a path starting with one slash.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") || len(next) > 500 {
		return "/"
	}
	return next
}

type loginPage struct {
	pageData
	Email string
	Next  string
}

// loginCSRF returns the token of the login form, kept in a cookie (double submit): a signed-in
// user gets the session's CSRF token, so the form also passes the session check.
func (s *Server) loginCSRF(w http.ResponseWriter, r *http.Request, p *pageData) string {
	tok := p.CSRF
	if tok == "" {
		if c, err := r.Cookie(guard.LoginCSRFCookie); err == nil && len(c.Value) == 43 {
			tok = c.Value
		} else {
			b := make([]byte, 32)
			rand.Read(b)
			tok = base64.RawURLEncoding.EncodeToString(b)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: guard.LoginCSRFCookie, Value: tok, Path: "/", MaxAge: 3600,
		Secure: s.guard.CookieSecure(r), HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	p := loginPage{pageData: s.newPage(r), Next: safeNext(r.URL.Query().Get("next"))}
	p.CSRF = s.loginCSRF(w, r, &p.pageData)
	s.render(w, r, http.StatusOK, "login.html", p)
}

// parseLoginForm reads the login form: email, password, csrf_token, next, lang.
func parseLoginForm(r *http.Request) (email, password, csrf, next string, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return "", "", "", "", geoportal.Errorf(geoportal.EINVALID, "login form must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return "", "", "", "", guard.BodyError(err)
	}
	f := r.PostForm
	return f.Get("email"), f.Get("password"), f.Get(guard.CSRFField), safeNext(f.Get("next")), nil
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	email, password, csrf, next, err := parseLoginForm(r)
	p := loginPage{pageData: s.newPage(r), Email: email, Next: next}
	if err != nil {
		p.CSRF = s.loginCSRF(w, r, &p.pageData)
		p.Error = geoportal.ErrorMessage(err)
		s.render(w, r, reply.Status(err), "login.html", p)
		return
	}
	c, cerr := r.Cookie(guard.LoginCSRFCookie)
	if cerr != nil || csrf == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(csrf)) != 1 {
		s.Logger.Warn("login form without a valid CSRF token", "ip", s.guard.ClientIP(r))
		p.CSRF = s.loginCSRF(w, r, &p.pageData)
		p.Error = p.T["csrf"]
		s.render(w, r, http.StatusForbidden, "login.html", p)
		return
	}
	u, token, sess, err := s.login(r, email, password)
	if err != nil {
		p.CSRF = s.loginCSRF(w, r, &p.pageData)
		switch geoportal.ErrorCode(err) {
		case geoportal.EUNAUTHORIZED:
			p.Error = p.T["bad_login"]
		case geoportal.ERATELIMIT:
			p.Error = p.T["rate_limited"]
		default:
			s.reply.Error(w, r, err)
			return
		}
		s.render(w, r, reply.Status(err), "login.html", p)
		return
	}
	s.guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	s.guard.ClearCookie(w, r, guard.LoginCSRFCookie)
	if next == "/" && u.Role == accounts.Admin {
		next = "/admin?lang=" + p.Lang
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// loginAccountKey is an account's key in the per-account login limiter.
func loginAccountKey(email string) string {
	key := strings.ToLower(strings.TrimSpace(email))
	if len(key) > 254 {
		key = key[:254]
	}
	return "account:" + key
}

// login applies the per-account rate limit, checks the password and starts a session, ending
// the session the request came with (no session fixation).
func (s *Server) login(r *http.Request, email, password string) (*accounts.User, string, *accounts.Session, error) {
	key := loginAccountKey(email)
	if ok, wait := s.guard.Limiter(guard.LimitLoginAccount).Allow(key); !ok {
		s.Logger.Warn("login rate limited", "account", key, "ip", s.guard.ClientIP(r))
		return nil, "", nil, geoportal.Errorf(geoportal.ERATELIMIT, "too many login attempts for this account; try again in %d s",
			int(wait.Seconds())+1)
	}
	ip := s.guard.ClientIP(r)
	u, err := s.Accounts.Authenticate(r.Context(), email, password, ip)
	if err != nil {
		if errors.Is(err, accounts.ErrBadLogin) {
			s.Logger.Warn("login failed", "ip", ip)
		}
		return nil, "", nil, err
	}
	if old := guard.SessionToken(r); old != "" {
		if err := s.Accounts.RevokeSession(r.Context(), old); err != nil {
			return nil, "", nil, err
		}
	}
	token, sess, err := s.Accounts.CreateSession(r.Context(), u.ID, ip, r.UserAgent())
	if err != nil {
		return nil, "", nil, err
	}
	s.Logger.Info("signed in", "user", u.Email, "role", u.Role, "ip", ip)
	return u, token, sess, nil
}

// decodeJSON reads one JSON object from a request with Content-Type application/json into v,
// refusing unknown fields. Other content types are refused: a cross-site form cannot send them.
func decodeJSON(r *http.Request, v any) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		return geoportal.Errorf(geoportal.EINVALID, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return reply.ErrTooLarge(mbe.Limit)
		}
		return geoportal.Errorf(geoportal.EINVALID, "request body is not the expected JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return geoportal.Errorf(geoportal.EINVALID, "request body has data after the JSON object")
	}
	return nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// parseLoginJSON reads the body of POST /api/auth/login.
func parseLoginJSON(r *http.Request) (loginRequest, error) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		return req, err
	}
	if req.Email == "" || req.Password == "" {
		return req, geoportal.Errorf(geoportal.EINVALID, "email and password are required")
	}
	return req, nil
}

type meResponse struct {
	User      *accounts.User `json:"user"`
	CSRFToken string         `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time     `json:"expires_at,omitempty"`
	Via       string         `json:"via,omitempty"`
}

func (s *Server) handleAPILogin(w http.ResponseWriter, r *http.Request) {
	req, err := parseLoginJSON(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	u, token, sess, err := s.login(r, req.Email, req.Password)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	s.guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	reply.JSON(w, http.StatusOK, meResponse{User: u, CSRFToken: accounts.CSRFToken(token), ExpiresAt: &sess.ExpiresAt, Via: "session"})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if tok := guard.SessionToken(r); tok != "" {
		if err := s.Accounts.RevokeSession(r.Context(), tok); err != nil {
			return err
		}
	}
	s.guard.ClearCookie(w, r, guard.SessionCookie)
	return nil
}

func (s *Server) handleAPILogout(w http.ResponseWriter, r *http.Request) {
	if err := s.logout(w, r); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]string{"status": "signed_out"})
}

func (s *Server) handleLogoutForm(w http.ResponseWriter, r *http.Request) {
	if err := s.logout(w, r); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?lang="+pageLang(r), http.StatusSeeOther)
}

// handleMe answers who the caller is; {"user": null} for anonymous callers.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	u, err := s.guard.AuthUser(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	resp := meResponse{User: u}
	if u != nil && u.Session != nil {
		resp.CSRFToken = accounts.CSRFToken(guard.SessionToken(r))
		resp.ExpiresAt = &u.Session.ExpiresAt
		resp.Via = "session"
	} else if u != nil {
		resp.Via = "api_key"
	}
	reply.JSON(w, http.StatusOK, resp)
}

// handleChangePassword lets a signed-in user change their own password: every session ends and
// this browser gets a new one. Checking the current password is a guess like a login: the route
// has the per-address login limit, and the account shares its login budget (guard.LimitLoginAccount),
// so a stolen session cannot try passwords faster than the sign-in form.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	u, ok := s.guard.CurrentUser(r)
	if !ok || u.Session == nil {
		s.guard.Refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in (with a session, not an API key) to change your password"))
		return
	}
	key := loginAccountKey(u.Email)
	if ok, wait := s.guard.Limiter(guard.LimitLoginAccount).Allow(key); !ok {
		s.guard.RefuseRateLimited(w, r, guard.LimitLoginAccount, key, wait)
		return
	}
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	if err := s.Accounts.ChangePassword(r.Context(), u.ID, req.Current, req.New); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	token, sess, err := s.Accounts.CreateSession(r.Context(), u.ID, s.guard.ClientIP(r), r.UserAgent())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	s.guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	reply.JSON(w, http.StatusOK, meResponse{User: u, CSRFToken: accounts.CSRFToken(token), ExpiresAt: &sess.ExpiresAt, Via: "session"})
}
