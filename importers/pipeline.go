package importers

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/replica"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
)

// Modes of an import.
const (
	ModeCreate  = "create"  // a new layer with the source's schema
	ModeReplace = "replace" // the layer's rows become the source's
	ModeAppend  = "append"  // the source's rows are added
	ModeUpsert  = "upsert"  // rows matching on Key are updated, the others added
)

// Request says where and how a source is imported.
type Request struct {
	Layer string // slug; for create, empty means one derived from the file name
	Mode  string
	Key   string // upsert: the layer attribute that identifies a feature
	// FieldMap maps source field names to layer attribute names ("-" skips a field). Fields
	// not in the map go to the attribute of the same (normalised) name, if any.
	FieldMap map[string]string
	// Create mode: catalog entry. Empty titles take the file name.
	Title layers.Titles
	// Values are value dictionaries for the layer's attributes (attribute → value → its kk, ru
	// and en labels): set on a new layer's attributes, merged into an existing layer's.
	Values     map[string]map[string]layers.Titles
	Direction  int
	Visibility string
	DryRun     bool // do everything, then roll back
	// ConfirmOutside imports data lying outside the city boundary (OutsideShare) all the same.
	ConfirmOutside bool
	User           string // who, for the history
	// Progress, when set, is called from time to time with the number of records read.
	Progress func(read int)
	Workers  int // validation goroutines; 0: GOMAXPROCS
}

// Rejection is a record that was not imported, and why.
type Rejection struct {
	Record int    `json:"record"`
	Reason string `json:"reason"`
}

// maxRejections bounds the rejections kept in a report (the count is always exact).
const maxRejections = 1000

// Report is what an import did.
type Report struct {
	ID         int64       `json:"id,omitempty"`
	Layer      string      `json:"layer"`
	Mode       string      `json:"mode"`
	Status     string      `json:"status"` // ok, failed, dry_run
	Source     string      `json:"source"`
	Format     string      `json:"format"`
	Encoding   string      `json:"encoding,omitempty"`
	CRS        string      `json:"crs"`
	SRID       int         `json:"srid,omitempty"`
	Read       int         `json:"read"`
	Written    int         `json:"written"`
	Inserted   int         `json:"inserted"`
	Updated    int         `json:"updated"`
	Deleted    int         `json:"deleted"`
	Repaired   int         `json:"repaired"`
	Rejected   int         `json:"rejected"`
	Rejections []Rejection `json:"rejections"`
	Warnings   []string    `json:"warnings"`
	// Place is where the features lie against the city boundary, when some lie outside it.
	Place    *layers.CityFit `json:"place,omitempty"`
	Error    string          `json:"error,omitempty"`
	Started  time.Time       `json:"started_at"`
	Duration Duration        `json:"duration"`
	// awaitsConfirm: refused until confirmed (checkPlace), which is a question, not a failure to
	// keep in the history.
	awaitsConfirm bool
}

// Duration marshals as seconds.
type Duration time.Duration

// MarshalJSON writes the duration in seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(d).Seconds(), 'f', 3, 64)), nil
}

func (r *Report) reject(rec int, reason string) {
	r.Rejected++
	if len(r.Rejections) < maxRejections {
		r.Rejections = append(r.Rejections, Rejection{Record: rec, Reason: reason})
	}
}

// Importer writes sources into layers.
type Importer struct {
	Pool   *pgxpool.Pool
	Layers *layers.Store
	Logger *slog.Logger
}

// New returns an importer over a database pool.
func New(pool *pgxpool.Pool, logger *slog.Logger) *Importer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Importer{Pool: pool, Layers: layers.NewStore(pool), Logger: logger}
}

// column is one attribute of the target layer and the source field feeding it.
type column struct {
	name, typ string
	src       int // index into the source's fields; -1: NULL
}

// plan is the target layer and how source records map onto it.
type plan struct {
	layer   layers.Layer
	cols    []column
	ignored []string
	stage   string // sanitized name of the staging table
	sample  sample // centres of the features encoded, to check the import's place
}

var stageSeq atomic.Int64

func invalid(format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, format, args...)
}

