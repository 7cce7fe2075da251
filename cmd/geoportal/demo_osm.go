package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/jackc/pgx/v5"
)

// osmDemo builds the demo from a real extract: the generated features of the layers the OSM
// mapping fills are removed, the extract is imported into them, and the clinic areas and school
// catchments are derived from what it holds. The rest of the demo (reports, live buses) stays
// as `geoportal demo` generated it; the map's centre comes from the configuration.
func osmDemo(ctx context.Context, db *database, file string, logger *slog.Logger, stdout io.Writer) error {
	rows, err := db.Pool.Query(ctx, `SELECT slug FROM geoportal.layers l WHERE EXISTS
		(SELECT 1 FROM jsonb_array_elements(l.attributes) a WHERE a->>'name' = 'osm_id') ORDER BY slug`)
	if err != nil {
		return err
	}
	slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, s := range slugs {
		if _, err := db.Pool.Exec(ctx, `DELETE FROM `+pgx.Identifier{"layer", s}.Sanitize()+` WHERE is_demo`); err != nil {
			return fmt.Errorf("demo -osm: clear %s: %w", s, err)
		}
	}
	ctx = accounts.WithActor(ctx, accounts.Actor{Label: "cli:demo"})
	rep, err := importers.New(db.Pool, logger).ImportOSM(ctx, file, importers.OSMRequest{User: "demo"})
	printOSMReport(stdout, rep)
	if err != nil {
		return fmt.Errorf("demo -osm: %w", err)
	}
	// The areas are clipped to the city boundary: without one in the extract, the demo's city
	// is the extent of what was imported.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name, is_demo)
		SELECT ST_Multi(ST_SetSRID(ST_Extent(l.bbox)::geometry, 4326)), $1, true FROM geoportal.layers l
		WHERE l.slug = ANY($2) AND l.bbox IS NOT NULL
		HAVING NOT EXISTS (SELECT 1 FROM layer.city_boundary) AND count(*) > 0`, filepath.Base(file), slugs); err != nil {
		return fmt.Errorf("demo -osm: city boundary: %w", err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE`); err != nil {
		return err
	}
	m := modules.NewStore(db.Pool, nil, nil)
	n, err := m.RecomputeAreas(ctx, modules.ClinicAreas)
	if err != nil {
		return fmt.Errorf("clinic areas: %w", err)
	}
	k, err := m.RecomputeAreas(ctx, modules.SchoolCatchments)
	if err != nil {
		return fmt.Errorf("school catchments: %w", err)
	}
	fmt.Fprintf(stdout, "derived %d clinic areas and %d school catchments\n", n, k)
	return nil
}
