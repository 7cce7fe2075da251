package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/reference"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// loadLock is the advisory lock key that serialises demo loads between processes.
const loadLock = 0x6465_6d6f // "demo"

// LayerCount is how many features a load wrote into one layer.
type LayerCount struct {
	Slug     string
	Count    int
	Duration time.Duration // deleting the old rows and copying the new ones
}

// Summary reports a load.
type Summary struct {
	Seed      int64
	Layers    []LayerCount
	Features  int
	Residents int
	Generate  time.Duration
	Write     time.Duration
	// Skipped is true when LoadIfEmpty found features already and loaded nothing.
	Skipped bool
}

// Load generates the demo city and replaces the previous demo in one transaction: every layer's
// is_demo rows are deleted and the new ones copied in, and the reference layers (city_boundary,
// places) get the reference rows again. Run twice, it leaves the same data; if it fails, the
// previous data stays as it was.
func Load(ctx context.Context, pool *pgxpool.Pool, opts Options, logger *slog.Logger) (Summary, error) {
	return load(ctx, pool, opts, logger, false)
}

// LoadIfEmpty loads the demo city only when no layer of the catalog has any feature yet.
func LoadIfEmpty(ctx context.Context, pool *pgxpool.Pool, opts Options, logger *slog.Logger) (Summary, error) {
	return load(ctx, pool, opts, logger, true)
}

func load(ctx context.Context, pool *pgxpool.Pool, opts Options, logger *slog.Logger, onlyIfEmpty bool) (Summary, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sum := Summary{Seed: opts.Seed}
	if onlyIfEmpty {
		// a cheap look first, so a full database costs no generation; checked again under the lock
		if n, err := featureCount(ctx, pool); err != nil {
			return sum, err
		} else if n > 0 {
			sum.Skipped = true
			return sum, nil
		}
	}
	t0 := time.Now()
	city, err := Generate(opts)
	if err != nil {
		return sum, err
	}
	sum.Generate = time.Since(t0)
	sum.Residents = city.Residents

	t1 := time.Now()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return sum, fmt.Errorf("demo: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(loadLock)); err != nil {
		return sum, fmt.Errorf("demo: lock: %w", err)
	}
	if onlyIfEmpty {
		n, err := featureCount(ctx, tx)
		if err != nil {
			return sum, err
		}
		if n > 0 {
			sum.Skipped = true
			return sum, nil
		}
	}
	known, err := catalogColumns(ctx, tx)
	if err != nil {
		return sum, err
	}
	for _, l := range city.Layers {
		if slices.Contains(opts.Keep, l.Slug) {
			continue
		}
		if opts.beforeLayer != nil {
			if err := opts.beforeLayer(l.Slug); err != nil {
				return sum, fmt.Errorf("demo: layer %s: %w", l.Slug, err)
			}
		}
		tl := time.Now()
		n, err := writeLayer(ctx, tx, l, known)
		if err != nil {
			return sum, err
		}
		if opts.Within != nil {
			dropped, err := keepWithin(ctx, tx, l.Slug, opts.Within)
			if err != nil {
				return sum, err
			}
			n -= dropped
		}
		sum.Layers = append(sum.Layers, LayerCount{Slug: l.Slug, Count: n, Duration: time.Since(tl)})
		logger.Debug("demo layer written", "layer", l.Slug, "features", n, "took", time.Since(tl).String())
		sum.Features += n
	}
	if err := tx.Commit(ctx); err != nil {
		return sum, fmt.Errorf("demo: commit: %w", err)
	}
	sum.Write = time.Since(t1)
	logger.Info("demo city loaded", "seed", opts.Seed, "layers", len(sum.Layers), "features", sum.Features,
		"residents", sum.Residents, "generate", sum.Generate.String(), "write", sum.Write.String())
	return sum, nil
}

// keepWithin cuts the generated lines and areas of a layer of multi-geometries (bus routes,
// parks) at the edge of within, so a route crossing it keeps its part inside, and deletes
// the generated features that still do not lie within it. It returns how many it deleted.
func keepWithin(ctx context.Context, tx pgx.Tx, slug string, within []byte) (int, error) {
	table := pgx.Identifier{"layer", slug}.Sanitize()
	if _, err := tx.Exec(ctx, `WITH w AS (SELECT ST_GeomFromWKB($1, 4326) AS g)
		UPDATE `+table+` t SET geom = ST_Multi(ST_CollectionExtract(ST_Intersection(t.geom, w.g), ST_Dimension(t.geom) + 1))
		FROM w WHERE t.is_demo AND GeometryType(t.geom) IN ('MULTILINESTRING', 'MULTIPOLYGON')
		AND ST_Intersects(t.geom, w.g) AND NOT ST_Within(t.geom, w.g)`, within); err != nil {
		return 0, fmt.Errorf("demo: layer %s: cut at the edge of the city: %w", slug, err)
	}
	tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE is_demo AND NOT ST_Within(geom, ST_GeomFromWKB($1, 4326))`, within)
	if err != nil {
		return 0, fmt.Errorf("demo: layer %s: keep what lies within the city: %w", slug, err)
	}
	return int(tag.RowsAffected()), nil
}

// featureCount is the number of features in all layers of the catalog.
func featureCount(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT coalesce(sum(feature_count), 0)::bigint FROM geoportal.layers`).Scan(&n); err != nil {
		return 0, fmt.Errorf("demo: count features: %w", err)
	}
	return n, nil
}

