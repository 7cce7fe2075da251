package transit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data"
	"github.com/jackc/pgx/v5"
)

// LiveVehicle is a vehicle as pushed to live maps.
type LiveVehicle struct {
	ID       int64     `json:"id"`
	Lon      float64   `json:"lon"`
	Lat      float64   `json:"lat"`
	SpeedKmh *float64  `json:"speed_kmh"`
	Heading  *float64  `json:"heading"`
	Route    string    `json:"route"`
	Plate    string    `json:"plate"`
	Kind     string    `json:"kind"`
	LowFloor bool      `json:"low_floor"`
	SeenAt   time.Time `json:"seen_at"`
	TripID   string    `json:"trip_id,omitempty"`
	DelayS   *int      `json:"delay_s,omitempty"`
	Seq      int64     `json:"-"`
}

// LiveWindow is how long a silent vehicle stays on the live map.
const LiveWindow = 15 * time.Minute

// Hub fans vehicle moves out to live subscribers. Every geoportal process on a database runs
// one: writers NOTIFY transit_vehicles after each committed batch, and each hub reads the state
// rows changed since the last sequence it saw, so all processes push the same moves.
type Hub struct {
	s       *Service
	mu      sync.Mutex
	subs    map[chan []LiveVehicle]struct{}
	state   map[int64]LiveVehicle
	started bool
	ready   chan struct{}
	readyMu sync.Once

	// Streams open now, in total and per client address (Stream).
	streams int
	perAddr map[string]int
}

func newHub(s *Service) *Hub {
	return &Hub{s: s, subs: map[chan []LiveVehicle]struct{}{}, state: map[int64]LiveVehicle{}, ready: make(chan struct{}),
		perAddr: map[string]int{}}
}

// Hub returns the service's live hub.
func (s *Service) Hub() *Hub { return s.hub }

// Start runs the hub in the background (idempotent); Subscribe starts it too.
func (h *Hub) Start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.started = true
		h.s.goBackground(h.run)
	}
}

