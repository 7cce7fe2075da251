package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
)

// SecurityConfig holds the settings of cookies, request sizes and rate limits.
type SecurityConfig struct {
	// CookieSecure is "auto" (Secure when the request came over TLS, or X-Forwarded-Proto says
	// https and TrustForwardedFor is on), "on" or "off" (plain-http development only).
	CookieSecure string
	// TrustForwardedFor takes the client address from the last X-Forwarded-For entry and the
	// scheme from X-Forwarded-Proto: turn it on only behind a proxy that sets them.
	TrustForwardedFor bool
	// MaxBodyBytes bounds every request body; routes raise it with s.maxBody.
	MaxBodyBytes int64
	// PublicURL is the site's address as residents reach it (https://geo.aktobe.kz). Links in
	// messages sent out (confirmation e-mails and SMS) are built from it, never from the request;
	// when set, absolute URLs in answers (OGC, TileJSON, Open311 self links) use it too.
	PublicURL string
	// ListenURL is the server's own address (http://LISTEN-ADDR), used for links in messages when
	// PublicURL is empty (development); `geoportal serve` sets it and warns.
	ListenURL string
	// LoginPerIP and LoginPerAccount limit login attempts; Submit (reports), Upload (imports,
	// photos) and Analysis (background analysis jobs) are applied with s.rateLimit by the routes
	// that need them.
	LoginPerIP, LoginPerAccount, Submit, Upload, Analysis RateLimit
}

// DefaultSecurity returns the production defaults.
func DefaultSecurity() SecurityConfig {
	return SecurityConfig{
		CookieSecure: "auto",
		MaxBodyBytes: 1 << 20,
		LoginPerIP:   RateLimit{PerMinute: 20, Burst: 10},
		// Per account: 5 tries, then one every 12 s, whoever tries.
		LoginPerAccount: RateLimit{PerMinute: 5, Burst: 5},
		Submit:          RateLimit{PerMinute: 6, Burst: 10},
		Upload:          RateLimit{PerMinute: 10, Burst: 5},
		// Analysis jobs per client address and account; each client also has at most
		// analysis.MaxRunningJobsPerClient running at once.
		Analysis: RateLimit{PerMinute: 10, Burst: 10},
	}
}

// Names of the rate limits, for s.rateLimit.
const (
	limitLogin        = "login"
	limitLoginAccount = "login_account"
	limitSubmit       = "submit"
	limitUpload       = "upload"
	limitAnalysis     = "analysis"
)

const (
	sessionCookie   = "geoportal_session"
	loginCSRFCookie = "geoportal_login_csrf"
	csrfHeader      = "X-CSRF-Token"
	csrfField       = "csrf_token"
)

// authState is the per-process security state of a Server; its zero value is ready.
type authState struct {
	once     sync.Once
	limiters map[string]*limiter
}

func (s *Server) limiter(name string) *limiter {
	s.auth.once.Do(func() {
		c := s.Security
		s.auth.limiters = map[string]*limiter{
			limitLogin:        newLimiter(c.LoginPerIP),
			limitLoginAccount: newLimiter(c.LoginPerAccount),
			limitSubmit:       newLimiter(c.Submit),
			limitUpload:       newLimiter(c.Upload),
			limitAnalysis:     newLimiter(c.Analysis),
		}
	})
	return s.auth.limiters[name]
}

// securityHeaders sets the headers every response carries. The CSP lets MapLibre GL JS run: it
// builds its workers from blob: URLs and draws images from data: and blob: URLs; it sets styles
// only through the CSSOM, so no 'unsafe-inline' is needed. An external basemap's origin is
// allowed for images and fetches.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.contentSecurityPolicy())
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), payment=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.overHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) contentSecurityPolicy() string {
	extra := ""
	if u, err := url.Parse(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s.Map.BasemapURL, "{z}", "0"),
		"{x}", "0"), "{y}", "0")); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsAny(u.Host, " ;'\"") {
		extra = " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:" + extra +
		"; font-src 'self'; connect-src 'self'" + extra + "; worker-src 'self' blob:; child-src 'self' blob:" +
		"; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// limitedBody is a request body that fails after limit bytes; the limit can be raised by a
// route (s.maxBody) before the body is read.
type limitedBody struct {
	rc    io.ReadCloser
	w     http.ResponseWriter
	limit int64
	read  int64
	err   error
	eof   bool // the body was read to its end
}

// bodyUnread reports whether r has a body that was not read to its end. An error answer to such
// a request closes the connection: otherwise net/http would read the rest of the body to keep
// the connection, and a client trickling it (a refused device key, say) would hold it.
func bodyUnread(r *http.Request) bool {
	lb, ok := r.Context().Value(bodyLimitKey{}).(*limitedBody)
	return ok && !lb.eof
}

type bodyLimitKey struct{}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	remaining := b.limit - b.read
	if int64(len(p)) > remaining+1 {
		p = p[:remaining+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= remaining {
		b.read += int64(n)
		b.eof = b.eof || err == io.EOF
		return n, err
	}
	b.read = b.limit
	b.err = &http.MaxBytesError{Limit: b.limit}
	b.w.Header().Set("Connection", "close")
	return int(remaining), b.err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// limitBody bounds every request body to Security.MaxBodyBytes (default 1 MiB). Reading past the
// limit fails with *http.MaxBytesError, which s.Error answers with 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.Security.MaxBodyBytes
		if limit <= 0 {
			limit = 1 << 20
		}
		if r.Body != nil && r.Body != http.NoBody {
			lb := &limitedBody{rc: r.Body, w: w, limit: limit}
			r.Body = lb
			r = r.WithContext(context.WithValue(r.Context(), bodyLimitKey{}, lb))
		}
		next.ServeHTTP(w, r)
	})
}

