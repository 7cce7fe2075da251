package transit

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// layerSync keeps the catalog layer layer.vehicles (tiles, OGC API, the map's static layer)
// following the committed vehicle state. It runs beside the ingest, not inside it: the layer's
// statement trigger updates one catalog row, and doing that in every ingest transaction would
// make all writers queue on that row. Instead the vehicles moved in the last ~100 ms are written
// with one UPDATE, so the trigger (and the tile-cache invalidation it announces) fires a few
// times a second whatever the ingest rate. The live push does not wait for it.
type layerSync struct {
	s       *Service
	mu      sync.Mutex
	pending map[int64]struct{}
	kick    chan struct{}
	start   sync.Once
	syncing sync.Mutex // held while a batch of moves is taken and written
}

func newLayerSync(s *Service) *layerSync {
	return &layerSync{s: s, pending: map[int64]struct{}{}, kick: make(chan struct{}, 1)}
}

// moved queues vehicles whose state changed.
func (l *layerSync) moved(ids []int64) {
	if len(ids) == 0 {
		return
	}
	l.mu.Lock()
	for _, id := range ids {
		l.pending[id] = struct{}{}
	}
	l.mu.Unlock()
	l.start.Do(func() { l.s.goBackground(l.run) })
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *layerSync) take() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]int64, 0, len(l.pending))
	for id := range l.pending {
		ids = append(ids, id)
	}
	clear(l.pending)
	slices.Sort(ids)
	return ids
}

func (l *layerSync) run(ctx context.Context) {
	delay := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		}
		// Gather the moves of the next 100 ms into one statement.
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		l.syncing.Lock()
		ids := l.take()
		var err error
		if len(ids) > 0 {
			err = l.s.syncLayer(ctx, ids)
		}
		l.syncing.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.s.Logger.Warn("live layer update failed, retrying", "vehicles", len(ids), "error", err)
			l.moved(ids)
			time.Sleep(delay)
			delay = min(delay*2, 5*time.Second)
			continue
		}
		delay = 100 * time.Millisecond
	}
}

// SyncLayer writes the pending vehicle moves to layer.vehicles now (tests, shutdown).
func (s *Service) SyncLayer(ctx context.Context) error {
	s.layer.syncing.Lock()
	defer s.layer.syncing.Unlock()
	ids := s.layer.take()
	if len(ids) == 0 {
		return nil
	}
	return s.syncLayer(ctx, ids)
}

// syncAllLayer brings every vehicle with a state into the layer (start-up: catches up on moves a
// crashed process had not yet written).
func (s *Service) syncAllLayer(ctx context.Context) error {
	rows, _ := s.Pool.Query(ctx, `SELECT vehicle_id FROM transit.vehicle_state ORDER BY vehicle_id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	return s.syncLayer(ctx, ids)
}

func (s *Service) syncLayer(ctx context.Context, ids []int64) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := s.createFeatures(ctx, tx, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE layer.vehicles l SET geom = ST_SetSRID(ST_MakePoint(st.lon, st.lat), 4326),
				speed_kmh = st.speed_kmh, heading = st.heading, seen_at = st.at, route = v.route, plate = v.plate,
				kind = v.kind, low_floor = v.low_floor, updated_at = now()
			FROM transit.vehicles v JOIN transit.vehicle_state st ON st.vehicle_id = v.id
			WHERE v.id = ANY($1) AND l.id = v.feature_id AND l.seen_at IS DISTINCT FROM st.at`, ids); err != nil {
			return fmt.Errorf("live layer: %w", err)
		}
		return nil
	})
}

// createFeatures adds the live-layer features of vehicles seen for the first time, from their
// state rows, and remembers them in the registry.
func (s *Service) createFeatures(ctx context.Context, tx pgx.Tx, ids []int64) error {
	// Lock the registry rows: two processes must not both create a vehicle's feature.
	rows, _ := tx.Query(ctx, `SELECT v.id FROM transit.vehicles v WHERE v.id = ANY($1) AND v.feature_id IS NULL
		AND EXISTS (SELECT 1 FROM transit.vehicle_state st WHERE st.vehicle_id = v.id) ORDER BY v.id FOR UPDATE`, ids)
	todo, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("live layer: %w", err)
	}
	if len(todo) == 0 {
		return nil
	}
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
	return nil
}
