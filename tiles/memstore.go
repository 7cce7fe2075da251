package tiles

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"
)

// The feature memory. A city's point, line and polygon layers are small next to a machine's memory
// (150,000 buildings with their attributes take about 100 MB), yet reading a tile's rows from
// PostgreSQL was half the cost of a tile that is not cached. So, from memMinZoom on, a tile of
// such a layer is drawn from a copy of the layer held in memory: loaded once in the background (tiles come from the database meanwhile), then kept
// exact from the layer_changed notifications the invalidator hears, each of which names the
// changed extent: the features there are read again.
//
// Freshness does not rest on the notifications' speed: every tile built from memory first reads
// the layers' data versions (versionGate: one small query, started after the tile was asked for,
// shared by the tiles built at the same moment), and unless the copy holds exactly that version
// the tile is drawn by the database as before. A change is therefore in the next tile built after its
// commit, by this process or any other on the database.
//
// The copy only replaces reading rows: what Go cannot draw exactly (polygons with holes or several
// parts, rings Go cannot vouch for once snapped or cut to the tile's buffer; see lonlat.go) is
// still drawn by ST_AsMVTGeom, asked for by id.

// memCell is the side of the grid cells features are indexed by, in degrees (a zoom 16 tile).
const memCell = 360.0 / (1 << 16)

// memMinZoom is the lowest zoom drawn from memory (from linearFromZoom down to it, each latitude
// is projected to Web Mercator and polygons are simplified as the database does); lower tiles,
// few and each covering much of a city, stay with the database.
const memMinZoom = 12

// memMaxCells is how many cells a feature is indexed in at most; larger ones are kept in a list
// every query looks through.
const memMaxCells = 256

// memStore holds the layers' copies.
type memStore struct {
	t        *Tiler
	budget   int64 // bytes all copies may take; < 0: off
	versions versionGate

	mu     sync.Mutex
	layers map[string]*memLayer // by slug
	used   int64
}

// memLayer is one layer's copy.
type memLayer struct {
	store       *memStore
	slug        string
	fingerprint string
	tooBig      atomic.Bool // the layer did not fit the budget (tiles come from the database)
	dropped     bool        // taken out of the store (under mu)

	mu      sync.RWMutex
	ready   bool // loaded (the fields below hold a whole version)
	version int64
	feats   []memFeature
	byID    map[int64]int32
	cells   map[[2]int32][]int32
	big     []int32
	dead    int
	bytes   int64 // estimated size of the features held
	counted int64 // bytes as counted in the store's total
	// text values, each once: tiles deduplicate values by their number here (a string's hash
	// per value was a tenth of a tile's cost)
	strs    map[string]uint32
	strList [][]byte

	pmu     sync.Mutex
	pending []change // heard changes newer than version
	busy    bool     // a catch-up is running
}

type memFeature struct {
	id    int64
	b     orb.Bound
	wkb   []byte
	vals  []memValue
	alive bool
}

// memValue is a property value as the tile query returns it (see propertyExpr).
type memValue struct {
	kind byte // 0 null, 'i' integer, 'd' double, 'b' boolean, 's' text
	n    uint64
	s    []byte
}

func newMemStore(t *Tiler, budget int64) *memStore {
	s := &memStore{t: t, budget: budget, layers: map[string]*memLayer{}}
	s.versions.read = func(ctx context.Context) (map[string]int64, error) {
		rows, err := t.pool.Query(ctx, `SELECT slug, version FROM geoportal.layers`)
		if err != nil {
			return nil, err
		}
		out := map[string]int64{}
		var slug string
		var v int64
		_, err = pgx.ForEachRow(rows, []any{&slug, &v}, func() error { out[slug] = v; return nil })
		return out, err
	}
	return s
}

// versionGate reads the layers' data versions for the tiles drawn from memory. A tile needs
// versions read after it was asked for, so that every change committed before is seen; builds
// asking at the same time share one read: each joins the read that has not started yet, which
// starts as soon as the one running (if any) is done.
type versionGate struct {
	read    func(ctx context.Context) (map[string]int64, error)
	mu      sync.Mutex
	next    *versionRead
	running bool
}

type versionRead struct {
	done     chan struct{}
	joined   int // callers sharing it (under versionGate.mu)
	versions map[string]int64
	err      error
}

