// Package transit is the live-vehicle and public-transport module: the vehicle registry, position
// ingest (HTTP and Wialon IPS) with durable acknowledgement, the position history, the GTFS
// timetable in memory, trip matching and arrival predictions, dispatcher alerts and the live push
// of vehicle moves fanned out from PostgreSQL LISTEN.
package transit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Vehicle is a registered vehicle with its tracker.
type Vehicle struct {
	ID         int64     `json:"id"`
	DeviceID   string    `json:"device_id"`
	Plate      string    `json:"plate"`
	Kind       string    `json:"kind"`
	Route      string    `json:"route"`
	LowFloor   bool      `json:"low_floor"`
	Department string    `json:"department"`
	CreatedAt  time.Time `json:"created_at"`

	featureID *int64
	loadedAt  time.Time
}

// Kinds lists the vehicle kinds.
var Kinds = []string{"bus", "trolleybus", "minibus", "tram", "municipal", "snowplough", "sweeper", "garbage", "ambulance", "service"}

var deviceIDRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// Service is the transit module over one database: registry, ingest, network and live push.
// Build it with New; Close stops its background work.
type Service struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Thresholds of the on-line control and of the position checks.
	OffRouteM     float64       // a vehicle farther than this from its route is off route (default 150 m)
	BunchingM     float64       // two vehicles of a line closer than this along the shape are bunched (default 250 m)
	MaxSpeedKmh   float64       // faster than this between two fixes is a teleport (default 200)
	MaxFuture     time.Duration // fixes further ahead of the server clock are flagged (default 2 min)
	Retention     time.Duration // position history kept (default 90 days)
	PartitionDays int           // daily partitions created ahead (default 3)
	// Wialon bounds the Wialon IPS listener (connections, login deadline, failed logins) and Live
	// the live stream's subscribers; set them before serving (defaults: DefaultWialonLimits,
	// DefaultLiveLimits).
	Wialon WialonLimits
	Live   LiveLimits

	metrics *metrics
	ingest  *ingester
	hub     *Hub
	layer   *layerSync

	mu         sync.Mutex
	byDevice   map[string]*Vehicle
	byKey      map[[32]byte]*Vehicle
	byID       map[int64]*Vehicle
	network    *Network
	netAt      time.Time
	netStale   bool
	netLoading bool
	netLoad    sync.Mutex

	closeOnce sync.Once
	stop      context.CancelFunc
	bg        context.Context
	wg        sync.WaitGroup
}

// New returns the transit service over pool.
func New(pool *pgxpool.Pool, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bg, stop := context.WithCancel(context.Background())
	s := &Service{Pool: pool, Logger: logger, OffRouteM: 150, BunchingM: 250, MaxSpeedKmh: 200,
		MaxFuture: 2 * time.Minute, Retention: 90 * 24 * time.Hour, PartitionDays: 3,
		Wialon: DefaultWialonLimits(), Live: DefaultLiveLimits(), metrics: newMetrics(),
		byDevice: map[string]*Vehicle{}, byKey: map[[32]byte]*Vehicle{}, byID: map[int64]*Vehicle{},
		bg: bg, stop: stop}
	s.ingest = newIngester(s)
	s.hub = newHub(s)
	s.layer = newLayerSync(s)
	return s
}

// Close stops the background goroutines (ingest workers, live hub, maintenance).
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.stop()
		s.ingest.close()
		s.wg.Wait()
	})
}

// go runs f in the background until Close.
func (s *Service) goBackground(f func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.bg)
	}()
}

// NewVehicle is what AddVehicle needs.
type NewVehicle struct {
	DeviceID       string
	Plate          string
	Kind           string
	Route          string
	LowFloor       bool
	Department     string
	WialonPassword string // "": none yet (the unit cannot log in over Wialon IPS until one is set)
}

