// Package guard is who may call what: it authenticates every request (session cookie with a CSRF
// check on writes, or an API key) and puts the caller in the request context, and holds the
// other gates a request passes before a handler: role checks, rate limits, body limits, the
// client's address and the trusted base of self links.
package guard

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/reply"
)

// Config holds the settings of cookies, request sizes, rate limits and links.
type Config struct {
	// CookieSecure is "auto" (Secure when the request came over TLS, or X-Forwarded-Proto says
	// https and TrustForwardedFor is on), "on" or "off" (plain-http development only).
	CookieSecure string
	// TrustForwardedFor takes the client address from the last X-Forwarded-For entry and the
	// scheme from X-Forwarded-Proto: turn it on only behind a proxy that sets them.
	TrustForwardedFor bool
	// MaxBodyBytes bounds every request body; routes raise it with MaxBody.
	MaxBodyBytes int64
	// PublicURL is the site's address as residents reach it (https://geo.aktobe.kz). Links in
	// messages sent out (confirmation e-mails and SMS) are built from it, never from the request;
	// when set, absolute URLs in answers (OGC, TileJSON, Open311 self links) use it too.
	PublicURL string
	// ListenURL is the server's own address (http://LISTEN-ADDR), used for links in messages when
	// PublicURL is empty (development); `geoportal serve` sets it and warns.
	ListenURL string
	// LoginPerIP and LoginPerAccount limit login attempts; Submit (reports), Upload (imports,
	// photos) and Analysis (background analysis jobs) are applied with RateLimit by the routes
	// that need them.
	LoginPerIP, LoginPerAccount, Submit, Upload, Analysis RateLimit
}

// Defaults returns the production settings.
func Defaults() Config {
	return Config{
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

// Names of the rate limits, for RateLimit and Limiter.
const (
	LimitLogin        = "login"
	LimitLoginAccount = "login_account"
	LimitSubmit       = "submit"
	LimitUpload       = "upload"
	LimitAnalysis     = "analysis"
)

// Cookie, header and form-field names of sessions and CSRF tokens.
const (
	SessionCookie   = "geoportal_session"
	LoginCSRFCookie = "geoportal_login_csrf"
	CSRFHeader      = "X-CSRF-Token"
	CSRFField       = "csrf_token"
)

// Guard is the gates of one server. Build it with New; every face shares the one Guard.
type Guard struct {
	accounts *accounts.Store
	config   *Config
	logger   *slog.Logger
	fail     func(w http.ResponseWriter, r *http.Request, err error)
	upload   func(w http.ResponseWriter, limit int64)

	once     sync.Once
	limiters map[string]*Limiter
}

// New returns the guard over accounts. config is read at each request, so settings changed
// before serving (ListenURL once the listener is open) apply; the rate limits are read once, at
// their first use. fail writes a refusal (401, 403, 413, 429) in the error shape of the face the
// request is for (nil: the JSON API's, reply.Writer.Error). upload, when not nil, gives a route
// whose body limit MaxBody raised the time to send it.
func New(accts *accounts.Store, config *Config, logger *slog.Logger,
	fail func(w http.ResponseWriter, r *http.Request, err error), upload func(w http.ResponseWriter, limit int64)) *Guard {
	if fail == nil {
		fail = reply.Writer{Logger: logger}.Error
	}
	return &Guard{accounts: accts, config: config, logger: logger, fail: fail, upload: upload}
}

// Config returns the settings the guard reads.
func (g *Guard) Config() *Config { return g.config }

// Limiter returns the named rate limit's buckets (LimitLogin, LimitSubmit…), shared by every
// route that applies it.
func (g *Guard) Limiter(name string) *Limiter {
	g.once.Do(func() {
		c := g.config
		g.limiters = map[string]*Limiter{
			LimitLogin:        NewLimiter(c.LoginPerIP),
			LimitLoginAccount: NewLimiter(c.LoginPerAccount),
			LimitSubmit:       NewLimiter(c.Submit),
			LimitUpload:       NewLimiter(c.Upload),
			LimitAnalysis:     NewLimiter(c.Analysis),
		}
	})
	return g.limiters[name]
}

// ResetLimits forgets every bucket; the limits are read again from the Config at their next
// use (settings changed after serving began).
func (g *Guard) ResetLimits() {
	g.once = sync.Once{}
	g.limiters = nil
}

// CredentialHeaders are the request headers that say who is calling: an answer that depends on
// the caller varies on them ("Vary: " + CredentialHeaders) and is kept by no shared cache.
const CredentialHeaders = "Cookie, Authorization, X-API-Key"
