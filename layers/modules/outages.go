package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Networks are the utility networks an outage can be on.
var Networks = []string{"heating", "water", "sewer", "power", "gas"}

// NewOutage is an outage area drawn by staff.
type NewOutage struct {
	Network     string          `json:"network"`
	Geometry    json.RawMessage `json:"geometry"` // GeoJSON Polygon or MultiPolygon, WGS 84
	StartsAt    *time.Time      `json:"starts_at"`
	ExpectedEnd *time.Time      `json:"expected_end"`
	Description Names           `json:"description"`
}

// Outage is an outage area on the map.
type Outage struct {
	ID          int64           `json:"id"`
	Network     string          `json:"network"`
	StartsAt    time.Time       `json:"starts_at"`
	ExpectedEnd *time.Time      `json:"expected_end"`
	ClosedAt    *time.Time      `json:"closed_at,omitempty"`
	Description Names           `json:"description"`
	Geometry    json.RawMessage `json:"geometry,omitempty"`
}

const maxDescription = 2000

// areaType checks that g is a GeoJSON Polygon or MultiPolygon.
func areaType(g json.RawMessage) error {
	if len(g) == 0 || string(g) == "null" {
		return geoportal.Errorf(geoportal.EINVALID, "geometry is required: a GeoJSON Polygon or MultiPolygon in WGS 84")
	}
	var t struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(g, &t); err != nil || (t.Type != "Polygon" && t.Type != "MultiPolygon") {
		return geoportal.Errorf(geoportal.EINVALID, "geometry must be a GeoJSON Polygon or MultiPolygon, got %q", t.Type)
	}
	return nil
}

func (o *NewOutage) validate(now time.Time) error {
	o.Network = strings.ToLower(strings.TrimSpace(o.Network))
	if !slices.Contains(Networks, o.Network) {
		return geoportal.Errorf(geoportal.EINVALID, "network %q is not one of %s", o.Network, strings.Join(Networks, ", "))
	}
	if err := areaType(o.Geometry); err != nil {
		return err
	}
	if o.StartsAt == nil {
		o.StartsAt = &now
	}
	if o.ExpectedEnd != nil && !o.ExpectedEnd.After(*o.StartsAt) {
		return geoportal.Errorf(geoportal.EINVALID, "expected_end %s must be after starts_at %s",
			o.ExpectedEnd.Format(time.RFC3339), o.StartsAt.Format(time.RFC3339))
	}
	d := &o.Description
	for _, p := range []*string{&d.KK, &d.RU, &d.EN} {
		*p = strings.TrimSpace(*p)
		if len([]rune(*p)) > maxDescription {
			return geoportal.Errorf(geoportal.EINVALID, "description is longer than %d characters", maxDescription)
		}
	}
	if d.KK == "" && d.RU == "" && d.EN == "" {
		return geoportal.Errorf(geoportal.EINVALID, "description is required in at least one of kk, ru, en")
	}
	return nil
}