// AddVehicle registers a vehicle and returns it with a fresh device key for HTTP ingest (shown
// once; only its SHA-256 is stored). A Wialon password is stored with the tracker logins of
// accounts (auth.tracker_passwords), the one place tracker credentials live, in the same
// transaction.
func (s *Service) AddVehicle(ctx context.Context, nv NewVehicle) (*Vehicle, string, error) {
	if !deviceIDRe.MatchString(nv.DeviceID) {
		return nil, "", geoportal.Errorf(geoportal.EINVALID, "device id %q must be 1 to 64 letters, digits or _.:-", nv.DeviceID)
	}
	if nv.Kind == "" {
		nv.Kind = "bus"
	}
	if !slices.Contains(Kinds, nv.Kind) {
		return nil, "", geoportal.Errorf(geoportal.EINVALID, "vehicle kind %q is not one of %v", nv.Kind, Kinds)
	}
	if len(nv.Plate) > 20 || len(nv.Route) > 40 || len(nv.Department) > 100 {
		return nil, "", geoportal.Errorf(geoportal.EINVALID, "plate (20), route (40) or department (100) too long")
	}
	if nv.WialonPassword != "" {
		if err := accounts.CheckTrackerPassword(nv.WialonPassword); err != nil {
			return nil, "", err
		}
	}
	key := "dk_" + rand.Text()
	sum := sha256.Sum256([]byte(key))
	v := &Vehicle{DeviceID: nv.DeviceID, Plate: nv.Plate, Kind: nv.Kind, Route: nv.Route, LowFloor: nv.LowFloor, Department: nv.Department}
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO transit.vehicles (device_id, plate, kind, route, low_floor, department, device_key_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
			nv.DeviceID, nv.Plate, nv.Kind, nv.Route, nv.LowFloor, nv.Department, sum[:]).Scan(&v.ID, &v.CreatedAt)
		if err != nil {
			return err
		}
		if nv.WialonPassword != "" {
			return accounts.SetTrackerPasswordTx(ctx, tx, nv.DeviceID, nv.WialonPassword, nv.Plate)
		}
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, "", geoportal.Errorf(geoportal.ECONFLICT, "device %s is already registered", nv.DeviceID)
	} else if err != nil {
		return nil, "", fmt.Errorf("add vehicle %s: %w", nv.DeviceID, err)
	}
	return v, key, nil
}

// Vehicles lists the registry.
func (s *Service) Vehicles(ctx context.Context) ([]Vehicle, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT id, device_id, plate, kind, route, low_floor, department, created_at
		FROM transit.vehicles ORDER BY id`)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Vehicle, error) {
		var v Vehicle
		err := row.Scan(&v.ID, &v.DeviceID, &v.Plate, &v.Kind, &v.Route, &v.LowFloor, &v.Department, &v.CreatedAt)
		return v, err
	})
}

const vehicleCacheTTL = time.Minute

const vehicleColumns = `id, device_id, plate, kind, route, low_floor, department, created_at, feature_id`

const vehicleColumnsV = `v.id, v.device_id, v.plate, v.kind, v.route, v.low_floor, v.department, v.created_at, v.feature_id`

func scanVehicle(row pgx.Row) (*Vehicle, error) {
	v := &Vehicle{}
	err := row.Scan(&v.ID, &v.DeviceID, &v.Plate, &v.Kind, &v.Route, &v.LowFloor, &v.Department, &v.CreatedAt, &v.featureID)
	v.loadedAt = time.Now()
	return v, err
}

func (s *Service) cache(v *Vehicle, key *[32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byDevice[v.DeviceID] = v
	s.byID[v.ID] = v
	if key != nil {
		s.byKey[*key] = v
	}
}

// VehicleByDevice returns the vehicle with tracker id deviceID (ENOTFOUND when unknown).
func (s *Service) VehicleByDevice(ctx context.Context, deviceID string) (*Vehicle, error) {
	s.mu.Lock()
	v := s.byDevice[deviceID]
	s.mu.Unlock()
	if v != nil && time.Since(v.loadedAt) < vehicleCacheTTL {
		return v, nil
	}
	v, err := scanVehicle(s.Pool.QueryRow(ctx, `SELECT `+vehicleColumns+` FROM transit.vehicles WHERE device_id = $1`, deviceID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "device %q is not registered", deviceID)
	} else if err != nil {
		return nil, fmt.Errorf("vehicle %s: %w", deviceID, err)
	}
	s.cache(v, nil)
	return v, nil
}

// Vehicle returns the vehicle with id (ENOTFOUND when unknown).
func (s *Service) Vehicle(ctx context.Context, id int64) (*Vehicle, error) {
	s.mu.Lock()
	v := s.byID[id]
	s.mu.Unlock()
	if v != nil && time.Since(v.loadedAt) < vehicleCacheTTL {
		return v, nil
	}
	v, err := scanVehicle(s.Pool.QueryRow(ctx, `SELECT `+vehicleColumns+` FROM transit.vehicles WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "vehicle %d does not exist", id)
	} else if err != nil {
		return nil, fmt.Errorf("vehicle %d: %w", id, err)
	}
	s.cache(v, nil)
	return v, nil
}

