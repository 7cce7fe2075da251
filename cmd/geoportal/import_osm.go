package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/importers/osm"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/schollz/progressbar/v3"
)

// osmImportFlags are the import flags for OpenStreetMap extracts.
type osmImportFlags struct {
	mapping      string
	clip         bool
	printMapping bool
}

func (f *osmImportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mapping, "mapping", "", "OSM: mapping file from tags to layers (default: the built-in one, see --print-mapping)")
	fs.BoolVar(&f.clip, "clip", false, "OSM: keep only the objects intersecting the city_boundary layer")
	fs.BoolVar(&f.printMapping, "print-mapping", false, "OSM: print the built-in mapping file and exit")
}

// runImportOSM imports an OSM extract into the layers of its mapping; dryRun (or --preview)
// does everything and rolls every layer back.
func runImportOSM(ctx context.Context, cfg config, path string, f osmImportFlags, dryRun, jsonOut, quiet bool,
	getenv func(string) string, stdout, stderr io.Writer) error {
	req := importers.OSMRequest{Clip: f.clip, DryRun: dryRun, User: getenv("USER")}
	if f.mapping != "" {
		m, err := osm.LoadMapping(f.mapping)
		if err != nil {
			return fmt.Errorf("import failed, nothing written: %w", err)
		}
		req.Mapping = m
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
	if !quiet {
		bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("reading "+path), progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		req.Progress = func(done, total int64) {
			bar.ChangeMax64(total)
			bar.Set64(done)
		}
		defer bar.Finish()
	}
	ctx = accounts.WithActor(ctx, accounts.Actor{Label: "cli:" + cmp.Or(req.User, "unknown")})
	rep, err := importers.New(db.Pool, logger).ImportOSM(ctx, path, req)
	if req.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printOSMReport(stdout, rep)
	}
	if err != nil {
		return fmt.Errorf("import failed: %s", geoportal.ErrorMessage(errOrInternal(err)))
	}
	return nil
}

func printOSMReport(w io.Writer, r *importers.OSMReport) {
	fmt.Fprintf(w, "import %s (%s): %d nodes, %d ways, %d relations in %.2fs (node store %.1f MiB)\n", r.Source, r.Format,
		r.Nodes, r.Ways, r.Relations, time.Duration(r.Duration).Seconds(), float64(r.NodeBytes)/(1<<20))
	fmt.Fprintf(w, "  %-18s %8s %8s %8s %8s %8s  %s\n", "layer", "features", "inserted", "updated", "deleted", "rejected", "status")
	for _, l := range r.Layers {
		fmt.Fprintf(w, "  %-18s %8d %8d %8d %8d %8d  %s\n", l.Layer, l.Written, l.Inserted, l.Updated, l.Deleted, l.Rejected, l.Status)
		for i, rj := range l.Rejections {
			if i == 5 {
				fmt.Fprintf(w, "    … %d more rejected\n", l.Rejected-5)
				break
			}
			fmt.Fprintf(w, "    rejected %s\n", rj.Reason)
		}
		for _, s := range l.Warnings {
			fmt.Fprintf(w, "    warning: %s\n", s)
		}
		if l.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", l.Error)
		}
	}
	for i, p := range r.Problems {
		if i == 20 {
			fmt.Fprintf(w, "  … %d more objects skipped\n", r.Skipped-20)
			break
		}
		fmt.Fprintf(w, "  skipped %s: %s\n", p.Object, p.Reason)
	}
}
