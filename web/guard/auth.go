package guard

import (
	"context"
	"crypto/subtle"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
)

// ClientIP is the address rate limits and the audit log use.
func (g *Guard) ClientIP(r *http.Request) string {
	if g.config.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authInfo is what the authenticate middleware learnt about the caller; the user is looked up at
// most once per request, and only when asked for (or for writes).
type authInfo struct {
	once    sync.Once
	resolve func() (*accounts.User, error)
	user    *accounts.User
	err     error
	viaKey  bool
}

type authKey struct{}

func (a *authInfo) get() (*accounts.User, error) {
	if a == nil || a.resolve == nil {
		return nil, nil
	}
	a.once.Do(func() { a.user, a.err = a.resolve() })
	return a.user, a.err
}

// APIKeyFrom returns the API key of a request: "Authorization: Bearer KEY" or "X-API-Key: KEY".
func APIKeyFrom(r *http.Request) (string, bool) {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return strings.TrimSpace(k), true
	}
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, ok := strings.Cut(a, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), true
		}
	}
	return "", false
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// Authenticate finds who is calling: an API key header (which wins, and is refused with 401 when
// not valid) or the session cookie. For writes made with a session cookie it demands the session's
// CSRF token (header X-CSRF-Token, or form field csrf_token) and a same-origin request; API-key
// requests carry no ambient credentials and need none. It puts the accounts.Actor into the
// context for the audit log.
func (g *Guard) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := g.ClientIP(r)
		info := &authInfo{}
		ctx := context.WithValue(r.Context(), authKey{}, info)
		ctx = accounts.WithActor(ctx, accounts.Actor{Label: string(accounts.Anonymous), IP: ip})
		r = r.WithContext(ctx)
		var sessionToken string
		if key, ok := APIKeyFrom(r); ok {
			info.viaKey = true
			info.resolve = func() (*accounts.User, error) { return g.accounts.KeyUser(ctx, key) }
		} else if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			sessionToken = c.Value
			info.resolve = func() (*accounts.User, error) { return g.accounts.SessionUser(ctx, sessionToken) }
		}
		if info.resolve == nil || (safeMethod(r.Method) && !info.viaKey) {
			next.ServeHTTP(w, r)
			return
		}
		u, err := info.get()
		switch {
		case err != nil && info.viaKey:
			g.Refuse(w, r, err)
			return
		case geoportal.ErrorCode(err) == geoportal.EUNAUTHORIZED:
			// A stale session cookie: the request goes on as anonymous and the cookie is cleared.
			g.ClearCookie(w, r, SessionCookie)
		case err != nil:
			g.fail(w, r, err)
			return
		}
		if u != nil && !info.viaKey && !safeMethod(r.Method) {
			if err := g.checkSameOrigin(r); err != nil {
				g.Refuse(w, r, err)
				return
			}
			ok, err := validCSRF(r, accounts.CSRFToken(sessionToken))
			if err != nil {
				g.fail(w, r, err)
				return
			}
			if !ok {
				g.Refuse(w, r, geoportal.Errorf(geoportal.EFORBIDDEN,
					"missing or wrong CSRF token: send the session's token in the X-CSRF-Token header or the csrf_token form field"))
				return
			}
		}
		if u != nil {
			r = r.WithContext(accounts.WithActor(r.Context(), accounts.Actor{UserID: u.ID, Label: u.Label(), IP: ip}))
		}
		next.ServeHTTP(w, r)
	})
}

// checkSameOrigin refuses cookie-authenticated writes that a browser marks as coming from
// another site. Behind a trusted proxy the forwarded host counts as ours too.
func (g *Guard) checkSameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return geoportal.Errorf(geoportal.EFORBIDDEN, "cross-site request refused")
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		ok := err == nil && u.Host != "" && (u.Host == r.Host ||
			g.config.TrustForwardedFor && u.Host == r.Header.Get("X-Forwarded-Host"))
		if !ok {
			return geoportal.Errorf(geoportal.EFORBIDDEN, "request from origin %q refused", o)
		}
	}
	return nil
}

// validCSRF compares the request's CSRF token with want in constant time. Form posts may send it
// as a field; multipart uploads send the header (or ?csrf_token=), so their body is not parsed here.
// A form body past its limit is the error: it is answered 413, not as a missing token.
func validCSRF(r *http.Request, want string) (bool, error) {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "application/x-www-form-urlencoded":
			var mbe *http.MaxBytesError
			if err := r.ParseForm(); errors.As(err, &mbe) {
				return false, BodyError(err)
			}
			got = r.PostFormValue(CSRFField)
		case "multipart/form-data":
			got = r.URL.Query().Get(CSRFField)
		}
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1, nil
}

// Refuse answers a request that authentication or authorisation turned away, with a log line.
func (g *Guard) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	g.logger.Warn("request refused", "method", r.Method, "path", r.URL.Path, "ip", g.ClientIP(r),
		"actor", accounts.ActorFrom(r.Context()).Label, "reason", geoportal.ErrorMessage(err))
	g.fail(w, r, err)
}

