package transit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// Position is one fix of a vehicle's tracker. Unknown speed, heading or altitude are NaN.
type Position struct {
	VehicleID int64
	At        time.Time
	Lon, Lat  float64
	SpeedKmh  float64
	Heading   float64
	AltM      float64
	Sats      int // -1 unknown
	Source    byte
}

// Position flags stored with each fix; a flagged fix is kept in the history but not drawn live.
const (
	FlagBadCoords = 1 << iota // impossible coordinates
	FlagFuture                // time ahead of the server clock
	FlagTeleport              // implausibly fast since the previous fix
	FlagStale                 // older than the vehicle's latest fix
)

// Sources of positions.
const (
	SourceHTTP   = 'h'
	SourceWialon = 'w'
)

// IngestResult counts what a batch did.
type IngestResult struct {
	Stored     int `json:"stored"`     // new fixes written (flagged ones included)
	Duplicates int `json:"duplicates"` // fixes already stored (a resend)
	Flagged    int `json:"flagged"`    // new fixes stored with a flag, not drawn
}

// MaxBatch is the most positions one Ingest call takes.
const MaxBatch = 10000

// Ingest stores positions durably and returns once they are committed. Calls from many
// goroutines (HTTP requests, Wialon connections) are grouped into shared transactions, so the
// database sees few large batches instead of many one-row ones.
func (s *Service) Ingest(ctx context.Context, ps []Position) (IngestResult, error) {
	if len(ps) == 0 {
		return IngestResult{}, nil
	}
	if len(ps) > MaxBatch {
		return IngestResult{}, geoportal.Errorf(geoportal.ETOOLARGE, "at most %d positions per batch, got %d", MaxBatch, len(ps))
	}
	return s.ingest.submit(ctx, ps)
}

type ingestReq struct {
	ps   []Position
	done chan ingestDone
}

type ingestDone struct {
	res IngestResult
	err error
}

// ingester is the group commit: a few workers each take every request waiting and write them
// in one transaction.
type ingester struct {
	s       *Service
	reqs    chan *ingestReq
	once    sync.Once
	start   sync.Once
	closed  chan struct{}
	workers int
	maxRows int
}

func newIngester(s *Service) *ingester {
	return &ingester{s: s, reqs: make(chan *ingestReq, 4096), closed: make(chan struct{}), workers: 4, maxRows: 4000}
}

func (g *ingester) close() { g.once.Do(func() { close(g.closed) }) }

func (g *ingester) submit(ctx context.Context, ps []Position) (IngestResult, error) {
	g.start.Do(func() {
		for range g.workers {
			g.s.goBackground(g.run)
		}
	})
	r := &ingestReq{ps: ps, done: make(chan ingestDone, 1)}
	select {
	case g.reqs <- r:
	case <-ctx.Done():
		return IngestResult{}, ctx.Err()
	case <-g.closed:
		return IngestResult{}, geoportal.Errorf(geoportal.EUNAVAILABLE, "shutting down")
	}
	select {
	case d := <-r.done:
		return d.res, d.err
	case <-ctx.Done():
		// The batch may still commit; the caller must treat the positions as not acknowledged.
		return IngestResult{}, ctx.Err()
	}
}

func (g *ingester) run(ctx context.Context) {
	for {
		var first *ingestReq
		select {
		case first = <-g.reqs:
		case <-ctx.Done():
			return
		}
		batch := []*ingestReq{first}
		n := len(first.ps)
	gather:
		for n < g.maxRows {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
				n += len(r.ps)
			default:
				break gather
			}
		}
		all := make([]Position, 0, n)
		for _, r := range batch {
			all = append(all, r.ps...)
		}
		// A batch is written even while shutting down: its callers wait for the answer.
		res, err := g.s.writeBatch(context.WithoutCancel(ctx), all)
		if err != nil {
			for _, r := range batch {
				r.done <- ingestDone{err: err}
			}
			continue
		}
		// Results are per batch; share the counts out per request by re-counting its rows.
		for _, r := range batch {
			r.done <- ingestDone{res: res.of(r.ps)}
		}
	}
}

type posKey struct {
	vehicle int64
	at      int64
}

// batchResult remembers per fix whether it was new and its flags.
type batchResult struct {
	inserted map[posKey]bool
	flags    map[posKey]int16
}

func (b *batchResult) of(ps []Position) IngestResult {
	var r IngestResult
	for _, p := range ps {
		k := posKey{p.VehicleID, p.At.UnixMicro()}
		if b.inserted[k] {
			r.Stored++
			if b.flags[k] != 0 {
				r.Flagged++
			}
		} else {
			r.Duplicates++
		}
	}
	return r
}

