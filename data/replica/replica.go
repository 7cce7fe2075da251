// Package replica sends reads to PostgreSQL streaming replicas when they are fresh enough, and
// to the primary otherwise.
//
// A Set is the primary and its replicas as one geoportal node sees them. It checks every replica
// twice a second (pg_is_in_recovery, pg_last_wal_replay_lsn) against samples of the primary's
// pg_current_wal_lsn: a replica that does not answer, is no longer a standby, or lags further
// behind than MaxLag is taken out of rotation, with a log line and a metric, and put back when it
// answers and catches up. It also listens on the primary for the layer_changed notifications the
// layer tables' triggers send; when one is heard it reads the primary's WAL position, which is at
// or past the change's commit, and from then on a read of that layer goes only to a replica that
// has replayed that far, else to the primary. So a tile or a feature read after this node heard
// of a change is never older than the change, which is what the tile cache's "the next tile after
// a commit is fresh" needs. A replica whose connection fails is passed over and the read retried
// on the primary, so that losing a replica costs no request.
//
// Reads is one use's pools (tiles, public reads, analysis) over the same Set: a pool per replica
// made from the use's own configuration, and the primary's pool of that use.
package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// LSN is a position in PostgreSQL's write-ahead log.
type LSN uint64

// ParseLSN reads PostgreSQL's text form of a WAL position, such as "16/B374D848".
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("replica: WAL position %q: want X/Y", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("replica: WAL position %q: want two hexadecimal numbers", s)
	}
	return LSN(h<<32 | l), nil
}

func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF) }

// Options tune a Set; zero values take the defaults.
type Options struct {
	// MaxLag is how far behind the primary a replica may fall and stay in rotation (default 5 s).
	MaxLag time.Duration
	// Interval is how often each replica is checked (default 500 ms).
	Interval time.Duration
}

// Channel is the notification channel of the layer tables' triggers (data/migrations/0001).
const Channel = "layer_changed"

// CatalogChannel announces changes to a layer's catalog entry (data/migrations/0200):
// {"layer": slug}. Catalog reads of that layer wait for them like feature reads for Channel's.
const CatalogChannel = "layer_catalog_changed"

// ListenerName is the application_name of the Set's listening connection.
const ListenerName = "geoportal replica freshness listener"

// Set is the primary and its streaming replicas.
type Set struct {
	primary *pgxpool.Pool
	members []*member
	logger  *slog.Logger
	opts    Options
	metrics *metrics

	mu      sync.Mutex
	need    map[string]LSN // per layer: the WAL position a replica must have replayed to serve it
	needAll LSN            // the largest of need: what a read of no particular layer needs
	samples []sample       // the primary's WAL position, newest last (lag measurement)

	listening atomic.Bool
}

type sample struct {
	at  time.Time
	lsn LSN
}

type member struct {
	name  string // host:port/database, for logs and metrics
	cfg   *pgxpool.Config
	probe *pgxpool.Pool

	mu         sync.Mutex
	inRotation bool
	checked    bool // at least one check done
	reason     string
	replay     atomic.Uint64
	usable     atomic.Bool
}

// New returns a Set over the primary's pool and the replicas' URLs (none: every read goes to the
// primary). Nothing is connected until Run or a read.
func New(primary *pgxpool.Pool, urls []string, logger *slog.Logger, reg prometheus.Registerer, opts Options) (*Set, error) {
	if opts.MaxLag <= 0 {
		opts.MaxLag = 5 * time.Second
	}
	if opts.Interval <= 0 {
		opts.Interval = 500 * time.Millisecond
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{primary: primary, logger: logger, opts: opts, need: map[string]LSN{}, metrics: newMetrics(reg)}
	for _, raw := range urls {
		if raw == "" {
			continue
		}
		cfg, err := pgxpool.ParseConfig(raw)
		if err != nil {
			return nil, fmt.Errorf("-replica-url %q: %w", redact(raw), err)
		}
		data.CancelQueriesOnContext(cfg.ConnConfig)
		data.CheckBeforeUse(cfg)
		name := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
		pc := cfg.Copy()
		pc.MaxConns, pc.MinConns = 1, 0
		pc.ConnConfig.RuntimeParams["application_name"] = "geoportal replica check"
		pc.ConnConfig.ConnectTimeout = 2 * time.Second
		probe, err := pgxpool.NewWithConfig(context.Background(), pc)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("-replica-url %s: %w", name, err)
		}
		m := &member{name: name, cfg: cfg, probe: probe, reason: "not checked yet"}
		s.members = append(s.members, m)
		s.metrics.inRotation.WithLabelValues(name).Set(0)
	}
	return s, nil
}