// Subscribe returns the vehicles live now and a channel of later changes. The channel is closed
// when the subscriber falls behind (the client should reconnect) or the hub stops; call cancel
// when done.
func (h *Hub) Subscribe(ctx context.Context) ([]LiveVehicle, <-chan []LiveVehicle, func(), error) {
	h.Start()
	select {
	case <-h.ready:
	case <-ctx.Done():
		return nil, nil, nil, ctx.Err()
	case <-time.After(10 * time.Second):
		return nil, nil, nil, fmt.Errorf("live vehicles: hub not ready")
	}
	ch := make(chan []LiveVehicle, 256)
	h.mu.Lock()
	cutoff := time.Now().Add(-LiveWindow)
	var snap []LiveVehicle
	for _, v := range h.state {
		if v.SeenAt.After(cutoff) {
			snap = append(snap, v)
		}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	slices.SortFunc(snap, func(a, b LiveVehicle) int { return int(a.ID - b.ID) })
	cancel := func() {
		h.mu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
		h.mu.Unlock()
	}
	return snap, ch, cancel, nil
}

// Stream is Subscribe for a long-lived stream of the client at addr, within the service's
// LiveLimits: beyond the client address's share it returns ERATELIMIT, beyond the total
// EUNAVAILABLE (retry later). cancel frees the stream's place.
func (h *Hub) Stream(ctx context.Context, addr string) ([]LiveVehicle, <-chan []LiveVehicle, func(), error) {
	lim := h.s.Live
	key := AddrKey(addr)
	h.mu.Lock()
	switch {
	case lim.MaxPerClientAddr > 0 && h.perAddr[key] >= lim.MaxPerClientAddr:
		h.mu.Unlock()
		h.s.metrics.liveRefused.WithLabelValues("per_client").Inc()
		return nil, nil, nil, geoportal.Errorf(geoportal.ERATELIMIT, "%d live streams are open from your address already; close one", lim.MaxPerClientAddr)
	case lim.MaxSubscribers > 0 && h.streams >= lim.MaxSubscribers:
		h.mu.Unlock()
		h.s.metrics.liveRefused.WithLabelValues("total").Inc()
		return nil, nil, nil, geoportal.Errorf(geoportal.EUNAVAILABLE, "the live stream has its %d subscribers; retry later", lim.MaxSubscribers)
	}
	h.streams++
	h.perAddr[key]++
	h.mu.Unlock()
	h.s.metrics.liveSubs.Inc()
	var once sync.Once
	release := func() {
		once.Do(func() {
			h.mu.Lock()
			h.streams--
			if h.perAddr[key]--; h.perAddr[key] <= 0 {
				delete(h.perAddr, key)
			}
			h.mu.Unlock()
			h.s.metrics.liveSubs.Dec()
		})
	}
	snap, ch, cancel, err := h.Subscribe(ctx)
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	return snap, ch, func() { cancel(); release() }, nil
}

func (h *Hub) run(ctx context.Context) {
	delay := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := h.listen(ctx)
		if ctx.Err() != nil {
			break
		}
		h.s.Logger.Warn("live vehicles: listener stopped, reconnecting", "error", err, "retry_in", delay.String())
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
	h.mu.Lock()
	for ch := range h.subs {
		close(ch)
	}
	h.subs = map[chan []LiveVehicle]struct{}{}
	h.mu.Unlock()
}

func (h *Hub) listen(ctx context.Context) error {
	// A connection of its own, whose waits end when their context does (see data.ListenConfig).
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, data.ListenConfig(h.s.Pool.Config().ConnConfig, "geoportal live vehicles"))
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN transit_vehicles; LISTEN transit_network`); err != nil {
		return err
	}
	// After LISTEN nothing committed is missed: read everything recent once, then what each
	// notification names.
	if err := h.poll(ctx, conn, nil); err != nil {
		return err
	}
	h.readyMu.Do(func() { close(h.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == "transit_network" {
			h.s.ReloadNetwork()
			continue
		}
		ids := parseIDs(n.Payload)
		// Gather the notifications already waiting into one query, for at most 20 ms.
		deadline := time.Now().Add(20 * time.Millisecond)
		for len(ids) < 20000 && time.Now().Before(deadline) {
			wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
			m, err := conn.WaitForNotification(wctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				break
			}
			if m.Channel == "transit_network" {
				h.s.ReloadNetwork()
				continue
			}
			ids = append(ids, parseIDs(m.Payload)...)
		}
		if len(ids) == 0 {
			continue
		}
		if err := h.poll(ctx, conn, ids); err != nil {
			return err
		}
	}
}

func parseIDs(payload string) []int64 {
	var ids []int64
	for _, f := range strings.Split(payload, ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// poll reads the state of the vehicles ids (nil: every vehicle seen within LiveWindow) and pushes
// those newer than what the hub last pushed for them.
func (h *Hub) poll(ctx context.Context, conn *pgx.Conn, ids []int64) error {
	rows, _ := conn.Query(ctx, `SELECT s.vehicle_id, s.lon, s.lat, s.speed_kmh::float8, s.heading::float8, v.route, v.plate, v.kind,
		v.low_floor, s.at, coalesce(s.trip_id, ''), s.delay_s, s.seq
		FROM transit.vehicle_state s JOIN transit.vehicles v ON v.id = s.vehicle_id
		WHERE CASE WHEN $1::bigint[] IS NULL THEN s.at > now() - $2::interval ELSE s.vehicle_id = ANY($1) END
		ORDER BY s.seq`, ids, LiveWindow.String())
	var all []LiveVehicle
	var v LiveVehicle
	if _, err := pgx.ForEachRow(rows, []any{&v.ID, &v.Lon, &v.Lat, &v.SpeedKmh, &v.Heading, &v.Route, &v.Plate, &v.Kind,
		&v.LowFloor, &v.SeenAt, &v.TripID, &v.DelayS, &v.Seq}, func() error {
		all = append(all, v)
		v = LiveVehicle{}
		return nil
	}); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	changed := all[:0]
	for _, c := range all {
		if old, ok := h.state[c.ID]; ok && old.Seq >= c.Seq {
			continue
		}
		h.state[c.ID] = c
		changed = append(changed, c)
	}
	if len(changed) == 0 {
		return nil
	}
	out := slices.Clone(changed)
	for ch := range h.subs {
		select {
		case ch <- out:
		default:
			// Too slow: drop it rather than hold everyone back; the client reconnects.
			delete(h.subs, ch)
			close(ch)
		}
	}
	return nil
}

// Live returns the vehicles seen within LiveWindow, from the hub's memory.
func (h *Hub) Live(ctx context.Context) ([]LiveVehicle, error) {
	snap, _, cancel, err := h.Subscribe(ctx)
	if err != nil {
		return nil, err
	}
	cancel()
	return snap, nil
}

// Disconnect ends every live subscription (at shutdown); clients reconnect elsewhere.
func (h *Hub) Disconnect() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		close(ch)
	}
	h.subs = map[chan []LiveVehicle]struct{}{}
}
