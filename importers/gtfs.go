package importers

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/aktobe/geoportal/layers/transit/gtfs"
)

// GTFSLayers are the map layers a GTFS feed replaces; an import reports on each.
var GTFSLayers = []string{"bus_routes", "bus_stops"}

// ImportGTFS imports a GTFS static feed (a folder or a zip file, named source in the history):
// the timetable and, unless opt.TimetableOnly, the bus_routes and bus_stops layers become the
// feed's, in one transaction, with a report per layer in geoportal.imports and an audit entry
// each; a failure leaves everything as it was and is recorded; a dry run (req.DryRun) does it
// all and rolls back, its reports the preview.
//
// A feed is not a Source: it is eight tables checked against each other (trips name routes,
// services and shapes; stop times name trips and stops) before anything is written, and it
// writes the transit tables and two layers at once, so its records cannot stream one by one
// into one layer through the row pipeline (reproject, validate, COPY). What surrounds that
// pipeline is shared: the layers locked, one transaction, the reports, the audit entries,
// failures kept.
func (im *Importer) ImportGTFS(ctx context.Context, fsys fs.FS, source string, opt gtfs.Options, req Request) ([]*Report, *gtfs.Summary, error) {
	started := time.Now()
	reps := make([]*Report, len(GTFSLayers))
	for i, l := range GTFSLayers {
		reps[i] = &Report{Layer: l, Mode: ModeReplace, Source: source, Format: "gtfs", Encoding: "UTF-8",
			CRS: "EPSG:4326", SRID: 4326, Started: started, Rejections: []Rejection{}, Warnings: []string{}}
	}
	sum, err := im.importGTFS(ctx, fsys, opt, req, reps)
	im.failed(ctx, req, err, reps...)
	return reps, sum, err
}

func (im *Importer) importGTFS(ctx context.Context, fsys fs.FS, opt gtfs.Options, req Request, reps []*Report) (*gtfs.Summary, error) {
	tx, err := im.Pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", reps[0].Source, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, rep := range reps {
		if err := lockLayer(ctx, tx, rep.Layer); err != nil {
			return nil, err
		}
	}
	sum, changes, records, err := gtfs.Import(ctx, tx, fsys, opt)
	if err != nil {
		return nil, err
	}
	for _, rep := range reps {
		rep.Read = records
		rep.Warnings = append(rep.Warnings, sum.Warnings...)
		if opt.TimetableOnly {
			rep.Warnings = append(rep.Warnings, "timetable only: the layer was left as it is")
		}
		for _, c := range changes {
			if c.Layer == rep.Layer {
				rep.Deleted, rep.Inserted, rep.Written = c.Deleted, c.Inserted, c.Inserted
			}
		}
	}
	return sum, im.commit(ctx, tx, req, reps...)
}