func (g *versionGate) get(ctx context.Context) (map[string]int64, error) {
	g.mu.Lock()
	r := g.next
	if r == nil {
		r = &versionRead{done: make(chan struct{})}
		g.next = r
		if !g.running {
			g.startLocked()
		}
	}
	r.joined++
	g.mu.Unlock()
	select {
	case <-r.done:
		return r.versions, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startLocked starts the next read (g.mu held).
func (g *versionGate) startLocked() {
	r := g.next
	g.next, g.running = nil, true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r.versions, r.err = g.read(ctx)
		cancel()
		close(r.done)
		g.mu.Lock()
		g.running = false
		if g.next != nil {
			g.startLocked()
		}
		g.mu.Unlock()
	}()
}

// memEligible reports whether tiles of d at zoom z may be drawn from memory.
func (t *Tiler) memEligible(d *layerDef, z int) bool {
	if t.mem.budget < 0 || d.Live || z < memMinZoom || d.sqlMemAll == "" {
		return false
	}
	return d.sqlCluster == "" || z > t.opts.ClusterMaxZoom
}

// layer returns the copy of d when it is loaded, and starts loading it otherwise.
func (s *memStore) layer(d *layerDef) *memLayer {
	s.mu.Lock()
	ml := s.layers[d.Slug]
	if ml != nil && ml.fingerprint != d.fingerprint {
		// The layer's definition changed: its properties may differ.
		s.dropLocked(ml)
		ml = nil
	}
	if ml == nil {
		ml = &memLayer{store: s, slug: d.Slug, fingerprint: d.fingerprint}
		s.layers[d.Slug] = ml
		s.mu.Unlock()
		s.t.background(func(ctx context.Context) { s.load(ctx, d, ml) })
		return nil
	}
	s.mu.Unlock()
	if ml.tooBig.Load() {
		return nil
	}
	return ml
}

func (s *memStore) dropLocked(ml *memLayer) {
	delete(s.layers, ml.slug)
	ml.mu.Lock()
	s.used -= ml.counted
	ml.dropped = true
	ml.ready, ml.feats, ml.byID, ml.cells, ml.big, ml.bytes, ml.counted = false, nil, nil, nil, nil, 0, 0
	ml.mu.Unlock()
}

// flush drops every copy (the listener lost its connection: changes may go unheard).
func (s *memStore) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ml := range s.layers {
		s.dropLocked(ml)
	}
}

// drop drops one layer's copy.
func (s *memStore) drop(slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ml := s.layers[slug]; ml != nil {
		s.dropLocked(ml)
	}
}

// load reads the whole layer, in one snapshot with its version.
func (s *memStore) load(ctx context.Context, d *layerDef, ml *memLayer) {
	start := time.Now()
	err := s.read(ctx, d, ml, nil)
	if err != nil {
		s.mu.Lock()
		if s.layers[d.Slug] == ml {
			if errors.Is(err, errMemBudget) {
				ml.tooBig.Store(true) // stays, so that it is not tried again until the catalog changes
			} else {
				delete(s.layers, d.Slug)
			}
		}
		s.mu.Unlock()
		s.t.logger.Info("tiles: layer not held in memory; its tiles come from the database", "layer", d.Slug, "error", err)
		return
	}
	ml.mu.RLock()
	n, mib, v := len(ml.byID), ml.bytes>>20, ml.version
	ml.mu.RUnlock()
	s.t.logger.Info("tiles: layer held in memory", "layer", d.Slug, "features", n, "mib", mib, "version", v,
		"took", time.Since(start).Round(time.Millisecond).String())
	ml.catchUp()
}

var errMemBudget = errors.New("tiles: the layer does not fit the tile memory budget")