// scopePaths lists what each API key scope reaches, by path prefix. Keys reach nothing else
// (except ScopeRead: any GET or HEAD).
var scopePaths = map[accounts.Scope][]string{
	accounts.ScopeOpen311:       {"/open311/"},
	accounts.ScopeTracker:       {"/api/tracker/", "/api/vehicles/", "/tracker/"},
	accounts.ScopeImport:        {"/api/import/", "/api/imports/", "/api/import"},
	accounts.ScopeFeaturesWrite: {"/ogc/", "/api/layers/", "/api/features/"},
	accounts.ScopeReports:       {"/api/reports/", "/api/reports", "/api/staff/reports/", "/open311/"},
	accounts.ScopeAdmin:         {"/api/admin/"},
}

// KeyAllows reports whether an API key's scopes cover a request.
func KeyAllows(k *accounts.APIKey, method, p string) bool {
	if p == "" || path.Clean(p) != p && path.Clean(p)+"/" != p {
		return false // no dot segments or doubled slashes through a scope's prefix
	}
	if k.HasScope(accounts.ScopeRead) && (method == http.MethodGet || method == http.MethodHead) {
		return true
	}
	for _, sc := range k.Scopes {
		for _, prefix := range scopePaths[sc] {
			if strings.HasPrefix(p, prefix) && (prefix[len(prefix)-1] == '/' || p == prefix) {
				return true
			}
		}
	}
	return false
}

// AuthUser returns the caller: nil without an error for anonymous requests; EUNAUTHORIZED for a
// bad API key; EFORBIDDEN when a key's scopes do not cover the request.
func (g *Guard) AuthUser(r *http.Request) (*accounts.User, error) {
	info, _ := r.Context().Value(authKey{}).(*authInfo)
	u, err := info.get()
	if err != nil {
		if code := geoportal.ErrorCode(err); code == geoportal.EUNAUTHORIZED && !info.viaKey {
			return nil, nil // stale session cookie: anonymous
		} else if code == geoportal.EINTERNAL {
			g.logger.Error("authentication failed", "path", r.URL.Path, "error", err)
		}
		return nil, err
	}
	if u != nil && u.Key != nil && !KeyAllows(u.Key, r.Method, r.URL.Path) {
		return nil, geoportal.Errorf(geoportal.EFORBIDDEN, "API key %s (scopes %s) does not cover %s %s",
			u.Key.Prefix, joinScopes(u.Key.Scopes), r.Method, r.URL.Path)
	}
	return u, nil
}

func joinScopes(sc []accounts.Scope) string {
	var b []string
	for _, s := range sc {
		b = append(b, string(s))
	}
	return strings.Join(b, ",")
}

// CurrentUser returns the signed-in user of the request (session cookie, or an API key whose
// scopes cover the request), or false for anonymous requests.
func (g *Guard) CurrentUser(r *http.Request) (*accounts.User, bool) {
	u, err := g.AuthUser(r)
	return u, err == nil && u != nil
}

// IsStaff reports whether the request comes from city staff (gis_staff, planner,
// department_staff, dispatcher or admin): they see staff-only layers and may edit.
func (g *Guard) IsStaff(r *http.Request) bool {
	u, ok := g.CurrentUser(r)
	return ok && u.IsStaff()
}

// RequireRole lets through only users with one of roles: 401 for anonymous callers (unless
// accounts.Anonymous is among roles), 403 for other roles or an API key whose scopes do not cover
// the route.
func (g *Guard) RequireRole(roles ...accounts.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := g.AuthUser(r)
			switch {
			case err != nil:
				g.Refuse(w, r, err)
			case u == nil && slices.Contains(roles, accounts.Anonymous):
				next.ServeHTTP(w, r)
			case u == nil:
				g.Refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in required"))
			case !u.HasRole(roles...):
				g.Refuse(w, r, geoportal.Errorf(geoportal.EFORBIDDEN, "role %s may not do this (needs %s)", u.Role, joinRoles(roles)))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// RequireStaff is RequireRole with every staff role.
func (g *Guard) RequireStaff(next http.Handler) http.Handler {
	return g.RequireRole(accounts.StaffRoles...)(next)
}

func joinRoles(rs []accounts.Role) string {
	var b []string
	for _, r := range rs {
		b = append(b, string(r))
	}
	return strings.Join(b, " or ")
}

// CookieSecure decides the Secure attribute of the cookies set for r.
func (g *Guard) CookieSecure(r *http.Request) bool {
	switch strings.ToLower(g.config.CookieSecure) {
	case "on", "true", "1", "yes":
		return true
	case "off", "false", "0", "no":
		return false
	}
	return g.OverHTTPS(r)
}

// OverHTTPS reports whether the client reached us over HTTPS: TLS on this connection, or, behind
// a trusted proxy (TrustForwardedFor), X-Forwarded-Proto says https. As with X-Forwarded-For, the
// last value counts: the one the nearest proxy (ours) set. The header is ignored otherwise, since
// anyone can send it.
func (g *Guard) OverHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !g.config.TrustForwardedFor {
		return false
	}
	v := r.Header.Values("X-Forwarded-Proto")
	if len(v) == 0 {
		return false
	}
	last := v[len(v)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}

func (g *Guard) SetSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), Secure: g.CookieSecure(r), HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (g *Guard) ClearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: g.CookieSecure(r),
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// SessionToken returns the session cookie's token of a request signed in by session.
func SessionToken(r *http.Request) string {
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}
