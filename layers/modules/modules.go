// Package modules holds the smart-city modules that sit on top of the layers as map features:
// the street-lighting energy audit, utility outages, clinic and school areas, the barrier-free
// accessibility score and the best-yard contest.
//
//	m := modules.NewStore(pool, layerStore, analysisStore)
//	audit, err := m.LightingAudit(ctx, modules.DefaultTariff)
package modules

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store runs the modules over the city's PostGIS database.
type Store struct {
	pool     *pgxpool.Pool
	layers   *layers.Store
	analysis *analysis.Store
}

// NewStore returns a Store. ls and an may be nil when only the SQL-backed modules are used.
func NewStore(pool *pgxpool.Pool, ls *layers.Store, an *analysis.Store) *Store {
	if ls == nil {
		ls = layers.NewStore(pool)
	}
	if an == nil {
		an = analysis.NewStore(pool, ls)
	}
	return &Store{pool: pool, layers: ls, analysis: an}
}

// Names is a name in the three languages of the portal.
type Names struct {
	KK string `json:"kk"`
	RU string `json:"ru"`
	EN string `json:"en"`
}

// In picks the name in lang (ru when lang is unknown), falling back to any non-empty one.
func (n Names) In(lang string) string {
	var first string
	switch lang {
	case "kk":
		first = n.KK
	case "en":
		first = n.EN
	default:
		first = n.RU
	}
	for _, s := range []string{first, n.RU, n.KK, n.EN} {
		if s != "" {
			return s
		}
	}
	return ""
}

// ParsePoint reads a lon/lat pair from query strings and checks it lies on the Earth.
func ParsePoint(lon, lat string) (float64, float64, error) {
	if lon == "" || lat == "" {
		return 0, 0, geoportal.Errorf(geoportal.EINVALID, "lon and lat are required (degrees, WGS 84)")
	}
	x, err1 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	if err1 != nil || err2 != nil || math.IsNaN(x) || math.IsNaN(y) {
		return 0, 0, geoportal.Errorf(geoportal.EINVALID, "lon %q and lat %q must be numbers in degrees", lon, lat)
	}
	if x < -180 || x > 180 || y < -90 || y > 90 {
		return 0, 0, geoportal.Errorf(geoportal.EINVALID, "lon %g, lat %g is not on the Earth (lon -180..180, lat -90..90)", x, y)
	}
	return x, y, nil
}

// beginReport starts a read-only transaction with JIT compilation off: the modules' reports
// scan tens of thousands of rows once, and compiling the plan (up to a second) costs more than it
// saves. The caller rolls it back when done.
func (s *Store) beginReport(ctx context.Context) (pgx.Tx, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return tx, nil
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