// read loads the layer (box nil) or, once loaded, the features whose bounding box meets box, in
// one REPEATABLE READ snapshot, and returns the version read; features of the copy that meet box
// are replaced by what was read. With box, the change is applied only when the version read is
// want (every change up to it heard); otherwise nothing changes and read reports errMemBehind.
func (s *memStore) read(ctx context.Context, d *layerDef, ml *memLayer, box *orb.Bound, want ...int64) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	tx, err := s.t.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var version int64
	if err := tx.QueryRow(ctx, `SELECT version FROM geoportal.layers WHERE slug = $1`, d.Slug).Scan(&version); err != nil {
		return fmt.Errorf("layer version: %w", err)
	}
	if box != nil && (len(want) == 0 || version != want[0]) {
		return errMemBehind
	}
	var rows pgx.Rows
	if box == nil {
		rows, err = tx.Query(ctx, d.sqlMemAll)
	} else {
		rows, err = tx.Query(ctx, d.sqlMemBox, box.Min[0], box.Min[1], box.Max[0], box.Max[1])
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	var fresh []memFeature
	var bytes int64
	var ar arena
	fds := rows.FieldDescriptions()
	for rows.Next() {
		vals := rows.RawValues()
		id, err := rawInt(fds[0], vals[0])
		if err != nil {
			return fmt.Errorf("id: %w", err)
		}
		b, err := wkbBound(vals[1])
		if err != nil {
			return fmt.Errorf("feature %d: %w", id, err)
		}
		f := memFeature{id: id, b: b, wkb: ar.bytes(vals[1]), alive: true}
		if len(vals) > 2 {
			f.vals = ar.values(len(vals) - 2)
		}
		for i := range f.vals {
			v, fd := vals[2+i], fds[2+i]
			if v == nil {
				continue
			}
			mv := &f.vals[i]
			switch fd.DataTypeOID {
			case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
				n, err := rawInt(fd, v)
				if err != nil {
					return err
				}
				mv.kind, mv.n = 'i', uint64(n)
			case pgtype.Float4OID, pgtype.Float8OID:
				x, err := rawFloat(fd, v)
				if err != nil {
					return err
				}
				mv.kind, mv.n = 'd', math.Float64bits(x)
			case pgtype.BoolOID:
				mv.kind = 'b'
				if v[0] == 1 || v[0] == 't' {
					mv.n = 1
				}
			default:
				mv.kind, mv.s = 's', ar.bytes(v)
			}
			bytes += int64(len(mv.s))
		}
		bytes += featureBytes(&f)
		fresh = append(fresh, f)
		if box == nil && len(fresh)%4096 == 0 && s.over(bytes) {
			return errMemBudget
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if box == nil && s.over(bytes) {
		return errMemBudget
	}
	ml.mu.Lock()
	if ml.dropped {
		ml.mu.Unlock()
		return errMemDropped
	}
	if box == nil {
		ml.feats, ml.byID, ml.cells, ml.big, ml.dead = make([]memFeature, 0, len(fresh)), map[int64]int32{}, map[[2]int32][]int32{}, nil, 0
		ml.bytes, ml.strs, ml.strList = 0, map[string]uint32{}, nil
	} else {
		// Out goes every feature the change's extent meets: what was read there replaces it.
		for i := range ml.feats {
			f := &ml.feats[i]
			if f.alive && f.b.Intersects(*box) {
				f.alive = false
				delete(ml.byID, f.id)
				ml.dead++
				ml.bytes -= featureBytes(f)
			}
		}
	}
	for _, f := range fresh {
		ml.intern(f.vals)
		if i, ok := ml.byID[f.id]; ok { // met the box by PostgreSQL's rounding, not by ours
			ml.feats[i].alive = false
			ml.dead++
			ml.bytes -= featureBytes(&ml.feats[i])
		}
		ml.add(f)
		ml.bytes += featureBytes(&f)
	}
	if ml.dead > 1024 && ml.dead > len(ml.feats)/4 {
		ml.compact()
	}
	ml.version = version
	ml.ready = true
	if box == nil {
		// Counted as it is published, not after: whoever sees the copy ready sees it counted.
		s.t.metrics.memLoads.Inc()
	}
	delta := ml.bytes - ml.counted
	ml.counted = ml.bytes
	ml.mu.Unlock()
	// The store's lock is taken after the layer's is let go (dropLocked takes them the other way).
	s.mu.Lock()
	s.used += delta
	s.mu.Unlock()
	return nil
}

var errMemDropped = errors.New("tiles: layer copy dropped meanwhile")

var errMemBehind = errors.New("tiles: changes committed but not heard yet")

func featureBytes(f *memFeature) int64 {
	n := int64(len(f.wkb)) + 96 + int64(len(f.vals))*40
	for _, v := range f.vals {
		n += int64(len(v.s))
	}
	return n
}

// over reports whether n more bytes would exceed the budget.
func (s *memStore) over(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget >= 0 && s.used+n > s.budget
}

func (s *memStore) usedBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// intern replaces text values by the layer's one copy of each and numbers them (ml.mu held for
// writing).
func (ml *memLayer) intern(vals []memValue) {
	for k := range vals {
		v := &vals[k]
		if v.kind != 's' {
			continue
		}
		id, ok := ml.strs[string(v.s)]
		if !ok {
			id = uint32(len(ml.strList))
			ml.strList = append(ml.strList, v.s)
			ml.strs[string(v.s)] = id
		}
		v.n, v.s = uint64(id), ml.strList[id]
	}
}

// add indexes a feature (ml.mu held for writing).
func (ml *memLayer) add(f memFeature) {
	i := int32(len(ml.feats))
	ml.feats = append(ml.feats, f)
	ml.byID[f.id] = i
	x0, y0 := memCellOf(f.b.Min)
	x1, y1 := memCellOf(f.b.Max)
	if int64(x1-x0+1)*int64(y1-y0+1) > memMaxCells {
		ml.big = append(ml.big, i)
		return
	}
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			ml.cells[[2]int32{x, y}] = append(ml.cells[[2]int32{x, y}], i)
		}
	}
}

