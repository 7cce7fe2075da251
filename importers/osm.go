package importers

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/replica"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/importers/osm"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OSMRequest says how an OpenStreetMap extract is imported.
type OSMRequest struct {
	Mapping *osm.Mapping // nil: the built-in mapping
	// Clip keeps only the objects that intersect the city_boundary layer (whole: they are not
	// cut at the boundary).
	Clip   bool
	DryRun bool
	User   string
	// Progress, when set, is called now and then with the bytes read of both passes.
	Progress func(done, total int64)
}

// OSMReport is what an OSM import did: one report per layer, and the objects skipped.
type OSMReport struct {
	Source    string        `json:"source"`
	Format    string        `json:"format"`
	Layers    []*Report     `json:"layers"`
	Problems  []osm.Problem `json:"problems"`
	Skipped   int           `json:"skipped"` // objects skipped (Problems holds the first 1000)
	Nodes     int64         `json:"nodes"`
	Ways      int64         `json:"ways"`
	Relations int64         `json:"relations"`
	NodeBytes int           `json:"node_store_bytes"`
	Duration  Duration      `json:"duration"`
}

// Layer returns the report of one layer, or nil.
func (r *OSMReport) Layer(slug string) *Report {
	for _, l := range r.Layers {
		if l.Layer == slug {
			return l
		}
	}
	return nil
}

// OSMTargets describes the catalog's layers for the mapping.
func OSMTargets(ls []layers.Layer) map[string]osm.Target {
	out := map[string]osm.Target{}
	for _, l := range ls {
		t := osm.Target{Slug: l.Slug, GeometryType: l.GeometryType, Attributes: map[string]string{}}
		for _, a := range l.Attributes {
			t.Attributes[a.Name] = a.Type
		}
		out[l.Slug] = t
	}
	return out
}

// ImportOSM reads an OSM extract (.osm.pbf, .osm, .osm.bz2) into every layer its mapping
// fills. The features are first copied into a session's staging table (nothing visible
// changes while the file is read, so a broken file leaves every layer as it was); then each
// layer is brought in line with the extract in one transaction of its own, keyed by osm_id:
// objects no longer in the extract are deleted, changed ones updated, new ones inserted;
// features without osm_id (drawn by hand, imported from other files) are not touched, and
// unchanged ones are not rewritten (a re-import of the same file changes nothing).
func (im *Importer) ImportOSM(ctx context.Context, path string, req OSMRequest) (*OSMReport, error) {
	started := time.Now()
	name := filepath.Base(path)
	out := &OSMReport{Source: name, Layers: []*Report{}, Problems: []osm.Problem{}}
	defer func() { out.Duration = Duration(time.Since(started)) }()
	m := req.Mapping
	if m == nil {
		m = osm.Default()
	}
	all, err := im.Layers.Layers(replica.OnPrimary(ctx), true)
	if err != nil {
		return out, err
	}
	targets := OSMTargets(all)
	if err := m.Check(targets); err != nil {
		return out, invalid("%v", err)
	}
	byslug := map[string]layers.Layer{}
	for _, l := range all {
		byslug[l.Slug] = l
	}
	slugs := m.Layers()
	for _, s := range slugs {
		l := byslug[s]
		if err := l.GenericWrites(); err != nil {
			return out, err
		}
	}

	conn, err := im.Pool.Acquire(ctx)
	if err != nil {
		return out, fmt.Errorf("import %s: %w", name, err)
	}
	defer conn.Release()
	const stage = "osm_stage"
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.osm_stage;
		CREATE TEMP TABLE osm_stage (layer text NOT NULL, osm_id text NOT NULL, geom geometry NOT NULL, props jsonb NOT NULL)`); err != nil {
		return out, fmt.Errorf("import %s: staging table: %w", name, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS pg_temp.osm_stage`)

	reps := map[string]*Report{}
	for _, s := range slugs {
		r := &Report{Layer: s, Mode: ModeUpsert, Source: name, CRS: "EPSG:4326", SRID: 4326, Started: started,
			Rejections: []Rejection{}, Warnings: []string{}}
		reps[s] = r
		out.Layers = append(out.Layers, r)
	}
	stats, err := im.stageOSM(ctx, conn, path, m, targets, req, reps, out)
	out.Format, out.Nodes, out.Ways, out.Relations, out.NodeBytes = stats.Format, stats.Nodes, stats.Ways, stats.Relations, stats.NodeBytes
	for _, r := range reps {
		r.Format = stats.Format
	}
	if err != nil {
		var ge *geoportal.Error
		if !errors.As(err, &ge) && !errors.Is(err, context.Canceled) {
			if errors.Is(err, osm.ErrFormat) {
				err = invalid("%v", err)
			} else {
				err = fmt.Errorf("import %s: %w", name, err)
			}
		}
		return out, err
	}
	im.Logger.Debug("osm import: read and staged", "file", name, "seconds", time.Since(started).Seconds(), "node_store_bytes", stats.NodeBytes)
	if _, err := conn.Exec(ctx, `CREATE INDEX ON pg_temp.osm_stage (layer, osm_id); ANALYZE pg_temp.osm_stage`); err != nil {
		return out, fmt.Errorf("import %s: %w", name, err)
	}
	if req.Clip {
		if err := clipStage(ctx, conn, reps); err != nil {
			return out, err
		}
	}

	var first error
	for _, s := range slugs {
		rep := reps[s]
		t0 := time.Now()
		err := im.applyOSMLayer(ctx, conn, byslug[s], m, stage, req, rep)
		rep.Duration = Duration(time.Since(rep.Started))
		im.Logger.Debug("osm import: layer applied", "layer", s, "seconds", time.Since(t0).Seconds())
		if err != nil {
			rep.Status, rep.Error = "failed", geoportal.ErrorMessage(err)
			if !req.DryRun {
				hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				if herr := im.saveReport(hctx, im.Pool, rep, req.User); herr != nil {
					im.Logger.Warn("import history not written", "error", herr)
				}
				cancel()
			}
			if first == nil {
				first = fmt.Errorf("layer %s: %w", s, err)
			}
		}
	}
	return out, first
}