// redact hides a password in a URL given back in an error.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Replicas is how many replicas the Set has.
func (s *Set) Replicas() int { return len(s.members) }

// Close closes the replicas' check pools (the use pools are closed by their Reads).
func (s *Set) Close() {
	for _, m := range s.members {
		m.probe.Close()
	}
}

// Run checks the replicas and listens for layer changes until ctx ends. With no replica it
// returns at once.
func (s *Set) Run(ctx context.Context) {
	if len(s.members) == 0 {
		return
	}
	go s.listenLoop(ctx)
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		s.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckNow runs one round of replica checks (for tests and for start-up).
func (s *Set) CheckNow(ctx context.Context) { s.check(ctx) }

func (s *Set) check(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var txt string
	if err := s.primary.QueryRow(cctx, `SELECT pg_current_wal_lsn()::text`).Scan(&txt); err == nil {
		if lsn, err := ParseLSN(txt); err == nil {
			s.mu.Lock()
			s.samples = append(s.samples, sample{time.Now(), lsn})
			if keep := int(4*s.opts.MaxLag/s.opts.Interval) + 8; len(s.samples) > keep {
				s.samples = append(s.samples[:0], s.samples[len(s.samples)-keep:]...)
			}
			s.mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for _, m := range s.members {
		wg.Add(1)
		go func() { defer wg.Done(); s.checkMember(cctx, m) }()
	}
	wg.Wait()
}

func (s *Set) checkMember(ctx context.Context, m *member) {
	var recovery bool
	var txt string
	err := m.probe.QueryRow(ctx, `SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, '0/0')`).Scan(&recovery, &txt)
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return // shutting down
	case err != nil:
		s.setRotation(m, false, "not reachable: "+err.Error())
		return
	case !recovery:
		s.setRotation(m, false, "not a standby (promoted?): it is not replaying the primary's WAL")
		return
	}
	replay, err := ParseLSN(txt)
	if err != nil {
		s.setRotation(m, false, err.Error())
		return
	}
	m.replay.Store(uint64(replay))
	lag := s.lagOf(replay)
	s.metrics.lag.WithLabelValues(m.name).Set(lag.Seconds())
	if lag > s.opts.MaxLag {
		s.setRotation(m, false, fmt.Sprintf("lagging %s behind the primary (at most %s allowed)", lag.Round(time.Millisecond), s.opts.MaxLag))
		return
	}
	s.setRotation(m, true, "")
}

// lagOf is how long ago the primary first had WAL the replica has not replayed: zero when the
// replica has everything the primary had at its latest sample.
func (s *Set) lagOf(replay LSN) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sm := range s.samples {
		if sm.lsn > replay {
			return time.Since(sm.at)
		}
	}
	return 0
}

func (s *Set) setRotation(m *member, in bool, reason string) {
	m.mu.Lock()
	changed := m.inRotation != in || !m.checked
	m.inRotation, m.checked, m.reason = in, true, reason
	m.usable.Store(in)
	m.mu.Unlock()
	if !changed {
		return
	}
	if in {
		s.metrics.inRotation.WithLabelValues(m.name).Set(1)
		s.logger.Info("replica in rotation", "replica", m.name)
	} else {
		s.metrics.inRotation.WithLabelValues(m.name).Set(0)
		s.logger.Warn("replica out of rotation: reads go to the primary or other replicas", "replica", m.name, "reason", reason)
	}
}

// Status is one replica as the Set last saw it.
type Status struct {
	Name       string `json:"name"`
	InRotation bool   `json:"in_rotation"`
	Reason     string `json:"reason,omitempty"`
	Replay     string `json:"replay_lsn"`
}

// Status lists the replicas.
func (s *Set) Status() []Status {
	out := make([]Status, 0, len(s.members))
	for _, m := range s.members {
		m.mu.Lock()
		out = append(out, Status{Name: m.name, InRotation: m.inRotation, Reason: m.reason, Replay: LSN(m.replay.Load()).String()})
		m.mu.Unlock()
	}
	return out
}

// listenLoop keeps a LISTEN connection to the primary, reconnecting with back-off. While it is
// not connected, changes may go unheard, so every read goes to the primary (see needFor).
func (s *Set) listenLoop(ctx context.Context) {
	l := data.Listener{
		Config: s.primary.Config().ConnConfig, Name: ListenerName, Channels: []string{Channel, CatalogChannel},
		// Anything committed before LISTEN was not heard: reads need what the primary has now.
		Connected: func(ctx context.Context, conn *pgx.Conn) error {
			if err := s.heard(ctx, conn, ""); err != nil {
				return err
			}
			s.listening.Store(true)
			return nil
		},
		Notify: func(ctx context.Context, conn *pgx.Conn, n *pgconn.Notification) error {
			return s.heard(ctx, conn, layerOf(n.Payload))
		},
		Disconnected: func() { s.listening.Store(false) },
		Logger:       s.logger,
		Lost:         "replica: change listener disconnected; reads go to the primary until it is back",
	}
	l.Run(ctx)
}

// layerOf takes the layer slug out of a layer_changed or layer_catalog_changed payload ({"layer": "...", ...}); "" when
// it cannot (then the change counts for every layer).
func layerOf(payload string) string {
	_, rest, ok := strings.Cut(payload, `"layer"`)
	if !ok {
		return ""
	}
	_, rest, ok = strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	slug, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return slug
}

// heard records that reads of layer ("" for all) need the primary's current WAL position.
func (s *Set) heard(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, layer string) error {
	var txt string
	if err := conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&txt); err != nil {
		return err
	}
	lsn, err := ParseLSN(txt)
	if err != nil {
		return err
	}
	s.Changed(layer, lsn)
	return nil
}