// CreateOutage draws an outage area on the map (layer outages), audited as outage.create.
func (s *Store) CreateOutage(ctx context.Context, n NewOutage) (Outage, error) {
	if err := n.validate(time.Now()); err != nil {
		return Outage{}, err
	}
	var o Outage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkOutageArea(ctx, tx, n.Geometry); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO layer.outages (geom, network, starts_at, expected_end, description_kk, description_ru, description_en)
			VALUES (ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326)), $2, $3, $4, $5, $6, $7)
			RETURNING id, network, starts_at, expected_end, ST_AsGeoJSON(geom, 7)::jsonb`,
			string(n.Geometry), n.Network, n.StartsAt, n.ExpectedEnd, n.Description.KK, n.Description.RU, n.Description.EN).
			Scan(&o.ID, &o.Network, &o.StartsAt, &o.ExpectedEnd, &o.Geometry)
		if err != nil {
			return fmt.Errorf("create outage: %w", err)
		}
		o.Description = n.Description
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "outage.create", ObjectType: "outage",
			ObjectID: fmt.Sprint(o.ID), After: o})
	})
	return o, err
}

// checkOutageArea checks in tx that g is a valid polygon in WGS 84 degrees (EINVALID naming the
// problem otherwise).
func checkOutageArea(ctx context.Context, tx pgx.Tx, g json.RawMessage) error {
	var valid string
	err := tx.QueryRow(ctx, `SELECT CASE WHEN NOT ST_IsValid(g) THEN ST_IsValidReason(g)
		WHEN ST_XMin(g) < -180 OR ST_XMax(g) > 180 OR ST_YMin(g) < -90 OR ST_YMax(g) > 90
		THEN 'coordinates must be lon -180..180, lat -90..90 (WGS 84 degrees)' ELSE '' END
		FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) g) x`, string(g)).Scan(&valid)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return geoportal.Errorf(geoportal.EINVALID, "geometry is not valid GeoJSON: %s", pe.Message)
	} else if err != nil {
		return fmt.Errorf("check outage geometry: %w", err)
	}
	if valid != "" {
		return geoportal.Errorf(geoportal.EINVALID, "geometry is not a valid polygon: %s", valid)
	}
	return nil
}

// SetOutageArea redraws an outage's area, audited as outage.area with the old and new areas.
func (s *Store) SetOutageArea(ctx context.Context, id int64, geometry json.RawMessage) (Outage, error) {
	if err := areaType(geometry); err != nil {
		return Outage{}, err
	}
	var o Outage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkOutageArea(ctx, tx, geometry); err != nil {
			return err
		}
		var before json.RawMessage
		err := tx.QueryRow(ctx, `SELECT ST_AsGeoJSON(geom, 7)::jsonb FROM layer.outages WHERE id = $1 FOR UPDATE`, id).Scan(&before)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "outage %d is not on the map (unknown or already closed)", id)
		} else if err != nil {
			return fmt.Errorf("outage %d: %w", id, err)
		}
		err = tx.QueryRow(ctx, `UPDATE layer.outages SET geom = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)), updated_at = now()
			WHERE id = $1 RETURNING id, coalesce(network, ''), coalesce(starts_at, created_at), expected_end,
			coalesce(description_kk, ''), coalesce(description_ru, ''), coalesce(description_en, ''), ST_AsGeoJSON(geom, 7)::jsonb`,
			id, string(geometry)).Scan(&o.ID, &o.Network, &o.StartsAt, &o.ExpectedEnd, &o.Description.KK, &o.Description.RU,
			&o.Description.EN, &o.Geometry)
		if err != nil {
			return fmt.Errorf("redraw outage %d: %w", id, err)
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "outage.area", ObjectType: "outage",
			ObjectID: fmt.Sprint(id), Before: map[string]any{"geometry": before}, After: map[string]any{"geometry": o.Geometry}})
	})
	return o, err
}

// CloseOutage takes an outage off the map (it is kept in modules.outages_closed), audited as
// outage.close.
func (s *Store) CloseOutage(ctx context.Context, id int64) (Outage, error) {
	var o Outage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM layer.outages WHERE id = $1 RETURNING *)
			INSERT INTO modules.outages_closed (id, geom, network, starts_at, expected_end, description_kk, description_ru, description_en)
			SELECT id, geom, coalesce(network, ''), coalesce(starts_at, created_at), expected_end,
			       coalesce(description_kk, ''), coalesce(description_ru, ''), coalesce(description_en, '') FROM gone
			RETURNING id, network, starts_at, expected_end, closed_at, description_kk, description_ru, description_en`, id).
			Scan(&o.ID, &o.Network, &o.StartsAt, &o.ExpectedEnd, &o.ClosedAt, &o.Description.KK, &o.Description.RU, &o.Description.EN)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "outage %d is not on the map (unknown or already closed)", id)
		}
		if err != nil {
			return fmt.Errorf("close outage %d: %w", id, err)
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "outage.close", ObjectType: "outage",
			ObjectID: fmt.Sprint(id), After: o})
	})
	return o, err
}

// Outages lists the outages on the map now, newest first.
func (s *Store) Outages(ctx context.Context) ([]Outage, error) {
	return s.queryOutages(ctx, `SELECT id, coalesce(network, ''), coalesce(starts_at, created_at), expected_end,
		coalesce(description_kk, ''), coalesce(description_ru, ''), coalesce(description_en, ''), ST_AsGeoJSON(geom, 7)::jsonb
		FROM layer.outages ORDER BY starts_at DESC, id DESC`)
}

