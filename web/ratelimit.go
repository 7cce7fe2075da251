package web

import (
	"math"
	"sync"
	"time"
)

// RateLimit is a token bucket: PerMinute tokens flow in each minute, at most Burst are kept.
// A zero PerMinute turns the limit off.
type RateLimit struct {
	PerMinute float64
	Burst     int
}

// limiter keeps one token bucket per key (an IP or an account) in this process.
type limiter struct {
	rate  RateLimit
	now   func() time.Time
	mu    sync.Mutex
	items map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate RateLimit) *limiter {
	return &limiter{rate: rate, now: time.Now, items: make(map[string]*bucket)}
}

// allow takes a token for key; when none is left it returns false and how long until one is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil || l.rate.PerMinute <= 0 {
		return true, 0
	}
	perSec := l.rate.PerMinute / 60
	burst := float64(max(l.rate.Burst, 1))
	now := l.now()
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
func (l *limiter) sweep(now time.Time, perSec, burst float64) {
	for k, b := range l.items {
		if b.tokens+now.Sub(b.last).Seconds()*perSec >= burst {
			delete(l.items, k)
		}
	}
}
