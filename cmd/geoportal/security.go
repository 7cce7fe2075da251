package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
)

// securityFlags are the serve flags for cookies, body size, rate limits and sessions.
type securityFlags struct {
	cookieSecure, loginRate, submitRate, uploadRate string
	analysisRate                                    string
	trustProxy                                      bool
	maxBody                                         int64
	sessionTTL, sessionIdle                         time.Duration
}

func registerSecurityFlags(fs *flag.FlagSet, getenv func(string) string) *securityFlags {
	f := &securityFlags{}
	def := guard.Defaults()
	fs.StringVar(&f.cookieSecure, "cookie-secure", envOr(getenv, "GEOPORTAL_COOKIE_SECURE", "auto"),
		"Secure attribute of cookies: auto (when the request is https), on, off (plain-http development) (env GEOPORTAL_COOKIE_SECURE)")
	fs.BoolVar(&f.trustProxy, "trust-proxy", envOr(getenv, "GEOPORTAL_TRUST_PROXY", "false") == "true",
		"take client address and scheme from X-Forwarded-For/-Proto (only behind a proxy that sets them) (env GEOPORTAL_TRUST_PROXY)")
	maxBody, _ := strconv.ParseInt(envOr(getenv, "GEOPORTAL_MAX_BODY", strconv.FormatInt(def.MaxBodyBytes, 10)), 10, 64)
	fs.Int64Var(&f.maxBody, "max-body", maxBody, "default request body limit in bytes (env GEOPORTAL_MAX_BODY)")
	fs.StringVar(&f.loginRate, "login-rate", envOr(getenv, "GEOPORTAL_LOGIN_RATE", rateString(def.LoginPerIP)),
		"login attempts and password changes per client address: PER_MINUTE/BURST, 0 = off (env GEOPORTAL_LOGIN_RATE)")
	fs.StringVar(&f.submitRate, "submit-rate", envOr(getenv, "GEOPORTAL_SUBMIT_RATE", rateString(def.Submit)),
		"report submissions per client address and account: PER_MINUTE/BURST (env GEOPORTAL_SUBMIT_RATE)")
	fs.StringVar(&f.uploadRate, "upload-rate", envOr(getenv, "GEOPORTAL_UPLOAD_RATE", rateString(def.Upload)),
		"uploads per client address and account: PER_MINUTE/BURST (env GEOPORTAL_UPLOAD_RATE)")
	fs.StringVar(&f.analysisRate, "analysis-rate", envOr(getenv, "GEOPORTAL_ANALYSIS_RATE", rateString(def.Analysis)),
		"analysis jobs started per client address and account: PER_MINUTE/BURST (env GEOPORTAL_ANALYSIS_RATE)")
	ttl, _ := time.ParseDuration(envOr(getenv, "GEOPORTAL_SESSION_TTL", "12h"))
	fs.DurationVar(&f.sessionTTL, "session-ttl", ttl, "session lifetime (env GEOPORTAL_SESSION_TTL)")
	idle, _ := time.ParseDuration(envOr(getenv, "GEOPORTAL_SESSION_IDLE", "2h"))
	fs.DurationVar(&f.sessionIdle, "session-idle", idle, "session idle timeout (env GEOPORTAL_SESSION_IDLE)")
	return f
}

func rateString(r guard.RateLimit) string { return fmt.Sprintf("%g/%d", r.PerMinute, r.Burst) }

func parseRate(name, v string) (guard.RateLimit, error) {
	per, burst, _ := strings.Cut(v, "/")
	p, err := strconv.ParseFloat(per, 64)
	if err != nil || p < 0 {
		return guard.RateLimit{}, fmt.Errorf("%s %q: want PER_MINUTE/BURST, e.g. 20/10", name, v)
	}
	b := int(p)
	if burst != "" {
		if b, err = strconv.Atoi(burst); err != nil || b < 1 {
			return guard.RateLimit{}, fmt.Errorf("%s %q: burst must be a positive integer", name, v)
		}
	}
	return guard.RateLimit{PerMinute: p, Burst: b}, nil
}

// apply checks the flags, sets the session lifetimes on accts and returns the security settings.
func (f *securityFlags) apply(accts *accounts.Store) (guard.Config, error) {
	c := guard.Defaults()
	switch strings.ToLower(f.cookieSecure) {
	case "auto", "on", "off", "true", "false":
	default:
		return guard.Config{}, fmt.Errorf("-cookie-secure %q: want auto, on or off", f.cookieSecure)
	}
	c.CookieSecure = f.cookieSecure
	c.TrustForwardedFor = f.trustProxy
	if f.maxBody <= 0 {
		return guard.Config{}, fmt.Errorf("-max-body %d: want a positive number of bytes", f.maxBody)
	}
	c.MaxBodyBytes = f.maxBody
	var err error
	if c.LoginPerIP, err = parseRate("-login-rate", f.loginRate); err != nil {
		return guard.Config{}, err
	}
	if c.Submit, err = parseRate("-submit-rate", f.submitRate); err != nil {
		return guard.Config{}, err
	}
	if c.Upload, err = parseRate("-upload-rate", f.uploadRate); err != nil {
		return guard.Config{}, err
	}
	if c.Analysis, err = parseRate("-analysis-rate", f.analysisRate); err != nil {
		return guard.Config{}, err
	}
	if f.sessionTTL < time.Minute || f.sessionIdle < time.Minute {
		return guard.Config{}, fmt.Errorf("-session-ttl and -session-idle must be at least 1m")
	}
	accts.SessionTTL, accts.SessionIdle = f.sessionTTL, f.sessionIdle
	return c, nil
}