// catalogColumns returns the attribute names of every layer in the catalog.
func catalogColumns(ctx context.Context, tx pgx.Tx) (map[string]map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT l.slug, a->>'name'
		FROM geoportal.layers l LEFT JOIN LATERAL jsonb_array_elements(l.attributes) a ON true`)
	if err != nil {
		return nil, fmt.Errorf("demo: read catalog: %w", err)
	}
	known := map[string]map[string]bool{}
	for rows.Next() {
		var slug string
		var name *string
		if err := rows.Scan(&slug, &name); err != nil {
			return nil, fmt.Errorf("demo: read catalog: %w", err)
		}
		if known[slug] == nil {
			known[slug] = map[string]bool{}
		}
		if name != nil {
			known[slug][*name] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("demo: read catalog: %w", err)
	}
	return known, nil
}

func writeLayer(ctx context.Context, tx pgx.Tx, l *Layer, known map[string]map[string]bool) (int, error) {
	cols, ok := known[l.Slug]
	if !ok {
		return 0, geoportal.Errorf(geoportal.ENOTFOUND, "demo: layer %s is not in the catalog (run the migrations first)", l.Slug)
	}
	for _, c := range l.Columns {
		if !cols[c] {
			return 0, geoportal.Errorf(geoportal.EINVALID, "demo: layer %s has no attribute %s", l.Slug, c)
		}
	}
	table := pgx.Identifier{"layer", l.Slug}
	if l.Demo {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table.Sanitize()+` WHERE is_demo`); err != nil {
			return 0, fmt.Errorf("demo: layer %s: delete demo rows: %w", l.Slug, err)
		}
	} else if err := deleteReference(ctx, tx, l); err != nil {
		return 0, err
	}
	columns := append([]string{"geom"}, l.Columns...)
	columns = append(columns, "is_demo")
	rows := make([][]any, len(l.Rows))
	for i, r := range l.Rows {
		g, err := wkb.Append(nil, r.Geom, 4326)
		if err != nil {
			return 0, fmt.Errorf("demo: layer %s: row %d: %w", l.Slug, i, err)
		}
		row := make([]any, 0, len(columns))
		row = append(row, g)
		row = append(row, r.Values...)
		rows[i] = append(row, l.Demo)
	}
	n, err := tx.CopyFrom(ctx, table, columns, pgx.CopyFromRows(rows))
	if err != nil {
		return 0, fmt.Errorf("demo: layer %s: copy: %w", l.Slug, err)
	}
	return int(n), nil
}

// deleteReference removes the reference rows a previous load wrote: the whole city boundary
// (there is one city) and the places of the reference file by name.
func deleteReference(ctx context.Context, tx pgx.Tx, l *Layer) error {
	table := pgx.Identifier{"layer", l.Slug}.Sanitize()
	var err error
	switch l.Slug {
	case "city_boundary":
		_, err = tx.Exec(ctx, `DELETE FROM `+table)
	case "places":
		places, perr := reference.Places()
		if perr != nil {
			return perr
		}
		names := make([]string, len(places))
		for i, p := range places {
			names[i] = p.Name
		}
		_, err = tx.Exec(ctx, `DELETE FROM `+table+` WHERE NOT is_demo AND name = ANY($1)`, names)
	default:
		err = errors.New("no rule to replace its reference rows")
	}
	if err != nil {
		return fmt.Errorf("demo: layer %s: %w", l.Slug, err)
	}
	return nil
}

// RemoveReference deletes the reference rows of Aktobe a load wrote (its boundary and its
// settlements), for a demo built somewhere else (`geoportal demo -osm`). Rows imported from
// OpenStreetMap (with an osm_id) are kept, whatever their name.
func RemoveReference(ctx context.Context, pool *pgxpool.Pool) error {
	places, err := reference.Places()
	if err != nil {
		return err
	}
	names := make([]string, len(places))
	for i, p := range places {
		names[i] = p.Name
	}
	if _, err := pool.Exec(ctx, `WITH b AS (DELETE FROM layer.city_boundary WHERE osm_id IS NULL)
		DELETE FROM layer.places WHERE NOT is_demo AND osm_id IS NULL AND name = ANY($1)`, names); err != nil {
		return fmt.Errorf("demo: remove the reference rows: %w", err)
	}
	return nil
}
