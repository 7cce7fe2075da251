package guard

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
)

// RateLimit is a token bucket: PerMinute tokens flow in each minute, at most Burst are kept.
// A zero PerMinute turns the limit off.
type RateLimit struct {
	PerMinute float64
	Burst     int
}

// Limiter keeps one token bucket per key (an IP or an account) in this process.
type Limiter struct {
	rate RateLimit
	// Now is the clock (time.Now; tests set another before the first request).
	Now   func() time.Time
	mu    sync.Mutex
	items map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter with no bucket yet.
func NewLimiter(rate RateLimit) *Limiter {
	return &Limiter{rate: rate, Now: time.Now, items: make(map[string]*bucket)}
}

// Allow takes a token for key; when none is left it returns false and how long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.rate.PerMinute <= 0 {
		return true, 0
	}
	perSec := l.rate.PerMinute / 60
	burst := float64(max(l.rate.Burst, 1))
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.items[key]
	if !ok {
		if len(l.items) >= 100_000 {
			l.sweep(now, perSec, burst)
		}
		b = &bucket{tokens: burst, last: now}
		l.items[key] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*perSec)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / perSec * float64(time.Second))
	return false, wait
}

// sweep forgets buckets that have refilled, which behave like new ones; it bounds the memory a
// flood of distinct keys can take.
func (l *Limiter) sweep(now time.Time, perSec, burst float64) {
	for k, b := range l.items {
		if b.tokens+now.Sub(b.last).Seconds()*perSec >= burst {
			delete(l.items, k)
		}
	}
}

// RateLimit limits requests per client address and, when signed in, per account, with the named
// limit (LimitSubmit, LimitUpload, LimitLogin). 429 with Retry-After when exceeded. Accounts with
// one of ownBucket's roles are limited per account only, so that others sharing their address
// (an office behind one NAT, or someone flooding from it) cannot use up their allowance.
func (g *Guard) RateLimit(name string, ownBucket ...accounts.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l := g.Limiter(name)
			keys := []string{"ip:" + g.ClientIP(r)}
			if u, ok := g.CurrentUser(r); ok {
				if len(ownBucket) > 0 && u.HasRole(ownBucket...) {
					keys = keys[:0]
				}
				keys = append(keys, "user:"+strconv.FormatInt(u.ID, 10))
			}
			for _, k := range keys {
				if ok, wait := l.Allow(k); !ok {
					g.RefuseRateLimited(w, r, name, k, wait)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RefuseRateLimited answers 429 with a Retry-After of wait, for a limit a handler checks itself.
func (g *Guard) RefuseRateLimited(w http.ResponseWriter, r *http.Request, name, key string, wait time.Duration) {
	secs := int(wait.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	g.logger.Warn("rate limited", "limit", name, "key", key, "method", r.Method, "path", r.URL.Path)
	g.fail(w, r, geoportal.Errorf(geoportal.ERATELIMIT, "too many requests; try again in %d s", secs))
}
