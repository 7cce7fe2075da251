package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/importers/osm"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/schollz/progressbar/v3"
)

const importUsage = `Usage: geoportal import [flags] FILE…

Loads a shapefile (.shp with its .shx/.dbf/.prj/.cpg, a folder or a .zip), GeoJSON, CSV, KML or
GeoPackage into a layer, in one transaction, and prints a report. An OpenStreetMap extract
(.osm.pbf, .osm, .osm.bz2) goes into every city layer its mapping fills (docs/osm.md).

Examples:
  geoportal import --layer schools schools.zip
  geoportal import --layer schools --mode replace --encoding cp866 schools.shp
  geoportal import --layer clinics --mode upsert --key name --map "NAME=name,ADDR=address" clinics.shp
  geoportal import --preview roads.zip
  geoportal import kazakhstan-latest.osm.pbf --clip --mapping city.map

Flags:
`

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, importUsage)
		fs.PrintDefaults()
	}
	cfg.register(fs, getenv)
	var (
		req                      importers.Request
		opt                      importers.Options
		fieldMap                 string
		preview, jsonOut, quiet  bool
		titleKK, titleRU, titleE string
	)
	fs.StringVar(&req.Layer, "layer", "", "layer slug (create: default from the file name)")
	fs.StringVar(&req.Mode, "mode", importers.ModeCreate, "create | replace | append | upsert")
	fs.StringVar(&req.Key, "key", "", "upsert: the attribute that identifies a feature")
	fs.IntVar(&opt.SRID, "srid", 0, "EPSG code of the source coordinates (overrides the .prj)")
	fs.StringVar(&opt.Encoding, "encoding", "", "text encoding of the .dbf/.csv (cp1251, cp866, koi8-r, latin1, utf-8, pt154, …); default: .cpg, DBF language byte, then --default-encoding")
	fs.StringVar(&opt.DefaultEncoding, "default-encoding", "cp1251", "encoding when the file names none")
	fs.StringVar(&fieldMap, "map", "", "field mapping SRC=attr,SRC2=attr2,SKIP=- onto the layer's attributes")
	var valuesFile string
	fs.StringVar(&valuesFile, "values", "", "a JSON file of value dictionaries: attribute → value → {\"kk\", \"ru\", \"en\"} (docs/import.md)")
	fs.BoolVar(&req.DryRun, "dry-run", false, "do the whole import, then roll it back")
	fs.BoolVar(&preview, "preview", false, "show the detected encoding, CRS, schema and the first features; write nothing")
	fs.IntVar(&req.Direction, "direction", 0, "create: programme direction 0..6")
	fs.StringVar(&req.Visibility, "visibility", "public", "create: public | staff")
	fs.StringVar(&titleKK, "title-kk", "", "create: title in Kazakh (default: file name)")
	fs.StringVar(&titleRU, "title-ru", "", "create: title in Russian (default: file name)")
	fs.StringVar(&titleE, "title-en", "", "create: title in English (default: file name)")
	fs.StringVar(&opt.LonColumn, "lon", "", "CSV: longitude column")
	fs.StringVar(&opt.LatColumn, "lat", "", "CSV: latitude column")
	fs.StringVar(&opt.WKTColumn, "wkt", "", "CSV: WKT geometry column")
	fs.StringVar(&opt.Layer, "source-layer", "", "GeoPackage: the layer (table) to read")
	fs.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	fs.IntVar(&req.Workers, "workers", 0, "goroutines reprojecting and validating geometries (0: one per core)")
	var osmFlags osmImportFlags
	osmFlags.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if osmFlags.printMapping {
		fmt.Fprint(stdout, osm.DefaultText())
		return nil
	}
	if fs.NArg() == 1 && osm.IsOSMFile(fs.Arg(0)) {
		return runImportOSM(ctx, cfg, fs.Arg(0), osmFlags, req.DryRun || preview, jsonOut, quiet, getenv, stdout, stderr)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("import: no file given")
	}
	req.Title = layers.Titles{KK: titleKK, RU: titleRU, EN: titleE}
	if fieldMap != "" {
		req.FieldMap = map[string]string{}
		for _, kv := range strings.Split(fieldMap, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("import: --map entry %q is not SRC=attr", kv)
			}
			req.FieldMap[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if valuesFile != "" {
		b, err := os.ReadFile(valuesFile)
		if err != nil {
			return fmt.Errorf("import: --values: %w", err)
		}
		if err := json.Unmarshal(b, &req.Values); err != nil {
			return fmt.Errorf("import: --values %s: want a JSON object of attribute → value → {\"kk\", \"ru\", \"en\"}: %w", valuesFile, err)
		}
	}
	src, err := importers.Open(fs.Args(), opt)
	if err != nil {
		return err
	}
	defer src.Close()
	if preview {
		p, err := importers.MakePreview(src, 10)
		if err != nil {
			return err
		}
		if jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(p)
		}
		printPreview(stdout, p)
		return nil
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
	info := src.Info()
	if !quiet {
		bar := progressbar.NewOptions(info.Count, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("importing "+info.File), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("records"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		req.Progress = func(n int) { bar.Set(n) }
		defer bar.Finish()
	}
	req.User = getenv("USER")
	// The audit log names who imported from the command line by the system account.
	ctx = accounts.WithActor(ctx, accounts.Actor{Label: "cli:" + cmp.Or(req.User, "unknown")})
	rep, err := importers.New(db.Pool, logger).Import(ctx, src, req)
	if req.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if rep != nil {
		if jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(rep)
		} else {
			printReport(stdout, rep)
		}
	}
	if err != nil {
		return fmt.Errorf("import failed, nothing written: %s", geoportal.ErrorMessage(errOrInternal(err)))
	}
	return nil
}

// errOrInternal keeps internal errors' text for the command line (there is no user to hide it from).
func errOrInternal(err error) error {
	if geoportal.ErrorCode(err) == geoportal.EINTERNAL {
		return geoportal.Errorf(geoportal.EINTERNAL, "%v", err)
	}
	return err
}

func printPreview(w io.Writer, p *importers.Preview) {
	i := p.Info
	fmt.Fprintf(w, "file:      %s (%s)\n", i.File, i.Format)
	fmt.Fprintf(w, "records:   %d\n", i.Count)
	fmt.Fprintf(w, "geometry:  %s\n", i.GeometryType)
	fmt.Fprintf(w, "encoding:  %s (from %s)\n", i.Encoding, i.EncodingSource)
	fmt.Fprintf(w, "crs:       %s (from %s)\n", i.CRS, i.CRSSource)
	fmt.Fprintln(w, "fields:")
	for k, f := range i.Fields {
		fmt.Fprintf(w, "  %-20s %-10s → %s\n", f.Name, f.Type, p.Attributes[k])
	}
	for _, s := range i.Warnings {
		fmt.Fprintf(w, "warning:   %s\n", s)
	}
	fmt.Fprintf(w, "first %d features (EPSG:4326):\n", len(p.Features.Features))
	for _, f := range p.Features.Features {
		b, _ := json.Marshal(f.Properties)
		fmt.Fprintf(w, "  #%v %s %s\n", f.ID, f.Geometry.GeoJSONType(), b)
	}
	for _, r := range p.Rejections {
		fmt.Fprintf(w, "  #%d rejected: %s\n", r.Record, r.Reason)
	}
}

func printReport(w io.Writer, r *importers.Report) {
	fmt.Fprintf(w, "import %s → layer %s (%s): %s\n", r.Source, r.Layer, r.Mode, r.Status)
	fmt.Fprintf(w, "  format %s, encoding %s, crs %s\n", r.Format, r.Encoding, r.CRS)
	fmt.Fprintf(w, "  read %d, written %d (inserted %d, updated %d, deleted before %d), repaired %d, rejected %d, in %.2fs\n",
		r.Read, r.Written, r.Inserted, r.Updated, r.Deleted, r.Repaired, r.Rejected, time.Duration(r.Duration).Seconds())
	for i, rj := range r.Rejections {
		if i == 20 {
			fmt.Fprintf(w, "  … and %d more rejected records (see the import history, id %d)\n", r.Rejected-20, r.ID)
			break
		}
		fmt.Fprintf(w, "  record %d rejected: %s\n", rj.Record, rj.Reason)
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", s)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}