// compact rebuilds the index without the features taken out.
func (ml *memLayer) compact() {
	old := ml.feats
	ml.feats, ml.byID, ml.cells, ml.big, ml.dead = make([]memFeature, 0, len(old)-ml.dead), map[int64]int32{}, map[[2]int32][]int32{}, nil, 0
	for _, f := range old {
		if f.alive {
			ml.add(f)
		}
	}
}

func memCellOf(p orb.Point) (int32, int32) {
	return int32(math.Floor(p[0] / memCell)), int32(math.Floor(p[1] / memCell))
}

// query calls fn, in order of id, for the live features whose bounding box meets box (ml.mu held
// for reading). A feature indexed in several cells is taken in one: the cell holding the lower
// left corner of its overlap with box.
func (ml *memLayer) query(box orb.Bound, buf []int32) []int32 {
	out := buf[:0]
	x0, y0 := memCellOf(box.Min)
	x1, y1 := memCellOf(box.Max)
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			for _, i := range ml.cells[[2]int32{x, y}] {
				f := &ml.feats[i]
				if !f.alive || !f.b.Intersects(box) {
					continue
				}
				cx, cy := memCellOf(orb.Point{max(box.Min[0], f.b.Min[0]), max(box.Min[1], f.b.Min[1])})
				if cx == x && cy == y {
					out = append(out, i)
				}
			}
		}
	}
	for _, i := range ml.big {
		if f := &ml.feats[i]; f.alive && f.b.Intersects(box) {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b int32) int {
		fa, fb := ml.feats[a].id, ml.feats[b].id
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	})
	return out
}

// heard records a change of the layer and brings the copy up to date in the background.
func (s *memStore) heard(slug string, c change) {
	s.mu.Lock()
	ml := s.layers[slug]
	s.mu.Unlock()
	if ml == nil || ml.tooBig.Load() {
		return
	}
	ml.pmu.Lock()
	ml.pending = append(ml.pending, c)
	start := !ml.busy
	ml.busy = true
	ml.pmu.Unlock()
	if start {
		s.t.background(func(ctx context.Context) { ml.run(ctx) })
	}
}

// catchUp applies the changes heard while the layer was loading.
func (ml *memLayer) catchUp() {
	ml.pmu.Lock()
	start := !ml.busy && len(ml.pending) > 0
	ml.busy = ml.busy || start
	ml.pmu.Unlock()
	if start {
		ml.store.t.background(func(ctx context.Context) { ml.run(ctx) })
	}
}

// run applies pending changes until none is left: the features in the changes' extent are read
// again. A change that names no extent (TRUNCATE), a gap in the versions heard, or changes
// committed but not heard for long make it read the whole layer again.
func (ml *memLayer) run(ctx context.Context) {
	s := ml.store
	var d *layerDef
	if cat := s.t.catalog.Load(); cat != nil {
		d = cat.defs[ml.slug]
	}
	behind := 0
	for ctx.Err() == nil {
		ml.mu.RLock()
		ready, version := ml.ready, ml.version
		ml.mu.RUnlock()
		ml.pmu.Lock()
		if !ready {
			ml.busy = false // load calls catchUp when done
			ml.pmu.Unlock()
			return
		}
		// Changes the copy already holds (heard while it loaded) are done.
		ml.pending = slices.DeleteFunc(ml.pending, func(c change) bool { return c.version <= version })
		if len(ml.pending) == 0 {
			ml.busy = false
			ml.pmu.Unlock()
			return
		}
		cs := slices.Clone(ml.pending)
		ml.pmu.Unlock()
		slices.SortFunc(cs, func(a, b change) int { return int(a.version - b.version) })
		whole := d == nil || d.fingerprint != ml.fingerprint
		var box orb.Bound
		for k, c := range cs {
			if c.bbox == nil || c.version != version+int64(k)+1 {
				whole = true
				break
			}
			if k == 0 {
				box = *c.bbox
			} else {
				box = box.Union(*c.bbox)
			}
		}
		if whole {
			s.drop(ml.slug)
			ml.pmu.Lock()
			ml.busy = false
			ml.pmu.Unlock()
			return // loaded afresh on the next tile that asks
		}
		box = box.Pad(1e-9)
		err := s.read(ctx, d, ml, &box, cs[len(cs)-1].version)
		switch {
		case err == nil:
			behind = 0
			continue
		case errors.Is(err, errMemBehind) && behind < 100:
			// Later changes are committed and their notifications on the way.
			behind++
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			s.t.logger.Info("tiles: layer copy dropped", "layer", ml.slug, "error", err)
		}
		s.drop(ml.slug)
		ml.pmu.Lock()
		ml.busy = false
		ml.pmu.Unlock()
		return
	}
}