// Changed records that reads of layer ("" for every layer) must see WAL up to lsn.
func (s *Set) Changed(layer string, lsn LSN) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if layer == "" {
		for k, v := range s.need {
			s.need[k] = max(v, lsn)
		}
	} else {
		s.need[layer] = max(s.need[layer], lsn)
	}
	s.needAll = max(s.needAll, lsn)
	s.metrics.heard.Inc()
}

// Wrote records, after a commit by this node, that reads of the layers must see it: the next read
// of them, here, goes to a replica only once it has replayed the commit. With no replica it does
// nothing.
func (s *Set) Wrote(ctx context.Context, layers ...string) {
	if s == nil || len(s.members) == 0 {
		return
	}
	if len(layers) == 0 {
		layers = []string{""}
	}
	for _, l := range layers {
		if err := s.heard(ctx, s.primary, l); err != nil {
			// Unknown position: read everything from the primary until the listener hears more.
			s.Changed("", LSN(^uint64(0)>>1))
			s.logger.Warn("replica: could not read the primary's WAL position after a write", "error", err)
			return
		}
	}
}

// needFor is the WAL position a replica must have replayed to serve a read of the layers (none:
// of anything), and false when no replica may serve it (the listener is not connected).
func (s *Set) needFor(layers []string) (LSN, bool) {
	if !s.listening.Load() {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(layers) == 0 {
		return s.needAll, true
	}
	var n LSN
	for _, l := range layers {
		n = max(n, s.need[l])
	}
	return n, true
}

type ctxKey int

const (
	layersKey ctxKey = iota
	primaryKey
)

// WithLayers tells the reads under ctx which layers they read, so that only changes to those
// hold them back from a replica.
func WithLayers(ctx context.Context, layers ...string) context.Context {
	return context.WithValue(ctx, layersKey, layers)
}

// OnPrimary makes the reads under ctx go to the primary (a read that must see its own writes).
func OnPrimary(ctx context.Context) context.Context { return context.WithValue(ctx, primaryKey, true) }

type metrics struct {
	inRotation *prometheus.GaugeVec
	lag        *prometheus.GaugeVec
	reads      *prometheus.CounterVec
	fallbacks  *prometheus.CounterVec
	heard      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		inRotation: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "geoportal_replica_in_rotation",
			Help: "1 while a read replica is used, 0 while it is out of rotation (down, not a standby, or lagging)."}, []string{"replica"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "geoportal_replica_lag_seconds",
			Help: "How long ago the primary had WAL the replica has not replayed yet, at the last check."}, []string{"replica"}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoportal_db_reads_total",
			Help: "Reads that may go to a replica, by where they went (primary or a replica)."}, []string{"use", "target"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "geoportal_replica_fallbacks_total",
			Help: "Reads sent to the primary although replicas are configured, by reason."}, []string{"use", "reason"}),
		heard: prometheus.NewCounter(prometheus.CounterOpts{Name: "geoportal_replica_changes_heard_total",
			Help: "Layer changes heard (or written here) whose WAL position reads must wait for on a replica."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.inRotation, m.lag, m.reads, m.fallbacks, m.heard} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					panic(err)
				}
			}
		}
	}
	return m
}

// retryable reports whether a failed read on a replica may be sent to the primary: nothing was
// done yet (no connection, a broken one found before sending), or the standby cancelled it for a
// conflict with recovery.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "57P01" || pe.Code == "57P03") {
		return true // serialization failure (recovery conflict), admin shutdown, cannot connect now
	}
	return false
}
