package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/aktobe/geoportal/data/demo"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// osmDemo builds the demo of the city of a real extract: the extract is imported into the
// layers the OSM mapping fills, then Aktobe's reference rows and those layers' generated
// features are removed; its city boundary (or, without one, the extent of what was imported) is
// the demo's city. The generated city is then laid out around that city's centre and loaded
// into every layer the extract left empty (buses, cameras, stops when it has none…), keeping
// only what lies within the city; last the clinic areas, school catchments, social-taxi area
// and the buses' timetable are derived as for the generated demo.
func osmDemo(ctx context.Context, db *database, file string, seed int64, logger *slog.Logger, stdout io.Writer) error {
	rows, err := db.Pool.Query(ctx, `SELECT slug FROM geoportal.layers l WHERE EXISTS
		(SELECT 1 FROM jsonb_array_elements(l.attributes) a WHERE a->>'name' = 'osm_id') ORDER BY slug`)
	if err != nil {
		return err
	}
	slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	ctx = accounts.WithActor(ctx, accounts.Actor{Label: "cli:demo"})
	rep, err := importers.New(db.Pool, logger).ImportOSM(ctx, file, importers.OSMRequest{User: "demo"})
	printOSMReport(stdout, rep)
	if err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	// Only once the extract is in (a broken one leaves the previous demo as it was): the import
	// touches no feature without an osm_id, so the old demo's are still there to remove.
	if err := demo.RemoveReference(ctx, db.Pool); err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	for _, s := range slugs {
		if _, err := db.Pool.Exec(ctx, `DELETE FROM `+pgx.Identifier{"layer", s}.Sanitize()+` WHERE is_demo`); err != nil {
			return fmt.Errorf("demo -osm: clear %s: %w", s, err)
		}
	}
	// The catalog's extents only grow on deletes: made exact again, so that the extent of what
	// was imported (and /api/config's city) no longer reaches Aktobe.
	if err := tightenExtents(ctx, db); err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name, is_demo)
		SELECT ST_Multi(ST_SetSRID(ST_Extent(l.bbox)::geometry, 4326)), $1, true FROM geoportal.layers l
		WHERE l.slug = ANY($2) AND l.bbox IS NOT NULL
		HAVING NOT EXISTS (SELECT 1 FROM layer.city_boundary) AND count(*) > 0`, filepath.Base(file), slugs); err != nil {
		return fmt.Errorf("demo -osm: city boundary: %w", err)
	}
	// The generated city stands on the largest city polygon, and what it puts outside the
	// city is dropped.
	var lon, lat *float64
	var within []byte
	if err := db.Pool.QueryRow(ctx, `WITH c AS (SELECT geom FROM layer.city_boundary WHERE NOT ST_IsEmpty(geom)),
		p AS (SELECT ST_PointOnSurface((SELECT geom FROM (SELECT (ST_Dump(geom)).geom FROM c) d
			ORDER BY ST_Area(geom) DESC LIMIT 1)) AS pt)
		SELECT ST_X(pt), ST_Y(pt), (SELECT ST_AsBinary(ST_Union(geom)) FROM c) FROM p`).Scan(&lon, &lat, &within); err != nil {
		return fmt.Errorf("demo -osm: city: %w", err)
	}
	if lon == nil || lat == nil {
		return fmt.Errorf("demo -osm: %s: nothing was imported, so there is no city to build the demo in", filepath.Base(file))
	}
	filled, err := filledLayers(ctx, db, slugs)
	if err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	sum, err := demo.Load(ctx, db.Pool, demo.Options{Seed: seed, Centre: &orb.Point{*lon, *lat}, Within: within, Keep: filled}, logger)
	if err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	printSummary(stdout, sum)
	n, err := snapToExtract(ctx, db, filled, within)
	if err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	if n > 0 {
		fmt.Fprintf(stdout, "%d generated points moved onto the extract's streets and bus routes\n", n)
	}
	// the generated social-taxi area is Aktobe's: seeded again from this city's boundary
	if _, err := db.Pool.Exec(ctx, `DELETE FROM layer.social_taxi_area WHERE is_demo`); err != nil {
		return fmt.Errorf("demo -osm: social-taxi area: %w", err)
	}
	if err := tightenExtents(ctx, db); err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	return deriveDemoAreas(ctx, db, stdout, true)
}

// standOn says which layer the points of a generated layer stand on: cameras, crossings and
// lamps at junctions and along the kerbs of the streets, buses on their routes. Generated bus
// stops are not moved: they stay on the generated routes, which the timetable follows.
// Within says how near (in degrees) the line must be: about 300 m for a street, 5 km for a bus
// route (an extract's city has few).
var standOn = []struct {
	layer, onto string
	within      float64
}{
	{"cameras", "streets", 0.003}, {"smart_crossings", "streets", 0.003}, {"street_lights", "streets", 0.003},
	{"interchanges", "streets", 0.003}, {"overpasses", "streets", 0.003}, {"vehicles", "bus_routes", 0.05},
}

// snapToExtract moves, in one transaction, each generated point of a standOn layer the extract
// did not fill onto the nearest line of the extract it stands on, when one is near enough; the
// points that land outside the city are deleted. It returns how many were moved.
func snapToExtract(ctx context.Context, db *database, filled []string, within []byte) (int64, error) {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var moved int64
	for _, s := range standOn {
		if slices.Contains(filled, s.layer) || !slices.Contains(filled, s.onto) {
			continue
		}
		table, onto := pgx.Identifier{"layer", s.layer}.Sanitize(), pgx.Identifier{"layer", s.onto}.Sanitize()
		tag, err := tx.Exec(ctx, `UPDATE `+table+` t SET geom = n.p FROM (
			SELECT d.id, (SELECT ST_ClosestPoint(o.geom, d.geom) FROM `+onto+` o
				WHERE o.osm_id IS NOT NULL AND ST_DWithin(o.geom, d.geom, $1)
				ORDER BY o.geom <-> d.geom LIMIT 1) AS p
			FROM `+table+` d WHERE d.is_demo) n
			WHERE t.id = n.id AND n.p IS NOT NULL`, s.within)
		if err != nil {
			return 0, fmt.Errorf("%s onto %s: %w", s.layer, s.onto, err)
		}
		moved += tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE is_demo AND NOT ST_Within(geom, ST_GeomFromWKB($1, 4326))`, within); err != nil {
			return 0, fmt.Errorf("%s within the city: %w", s.layer, err)
		}
	}
	return moved, tx.Commit(ctx)
}