// memTile draws a tile of d from its copy when the copy holds the layer's current version, and
// reports false (nothing drawn) otherwise.
func (t *Tiler) memTile(ctx context.Context, d *layerDef, ml *memLayer, tile tileArgs, enc *layerEncoder, keys []uint32) (
	drawn bool, version int64, count int, again []int64, err error) {
	versions, err := t.mem.versions.get(ctx)
	if err != nil {
		return false, 0, 0, nil, err
	}
	version, ok := versions[d.Slug]
	if !ok {
		// The layer was dropped meanwhile: so is its copy; the database's answer follows.
		t.mem.drop(d.Slug)
		return false, 0, 0, nil, nil
	}
	ml.mu.RLock()
	defer ml.mu.RUnlock()
	if !ml.ready || ml.version != version {
		return false, 0, 0, nil, nil
	}
	idx := ml.query(tile.filter, nil)
	for _, i := range idx {
		if count > t.opts.MaxFeatures {
			break // one past the cap: the tile is truncated, as the database's LIMIT cap + 1 tells
		}
		f := &ml.feats[i]
		typ := mvtPolygon
		switch d.GeometryType {
		case "LineString", "MultiLineString":
			typ = mvtLineString
			if err := enc.drawLine(f.wkb, tile.m, tile.tol); err != nil {
				if errors.Is(err, errNeedsExact) {
					again = append(again, f.id)
					count++
					continue
				}
				return false, 0, 0, nil, fmt.Errorf("feature %d: %w", f.id, err)
			}
			if len(enc.geom) == 0 {
				continue
			}
		case "Point", "MultiPoint":
			typ = mvtPoint
			ok, err := enc.drawPoint(f.wkb, tile.m)
			if err != nil {
				if errors.Is(err, errNeedsExact) {
					again = append(again, f.id)
					count++
					continue
				}
				return false, 0, 0, nil, fmt.Errorf("feature %d: %w", f.id, err)
			}
			if !ok {
				continue
			}
		default:
			// A polygon reaching past the tile's buffer is cut to it first (below z14 always:
			// the inner box is drawn in degrees, the tile in Mercator).
			clip := tile.m.merc || !tile.inner.Contains(f.b.Min) || !tile.inner.Contains(f.b.Max)
			if err := enc.drawPolygonClipped(f.wkb, tile.m, clip, tile.tol); err != nil {
				if errors.Is(err, errNeedsExact) {
					again = append(again, f.id)
					count++
					continue
				}
				return false, 0, 0, nil, fmt.Errorf("feature %d: %w", f.id, err)
			}
			if len(enc.geom) == 0 {
				continue
			}
		}
		if count++; count > t.opts.MaxFeatures {
			enc.tags = enc.tags[:0]
			continue
		}
		for k, v := range f.vals {
			var vi uint32
			switch v.kind {
			case 0:
				continue
			case 'i':
				vi = enc.intValue(int64(v.n))
			case 'd':
				vi = enc.doubleValue(math.Float64frombits(v.n))
			case 'b':
				vi = enc.boolValue(v.n == 1)
			default:
				vi = enc.internedValue(uint32(v.n), v.s)
			}
			enc.property(keys[k], vi)
		}
		enc.emit(uint64(f.id), typ)
	}
	t.metrics.memTiles.Inc()
	return true, version, count, again, nil
}