// vehiclesByID returns the vehicles with ids, from the cache or in one query.
func (s *Service) vehiclesByID(ctx context.Context, ids []int64) (map[int64]*Vehicle, error) {
	out := make(map[int64]*Vehicle, len(ids))
	var miss []int64
	s.mu.Lock()
	for _, id := range ids {
		if v := s.byID[id]; v != nil && time.Since(v.loadedAt) < vehicleCacheTTL {
			out[id] = v
		} else {
			miss = append(miss, id)
		}
	}
	s.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+vehicleColumns+` FROM transit.vehicles WHERE id = ANY($1)`, miss)
	if err != nil {
		return nil, fmt.Errorf("vehicles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanVehicle(rows)
		if err != nil {
			return nil, fmt.Errorf("vehicles: %w", err)
		}
		out[v.ID] = v
		s.cache(v, nil)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vehicles: %w", err)
	}
	for _, id := range miss {
		if out[id] == nil {
			return nil, geoportal.Errorf(geoportal.ENOTFOUND, "vehicle %d does not exist", id)
		}
	}
	return out, nil
}

// VehicleByKey returns the vehicle whose HTTP device key is key (EUNAUTHORIZED otherwise).
func (s *Service) VehicleByKey(ctx context.Context, key string) (*Vehicle, error) {
	if key == "" {
		return nil, geoportal.Errorf(geoportal.EUNAUTHORIZED, "the X-Device-Key header is required")
	}
	sum := sha256.Sum256([]byte(key))
	s.mu.Lock()
	v := s.byKey[sum]
	s.mu.Unlock()
	if v != nil && time.Since(v.loadedAt) < vehicleCacheTTL {
		return v, nil
	}
	v, err := scanVehicle(s.Pool.QueryRow(ctx, `SELECT `+vehicleColumns+` FROM transit.vehicles WHERE device_key_hash = $1`, sum[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.EUNAUTHORIZED, "unknown device key")
	} else if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	s.cache(v, &sum)
	return v, nil
}

// SetWialonPassword sets the Wialon IPS password of a registered vehicle's unit (stored with the
// tracker logins of accounts).
func (s *Service) SetWialonPassword(ctx context.Context, deviceID, password string) error {
	if _, err := s.VehicleByDevice(ctx, deviceID); err != nil {
		return err
	}
	return accounts.NewStore(s.Pool).SetTrackerPassword(ctx, deviceID, password, "")
}

// CheckWialonLogin returns the vehicle of a Wialon login. The unit must be a registered vehicle
// whose tracker login (auth.tracker_passwords, set with vehicle add -wialon-password, the admin
// page or geoportal user tracker set) has this password, or was marked open by an administrator.
// Every refusal is the same EUNAUTHORIZED error code and costs one tracker hash, so that a caller
// cannot tell an unknown unit from a wrong password; the message (for the server's log) says which.
func (s *Service) CheckWialonLogin(ctx context.Context, unitID, password string) (*Vehicle, error) {
	var hash *string
	var open bool
	row := s.Pool.QueryRow(ctx, `SELECT `+vehicleColumnsV+`, tp.password_hash, coalesce(tp.open, false)
		FROM transit.vehicles v LEFT JOIN auth.tracker_passwords tp ON tp.login = v.device_id WHERE v.device_id = $1`, unitID)
	v := &Vehicle{}
	err := row.Scan(&v.ID, &v.DeviceID, &v.Plate, &v.Kind, &v.Route, &v.LowFloor, &v.Department, &v.CreatedAt, &v.featureID, &hash, &open)
	known := true
	if errors.Is(err, pgx.ErrNoRows) {
		known, hash, open = false, nil, false
	} else if err != nil {
		return nil, fmt.Errorf("wialon login %s: %w", unitID, err)
	}
	ok, err := accounts.CheckTrackerLogin(password, hash, open)
	if err != nil {
		return nil, fmt.Errorf("wialon login %s: %w", unitID, err)
	}
	switch {
	case !known:
		return nil, geoportal.Errorf(geoportal.EUNAUTHORIZED, "unit %q is not registered", unitID)
	case !ok && hash == nil:
		return nil, geoportal.Errorf(geoportal.EUNAUTHORIZED, "unit %q has no tracker password (set one, or mark the unit open)", unitID)
	case !ok:
		return nil, geoportal.Errorf(geoportal.EUNAUTHORIZED, "wrong password for unit %q", unitID)
	}
	v.loadedAt = time.Now()
	s.cache(v, nil)
	return v, nil
}

// Network returns the timetable. The first call loads it; later calls return the loaded one and,
// when it is over 10 minutes old or a GTFS import announced a new one (channel transit_network),
// reload it in the background, so ingest never waits for a reload.
func (s *Service) Network(ctx context.Context) (*Network, error) {
	s.mu.Lock()
	n, at, stale := s.network, s.netAt, s.netStale
	if n != nil && (stale || time.Since(at) > 10*time.Minute) && !s.netLoading {
		s.netLoading = true
		s.goBackground(func(ctx context.Context) {
			nn, err := LoadNetwork(ctx, s.Pool)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.netLoading = false
			if err != nil {
				s.Logger.Warn("reloading the transit network failed", "error", err)
				return
			}
			s.network, s.netAt, s.netStale = nn, time.Now(), false
		})
	}
	s.mu.Unlock()
	if n != nil {
		return n, nil
	}
	s.netLoad.Lock() // one first load at a time
	defer s.netLoad.Unlock()
	s.mu.Lock()
	n = s.network
	s.mu.Unlock()
	if n != nil {
		return n, nil
	}
	n, err := LoadNetwork(ctx, s.Pool)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.network, s.netAt, s.netStale = n, time.Now(), false
	s.mu.Unlock()
	return n, nil
}

// ReloadNetwork marks the timetable stale: the next use reloads it in the background.
func (s *Service) ReloadNetwork() {
	s.mu.Lock()
	s.netStale = true
	s.mu.Unlock()
}

// ResetDeviceKey gives a registered vehicle a fresh HTTP device key and returns it.
func (s *Service) ResetDeviceKey(ctx context.Context, deviceID string) (string, error) {
	key := "dk_" + rand.Text()
	sum := sha256.Sum256([]byte(key))
	tag, err := s.Pool.Exec(ctx, `UPDATE transit.vehicles SET device_key_hash = $2, updated_at = now() WHERE device_id = $1`, deviceID, sum[:])
	if err != nil {
		return "", fmt.Errorf("reset key of %s: %w", deviceID, err)
	}
	if tag.RowsAffected() == 0 {
		return "", geoportal.Errorf(geoportal.ENOTFOUND, "device %q is not registered", deviceID)
	}
	return key, nil
}
