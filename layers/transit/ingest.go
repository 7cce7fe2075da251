package transit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
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
	net, err := s.Network(ctx)
	if err != nil {
		s.Logger.Warn("transit network unavailable; positions stored without trip matching", "error", err)
		net = nil
	}
	res := &batchResult{inserted: map[posKey]bool{}, flags: map[posKey]int16{}}
	var created []int64
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
			sVid                  []int64
			sAt                   []time.Time
			sLon, sLat            []float64
			sSpeed, sHead         []*float64
			sTrip                 []*string
			sDist, sOff           []*float64
			sDelay                []*int32
			lFid                  []int64
			lLon, lLat            []float64
			lSpeed, lHead         []*float64
			lAt                   []time.Time
			lRoute, lPlate, lKind []string
			lLow                  []bool
			newVid                []int64
		)
		for vidv, i := range latest {
			p := ps[i]
			if !res.inserted[posKey{p.VehicleID, p.At.UnixMicro()}] {
				continue // a resend of a fix already applied
			}
			v, err := s.Vehicle(ctx, vidv)
			if err != nil {
				return err
			}
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
			if v.featureID == nil {
				newVid = append(newVid, vidv)
				continue
			}
			lFid, lLon, lLat = append(lFid, *v.featureID), append(lLon, p.Lon), append(lLat, p.Lat)
			lSpeed, lHead, lAt = append(lSpeed, finiteOrNil(p.SpeedKmh)), append(lHead, finiteOrNil(p.Heading)), append(lAt, p.At)
			lRoute, lPlate, lKind, lLow = append(lRoute, v.Route), append(lPlate, v.Plate), append(lKind, v.Kind), append(lLow, v.LowFloor)
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
		if len(lFid) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE layer.vehicles v SET geom = ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326),
				speed_kmh = u.speed, heading = u.head, seen_at = u.at, route = u.route, plate = u.plate, kind = u.kind,
				low_floor = u.low, updated_at = now()
				FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::timestamptz[],
					$7::text[], $8::text[], $9::text[], $10::bool[]) AS u(fid, lon, lat, speed, head, at, route, plate, kind, low)
				WHERE v.id = u.fid`,
				lFid, lLon, lLat, lSpeed, lHead, lAt, lRoute, lPlate, lKind, lLow); err != nil {
				return fmt.Errorf("live layer: %w", err)
			}
		}
		if len(newVid) > 0 {
			if err := s.createFeatures(ctx, tx, newVid); err != nil {
				return err
			}
			created = newVid
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify('transit_vehicles', '')`); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		var ge *geoportal.Error
		if errors.As(err, &ge) {
			return nil, err
		}
		return nil, fmt.Errorf("ingest %d positions: %w", len(ps), err)
	}
	if len(created) > 0 {
		// Their registry rows now have a feature: load them again on next use.
		s.mu.Lock()
		for _, id := range created {
			if v := s.byID[id]; v != nil {
				delete(s.byDevice, v.DeviceID)
			}
			delete(s.byID, id)
		}
		s.mu.Unlock()
	}
	return res, nil
}

// createFeatures adds the live-layer features of vehicles seen for the first time, from their
// state rows written just before, and remembers them in the registry.
func (s *Service) createFeatures(ctx context.Context, tx pgx.Tx, ids []int64) error {
	// Lock the registry rows: two batches must not both create a vehicle's feature.
	rows, _ := tx.Query(ctx, `SELECT id FROM transit.vehicles WHERE id = ANY($1) AND feature_id IS NULL ORDER BY id FOR UPDATE`, ids)
	todo, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("live layer: %w", err)
	}
	if len(todo) > 0 {
		if _, err := tx.Exec(ctx, `WITH f AS (
				INSERT INTO layer.vehicles (geom, vehicle_id, plate, route, kind, speed_kmh, heading, low_floor, seen_at)
				SELECT ST_SetSRID(ST_MakePoint(st.lon, st.lat), 4326), v.id::text, v.plate, v.route, v.kind, st.speed_kmh,
					st.heading, v.low_floor, st.at
				FROM transit.vehicles v JOIN transit.vehicle_state st ON st.vehicle_id = v.id
				WHERE v.id = ANY($1)
				RETURNING id, vehicle_id)
			UPDATE transit.vehicles v SET feature_id = f.id FROM f WHERE v.id::text = f.vehicle_id`, todo); err != nil {
			return fmt.Errorf("live layer: new vehicles: %w", err)
		}
	}
	return nil
}