// tileArgs are a tile's boxes in degrees and its map onto tile coordinates.
type tileArgs struct {
	filter orb.Bound // the tile and its buffer: the features to consider
	inner  orb.Bound // where a polygon is drawn in Go without clipping (fastBound)
	m      lonLatMap
	tol    float64 // simplification tolerance in tile units (0: none)
	// the query drawing, by ST_AsMVTGeom, the features whose ids follow its arguments
	exactSQL  string
	exactArgs []any
}

// wkbBound is the bounding box of a 2D WKB geometry.
func wkbBound(b []byte) (orb.Bound, error) {
	r := &wkb.Reader{B: b}
	bound := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	var walk func(depth int) error
	points := func(n uint32) error {
		if uint64(n)*16 > uint64(len(r.B)) {
			return wkb.ErrTruncated
		}
		for range n {
			x := math.Float64frombits(r.Order.Uint64(r.B))
			y := math.Float64frombits(r.Order.Uint64(r.B[8:]))
			r.B = r.B[16:]
			if !math.IsNaN(x) { // POINT EMPTY is NaN, NaN
				bound = bound.Extend(orb.Point{x, y})
			}
		}
		return nil
	}
	walk = func(depth int) error {
		t, err := header(r)
		if err != nil {
			return err
		}
		switch t {
		case 1:
			return points(1)
		case 2:
			n, err := r.Count()
			if err != nil {
				return err
			}
			return points(n)
		case 3:
			rings, err := r.Count()
			if err != nil {
				return err
			}
			for range rings {
				n, err := r.Count()
				if err != nil {
					return err
				}
				if err := points(n); err != nil {
					return err
				}
			}
			return nil
		case 4, 5, 6, 7:
			if depth > 2 {
				return errors.New("tiles: WKB nested too deep")
			}
			parts, err := r.Count()
			if err != nil {
				return err
			}
			for range parts {
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("%w: WKB type %d", errUnsupportedGeometry, t)
	}
	if err := walk(0); err != nil {
		return orb.Bound{}, err
	}
	if bound.Min[0] > bound.Max[0] {
		return orb.Bound{}, nil // empty geometry: indexed at the origin, met by no tile there
	}
	return bound, nil
}

// drawPoint writes into e.geom a stored point (2D WKB in degrees) mapped by m, and reports
// whether it lies in the tile and its buffer (ST_AsMVTGeom drops it otherwise). A point that
// comes within a unit of the buffer's edge, and anything but a single point, is left to
// ST_AsMVTGeom (errNeedsExact).
func (e *layerEncoder) drawPoint(data []byte, m lonLatMap) (bool, error) {
	e.geom = e.geom[:0]
	r := &wkb.Reader{B: data}
	t, err := header(r)
	if err != nil {
		if errors.Is(err, errUnsupportedGeometry) {
			return false, errNeedsExact
		}
		return false, err
	}
	if t != 1 || len(r.B) < 16 {
		return false, errNeedsExact
	}
	lon := math.Float64frombits(r.Order.Uint64(r.B))
	lat := math.Float64frombits(r.Order.Uint64(r.B[8:]))
	if math.IsNaN(lon) || math.IsNaN(lat) {
		return false, nil
	}
	x, y := m.apply(lon, lat)
	const lo, hi = -Buffer, Extent + Buffer
	if x < lo-1 || x > hi+1 || y < lo-1 || y > hi+1 {
		return false, nil
	}
	if x < lo+1 || x > hi-1 || y < lo+1 || y > hi-1 {
		return false, errNeedsExact
	}
	e.geom = append(e.geom, cmdMoveTo|1<<3, zigzag32(int32(math.RoundToEven(x))), zigzag32(int32(math.RoundToEven(y))))
	return true, nil
}

// arena hands out the copies' byte slices and value lists from large blocks: one allocation per
// block instead of several per feature (loading 150,000 buildings: 0.74 s → 0.53 s).
type arena struct {
	b    []byte
	vals []memValue
}

func (a *arena) bytes(p []byte) []byte {
	if len(a.b)+len(p) > cap(a.b) {
		a.b = make([]byte, 0, max(1<<20, len(p)))
	}
	start := len(a.b)
	a.b = append(a.b, p...)
	return a.b[start:len(a.b):len(a.b)]
}

func (a *arena) values(n int) []memValue {
	if len(a.vals)+n > cap(a.vals) {
		a.vals = make([]memValue, 0, max(1<<14, n))
	}
	start := len(a.vals)
	a.vals = a.vals[:start+n]
	return a.vals[start : start+n : start+n]
}