// maxBody raises (or lowers) the body limit of a route, e.g. r.With(s.maxBody(200<<20)).Post(…)
// for uploads, and gives a raised limit the time to upload it (allowUpload). A declared
// Content-Length above the limit is refused at once.
func (s *Server) maxBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if lb, ok := r.Context().Value(bodyLimitKey{}).(*limitedBody); ok && lb.read == 0 {
				lb.limit = n
			}
			s.allowUpload(w, n)
			if r.ContentLength > n {
				s.Error(w, r, geoportal.Errorf(geoportal.ETOOLARGE, "request body of %d bytes is above the limit of %d bytes", r.ContentLength, n))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientIP is the address rate limits and the audit log use.
func (s *Server) clientIP(r *http.Request) string {
	if s.Security.TrustForwardedFor {
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

// rateLimit limits requests per client address and, when signed in, per account, with the named
// limit (limitSubmit, limitUpload, limitLogin). 429 with Retry-After when exceeded. Accounts with
// one of ownBucket's roles are limited per account only, so that others sharing their address
// (an office behind one NAT, or someone flooding from it) cannot use up their allowance.
func (s *Server) rateLimit(name string, ownBucket ...accounts.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l := s.limiter(name)
			keys := []string{"ip:" + s.clientIP(r)}
			if u, ok := s.currentUser(r); ok {
				if len(ownBucket) > 0 && u.HasRole(ownBucket...) {
					keys = keys[:0]
				}
				keys = append(keys, "user:"+strconv.FormatInt(u.ID, 10))
			}
			for _, k := range keys {
				if ok, wait := l.allow(k); !ok {
					s.refuseRateLimited(w, r, name, k, wait)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (s *Server) refuseRateLimited(w http.ResponseWriter, r *http.Request, name, key string, wait time.Duration) {
	secs := int(wait.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.Logger.Warn("rate limited", "limit", name, "key", key, "method", r.Method, "path", r.URL.Path)
	s.Error(w, r, geoportal.Errorf(geoportal.ERATELIMIT, "too many requests; try again in %d s", secs))
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

// apiKeyFrom returns the API key of a request: "Authorization: Bearer KEY" or "X-API-Key: KEY".
func apiKeyFrom(r *http.Request) (string, bool) {
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

// authenticate finds who is calling: an API key header (which wins, and is refused with 401 when
// not valid) or the session cookie. For writes made with a session cookie it demands the session's
// CSRF token (header X-CSRF-Token, or form field csrf_token) and a same-origin request; API-key
// requests carry no ambient credentials and need none. It puts the accounts.Actor into the
// context for the audit log.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := s.clientIP(r)
		info := &authInfo{}
		ctx := context.WithValue(r.Context(), authKey{}, info)
		ctx = accounts.WithActor(ctx, accounts.Actor{Label: string(accounts.Anonymous), IP: ip})
		r = r.WithContext(ctx)
		var sessionToken string
		if key, ok := apiKeyFrom(r); ok {
			info.viaKey = true
			info.resolve = func() (*accounts.User, error) { return s.Accounts.KeyUser(ctx, key) }
		} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			sessionToken = c.Value
			info.resolve = func() (*accounts.User, error) { return s.Accounts.SessionUser(ctx, sessionToken) }
		}
		if info.resolve == nil || (safeMethod(r.Method) && !info.viaKey) {
			next.ServeHTTP(w, r)
			return
		}
		u, err := info.get()
		switch {
		case err != nil && info.viaKey:
			s.refuse(w, r, err)
			return
		case geoportal.ErrorCode(err) == geoportal.EUNAUTHORIZED:
			// A stale session cookie: the request goes on as anonymous and the cookie is cleared.
			s.clearCookie(w, r, sessionCookie)
		case err != nil:
			s.Error(w, r, err)
			return
		}
		if u != nil && !info.viaKey && !safeMethod(r.Method) {
			if err := s.checkSameOrigin(r); err != nil {
				s.refuse(w, r, err)
				return
			}
			if !validCSRF(r, accounts.CSRFToken(sessionToken)) {
				s.refuse(w, r, geoportal.Errorf(geoportal.EFORBIDDEN,
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
func (s *Server) checkSameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return geoportal.Errorf(geoportal.EFORBIDDEN, "cross-site request refused")
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		ok := err == nil && u.Host != "" && (u.Host == r.Host ||
			s.Security.TrustForwardedFor && u.Host == r.Header.Get("X-Forwarded-Host"))
		if !ok {
			return geoportal.Errorf(geoportal.EFORBIDDEN, "request from origin %q refused", o)
		}
	}
	return nil
}

// validCSRF compares the request's CSRF token with want in constant time. Form posts may send it
// as a field; multipart uploads send the header (or ?csrf_token=), so their body is not parsed here.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "application/x-www-form-urlencoded":
			got = r.PostFormValue(csrfField)
		case "multipart/form-data":
			got = r.URL.Query().Get(csrfField)
		}
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// refuse answers a request that authentication or authorisation turned away, with a log line.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.Warn("request refused", "method", r.Method, "path", r.URL.Path, "ip", s.clientIP(r),
		"actor", accounts.ActorFrom(r.Context()).Label, "reason", geoportal.ErrorMessage(err))
	s.Error(w, r, err)
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

// keyAllows reports whether an API key's scopes cover a request.
func keyAllows(k *accounts.APIKey, method, p string) bool {
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

// authUser returns the caller: nil without an error for anonymous requests; EUNAUTHORIZED for a
// bad API key; EFORBIDDEN when a key's scopes do not cover the request.
func (s *Server) authUser(r *http.Request) (*accounts.User, error) {
	info, _ := r.Context().Value(authKey{}).(*authInfo)
	u, err := info.get()
	if err != nil {
		if code := geoportal.ErrorCode(err); code == geoportal.EUNAUTHORIZED && !info.viaKey {
			return nil, nil // stale session cookie: anonymous
		} else if code == geoportal.EINTERNAL {
			s.Logger.Error("authentication failed", "path", r.URL.Path, "error", err)
		}
		return nil, err
	}
	if u != nil && u.Key != nil && !keyAllows(u.Key, r.Method, r.URL.Path) {
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

// currentUser returns the signed-in user of the request (session cookie, or an API key whose
// scopes cover the request), or false for anonymous requests.
func (s *Server) currentUser(r *http.Request) (*accounts.User, bool) {
	u, err := s.authUser(r)
	return u, err == nil && u != nil
}

// isStaff reports whether the request comes from city staff (gis_staff, planner,
// department_staff, dispatcher or admin): they see staff-only layers and may edit.
func (s *Server) isStaff(r *http.Request) bool {
	u, ok := s.currentUser(r)
	return ok && u.IsStaff()
}

// requireRole lets through only users with one of roles: 401 for anonymous callers (unless
// accounts.Anonymous is among roles), 403 for other roles or an API key whose scopes do not cover
// the route.
func (s *Server) requireRole(roles ...accounts.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := s.authUser(r)
			switch {
			case err != nil:
				s.refuse(w, r, err)
			case u == nil && slices.Contains(roles, accounts.Anonymous):
				next.ServeHTTP(w, r)
			case u == nil:
				s.refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in required"))
			case !u.HasRole(roles...):
				s.refuse(w, r, geoportal.Errorf(geoportal.EFORBIDDEN, "role %s may not do this (needs %s)", u.Role, joinRoles(roles)))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// requireStaff is requireRole with every staff role.
func (s *Server) requireStaff(next http.Handler) http.Handler {
	return s.requireRole(accounts.StaffRoles...)(next)
}

func joinRoles(rs []accounts.Role) string {
	var b []string
	for _, r := range rs {
		b = append(b, string(r))
	}
	return strings.Join(b, " or ")
}

// cookieSecure decides the Secure attribute of the cookies set for r.
func (s *Server) cookieSecure(r *http.Request) bool {
	switch strings.ToLower(s.Security.CookieSecure) {
	case "on", "true", "1", "yes":
		return true
	case "off", "false", "0", "no":
		return false
	}
	return s.overHTTPS(r)
}

// overHTTPS reports whether the client reached us over HTTPS: TLS on this connection, or, behind
// a trusted proxy (TrustForwardedFor), X-Forwarded-Proto says https. As with X-Forwarded-For, the
// last value counts: the one the nearest proxy (ours) set. The header is ignored otherwise, since
// anyone can send it.
func (s *Server) overHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !s.Security.TrustForwardedFor {
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

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), Secure: s.cookieSecure(r), HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: s.cookieSecure(r),
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// sessionToken returns the session cookie's token of a request signed in by session.
func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

var errTooLarge = func(limit int64) error {
	return geoportal.Errorf(geoportal.ETOOLARGE, "request body is above the limit of %d bytes", limit)
}

// bodyError turns a body-reading error into the domain error to answer with.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge(mbe.Limit)
	}
	return geoportal.Errorf(geoportal.EINVALID, "cannot read the request body: %v", err)
}