func (s *Store) queryOutages(ctx context.Context, q string, args ...any) ([]Outage, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	defer rows.Close()
	out := []Outage{}
	for rows.Next() {
		var o Outage
		if err := rows.Scan(&o.ID, &o.Network, &o.StartsAt, &o.ExpectedEnd, &o.Description.KK, &o.Description.RU,
			&o.Description.EN, &o.Geometry); err != nil {
			return nil, fmt.Errorf("outages: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Building is the building found at a point.
type Building struct {
	ID      int64  `json:"id"`
	Address string `json:"address"`
}

// Affected answers "is my building affected?" for a point.
type Affected struct {
	Lon      float64   `json:"lon"`
	Lat      float64   `json:"lat"`
	Address  string    `json:"address,omitempty"` // the address searched for, if any
	Building *Building `json:"building"`          // the building at the point, if any
	Affected bool      `json:"affected"`
	Outages  []Outage  `json:"outages"`
}

// AffectedAt lists the outages touching the building at lon/lat (or the point itself when no
// building is there).
func (s *Store) AffectedAt(ctx context.Context, lon, lat float64) (*Affected, error) {
	a := &Affected{Lon: lon, Lat: lat}
	var b Building
	err := s.pool.QueryRow(ctx, `SELECT id, coalesce(address, '') FROM layer.buildings
		WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY id LIMIT 1`, lon, lat).Scan(&b.ID, &b.Address)
	switch {
	case err == nil:
		a.Building = &b
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("building at point: %w", err)
	}
	if err := s.touching(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// AffectedBuilding answers "is my building affected?" for building id (layer buildings), as
// clicked on the map; Lon/Lat are a point on the building.
func (s *Store) AffectedBuilding(ctx context.Context, id int64) (*Affected, error) {
	var b Building
	a := &Affected{Building: &b}
	err := s.pool.QueryRow(ctx, `SELECT id, coalesce(address, ''), ST_X(p), ST_Y(p)
		FROM (SELECT id, address, ST_PointOnSurface(geom) p FROM layer.buildings WHERE id = $1) x`, id).
		Scan(&b.ID, &b.Address, &a.Lon, &a.Lat)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "building %d does not exist", id)
	}
	if err != nil {
		return nil, fmt.Errorf("building %d: %w", id, err)
	}
	if err := s.touching(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// touching fills a.Outages and a.Affected: the outages touching a.Building, or the point when
// there is no building.
func (s *Store) touching(ctx context.Context, a *Affected) error {
	var bid *int64
	if a.Building != nil {
		bid = &a.Building.ID
	}
	var err error
	a.Outages, err = s.queryOutages(ctx, `SELECT o.id, coalesce(o.network, ''), coalesce(o.starts_at, o.created_at), o.expected_end,
		coalesce(o.description_kk, ''), coalesce(o.description_ru, ''), coalesce(o.description_en, ''), NULL::jsonb
		FROM layer.outages o
		WHERE ST_Intersects(o.geom, coalesce((SELECT geom FROM layer.buildings WHERE id = $3),
		                                     ST_SetSRID(ST_MakePoint($1, $2), 4326)))
		ORDER BY o.starts_at DESC, o.id DESC`, a.Lon, a.Lat, bid)
	if err != nil {
		return err
	}
	a.Affected = len(a.Outages) > 0
	return nil
}

// Locate turns an address typed by a resident into a point through the portal's search,
// preferring a building.
func (s *Store) Locate(ctx context.Context, address, lang string) (float64, float64, error) {
	address = strings.TrimSpace(address)
	if address == "" {
		return 0, 0, geoportal.Errorf(geoportal.EINVALID, "address is empty")
	}
	hits, err := s.layers.Search(ctx, address, lang, 10, false)
	if err != nil {
		return 0, 0, err
	}
	for _, h := range hits {
		if h.Layer == "buildings" {
			return h.Point[0], h.Point[1], nil
		}
	}
	if len(hits) == 0 {
		return 0, 0, geoportal.Errorf(geoportal.ENOTFOUND, "no address matches %q", address)
	}
	return hits[0].Point[0], hits[0].Point[1], nil
}