// filledLayers are those of slugs that hold features.
func filledLayers(ctx context.Context, db *database, slugs []string) ([]string, error) {
	var filled []string
	for _, s := range slugs {
		var any bool
		if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{"layer", s}.Sanitize()+`)`).Scan(&any); err != nil {
			return nil, fmt.Errorf("layer %s: %w", s, err)
		}
		if any {
			filled = append(filled, s)
		}
	}
	return filled, nil
}

// tightenExtents sets every layer's extent in the catalog to that of its features.
func tightenExtents(ctx context.Context, db *database) error {
	rows, err := db.Pool.Query(ctx, `SELECT slug FROM geoportal.layers
		WHERE to_regclass(format('layer.%I', slug)) IS NOT NULL ORDER BY slug`)
	if err != nil {
		return err
	}
	slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, s := range slugs {
		if _, err := db.Pool.Exec(ctx, `UPDATE geoportal.layers SET bbox =
			(SELECT ST_SetSRID(ST_Envelope(ST_Expand(ST_Extent(geom)::geometry, 1e-7)), 4326) FROM `+
			pgx.Identifier{"layer", s}.Sanitize()+`) WHERE slug = $1`, s); err != nil {
			return fmt.Errorf("extent of %s: %w", s, err)
		}
	}
	return nil
}