// Import reads src to the end and writes it into a layer in one transaction: either every
// valid record is written and the report stored in geoportal.imports, or (on error) the layer
// is left exactly as it was and the failure is recorded.
func (im *Importer) Import(ctx context.Context, src Source, req Request) (*Report, error) {
	info := src.Info()
	rep := &Report{Mode: req.Mode, Source: info.File, Format: info.Format, Encoding: info.Encoding,
		CRS: info.CRS.String(), SRID: info.CRS.EPSG, Started: time.Now(), Warnings: append([]string{}, info.Warnings...),
		Rejections: []Rejection{}}
	if rep.Mode == "" {
		rep.Mode = ModeCreate
	}
	err := im.run(ctx, src, req, rep)
	im.failed(ctx, req, err, rep)
	return rep, err
}

// failed ends the reports of an import that returned err (nothing when err is nil): status
// failed, the error, and each recorded outside the rolled-back transaction, so that failures
// are kept too.
func (im *Importer) failed(ctx context.Context, req Request, err error, reps ...*Report) {
	if err == nil {
		return
	}
	for _, rep := range reps {
		rep.Duration = Duration(time.Since(rep.Started))
		rep.Status, rep.Error = "failed", geoportal.ErrorMessage(err)
		if geoportal.ErrorCode(err) == geoportal.EINTERNAL {
			rep.Error = err.Error()
		}
		if rep.Layer != "" && !req.DryRun && !rep.awaitsConfirm {
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if herr := im.saveReport(hctx, im.Pool, rep, req.User); herr != nil {
				im.Logger.Warn("import history not written", "error", herr)
			}
			cancel()
		}
	}
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (im *Importer) saveReport(ctx context.Context, q querier, rep *Report, user string) error {
	rj, _ := json.Marshal(rep.Rejections)
	wj, _ := json.Marshal(rep.Warnings)
	var srid *int
	if rep.SRID != 0 {
		srid = &rep.SRID
	}
	var errText, username *string
	if rep.Error != "" {
		errText = &rep.Error
	}
	if user != "" {
		username = &user
	}
	return q.QueryRow(ctx, `INSERT INTO geoportal.imports (layer, mode, status, source, format, encoding, crs, srid,
		read, written, inserted, updated, deleted, repaired, rejected, rejections, warnings, error, username,
		started_at, duration_ms)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21) RETURNING id`,
		rep.Layer, rep.Mode, rep.Status, rep.Source, rep.Format, rep.Encoding, rep.CRS, srid,
		rep.Read, rep.Written, rep.Inserted, rep.Updated, rep.Deleted, rep.Repaired, rep.Rejected, rj, wj,
		errText, username, rep.Started, time.Duration(rep.Duration).Milliseconds()).Scan(&rep.ID)
}

func (im *Importer) run(ctx context.Context, src Source, req Request, rep *Report) error {
	info := src.Info()
	switch req.Mode {
	case "", ModeCreate, ModeReplace, ModeAppend, ModeUpsert:
	default:
		return invalid("unknown mode %q (want create, replace, append or upsert)", req.Mode)
	}
	p, err := im.plan(ctx, info, req)
	if err != nil {
		return err
	}
	rep.Layer = p.layer.Slug
	for _, f := range p.ignored {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("source field %s matches no attribute of layer %s: not imported", f, p.layer.Slug))
	}

	tx, err := im.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("import %s: %w", info.File, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	if rep.Mode == ModeCreate {
		if err := im.Layers.CreateLayer(ctx, tx, p.layer); err != nil {
			return err
		}
	} else if err := lockLayer(ctx, tx, p.layer.Slug); err != nil {
		return err
	} else if len(req.Values) > 0 {
		if err := im.Layers.SaveValues(ctx, tx, p.layer); err != nil {
			return err
		}
	}

	if rep.Mode == ModeUpsert {
		if err := im.stageAndMerge(ctx, tx, src, p, req, rep); err != nil {
			return err
		}
	} else if err := im.copyInto(ctx, tx, src, p, req, rep); err != nil {
		return err
	}
	if err := im.checkPlace(ctx, &p.sample, req, rep); err != nil {
		return err
	}
	return im.commit(ctx, tx, req, rep)
}

// lockLayer locks a layer's catalog row against concurrent imports and schema changes until
// the transaction ends.
func lockLayer(ctx context.Context, tx pgx.Tx, slug string) error {
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM geoportal.layers WHERE slug = $1 FOR UPDATE`, slug).Scan(&one); err != nil {
		return fmt.Errorf("lock layer %s: %w", slug, err)
	}
	return nil
}

// commit ends an import's transaction: a dry run is left to the caller's deferred Rollback;
// otherwise each report is stored in geoportal.imports with its audit entry, in tx, and tx is
// committed, so that the data, the history and the audit trail change together.
func (im *Importer) commit(ctx context.Context, tx pgx.Tx, req Request, reps ...*Report) error {
	for _, rep := range reps {
		rep.Status = "dry_run"
		if !req.DryRun {
			rep.Status = "ok"
		}
		rep.Duration = Duration(time.Since(rep.Started))
	}
	if req.DryRun {
		return nil
	}
	for _, rep := range reps {
		if err := im.saveReport(ctx, tx, rep, req.User); err != nil {
			return fmt.Errorf("import history: %w", err)
		}
		if err := accounts.Audit(ctx, tx, accounts.Entry{Action: "layer.import", ObjectType: "layer", ObjectID: rep.Layer,
			After: map[string]any{"import_id": rep.ID, "mode": rep.Mode, "source": rep.Source, "format": rep.Format,
				"crs": rep.CRS, "inserted": rep.Inserted, "updated": rep.Updated, "deleted": rep.Deleted,
				"repaired": rep.Repaired, "rejected": rep.Rejected},
			Detail: rep.Source}); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("import %s: commit: %w", reps[0].Source, err)
	}
	return nil
}

func mapCopyError(file string, err error) error {
	var ge *geoportal.Error
	if errors.As(err, &ge) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("import %s: copy: %w", file, err)
}

func sqlType(t string) string {
	switch t {
	case TypeDouble:
		return "double precision"
	case TypeText, TypeInteger, TypeBigint, TypeBoolean, TypeDate, TypeTimestamptz:
		return t
	case TypeJSON:
		return "jsonb"
	}
	return "text"
}

// plan decides the target layer and maps source fields onto its attributes.
func (im *Importer) plan(ctx context.Context, info *Info, req Request) (*plan, error) {
	if req.Mode == "" || req.Mode == ModeCreate {
		slug := req.Layer
		if slug == "" {
			slug = identifier(info.Name, 48)
		}
		if !layers.ValidSlug(slug) {
			return nil, invalid("layer name %q is not a lower-case word of at most 48 letters, digits and _ (give one with --layer)", slug)
		}
		if _, err := im.Layers.Layer(replica.OnPrimary(ctx), slug, true); err == nil {
			return nil, layers.LayerExistsError(slug)
		} else if geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
			return nil, err
		}
		gt := info.GeometryType
		if gt == "" && info.Format == "shapefile" && strings.Contains(strings.Join(info.Warnings, " "), "MultiPatch") {
			return nil, invalid("%s holds MultiPatch shapes (3-D surfaces), which a map layer cannot store: all %d records would be rejected", info.File, info.Count)
		}
		if gt == "" {
			return nil, invalid("%s: cannot tell the geometry type of the layer to create (no features with geometry?)", info.File)
		}
		t := req.Title
		if t.EN == "" {
			t.EN = info.Name
		}
		if t.RU == "" {
			t.RU = t.EN
		}
		if t.KK == "" {
			t.KK = t.EN
		}
		if req.Direction < 0 || req.Direction > 6 {
			return nil, invalid("direction %d: want 0..6", req.Direction)
		}
		l := layers.Layer{Slug: slug, Title: t, Direction: req.Direction, GeometryType: gt, Visibility: req.Visibility,
			MaxZoom: 22, Attribution: ""}
		if l.Visibility == "" {
			l.Visibility = "public"
		}
		p := &plan{layer: l}
		names := attributeNames(info.Fields)
		for i, f := range info.Fields {
			if to, ok := req.FieldMap[f.Name]; ok && to == "-" {
				p.ignored = append(p.ignored, f.Name)
				continue
			} else if ok && to != "" {
				names[i] = to
			}
			p.layer.Attributes = append(p.layer.Attributes, layers.Attribute{Name: names[i], Type: f.Type,
				Title: layers.Titles{KK: f.Name, RU: f.Name, EN: f.Name}, Popup: true})
			p.cols = append(p.cols, column{name: names[i], typ: f.Type, src: i})
		}
		if req.Key != "" {
			return nil, invalid("--key is for upsert mode")
		}
		if err := p.layer.ApplyValues(req.Values); err != nil {
			return nil, err
		}
		return p, nil
	}
	if req.Layer == "" {
		return nil, invalid("mode %s needs the layer to import into (--layer)", req.Mode)
	}
	l, err := im.Layers.Layer(replica.OnPrimary(ctx), req.Layer, true)
	if err != nil {
		return nil, err
	}
	if err := l.GenericWrites(); err != nil {
		return nil, err
	}
	if err := l.ApplyValues(req.Values); err != nil {
		return nil, err
	}
	p := &plan{layer: l}
	byName := map[string]int{}
	for i, f := range info.Fields {
		if to, ok := req.FieldMap[f.Name]; ok {
			if to == "-" {
				continue
			}
			if _, ok := l.Attribute(to); !ok {
				return nil, invalid("field map: layer %s has no attribute %q (for source field %s)", l.Slug, to, f.Name)
			}
			byName[to] = i
			continue
		}
		n := identifier(f.Name, 60)
		if _, ok := l.Attribute(n); ok {
			if _, taken := byName[n]; !taken {
				byName[n] = i
				continue
			}
		}
		p.ignored = append(p.ignored, f.Name)
	}
	for _, a := range l.Attributes {
		c := column{name: a.Name, typ: a.Type, src: -1}
		if i, ok := byName[a.Name]; ok {
			c.src = i
		}
		p.cols = append(p.cols, c)
	}
	if req.Mode == ModeUpsert {
		if req.Key == "" {
			return nil, invalid("upsert needs a key attribute (--key)")
		}
		if _, ok := byName[req.Key]; !ok {
			if _, ok := l.Attribute(req.Key); !ok {
				return nil, invalid("upsert key %q is not an attribute of layer %s", req.Key, l.Slug)
			}
			return nil, invalid("upsert key %q: no source field maps to it", req.Key)
		}
	} else if req.Key != "" {
		return nil, invalid("--key is for upsert mode")
	}
	return p, nil
}

// merge moves the staged rows into the layer (upsert): rows whose key matches are updated,
// the others inserted in record order.
func (im *Importer) merge(ctx context.Context, tx pgx.Tx, p *plan, req Request, rep *Report) error {
	table := p.layer.Table()
	cols := []string{"geom"}
	sel := []string{"ST_GeomFromEWKB(s.geom)"}
	var sets []string
	for _, c := range p.cols {
		id := pgx.Identifier{c.name}.Sanitize()
		cols = append(cols, id)
		sel = append(sel, "s."+id)
		sets = append(sets, id+" = s."+id)
	}
	key := pgx.Identifier{req.Key}.Sanitize()
	var dup string
	var n, first, second int
	err := tx.QueryRow(ctx, `SELECT coalesce(`+key+`::text, 'NULL'), count(*), min(rec), max(rec) FROM `+p.stage+`
		GROUP BY `+key+` HAVING count(*) > 1 OR `+key+` IS NULL LIMIT 1`).Scan(&dup, &n, &first, &second)
	if err == nil {
		if dup == "NULL" {
			return invalid("upsert key %s is empty in record %d", req.Key, first)
		}
		return invalid("upsert key %s = %s appears %d times (records %d and %d)", req.Key, dup, n, first, second)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("upsert %s: %w", p.layer.Slug, err)
	}
	tag, err := tx.Exec(ctx, `UPDATE `+table+` l SET geom = ST_GeomFromEWKB(s.geom), `+strings.Join(sets, ", ")+
		`, updated_at = now() FROM `+p.stage+` s WHERE l.`+key+` = s.`+key)
	if err != nil {
		return mapWriteError(p.layer.Slug, err)
	}
	rep.Updated = int(tag.RowsAffected())
	tag, err = tx.Exec(ctx, `INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) SELECT `+strings.Join(sel, ", ")+
		` FROM `+p.stage+` s WHERE NOT EXISTS (SELECT 1 FROM `+table+` l WHERE l.`+key+` = s.`+key+`) ORDER BY s.rec`)
	if err != nil {
		return mapWriteError(p.layer.Slug, err)
	}
	rep.Inserted = int(tag.RowsAffected())
	return nil
}

func mapWriteError(slug string, err error) error {
	return fmt.Errorf("write layer %s: %w", slug, err)
}

// rowStream reads, reprojects, validates and encodes records in parallel: one goroutine reads
// the source into batches, the workers turn each batch into binary COPY rows, and nextBatch
// hands the batches on in record order.
type rowStream struct {
	ctx     context.Context
	cancel  context.CancelFunc
	out     chan result
	rep     *Report
	err     error
	wg      sync.WaitGroup
	prog    func(int)
	pending map[int]result
	next    int
	ext     extent // of the rows handed on
	sample  *sample
}

type result struct {
	seq      int
	buf      []byte      // the batch's rows in binary COPY format
	ends     []int       // where each row ends in buf
	bounds   []orb.Bound // each row's, for the place sample
	ext      extent
	rejected []Rejection
	repaired int
	read     int
	err      error
}

const batchSize = 512

type job struct {
	seq      int
	features []Feature
}

func newRowStream(parent context.Context, src Source, p *plan, req Request, rep *Report, layout rowLayout) *rowStream {
	ctx, cancel := context.WithCancel(parent)
	s := &rowStream{ctx: ctx, cancel: cancel, out: make(chan result, 8), rep: rep, prog: req.Progress,
		pending: map[int]result{}, sample: &p.sample}
	workers := req.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan job, workers*2)
	s.wg.Add(1)
	go func() { // reader
		defer s.wg.Done()
		defer close(jobs)
		seq := 0
		batch := make([]Feature, 0, batchSize)
		flush := func() bool {
			select {
			case jobs <- job{seq: seq, features: batch}:
				seq++
				batch = make([]Feature, 0, batchSize)
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			f, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				s.send(result{seq: -1, err: err})
				return
			}
			batch = append(batch, f)
			if len(batch) == batchSize && !flush() {
				return
			}
		}
		if len(batch) > 0 {
			flush()
		}
	}()
	info := src.Info()
	var ww sync.WaitGroup
	for w := 0; w < workers; w++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			tr, err := geo.NewTransformer(info.CRS)
			if err != nil {
				s.send(result{seq: -1, err: invalid("%s: %v", info.File, err)})
				return
			}
			e := &encoder{tr: tr, v: geo.NewValidator(), p: p, layout: layout}
			size := 0
			for jb := range jobs {
				batch := jb.features
				r := result{seq: jb.seq, read: len(batch), buf: make([]byte, 0, size), ends: make([]int, 0, len(batch))}
				for _, f := range batch {
					var repaired bool
					var b orb.Bound
					var err error
					r.buf, b, repaired, err = e.row(r.buf, f)
					if err != nil {
						r.rejected = append(r.rejected, Rejection{Record: f.Record, Reason: err.Error()})
						continue
					}
					if repaired {
						r.repaired++
					}
					r.ends = append(r.ends, len(r.buf))
					r.bounds = append(r.bounds, b)
					r.ext.add(b)
					r.ext.rows++
				}
				size = max(size, len(r.buf)+len(r.buf)/8)
				if !s.send(r) {
					return
				}
			}
		}()
	}
	go func() {
		ww.Wait()
		s.wg.Wait()
		close(s.out)
	}()
	return s
}

func (s *rowStream) send(r result) bool {
	select {
	case s.out <- r:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// stop ends the goroutines (after the COPY returned) and waits for them.
func (s *rowStream) stop() {
	s.cancel()
	for range s.out {
	}
}

// nextBatch returns the next batch in record order (batches come back from the workers in any
// order; feature ids follow the source), counting it in the report. It returns false at the
// end, or on an error kept in s.err.
func (s *rowStream) nextBatch() (result, bool) {
	for {
		r, ok := s.pending[s.next]
		if ok {
			delete(s.pending, s.next)
		} else {
			r, ok = <-s.out
			if !ok {
				return result{}, false
			}
			if r.err != nil {
				s.err = r.err
				return result{}, false
			}
			if r.seq != s.next {
				s.pending[r.seq] = r
				continue
			}
		}
		s.next++
		s.rep.Read += r.read
		s.rep.Repaired += r.repaired
		for _, rj := range r.rejected {
			s.rep.reject(rj.Record, rj.Reason)
		}
		s.ext.merge(r.ext)
		for _, b := range r.bounds {
			s.sample.add(b)
		}
		if s.prog != nil {
			s.prog(s.rep.Read)
		}
		return r, true
	}
}

func (s *rowStream) Err() error { return s.err }

// encoder turns features into binary COPY rows; one per worker goroutine.
type encoder struct {
	tr     *geo.Transformer
	v      *geo.Validator
	p      *plan
	layout rowLayout
}

// row appends f as one COPY row to b: reprojected to EPSG:4326, validated (repaired when
// invalid), fitted to the layer's geometry type, the values converted to the columns' types.
// On error b is returned as it was and the record is rejected with the reason.
func (e *encoder) row(b []byte, f Feature) ([]byte, orb.Bound, bool, error) {
	start := len(b)
	fail := func(err error) ([]byte, orb.Bound, bool, error) { return b[:start], orb.Bound{}, false, err }
	if f.Err != nil {
		var re *RecordError
		if errors.As(f.Err, &re) {
			return fail(errors.New(re.Reason))
		}
		return fail(f.Err)
	}
	if f.Geom == nil {
		return fail(errors.New("no geometry"))
	}
	g, err := e.tr.Transform(f.Geom)
	if err != nil {
		return fail(err)
	}
	repaired := false
	if !certainlyValid(g) {
		if g, repaired, err = e.v.Repair(g); err != nil {
			return fail(err)
		}
	}
	if g, err = coerce(g, e.p.layer.GeometryType); err != nil {
		return fail(err)
	}
	b = appendInt16(b, int16(e.layout.fields(len(e.p.cols))))
	if e.layout.rec {
		b = appendInt32(appendInt32(b, 4), int32(f.Record))
	}
	at := len(b)
	b = appendInt32(b, 0) // geometry length, filled in below
	if b, err = wkb.Append(b, g, 4326); err != nil {
		return fail(err)
	}
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	for _, c := range e.p.cols {
		var val any
		if c.src >= 0 && c.src < len(f.Values) {
			if val, err = convertValue(f.Values[c.src], c.typ); err != nil {
				return fail(fmt.Errorf("attribute %s: %v", c.name, err))
			}
		}
		if b, err = appendValue(b, val, c.typ); err != nil {
			return fail(fmt.Errorf("attribute %s: %v", c.name, err))
		}
	}
	return b, g.Bound(), repaired, nil
}

// coerce fits g to the layer's geometry type: single geometries are wrapped into multi ones,
// multi geometries of one part unwrapped.
func coerce(g orb.Geometry, want string) (orb.Geometry, error) {
	if g.GeoJSONType() == want {
		return g, nil
	}
	switch want {
	case "MultiPolygon":
		if p, ok := g.(orb.Polygon); ok {
			return orb.MultiPolygon{p}, nil
		}
	case "Polygon":
		if mp, ok := g.(orb.MultiPolygon); ok && len(mp) == 1 {
			return mp[0], nil
		} else if ok {
			return nil, fmt.Errorf("a MultiPolygon of %d parts cannot go into a Polygon layer", len(mp))
		}
	case "MultiLineString":
		if l, ok := g.(orb.LineString); ok {
			return orb.MultiLineString{l}, nil
		}
	case "LineString":
		if ml, ok := g.(orb.MultiLineString); ok && len(ml) == 1 {
			return ml[0], nil
		} else if ok {
			return nil, fmt.Errorf("a MultiLineString of %d parts cannot go into a LineString layer", len(ml))
		}
	case "MultiPoint":
		if pt, ok := g.(orb.Point); ok {
			return orb.MultiPoint{pt}, nil
		}
	case "Point":
		if mp, ok := g.(orb.MultiPoint); ok && len(mp) == 1 {
			return mp[0], nil
		} else if ok {
			return nil, fmt.Errorf("a MultiPoint of %d points cannot go into a Point layer", len(mp))
		}
	}
	return nil, fmt.Errorf("a %s cannot go into a %s layer", g.GeoJSONType(), want)
}

// convertValue converts a source value to the Go value pgx writes into a column of type t.
func convertValue(v any, t string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case TypeText:
		switch x := v.(type) {
		case string:
			return strings.ReplaceAll(x, "\x00", ""), nil
		case time.Time:
			if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
				return x.Format("2006-01-02"), nil
			}
			return x.Format(time.RFC3339), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
		return fmt.Sprint(v), nil
	case TypeInteger, TypeBigint:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 9.2e18 {
				return nil, fmt.Errorf("%v is not a whole number", x)
			}
			n = int64(x)
		case bool:
			if x {
				n = 1
			}
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return nil, nil
			}
			var err error
			if n, err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, fmt.Errorf("%q is not a whole number", x)
			}
		default:
			return nil, fmt.Errorf("%v is not a whole number", v)
		}
		if t == TypeInteger {
			if n > math.MaxInt32 || n < math.MinInt32 {
				return nil, fmt.Errorf("%d does not fit an integer column", n)
			}
			return int32(n), nil
		}
		return n, nil
	case TypeDouble:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			s := strings.TrimSpace(strings.Replace(x, ",", ".", 1))
			if s == "" {
				return nil, nil
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
		return nil, fmt.Errorf("%v is not a number", v)
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "t", "yes", "y", "1", "да", "иә":
				return true, nil
			case "false", "f", "no", "n", "0", "нет", "жоқ":
				return false, nil
			case "":
				return nil, nil
			}
			return nil, fmt.Errorf("%q is not true or false", x)
		}
		return nil, fmt.Errorf("%v is not true or false", v)
	case TypeDate, TypeTimestamptz:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return nil, nil
			}
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "2006/01/02", "02.01.2006", "20060102"} {
				if tm, err := time.Parse(layout, s); err == nil {
					return tm, nil
				}
			}
			return nil, fmt.Errorf("%q is not a date", x)
		}
		return nil, fmt.Errorf("%v is not a date", v)
	case TypeJSON:
		// Objects and arrays come from the sources as JSON text (see jsonValue): keep them as
		// they are rather than store them as one JSON string.
		if x, ok := v.(string); ok {
			if t := strings.TrimSpace(x); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
				return t, nil
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	return fmt.Sprint(v), nil
}

// History returns the latest imports, newest first; of one layer when layer is not empty.
func (im *Importer) History(ctx context.Context, layer string, limit int) ([]Report, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := im.Pool.Query(ctx, `SELECT id, layer, mode, status, source, format, encoding, crs, coalesce(srid, 0),
		read, written, inserted, updated, deleted, repaired, rejected, rejections, warnings, coalesce(error, ''),
		started_at, duration_ms
		FROM geoportal.imports WHERE $1 = '' OR layer = $1 ORDER BY started_at DESC, id DESC LIMIT $2`, layer, limit)
	if err != nil {
		return nil, fmt.Errorf("import history: %w", err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		var r Report
		var rj, wj []byte
		var ms int64
		if err := rows.Scan(&r.ID, &r.Layer, &r.Mode, &r.Status, &r.Source, &r.Format, &r.Encoding, &r.CRS, &r.SRID,
			&r.Read, &r.Written, &r.Inserted, &r.Updated, &r.Deleted, &r.Repaired, &r.Rejected, &rj, &wj, &r.Error,
			&r.Started, &ms); err != nil {
			return nil, fmt.Errorf("import history: %w", err)
		}
		json.Unmarshal(rj, &r.Rejections)
		json.Unmarshal(wj, &r.Warnings)
		r.Duration = Duration(time.Duration(ms) * time.Millisecond)
		out = append(out, r)
	}
	return out, rows.Err()
}

// stageAndMerge copies the rows into a staging table, then updates and inserts (upsert).
func (im *Importer) stageAndMerge(ctx context.Context, tx pgx.Tx, src Source, p *plan, req Request, rep *Report) error {
	// Staging table: the record number, EWKB geometry and the layer's typed attributes.
	defs := []string{"rec integer NOT NULL", "geom bytea NOT NULL"}
	names := []string{"rec", "geom"}
	for _, c := range p.cols {
		defs = append(defs, pgx.Identifier{c.name}.Sanitize()+" "+sqlType(c.typ))
		names = append(names, c.name)
	}
	stage := fmt.Sprintf("import_stage_%d", stageSeq.Add(1))
	p.stage = pgx.Identifier{"pg_temp", stage}.Sanitize()
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+pgx.Identifier{stage}.Sanitize()+` (`+strings.Join(defs, ", ")+`) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("staging table: %w", err)
	}

	t0 := time.Now()
	_, n, err := copyRows(ctx, tx, src, p, req, rep, pgx.Identifier{"pg_temp", stage}.Sanitize(), names, rowLayout{rec: true})
	if err != nil {
		return err
	}
	rep.Written = int(n)
	t1 := time.Now()
	if err := im.merge(ctx, tx, p, req, rep); err != nil {
		return err
	}
	im.Logger.Debug("import phases", "layer", p.layer.Slug, "read_copy", t1.Sub(t0).String(), "apply", time.Since(t1).String())
	return nil
}