// stageOSM reads the extract and copies its features into the staging table, each checked
// (repaired when invalid) and fitted to its layer's geometry type; the attribute values go as
// one JSON object per feature, converted to the attributes' types.
func (im *Importer) stageOSM(ctx context.Context, conn *pgxpool.Conn, path string, m *osm.Mapping,
	targets map[string]osm.Target, req OSMRequest, reps map[string]*Report, out *OSMReport) (osm.Stats, error) {
	pr, pw := io.Pipe()
	v := geo.NewValidator()
	var stats osm.Stats
	readErr := make(chan error, 1)
	go func() {
		bw := &chunkWriter{w: pw}
		bw.buf = append(bw.buf, copyHeader...)
		seq := 0
		var err error
		stats, err = osm.Read(ctx, path, osm.Options{Mapping: m, Targets: targets, Progress: req.Progress,
			Problem: func(p osm.Problem) {
				out.Skipped++
				if len(out.Problems) < maxRejections {
					out.Problems = append(out.Problems, p)
				}
			}}, func(f *osm.Feature) error {
			seq++
			rep := reps[f.Layer]
			rep.Read++
			t := targets[f.Layer]
			g := f.Geom
			repaired := false
			var gerr error
			if !certainlyValid(g) {
				g, repaired, gerr = v.Repair(g)
			}
			if gerr == nil {
				g, gerr = coerce(g, t.GeometryType)
			}
			if gerr != nil {
				rep.reject(seq, f.OSMID+": "+gerr.Error())
				return nil
			}
			if repaired {
				rep.Repaired++
			}
			props := make(map[string]any, len(f.Values))
			for k, val := range f.Values {
				if k == "tags" {
					props[k] = val
					continue
				}
				if cv, err := convertValue(val, t.Attributes[k]); err == nil && cv != nil {
					props[k] = cv
				}
			}
			pj, err := json.Marshal(props)
			if err != nil {
				return err
			}
			b := bw.buf
			b = appendInt16(b, 4)
			b = appendInt32(b, int32(len(f.Layer)))
			b = append(b, f.Layer...)
			b = appendInt32(b, int32(len(f.OSMID)))
			b = append(b, f.OSMID...)
			at := len(b)
			b = appendInt32(b, 0)
			if b, err = wkb.Append(b, g, 4326); err != nil {
				rep.reject(seq, f.OSMID+": "+err.Error())
				return nil
			}
			binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
			b = appendInt32(b, int32(len(pj)+1))
			b = append(b, 1)
			b = append(b, pj...)
			bw.buf = b
			rep.Written++
			return bw.flushIfFull()
		})
		if err == nil {
			bw.buf = append(bw.buf, copyTrailer...)
			err = bw.flush()
		}
		pw.CloseWithError(err)
		readErr <- err
	}()
	_, cerr := conn.Conn().PgConn().CopyFrom(ctx, pr, `COPY pg_temp.osm_stage (layer, osm_id, geom, props) FROM STDIN (FORMAT binary)`)
	pr.CloseWithError(io.ErrClosedPipe)
	rerr := <-readErr
	if cerr != nil && (rerr == nil || errors.Is(rerr, io.ErrClosedPipe)) {
		// The database gave up first; the reader only saw the pipe close.
		return stats, fmt.Errorf("copy: %w", cerr)
	}
	return stats, rerr
}

// chunkWriter hands the COPY data to the pipe in chunks of about 256 KiB.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

