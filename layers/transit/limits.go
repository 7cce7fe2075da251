package transit

import (
	"math"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Rate is a token bucket: PerMinute tokens flow in each minute, at most Burst are kept. A zero
// PerMinute turns the limit off.
type Rate struct {
	PerMinute float64
	Burst     int
}

// WialonLimits bound what the Wialon IPS listener gives a caller, above all one that has not
// logged in yet. Zero values turn a limit off (except LoginTimeout: zero is the default).
type WialonLimits struct {
	MaxConns        int           // open connections in total; more are closed at once
	MaxConnsPerAddr int           // open connections per client address (IPv6: per /64)
	LoginTimeout    time.Duration // from connect to an accepted login; pings do not extend it
	// PacketTimeout is the time from a packet's first byte to its \r\n after login; a slower
	// packet closes the connection (before login, LoginTimeout bounds it and a packet is at most
	// wialon.MaxLoginPacket bytes).
	PacketTimeout time.Duration
	// Failed logins (unknown unit, wrong password, unit without a password) per client address and
	// per unit id. Each check holds a token while the password is hashed and a successful login
	// gives it back; once a bucket is empty, logins from that address or for that unit are refused
	// without checking the password until it refills.
	FailuresPerAddr Rate
	FailuresPerUnit Rate
}

// DefaultWialonLimits suit a city fleet of a few thousand trackers, many of them behind a mobile
// operator's NAT (so per-address limits are generous).
func DefaultWialonLimits() WialonLimits {
	return WialonLimits{MaxConns: 10000, MaxConnsPerAddr: 256, LoginTimeout: 30 * time.Second,
		PacketTimeout:   60 * time.Second,
		FailuresPerAddr: Rate{PerMinute: 10, Burst: 20}, FailuresPerUnit: Rate{PerMinute: 5, Burst: 10}}
}

// LiveLimits bound the live-vehicle stream's subscribers (GET /api/vehicles/live). Zero: no limit.
type LiveLimits struct {
	MaxSubscribers   int // in total, in this process
	MaxPerClientAddr int // per client address (IPv6: per /64)
}

// DefaultLiveLimits allow one process a few thousand open maps, and a NATed office or school
// some dozens.
func DefaultLiveLimits() LiveLimits { return LiveLimits{MaxSubscribers: 5000, MaxPerClientAddr: 50} }

// AddrKey is the key of a client address for per-address limits: the IPv4 address, or the /64 of
// an IPv6 address (one subscriber line gets a whole /64, so counting single addresses would not
// limit anyone). A host:port is accepted too.
func AddrKey(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// failures keeps a token bucket per key (an address or a unit id) for login checks: a check takes
// a token before the password is hashed, and a successful login gives it back, so only failures
// drain the bucket and no more than Burst checks run at once for one key.
type failures struct {
	rate  Rate
	mu    sync.Mutex
	items map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newFailures(r Rate) *failures { return &failures{rate: r, items: map[string]*bucket{}} }

// take spends one of key's tokens, or reports false when none is left.
func (f *failures) take(key string) bool {
	if f == nil || f.rate.PerMinute <= 0 {
		return true
	}
	now := time.Now()
	burst := float64(max(f.rate.Burst, 1))
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.items[key]
	if b == nil {
		if len(f.items) >= 100_000 {
			f.sweep(now)
		}
		b = &bucket{tokens: burst, last: now}
		f.items[key] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*f.rate.PerMinute/60)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refund gives back the token of a check that succeeded.
func (f *failures) refund(key string) {
	if f == nil || f.rate.PerMinute <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.items[key]; b != nil {
		b.tokens = math.Min(float64(max(f.rate.Burst, 1)), b.tokens+1)
	}
}

// sweep forgets buckets that have refilled (they behave like new ones), bounding the memory a
// flood of distinct addresses or unit ids can take.
func (f *failures) sweep(now time.Time) {
	burst := float64(max(f.rate.Burst, 1))
	for k, b := range f.items {
		if b.tokens+now.Sub(b.last).Seconds()*f.rate.PerMinute/60 >= burst {
			delete(f.items, k)
		}
	}
}

// metrics are the transit module's Prometheus metrics, in a registry of the service's own that
// /metrics gathers with the server's.
type metrics struct {
	reg           *prometheus.Registry
	wialonRefused *prometheus.CounterVec
	wialonConns   prometheus.Gauge
	liveRefused   *prometheus.CounterVec
	liveSubs      prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		wialonRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geoportal_wialon_refused_total",
			Help: "Wialon IPS connections and logins refused, by reason (bad_credentials covers unknown units and wrong passwords alike).",
		}, []string{"reason"}),
		wialonConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "geoportal_wialon_connections", Help: "Open Wialon IPS connections.",
		}),
		liveRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geoportal_live_subscribers_refused_total",
			Help: "Live-vehicle stream subscriptions refused, by reason (total, per_client).",
		}, []string{"reason"}),
		liveSubs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "geoportal_live_subscribers", Help: "Open live-vehicle streams.",
		}),
	}
	m.reg.MustRegister(m.wialonRefused, m.wialonConns, m.liveRefused, m.liveSubs)
	return m
}

// Reasons of geoportal_wialon_refused_total.
const (
	RefusedTooManyConns    = "too_many_connections"
	RefusedTooManyFromAddr = "too_many_from_address"
	RefusedLoginTimeout    = "login_timeout"
	RefusedThrottledAddr   = "throttled_address"
	RefusedThrottledUnit   = "throttled_unit"
	RefusedBadCredentials  = "bad_credentials"
	RefusedDataBeforeLogin = "data_before_login"
	RefusedPacketTooLong   = "packet_too_long"
	RefusedPacketTimeout   = "packet_timeout"
)

// Metrics returns the transit module's metrics (Wialon refusals, live-stream subscribers) for
// /metrics.
func (s *Service) Metrics() prometheus.Gatherer { return s.metrics.reg }
