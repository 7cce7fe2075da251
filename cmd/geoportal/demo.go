package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/demo"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/transit/gtfs"
)

// runDemo loads the demo city (real boundary and places plus generated demo layers) and prints
// what it wrote.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	seed := fs.Int64("seed", demo.DefaultSeed, "seed of the generated city (the same seed gives the same city)")
	osmFile := fs.String("osm", "", "build the demo from this OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2) instead of the generated city")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := data.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	if *osmFile != "" {
		return osmDemo(ctx, db, *osmFile, *seed, logger, stdout)
	}
	sum, err := demo.Load(ctx, db.Pool, demo.Options{Seed: *seed}, logger)
	if err != nil {
		return err
	}
	printSummary(stdout, sum)
	return deriveDemoAreas(ctx, db, stdout, false)
}

// deriveDemoAreas recomputes what is made from the demo's layers: clinic attachment areas, school
// catchments, the social-taxi service area (unless staff drew one) and the buses' timetable (a
// GTFS feed of the drawn network; when busesOptional, a city without a bus route that has two
// stops gets none instead of an error).
func deriveDemoAreas(ctx context.Context, db *database, stdout io.Writer, busesOptional bool) error {
	if _, err := db.Pool.Exec(ctx, `ANALYZE`); err != nil { // fresh statistics for the planner
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
	taxi, err := m.SeedSocialTaxiArea(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "derived %d clinic areas, %d school catchments and %d social-taxi area\n", n, k, taxi)
	sum, _, err := demoTimetable(ctx, db, gtfs.DefaultDemoTimetable, true)
	if busesOptional && errors.Is(err, errNoDemoNetwork) {
		fmt.Fprintln(stdout, "no demo timetable: the city has no bus route with two stops")
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo timetable: %w", err)
	}
	fmt.Fprintf(stdout, "demo timetable: %d routes, %d trips, %d stop times\n", sum.Routes, sum.Trips, sum.StopTimes)
	return nil
}

func printSummary(w io.Writer, sum demo.Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "layer\tfeatures\twritten in\t\n")
	for _, l := range sum.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", l.Slug, l.Count, l.Duration.Round(time.Millisecond))
	}
	fmt.Fprintf(tw, "total\t%d\t%s\t\n", sum.Features, sum.Write.Round(time.Millisecond))
	tw.Flush()
	fmt.Fprintf(w, "demo city (seed %d): %d residents in buildings; generated in %s, written in %s\n",
		sum.Seed, sum.Residents, sum.Generate.Round(time.Millisecond), sum.Write.Round(time.Millisecond))
	fmt.Fprintln(w, "boundary and places © OpenStreetMap contributors, ODbL 1.0; every other layer is generated demo data (is_demo)")
}

// loadDemoIfEmpty loads the demo city when no layer has any feature yet (serve -demo-if-empty).
func loadDemoIfEmpty(ctx context.Context, db *database, logger *slog.Logger) error {
	sum, err := demo.LoadIfEmpty(ctx, db.Pool, demo.Options{Seed: demo.DefaultSeed}, logger)
	if err != nil {
		return err
	}
	if sum.Skipped {
		logger.Info("database has features, demo city not loaded")
		return nil
	}
	return deriveDemoAreas(ctx, db, io.Discard, false)
}