// copyRows streams the source into table (binary COPY) and returns the number of rows written.
func copyRows(ctx context.Context, tx pgx.Tx, src Source, p *plan, req Request, rep *Report, table string,
	names []string, layout rowLayout) (*rowStream, int64, error) {
	cols := make([]string, len(names))
	for i, n := range names {
		cols[i] = pgx.Identifier{n}.Sanitize()
	}
	rows := newRowStream(ctx, src, p, req, rep, layout)
	r := &copyReader{s: rows, id: layout.id}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, r, `COPY `+table+` (`+strings.Join(cols, ", ")+`) FROM STDIN (FORMAT binary)`)
	rows.stop()
	if rerr := rows.Err(); rerr != nil {
		return rows, 0, rerr
	}
	if err != nil {
		return rows, 0, mapCopyError(src.Info().File, err)
	}
	return rows, tag.RowsAffected(), nil
}

// copyInto copies the rows straight into the layer's table (create, replace, append): the
// transaction keeps them invisible until commit. A new layer's table is loaded bare — without
// its spatial index, primary key and insert trigger, with the feature ids written by us —
// and the index, key, id sequence and catalog entry are made once at the end, which is much
// faster than growing them row by row.
func (im *Importer) copyInto(ctx context.Context, tx pgx.Tx, src Source, p *plan, req Request, rep *Report) error {
	info := src.Info()
	table := p.layer.Table()
	var pkey string
	if rep.Mode == ModeCreate {
		if err := tx.QueryRow(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`,
			table).Scan(&pkey); err != nil {
			return fmt.Errorf("import %s: primary key of %s: %w", info.File, p.layer.Slug, err)
		}
		// The new table is invisible to others until commit. The per-statement catalog trigger
		// is left out too: its transition table would hold every row once more.
		if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{"layer", p.layer.Slug + "_geom_idx"}.Sanitize()+
			`; ALTER TABLE `+table+` DROP CONSTRAINT `+pgx.Identifier{pkey}.Sanitize()+
			`, DISABLE TRIGGER layer_changed_ins`); err != nil {
			return fmt.Errorf("import %s: %w", info.File, err)
		}
	}
	if rep.Mode == ModeReplace {
		tag, err := tx.Exec(ctx, `DELETE FROM `+table)
		if err != nil {
			return fmt.Errorf("replace %s: %w", p.layer.Slug, err)
		}
		rep.Deleted = int(tag.RowsAffected())
	}
	names := []string{"geom"}
	for _, c := range p.cols {
		names = append(names, c.name)
	}
	layout := rowLayout{}
	if rep.Mode == ModeCreate {
		names = append(names, "id")
		layout.id = true
	}
	t0 := time.Now()
	rows, n, err := copyRows(ctx, tx, src, p, req, rep, table, names, layout)
	if err != nil {
		return err
	}
	rep.Written, rep.Inserted = int(n), int(n)
	t1 := time.Now()
	if rep.Mode == ModeCreate {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+table+` ADD CONSTRAINT `+pgx.Identifier{pkey}.Sanitize()+
			` PRIMARY KEY (id), ENABLE TRIGGER layer_changed_ins; CREATE INDEX `+
			pgx.Identifier{p.layer.Slug + "_geom_idx"}.Sanitize()+` ON `+table+` USING gist (geom)`); err != nil {
			return fmt.Errorf("import %s: indexes: %w", info.File, err)
		}
		if n > 0 {
			// What the trigger would have done: count, extent (gathered while encoding), version,
			// and the change notice; and the id sequence continues after the ids written.
			ext := rows.ext
			if int64(ext.rows) != n || !ext.ok {
				return fmt.Errorf("import %s: %d rows written but %d encoded", info.File, n, ext.rows)
			}
			if _, err := tx.Exec(ctx, `WITH x AS (SELECT ST_MakeBox2D(ST_MakePoint($3, $4), ST_MakePoint($5, $6)) AS ext),
				s AS (SELECT setval(pg_get_serial_sequence($7, 'id'), $2)),
				u AS (UPDATE geoportal.layers l SET feature_count = $2,
					bbox = ST_SetSRID(ST_Envelope(ST_Expand(x.ext::geometry, 1e-7)), 4326),
					version = l.version + 1, updated_at = now()
					FROM x, s WHERE l.slug = $1 RETURNING l.version, x.ext)
				SELECT pg_notify('layer_changed', json_build_object('layer', $1::text, 'version', u.version,
					'bbox', json_build_array(ST_XMin(u.ext), ST_YMin(u.ext), ST_XMax(u.ext), ST_YMax(u.ext)))::text) FROM u`,
				p.layer.Slug, n, ext.b.Min[0], ext.b.Min[1], ext.b.Max[0], ext.b.Max[1], table); err != nil {
				return fmt.Errorf("import %s: catalog: %w", info.File, err)
			}
		}
	}
	im.Logger.Debug("import phases", "layer", p.layer.Slug, "read_copy", t1.Sub(t0).String(), "index", time.Since(t1).String())
	return nil
}