func (c *chunkWriter) flushIfFull() error {
	if len(c.buf) < 256<<10 {
		return nil
	}
	return c.flush()
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// clipStage drops the staged features that do not intersect the city boundary.
func clipStage(ctx context.Context, conn *pgxpool.Conn, reps map[string]*Report) error {
	var empty bool
	if err := conn.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM layer.city_boundary)`).Scan(&empty); err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	if empty {
		return invalid("--clip: the city_boundary layer is empty; load the city's boundary first")
	}
	rows, err := conn.Query(ctx, `WITH b AS (SELECT ST_Union(geom) AS g FROM layer.city_boundary),
		gone AS (DELETE FROM pg_temp.osm_stage s USING b WHERE s.layer <> 'city_boundary' AND NOT ST_Intersects(s.geom, b.g) RETURNING s.layer)
		SELECT layer, count(*) FROM gone GROUP BY layer`)
	if err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var layer string
		var n int
		if err := rows.Scan(&layer, &n); err != nil {
			return fmt.Errorf("clip: %w", err)
		}
		if r := reps[layer]; r != nil {
			r.Written -= n
			r.Warnings = append(r.Warnings, fmt.Sprintf("%d features outside the city boundary left out (--clip)", n))
		}
	}
	return rows.Err()
}

// osmColumns are the attributes of a layer the OSM import writes: those the mapping sets and
// the ones it fills by itself. The others (a camera's status set by staff, a building's heat
// meter) are left as they are on update.
func osmColumns(l layers.Layer, m *osm.Mapping) []string {
	want := map[string]bool{"name": true, "name_kk": true, "name_ru": true, "name_en": true, "osm_id": true,
		"tags": true, "stops": true}
	for _, r := range m.Rules {
		if r.Layer != l.Slug {
			continue
		}
		for _, a := range r.Set {
			want[a.Attr] = true
		}
	}
	var cols []string
	for _, a := range l.Attributes {
		if want[a.Name] {
			cols = append(cols, a.Name)
		}
	}
	return cols
}

// applyOSMLayer brings one layer in line with the staged features, in one transaction.
func (im *Importer) applyOSMLayer(ctx context.Context, conn *pgxpool.Conn, l layers.Layer, m *osm.Mapping,
	stage string, req OSMRequest, rep *Report) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM geoportal.layers WHERE slug = $1 FOR UPDATE`, l.Slug).Scan(&one); err != nil {
		return fmt.Errorf("lock layer %s: %w", l.Slug, err)
	}
	table := l.Table()
	cols := osmColumns(l, m)
	var ids, nsel, sets, lcmp, ncmp []string
	for _, c := range cols {
		id := pgx.Identifier{c}.Sanitize()
		ids = append(ids, id)
		nsel = append(nsel, "r."+id)
		sets = append(sets, id+" = n."+id)
		lcmp = append(lcmp, "l."+id)
		ncmp = append(ncmp, "n."+id)
	}
	src := `(SELECT s.geom, ` + strings.Join(nsel, ", ") + ` FROM pg_temp.` + stage +
		` s, jsonb_populate_record(NULL::` + table + `, s.props) r WHERE s.layer = $1)`

	tag, err := tx.Exec(ctx, `DELETE FROM `+table+` l WHERE l.osm_id IS NOT NULL AND NOT EXISTS
		(SELECT 1 FROM pg_temp.`+stage+` s WHERE s.layer = $1 AND s.osm_id = l.osm_id)`, l.Slug)
	if err != nil {
		return mapWriteError(l.Slug, err)
	}
	rep.Deleted = int(tag.RowsAffected())
	tag, err = tx.Exec(ctx, `UPDATE `+table+` l SET geom = n.geom, `+strings.Join(sets, ", ")+`, updated_at = now()
		FROM `+src+` n WHERE l.osm_id = n.osm_id
		AND (ST_AsEWKB(l.geom), `+strings.Join(lcmp, ", ")+`) IS DISTINCT FROM (ST_AsEWKB(n.geom), `+strings.Join(ncmp, ", ")+`)`, l.Slug)
	if err != nil {
		return mapWriteError(l.Slug, err)
	}
	rep.Updated = int(tag.RowsAffected())
	tag, err = tx.Exec(ctx, `INSERT INTO `+table+` (geom, `+strings.Join(ids, ", ")+`)
		SELECT n.geom, `+strings.Join(ncmp, ", ")+` FROM `+src+` n
		WHERE NOT EXISTS (SELECT 1 FROM `+table+` l WHERE l.osm_id = n.osm_id) ORDER BY n.osm_id`, l.Slug)
	if err != nil {
		return mapWriteError(l.Slug, err)
	}
	rep.Inserted = int(tag.RowsAffected())
	if req.DryRun {
		rep.Status = "dry_run"
		return nil
	}
	rep.Status = "ok"
	rep.Duration = Duration(time.Since(rep.Started))
	if err := im.saveReport(ctx, tx, rep, req.User); err != nil {
		return fmt.Errorf("import history: %w", err)
	}
	if err := accounts.Audit(ctx, tx, accounts.Entry{Action: "layer.import", ObjectType: "layer", ObjectID: rep.Layer,
		After: map[string]any{"import_id": rep.ID, "mode": rep.Mode, "source": rep.Source, "format": rep.Format,
			"inserted": rep.Inserted, "updated": rep.Updated, "deleted": rep.Deleted,
			"repaired": rep.Repaired, "rejected": rep.Rejected},
		Detail: rep.Source}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
