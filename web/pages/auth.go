package pages

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

// The sign-in form and the admin page (users, API keys, GPS trackers, audit log).

// safeNext keeps a post-login redirect on this site: a path starting with one slash.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") || len(next) > 500 {
		return "/"
	}
	return next
}

type loginPage struct {
	page
	Email string
	Next  string
}

// loginCSRF returns the token of the login form, kept in a cookie (double submit): a signed-in
// user gets the session's CSRF token, so the form also passes the session check.
func (ps *Pages) loginCSRF(w http.ResponseWriter, r *http.Request, p *page) string {
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
		Secure: ps.Guard.CookieSecure(r), HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

// Login is the sign-in page (GET /login).
func (ps *Pages) Login(w http.ResponseWriter, r *http.Request) {
	p := loginPage{page: ps.newPage(r), Next: safeNext(r.URL.Query().Get("next"))}
	p.CSRF = ps.loginCSRF(w, r, &p.page)
	ps.render(w, http.StatusOK, p.Lang, "login.html", p)
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

// LoginForm signs in from the form (POST /login) and goes on to next (an admin to /admin).
func (ps *Pages) LoginForm(w http.ResponseWriter, r *http.Request) {
	email, password, csrf, next, err := parseLoginForm(r)
	p := loginPage{page: ps.newPage(r), Email: email, Next: next}
	if err != nil {
		p.CSRF = ps.loginCSRF(w, r, &p.page)
		p.Error = geoportal.ErrorMessage(err)
		ps.render(w, reply.Status(err), p.Lang, "login.html", p)
		return
	}
	c, cerr := r.Cookie(guard.LoginCSRFCookie)
	if cerr != nil || csrf == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(csrf)) != 1 {
		ps.Logger.Warn("login form without a valid CSRF token", "ip", ps.Guard.ClientIP(r))
		p.CSRF = ps.loginCSRF(w, r, &p.page)
		p.Error = p.T("page.csrf")
		ps.render(w, http.StatusForbidden, p.Lang, "login.html", p)
		return
	}
	u, token, sess, err := ps.Shared.Login(r, email, password)
	if err != nil {
		p.CSRF = ps.loginCSRF(w, r, &p.page)
		switch geoportal.ErrorCode(err) {
		case geoportal.EUNAUTHORIZED:
			p.Error = p.T("page.bad_login")
		case geoportal.ERATELIMIT:
			p.Error = p.T("page.rate_limited")
		default:
			ps.fail(w, r, err)
			return
		}
		ps.render(w, reply.Status(err), p.Lang, "login.html", p)
		return
	}
	ps.Guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	ps.Guard.ClearCookie(w, r, guard.LoginCSRFCookie)
	if next == "/" && u.Role == accounts.Admin {
		next = "/admin?lang=" + p.Lang
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// LogoutForm ends the session (POST /logout) and shows the sign-in page.
func (ps *Pages) LogoutForm(w http.ResponseWriter, r *http.Request) {
	if err := ps.Shared.Logout(w, r); err != nil {
		ps.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?lang="+Lang(r), http.StatusSeeOther)
}

// ---- the admin page (/admin) ----

type adminSecret struct{ Label, Value string }

type adminPage struct {
	page
	Users    []accounts.User
	Keys     []accounts.APIKey
	Trackers []accounts.Tracker
	Open     int // trackers marked open (warned about)
	Audit    []accounts.AuditRecord
	Roles    []accounts.Role
	Scopes   []accounts.Scope
	Filter   url.Values
	Secret   *adminSecret
}

// admin lets an admin through: a sign-in redirect for anonymous visitors, 403 for other roles.
func (ps *Pages) admin(w http.ResponseWriter, r *http.Request) bool {
	u, ok := ps.Guard.CurrentUser(r)
	if !ok || u.Session == nil {
		if r.Method == http.MethodGet {
			signIn(w, r, Lang(r))
		} else {
			ps.Guard.Refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in required"))
		}
		return false
	}
	if u.Role != accounts.Admin {
		ps.Logger.Warn("request refused", "method", r.Method, "path", r.URL.Path, "actor", u.Label(), "reason", "not an admin")
		ps.forbidden(w, r, "the admin page needs the admin role")
		return false
	}
	return true
}

func (ps *Pages) renderAdmin(w http.ResponseWriter, r *http.Request, status int, errMsg string, secret *adminSecret) {
	ctx := r.Context()
	p := adminPage{page: ps.newPage(r), Roles: accounts.Roles, Scopes: accounts.Scopes, Filter: r.URL.Query(), Secret: secret}
	p.Error = errMsg
	if r.URL.Query().Get("msg") == "saved" {
		p.Flash = p.T("page.saved")
	}
	var err error
	if p.Users, err = ps.Accounts.Users(ctx); err == nil {
		if p.Keys, err = ps.Accounts.Keys(ctx); err == nil {
			if p.Trackers, err = ps.Accounts.Trackers(ctx); err == nil {
				for _, t := range p.Trackers {
					if t.Open {
						p.Open++
					}
				}
				f, ferr := ps.Shared.AuditFilter(r.URL.Query())
				if ferr != nil {
					p.Error = geoportal.ErrorMessage(ferr)
					f = accounts.AuditFilter{}
				}
				f.Limit = 200
				p.Audit, err = ps.Accounts.AuditLog(ctx, f)
			}
		}
	}
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	ps.render(w, status, p.Lang, "admin.html", p)
}

// Admin is the admin page (GET /admin).
func (ps *Pages) Admin(w http.ResponseWriter, r *http.Request) {
	if !ps.admin(w, r) {
		return
	}
	ps.renderAdmin(w, r, http.StatusOK, "", nil)
}

// adminForm runs one admin form action: on success it redirects back to /admin (or shows the
// secret made, once); on failure it shows the page with the error.
func (ps *Pages) adminForm(action func(r *http.Request) (*adminSecret, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !ps.admin(w, r) {
			return
		}
		if err := r.ParseForm(); err != nil {
			ps.fail(w, r, guard.BodyError(err))
			return
		}
		// The page is redrawn for /admin, keeping the language.
		back := &http.Request{}
		*back = *r
		back.URL = &url.URL{Path: "/admin", RawQuery: url.Values{"lang": {Lang(r)}}.Encode()}
		secret, err := action(r)
		if err != nil {
			ps.Logger.Info("admin form refused", "path", r.URL.Path, "error", err)
			status := reply.Status(err)
			if status >= 500 {
				ps.fail(w, r, err)
				return
			}
			ps.renderAdmin(w, back, status, geoportal.ErrorMessage(err), nil)
			return
		}
		if secret != nil {
			ps.renderAdmin(w, back, http.StatusOK, "", secret)
			return
		}
		http.Redirect(w, r, "/admin?msg=saved&lang="+Lang(r), http.StatusSeeOther)
	}
}

// The admin page's forms, each at its POST /admin/… route.
func (ps *Pages) CreateUserForm() http.HandlerFunc { return ps.adminForm(ps.formCreateUser) }
func (ps *Pages) SetRoleForm() http.HandlerFunc    { return ps.adminForm(ps.formSetRole) }
func (ps *Pages) SetPasswordForm() http.HandlerFunc {
	return ps.adminForm(ps.formSetPassword)
}
func (ps *Pages) RevokeSessionsForm() http.HandlerFunc { return ps.adminForm(ps.formRevokeSessions) }
func (ps *Pages) SetDisabledForm() http.HandlerFunc    { return ps.adminForm(ps.formSetDisabled) }
func (ps *Pages) CreateKeyForm() http.HandlerFunc      { return ps.adminForm(ps.formCreateKey) }
func (ps *Pages) RevokeKeyForm() http.HandlerFunc      { return ps.adminForm(ps.formRevokeKey) }
func (ps *Pages) SetTrackerForm() http.HandlerFunc     { return ps.adminForm(ps.formSetTracker) }
func (ps *Pages) DeleteTrackerForm() http.HandlerFunc  { return ps.adminForm(ps.formDeleteTracker) }

func (ps *Pages) formCreateUser(r *http.Request) (*adminSecret, error) {
	f := r.PostForm
	u, generated, err := ps.Shared.CreateUser(r, accounts.NewUser{Email: f.Get("email"), Name: f.Get("name"),
		Role: accounts.Role(f.Get("role")), Department: f.Get("department"), Password: f.Get("password")})
	if err != nil || generated == "" {
		return nil, err
	}
	return &adminSecret{Label: Text(Lang(r), "page.new_password") + ": " + u.Email, Value: generated}, nil
}

func (ps *Pages) formSetRole(r *http.Request) (*adminSecret, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	role, err := accounts.ParseRole(r.PostForm.Get("role"))
	if err != nil {
		return nil, err
	}
	if err := ps.Shared.CheckNotSelfDemotion(r, id, role, false); err != nil {
		return nil, err
	}
	_, err = ps.Accounts.SetRole(r.Context(), id, role, r.PostForm.Get("department"))
	return nil, err
}

func (ps *Pages) formSetPassword(r *http.Request) (*adminSecret, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	pw := r.PostForm.Get("password")
	generated := pw == ""
	if generated {
		pw = accounts.GeneratePassword()
	}
	if err := ps.Accounts.SetPassword(r.Context(), id, pw); err != nil {
		return nil, err
	}
	if !generated {
		return nil, nil
	}
	u, err := ps.Accounts.User(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return &adminSecret{Label: Text(Lang(r), "page.new_password") + ": " + u.Email, Value: pw}, nil
}

func (ps *Pages) formRevokeSessions(r *http.Request) (*adminSecret, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := ps.Accounts.User(r.Context(), id); err != nil {
		return nil, err
	}
	_, err = ps.Accounts.RevokeUserSessions(r.Context(), id)
	return nil, err
}

func (ps *Pages) formSetDisabled(r *http.Request) (*adminSecret, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	disabled := r.PostForm.Get("disabled") == "true"
	if disabled {
		if err := ps.Shared.CheckNotSelfDemotion(r, id, accounts.Admin, true); err != nil {
			return nil, err
		}
	}
	_, err = ps.Accounts.SetDisabled(r.Context(), id, disabled)
	return nil, err
}

func (ps *Pages) formCreateKey(r *http.Request) (*adminSecret, error) {
	f := r.PostForm
	uid, err := strconv.ParseInt(f.Get("user_id"), 10, 64)
	if err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "choose the key's owner")
	}
	key, k, err := ps.Shared.CreateKey(r, uid, f.Get("name"), f["scopes"], f.Get("expires_at"))
	if err != nil {
		return nil, err
	}
	return &adminSecret{Label: Text(Lang(r), "page.new_key") + " " + k.Prefix + "… (" + k.UserEmail + ")", Value: key}, nil
}

func (ps *Pages) formRevokeKey(r *http.Request) (*adminSecret, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, ps.Accounts.RevokeKey(r.Context(), id)
}

func (ps *Pages) formSetTracker(r *http.Request) (*adminSecret, error) {
	f := r.PostForm
	return nil, ps.Shared.SetTracker(r, f.Get("login"), f.Get("password"), f.Get("note"), f.Get("open") == "true")
}

func (ps *Pages) formDeleteTracker(r *http.Request) (*adminSecret, error) {
	return nil, ps.Accounts.DeleteTracker(r.Context(), r.PostForm.Get("login"))
}