type prevFix struct {
	at       time.Time
	pt       orb.Point
	match    Match
	hasState bool
}

func finiteOrNil(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// writeBatch writes one group of positions in one transaction: history, latest state, the live
// layer (one UPDATE statement, so its trigger fires once) and the live-push notification.
func (s *Service) writeBatch(ctx context.Context, ps []Position) (*batchResult, error) {
	now := time.Now()
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].VehicleID != ps[j].VehicleID {
			return ps[i].VehicleID < ps[j].VehicleID
		}
		return ps[i].At.Before(ps[j].At)
	})
	var ids []int64
	for i, p := range ps {
		if i == 0 || p.VehicleID != ps[i-1].VehicleID {
			ids = append(ids, p.VehicleID)
		}
	}
	// Resolve the vehicles before taking a connection for the transaction: a writer must never
	// hold one connection while waiting for another.
	vehicles, err := s.vehiclesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	net, err := s.Network(ctx)
	if err != nil {
		s.Logger.Warn("transit network unavailable; positions stored without trip matching", "error", err)
		net = nil
	}
	res := &batchResult{inserted: map[posKey]bool{}, flags: map[posKey]int16{}}
	var moved []int64
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		// Lock the vehicles' state rows in id order (no deadlock between concurrent batches).
		prev := map[int64]*prevFix{}
		rows, _ := tx.Query(ctx, `SELECT vehicle_id, at, lon, lat, coalesce(trip_id, ''), coalesce(shape_dist_m, 0), coalesce(delay_s, 0)
			FROM transit.vehicle_state WHERE vehicle_id = ANY($1) ORDER BY vehicle_id FOR UPDATE`, ids)
		var id int64
		var pf prevFix
		if _, err := pgx.ForEachRow(rows, []any{&id, &pf.at, &pf.pt[0], &pf.pt[1], &pf.match.TripID, &pf.match.Dist, &pf.match.Delay}, func() error {
			p := pf
			p.hasState = true
			prev[id] = &p
			return nil
		}); err != nil {
			return fmt.Errorf("lock vehicle state: %w", err)
		}

		// Flag each fix against the previous good one.
		n := len(ps)
		vid := make([]int64, n)
		at := make([]time.Time, n)
		lon, lat := make([]float64, n), make([]float64, n)
		speed, head, alt := make([]*float64, n), make([]*float64, n), make([]*float64, n)
		sats := make([]*int16, n)
		flags := make([]int16, n)
		src := make([]string, n)
		latest := map[int64]int{} // vehicle -> index of its newest drawable fix
		for i, p := range ps {
			var f int16
			pt := orb.Point{p.Lon, p.Lat}
			if math.IsNaN(p.Lon) || math.IsNaN(p.Lat) || math.Abs(p.Lat) > 90 || math.Abs(p.Lon) > 180 ||
				(p.Lat == 0 && p.Lon == 0) {
				f |= FlagBadCoords
			}
			if p.At.After(now.Add(s.MaxFuture)) {
				f |= FlagFuture
			}
			pv := prev[p.VehicleID]
			if f == 0 && pv != nil {
				dt := p.At.Sub(pv.at).Seconds()
				d := haversine(pv.pt, pt)
				switch {
				case dt < 0 && pv.hasState:
					f |= FlagStale
				case dt <= 0:
					if d > 50 {
						f |= FlagTeleport
					}
				case d/dt*3.6 > s.MaxSpeedKmh && d > 50:
					f |= FlagTeleport
				}
			}
			if f == 0 && (pv == nil || p.At.After(pv.at)) {
				if pv == nil {
					pv = &prevFix{}
					prev[p.VehicleID] = pv
				}
				pv.at, pv.pt = p.At, pt
				latest[p.VehicleID] = i
			}
			if p.Source == 0 {
				p.Source = SourceHTTP
			}
			vid[i], at[i], flags[i], src[i] = p.VehicleID, p.At, f, string(rune(p.Source))
			if f&FlagBadCoords != 0 && (math.IsNaN(p.Lon) || math.IsNaN(p.Lat) || math.IsInf(p.Lon, 0) || math.IsInf(p.Lat, 0)) {
				lon[i], lat[i] = 0, 0
			} else {
				lon[i], lat[i] = p.Lon, p.Lat
			}
			speed[i], head[i], alt[i] = finiteOrNil(p.SpeedKmh), finiteOrNil(p.Heading), finiteOrNil(p.AltM)
			if p.Sats >= 0 && p.Sats < math.MaxInt16 {
				v := int16(p.Sats)
				sats[i] = &v
			}
			res.flags[posKey{p.VehicleID, p.At.UnixMicro()}] = f
		}
		rows, _ = tx.Query(ctx, `INSERT INTO transit.positions (vehicle_id, at, lon, lat, speed_kmh, heading, alt_m, sats, flags, source)
			SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[], $4::float8[], $5::real[], $6::real[],
				$7::real[], $8::smallint[], $9::smallint[], $10::"char"[])
			ON CONFLICT (vehicle_id, at) DO NOTHING RETURNING vehicle_id, at`,
			vid, at, lon, lat, speed, head, alt, sats, flags, src)
		var t time.Time
		if _, err := pgx.ForEachRow(rows, []any{&id, &t}, func() error {
			res.inserted[posKey{id, t.UnixMicro()}] = true
			return nil
		}); err != nil {
			return fmt.Errorf("insert positions: %w", err)
		}

		if len(latest) == 0 {
			return nil
		}
		// Latest state, trip match and live layer for each vehicle that moved.
		var (
			sVid          []int64
			sAt           []time.Time
			sLon, sLat    []float64
			sSpeed, sHead []*float64
			sTrip         []*string
			sDist, sOff   []*float64
			sDelay        []*int32
		)
		// In vehicle id order, like every lock this batch takes: no deadlock between writers.
		for _, vidv := range ids {
			i, ok := latest[vidv]
			if !ok {
				continue
			}
			p := ps[i]
			if !res.inserted[posKey{p.VehicleID, p.At.UnixMicro()}] {
				continue // a resend of a fix already applied
			}
			v := vehicles[vidv]
			var trip *string
			var dist, off *float64
			var delay *int32
			if net != nil && v.Route != "" {
				pm := Match{}
				if pv := prev[vidv]; pv != nil {
					pm = pv.match
				}
				heading := p.Heading
				if !(p.SpeedKmh > 3) {
					heading = math.NaN() // a standing vehicle's heading is noise
				}
				m, ok, o := net.Match(v.Route, orb.Point{p.Lon, p.Lat}, heading, p.At, pm)
				if !math.IsInf(o, 1) {
					off = &o
				}
				if ok {
					trip, dist, off = &m.TripID, &m.Dist, &m.Off
					d := int32(m.Delay)
					delay = &d
				}
			}
			sVid, sAt, sLon, sLat = append(sVid, vidv), append(sAt, p.At), append(sLon, p.Lon), append(sLat, p.Lat)
			sSpeed, sHead = append(sSpeed, finiteOrNil(p.SpeedKmh)), append(sHead, finiteOrNil(p.Heading))
			sTrip, sDist, sOff, sDelay = append(sTrip, trip), append(sDist, dist), append(sOff, off), append(sDelay, delay)
		}
		if len(sVid) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transit.vehicle_state AS s (vehicle_id, at, lon, lat, speed_kmh, heading, trip_id, shape_dist_m, delay_s, off_route_m)
			SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[], $4::float8[], $5::real[], $6::real[],
				$7::text[], $8::float8[], $9::int[], $10::float8[])
			ON CONFLICT (vehicle_id) DO UPDATE SET at = excluded.at, lon = excluded.lon, lat = excluded.lat,
				speed_kmh = excluded.speed_kmh, heading = excluded.heading, trip_id = excluded.trip_id,
				shape_dist_m = excluded.shape_dist_m, delay_s = excluded.delay_s, off_route_m = excluded.off_route_m,
				received_at = now(), seq = nextval('transit.state_seq')`,
			sVid, sAt, sLon, sLat, sSpeed, sHead, sTrip, sDist, sDelay, sOff); err != nil {
			return fmt.Errorf("vehicle state: %w", err)
		}
		// Tell every process which vehicles moved (live push); NOTIFY is delivered at commit, in
		// commit order. A payload holds at most 8000 bytes: split the id list.
		for _, part := range idChunks(sVid, 7900) {
			if _, err := tx.Exec(ctx, `SELECT pg_notify('transit_vehicles', $1)`, part); err != nil {
				return err
			}
		}
		moved = sVid
		return nil
	})
	if err != nil {
		var ge *geoportal.Error
		if errors.As(err, &ge) {
			return nil, err
		}
		return nil, fmt.Errorf("ingest %d positions: %w", len(ps), err)
	}
	// The map layer follows the committed state (layer.go).
	s.layer.moved(moved)
	return res, nil
}

// idChunks joins ids with commas into strings of at most max bytes.
func idChunks(ids []int64, max int) []string {
	var out []string
	var b []byte
	for _, id := range ids {
		n := strconv.AppendInt(nil, id, 10)
		if len(b) > 0 && len(b)+1+len(n) > max {
			out = append(out, string(b))
			b = b[:0]
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
	}
	if len(b) > 0 {
		out = append(out, string(b))
	}
	return out
}
