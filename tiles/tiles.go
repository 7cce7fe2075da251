// Package tiles builds Mapbox Vector Tiles of the catalog's layers in PostGIS, caches them in
// memory and keeps the cache exact through the layer_changed notifications of the database.
//
//	t := tiles.New(pool, store, logger, registry, tiles.Options{})
//	go t.Invalidator().Run(ctx) // tiles are cached only while it listens
//	tile, err := t.Tile(ctx, "buildings,streets", 14, 10878, 5593, false)
package tiles

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/replica"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klauspost/compress/gzip"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"
)

// Options tune the tile server; zero values take the defaults.
type Options struct {
	CacheBytes     int64         // in-memory cache budget (default 256 MiB)
	MaxFeatures    int           // features per layer per tile before the rest is left out (default 20,000)
	MaxLayers      int           // layers in one composite tile (default 12)
	ClusterMaxZoom int           // point layers are clustered at zooms up to this one (default 12; -1 never)
	SimplifyBelow  int           // lines and polygons are simplified at zooms below this one (default 14)
	CatalogTTL     time.Duration // how long the catalog is reused before it is read again (default 2 s)
	QueryTimeout   time.Duration // bound of one tile query (default 30 s)
	GzipLevel      int           // gzip level of stored tiles (default 1, fastest: 11 % more bytes than 6, a third of the CPU)
	DiskDir        string        // directory of the disk tier of the cache (disk.go); empty: none
	// bytes the copies of point and polygon layers held in memory for drawing tiles may take
	// (memstore.go; default 512 MiB; negative: none, every tile is read from PostgreSQL)
	MemoryBytes int64
	// Reads runs the tile queries when set: a replica.Reads, so that they go to a read replica
	// that has replayed every change this node heard of (else the primary). Nil: the pool.
	Reads Querier
}

// Querier runs a query: a *pgxpool.Pool or a *replica.Reads.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (o Options) withDefaults() Options {
	if o.CacheBytes <= 0 {
		o.CacheBytes = 256 << 20
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 20000
	}
	if o.MaxLayers <= 0 {
		o.MaxLayers = 12
	}
	if o.ClusterMaxZoom == 0 {
		o.ClusterMaxZoom = 12
	}
	if o.SimplifyBelow == 0 {
		o.SimplifyBelow = linearFromZoom
	}
	if o.CatalogTTL <= 0 {
		o.CatalogTTL = 2 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 30 * time.Second
	}
	if o.MemoryBytes == 0 {
		o.MemoryBytes = 512 << 20
	}
	if o.GzipLevel == 0 {
		o.GzipLevel = gzip.BestSpeed
	}
	return o
}

// dataless is the version of a layer's part of a tile that does not depend on its data (outside
// the layer's zoom range): no change makes it stale.
const dataless = math.MaxInt64

// Tiler serves the tiles of the catalog's layers.
type Tiler struct {
	pool    *pgxpool.Pool // the primary: the change listener, the catalog, the in-memory copies
	reads   Querier       // tile queries: the primary or a fresh read replica (Options.Reads)
	store   *layers.Store
	logger  *slog.Logger
	opts    Options
	cache   *Cache
	metrics *metrics
	group   singleflight.Group
	inv     *Invalidator
	disk    *diskTier // nil without Options.DiskDir
	mem     *memStore

	catalog     atomic.Pointer[catalog]
	refreshing  atomic.Bool
	refreshLock sync.Mutex

	gzipPool sync.Pool

	brotliOnce sync.Once
	brotliJobs chan *entry // tiles waiting for brotli (brotli.go)
}

// catalog is a snapshot of the layer catalog compiled for tiles.
type catalog struct {
	at   time.Time
	defs map[string]*layerDef
}

// Tile is one answer: the tile in both encodings, its entity tag and whether it holds live data.
type Tile struct {
	Raw  []byte // uncompressed MVT; empty when the tile has no features
	Gzip []byte // gzip-compressed MVT; nil when the tile has no features
	ETag string // weak entity tag (the same content has the same tag in both encodings)
	Live bool   // a layer in the tile changes continuously: cache it briefly
	// Private is set when a layer in the tile is staff-only: the answer depends on who asks and
	// must not be kept by a shared cache (see web.writeTile).
	Private bool
	Hit     bool // answered from the memory cache
	Disk    bool // answered from the disk tier of the cache
	// brotli-compressed MVT, when made (see RequestBrotli); nil for an empty tile
	Brotli []byte

	entry *entry // the cached tile behind a hit
}

// Empty reports whether the tile has no features.
func (t *Tile) Empty() bool { return len(t.Raw) == 0 }

// New returns a tile server over pool and the catalog in store, registering its metrics in reg.
func New(pool *pgxpool.Pool, store *layers.Store, logger *slog.Logger, reg prometheus.Registerer, opts Options) *Tiler {
	t := &Tiler{store: store, logger: logger, opts: opts.withDefaults()}
	t.pool, t.reads = pool, opts.Reads
	if t.reads == nil {
		t.reads = pool
	}
	t.cache = NewCache(t.opts.CacheBytes)
	t.mem = newMemStore(t, t.opts.MemoryBytes)
	t.metrics = newMetrics(reg, t.cache, t.mem)
	t.inv = newInvalidator(t)
	if t.opts.DiskDir != "" {
		t.disk = &diskTier{dir: t.opts.DiskDir}
	}
	level := t.opts.GzipLevel
	t.gzipPool.New = func() any {
		w, _ := gzip.NewWriterLevel(nil, level)
		return w
	}
	return t
}

// Invalidator returns the listener that keeps the cache exact; run it for the tiler's lifetime.
func (t *Tiler) Invalidator() *Invalidator { return t.inv }

// NewPool opens a connection pool for tile queries from the application pool's configuration
// (PoolConfig).
func NewPool(ctx context.Context, base *pgxpool.Config, maxConns int32) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, PoolConfig(base, maxConns))
	if err != nil {
		return nil, fmt.Errorf("tiles: open pool: %w", err)
	}
	return pool, nil
}

// PoolConfig is a copy of base for tile queries, with PostgreSQL's parallel query and JIT
// compilation off: both make the short, index-driven tile queries slower on a few cores (a heavy
// tile took 70 ms with parallel workers, 30 ms without). It is used for the primary's tile pool
// and for each read replica's.
func PoolConfig(base *pgxpool.Config, maxConns int32) *pgxpool.Config {
	cfg := base.Copy()
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	return cfg
}

// ServeStats counts an answer to a tile request in the metrics: its HTTP status and body size.
func (t *Tiler) ServeStats(status int, bodyBytes int) {
	if c := t.metrics.servedBy[status]; c != nil {
		c.Inc()
	} else {
		t.metrics.served.WithLabelValues(strconv.Itoa(status)).Inc()
	}
	t.metrics.sentBytes.Add(float64(bodyBytes))
}

// ParseLayers splits a layer list such as "buildings,streets" and checks it against the catalog:
// a name that is not a layer, or a staff-only layer when staff is false, is "not found".
func (t *Tiler) ParseLayers(ctx context.Context, list string, staff bool) ([]*layerDef, error) {
	if list == "" {
		return nil, geoportal.Errorf(geoportal.EINVALID, "no layer named in the tile path")
	}
	names := strings.Split(list, ",")
	if len(names) > t.opts.MaxLayers {
		return nil, geoportal.Errorf(geoportal.EINVALID, "%d layers requested in one tile; at most %d are allowed",
			len(names), t.opts.MaxLayers)
	}
	defs := make([]*layerDef, 0, len(names))
	for i, name := range names {
		if name == "" {
			return nil, geoportal.Errorf(geoportal.EINVALID, "layer list %q has an empty name", list)
		}
		for _, prev := range names[:i] {
			if prev == name {
				return nil, geoportal.Errorf(geoportal.EINVALID, "layer %q is listed twice", name)
			}
		}
		d, err := t.layer(ctx, name)
		if err != nil {
			return nil, err
		}
		if !staff && !d.Public() {
			return nil, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", name)
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// layer finds a layer in the catalog snapshot, reading the catalog again when the snapshot is old
// or does not know the name (a layer created a moment ago).
func (t *Tiler) layer(ctx context.Context, name string) (*layerDef, error) {
	if !layers.ValidSlug(name) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", truncate(name, 64))
	}
	c, err := t.currentCatalog(ctx)
	if err != nil {
		return nil, err
	}
	if d := c.defs[name]; d != nil {
		return d, nil
	}
	// Not in the snapshot: read the catalog again only when the layer exists, so that requests
	// for made-up names cost one index lookup each.
	var exists bool
	if err := t.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM geoportal.layers WHERE slug = $1)`,
		name).Scan(&exists); err != nil {
		return nil, fmt.Errorf("tiles: look up layer %s: %w", name, err)
	}
	if !exists {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", name)
	}
	if c, err = t.refreshCatalog(ctx, c); err != nil {
		return nil, err
	}
	if d := c.defs[name]; d != nil {
		return d, nil
	}
	return nil, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", name)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// currentCatalog returns the catalog snapshot; a stale one is refreshed in the background while it
// keeps serving, and the first one is read synchronously.
func (t *Tiler) currentCatalog(ctx context.Context) (*catalog, error) {
	c := t.catalog.Load()
	if c == nil {
		return t.refreshCatalog(ctx, nil)
	}
	t.refreshIfStale(c)
	return c, nil
}

// refreshIfStale starts reading the catalog again in the background when snapshot c is older
// than the catalog TTL.
func (t *Tiler) refreshIfStale(c *catalog) {
	if time.Since(c.at) > t.opts.CatalogTTL && t.refreshing.CompareAndSwap(false, true) {
		go func() {
			defer t.refreshing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := t.refreshCatalog(ctx, c); err != nil {
				t.logger.Warn("tiles: catalog refresh failed", "error", err)
			}
		}()
	}
}

// Cached returns the tile z/x/y of the layers in list if the cache holds it and every layer in it
// is public, so that who asks does not matter: the lean path of cache hits, which needs neither
// the caller's identity nor the database. It reports false otherwise (a miss, a staff-only or
// unknown layer, a bad list); Tile then gives the full answer. z, x and y are the numbers of the
// request path; the cache only holds tiles whose coordinates Tile checked.
func (t *Tiler) Cached(list string, z, x, y int) (Tile, bool) {
	c := t.catalog.Load()
	if c == nil || len(list) > 1024 {
		return Tile{}, false
	}
	t.refreshIfStale(c)
	live := false
	n := 0
	for rest := list; ; {
		name, more, found := strings.Cut(rest, ",")
		d := c.defs[name]
		if d == nil || !d.Public() {
			return Tile{}, false
		}
		live = live || d.Live
		if n++; n > t.opts.MaxLayers {
			return Tile{}, false
		}
		if !found {
			break
		}
		rest = more
	}
	var buf [160]byte
	key := append(buf[:0], list...)
	key = append(key, '/')
	key = strconv.AppendInt(key, int64(z), 10)
	key = append(key, '/')
	key = strconv.AppendInt(key, int64(x), 10)
	key = append(key, '/')
	key = strconv.AppendInt(key, int64(y), 10)
	e := t.cache.getBytes(key)
	if e == nil {
		return Tile{}, false
	}
	t.metrics.hits.Inc()
	return Tile{Raw: e.raw, Gzip: e.gz, ETag: e.etag, Live: live, Hit: true, Brotli: e.brotli(), entry: e}, true
}

// RefreshCatalog reads the catalog now: after a layer's catalog entry changed (layers/manage.go),
// so that tiles and TileJSON follow at once rather than within the catalog TTL.
func (t *Tiler) RefreshCatalog(ctx context.Context) error {
	_, err := t.refreshCatalog(ctx, t.catalog.Load())
	return err
}

// refreshCatalog reads the catalog unless another caller already replaced seen meanwhile. Tiles
// of layers whose definition changed or that were dropped leave the cache.
func (t *Tiler) refreshCatalog(ctx context.Context, seen *catalog) (*catalog, error) {
	t.refreshLock.Lock()
	defer t.refreshLock.Unlock()
	if c := t.catalog.Load(); c != nil && c != seen {
		return c, nil
	}
	// From the primary: a refresh follows a layer found there (or a dropped table), and the
	// snapshot then serves for CatalogTTL, so it must not be older than what the primary has.
	ls, err := t.store.Layers(replica.OnPrimary(ctx), true)
	if err != nil {
		return nil, fmt.Errorf("tiles: read catalog: %w", err)
	}
	next := &catalog{at: time.Now(), defs: make(map[string]*layerDef, len(ls))}
	for _, l := range ls {
		d, err := compileLayer(l)
		if err != nil {
			t.logger.Error("tiles: layer left out", "layer", l.Slug, "error", err)
			continue
		}
		next.defs[l.Slug] = d
	}
	prev := t.catalog.Load()
	t.catalog.Store(next)
	if prev != nil {
		// After the new catalog is in place, so that no tile built from an old definition can
		// enter the cache once its layer's tiles are dropped.
		for slug, old := range prev.defs {
			if d := next.defs[slug]; d == nil || d.fingerprint != old.fingerprint {
				t.inv.dropLayer(slug)
			}
		}
	}
	return next, nil
}

// Tile returns the tile z/x/y of the layers in list (one slug, or several separated by commas).
func (t *Tiler) Tile(ctx context.Context, list string, z, x, y int, staff bool) (*Tile, error) {
	defs, err := t.ParseLayers(ctx, list, staff)
	if err != nil {
		return nil, err
	}
	tile, err := geo.ParseTile(z, x, y)
	if err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "tile %d/%d/%d: %v", z, x, y, err)
	}
	key := list + "/" + strconv.Itoa(z) + "/" + strconv.Itoa(x) + "/" + strconv.Itoa(y)
	live, private := false, false
	for _, d := range defs {
		live = live || d.Live
		private = private || !d.Public()
	}
	if e := t.cache.get(key); e != nil {
		t.metrics.hits.Inc()
		return &Tile{Raw: e.raw, Gzip: e.gz, ETag: e.etag, Live: live, Private: private, Hit: true, Brotli: e.brotli(), entry: e}, nil
	}
	t.metrics.misses.Inc()
	if len(defs) == 1 {
		e, err := t.layerTile(ctx, defs[0], tile)
		if err != nil {
			return nil, err
		}
		return &Tile{Raw: e.raw, Gzip: e.gz, ETag: e.etag, Live: live, Private: private, Disk: e.disk}, nil
	}
	// A composite is the concatenation of its layers' tiles (an MVT is a list of layers), each
	// taken from the cache or built concurrently.
	parts := make([]*entry, len(defs))
	g, gctx := errgroup.WithContext(ctx)
	for i, d := range defs {
		g.Go(func() error {
			e, err := t.layerTile(gctx, d, tile)
			parts[i] = e
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	e := &entry{key: key, tile: tile}
	var raw []byte
	for i, p := range parts {
		raw = append(raw, p.raw...)
		e.slugs = append(e.slugs, defs[i].Slug)
		e.versions = append(e.versions, p.versions[0])
		e.fingerprints = append(e.fingerprints, p.fingerprints[0])
	}
	if err := t.seal(e, raw); err != nil {
		return nil, err
	}
	t.inv.store(e)
	return &Tile{Raw: e.raw, Gzip: e.gz, ETag: e.etag, Live: live, Private: private}, nil
}

// layerTile returns one layer's tile from the cache, or builds it once however many requests ask
// for it at the same time.
func (t *Tiler) layerTile(ctx context.Context, d *layerDef, tile maptile.Tile) (*entry, error) {
	key := d.Slug + "/" + strconv.Itoa(int(tile.Z)) + "/" + strconv.Itoa(int(tile.X)) + "/" + strconv.Itoa(int(tile.Y))
	if e := t.cache.get(key); e != nil {
		return e, nil
	}
	if int(tile.Z) < d.MinZoom || int(tile.Z) > d.MaxZoom {
		// Outside the layer's zoom range the tile is empty whatever the data; nothing to cache.
		return &entry{key: key, tile: tile, slugs: []string{d.Slug}, versions: []int64{dataless},
			fingerprints: []string{d.fingerprint}}, nil
	}
	ch := t.group.DoChan(key, func() (any, error) {
		// Built detached from the first caller so that its going away does not fail the others.
		if e := t.fromDisk(d, tile, key); e != nil {
			t.metrics.diskHits.Inc()
			t.inv.store(e)
			return e, nil
		}
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.opts.QueryTimeout)
		defer cancel()
		e, err := t.build(qctx, d, tile, key)
		if err != nil {
			return nil, err
		}
		if t.inv.store(e) {
			t.toDisk(d, e)
		}
		return e, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*entry), nil
	}
}

// build runs the layer's tile query.
func (t *Tiler) build(ctx context.Context, d *layerDef, tile maptile.Tile, key string) (*entry, error) {
	start := time.Now()
	mb := geo.MercatorBound(tile, 0)
	fb := geo.LonLatBound(tile, bufferFraction)
	args := []any{d.Slug, mb.Min[0], mb.Min[1], mb.Max[0], mb.Max[1], fb.Min[0], fb.Min[1], fb.Max[0], fb.Max[1], t.opts.MaxFeatures}
	sql := d.sqlPlain
	size := geo.TileSizeMercator(tile.Z)
	switch {
	case d.sqlCluster != "" && int(tile.Z) <= t.opts.ClusterMaxZoom:
		sql = d.sqlCluster
		args = append(args, size/clusterCells)
	case d.GeometryType != "Point" && d.GeometryType != "MultiPoint" && int(tile.Z) < t.opts.SimplifyBelow:
		// Half a pixel of a 512-pixel tile: below what anyone can see, enough to drop the
		// vertices that only add bytes at this scale.
		sql = d.sqlSimplify
		args = append(args, size/1024)
	}
	var fast *fastDraw
	if sql == d.sqlPlain && int(tile.Z) >= linearFromZoom {
		lb := geo.LonLatBound(tile, 0)
		sql = d.sqlLinear
		args[1], args[2], args[3], args[4] = lb.Min[0], lb.Min[1], lb.Max[0], lb.Max[1]
		if d.sqlLinearFast != "" {
			sql = d.sqlLinearFast
			ib := fastBound(lb)
			args = append(args, ib.Min[0], ib.Min[1], ib.Max[0], ib.Max[1])
			fast = &fastDraw{m: newLonLatMap(lb), exactSQL: d.sqlLinearIDs}
		}
	}
	names := d.props
	if sql == d.sqlCluster {
		names = d.clusterProps
	}
	var version int64
	var count int
	var raw []byte
	var err error
	done := false
	if t.memEligible(d, int(tile.Z)) {
		var ta *tileArgs
		switch {
		case sql == d.sqlLinear || sql == d.sqlLinearFast:
			lb := geo.LonLatBound(tile, 0)
			ta = &tileArgs{filter: fb, inner: fastBound(lb), m: newLonLatMap(lb), exactSQL: d.sqlLinearIDs, exactArgs: args[:10]}
		case sql == d.sqlSimplify && d.sqlSimplifyIDs != "":
			// The tolerance, half a pixel of a 512-pixel tile, is four tile units.
			ta = &tileArgs{filter: fb, m: newMercatorMap(mb), tol: Extent / 1024, exactSQL: d.sqlSimplifyIDs, exactArgs: args[:11]}
		case sql == d.sqlPlain && d.sqlPlainIDs != "":
			ta = &tileArgs{filter: fb, m: newMercatorMap(mb), exactSQL: d.sqlPlainIDs, exactArgs: args[:10]}
		}
		if ta != nil {
			if ml := t.mem.layer(d); ml != nil {
				version, count, raw, done, err = t.memQuery(ctx, d, ml, *ta, names)
			}
		}
	}
	if !done && err == nil {
		version, count, raw, err = t.query(ctx, sql, args, names, d.Slug, fast)
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: dropped meanwhile
			t.refreshCatalog(context.WithoutCancel(ctx), t.catalog.Load())
			return nil, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", d.Slug)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, geoportal.Errorf(geoportal.EUNAVAILABLE, "tile %s took longer than %s to build", key, t.opts.QueryTimeout)
		}
		return nil, fmt.Errorf("tiles: build %s: %w", key, err)
	}
	t.metrics.generation.WithLabelValues(metricLabel(d)).Observe(time.Since(start).Seconds())
	if count > t.opts.MaxFeatures {
		// The query stops at one feature past the cap, so the exact number left out is unknown;
		// the counter records at least one per capped tile.
		t.metrics.truncated.WithLabelValues(metricLabel(d)).Add(float64(count - t.opts.MaxFeatures))
		t.logger.Warn("tiles: feature cap reached, tile truncated", "layer", d.Slug, "tile", key,
			"max_features", t.opts.MaxFeatures)
	}
	e := &entry{key: key, tile: tile, slugs: []string{d.Slug}, versions: []int64{version},
		fingerprints: []string{d.fingerprint}}
	if err := t.seal(e, raw); err != nil {
		return nil, err
	}
	return e, nil
}

// fastDraw says that a tile query (sqlLinearFast) returns, after the geometry, a column with the
// stored polygon of the features Go draws itself (lonlat.go), with the map onto the tile and the
// query (sqlLinearIDs) for the features it hands back.
type fastDraw struct {
	m        lonLatMap
	exactSQL string
}

// query runs a tile query and encodes its rows (version, id, WKB, properties named names) as one
// MVT layer named layer. It returns the layer's data version, the number of features the query
// returned (one more than kept when the cap was hit) and the encoded layer. With fast, the rows
// carry the stored polygon after the WKB (see fastDraw).
func (t *Tiler) query(ctx context.Context, sql string, args []any, names []string, layer string, fast *fastDraw) (int64, int, []byte, error) {
	enc := newLayerEncoder()
	defer enc.release()
	keys := make([]uint32, len(names))
	for i, n := range names {
		keys[i] = enc.key(n)
	}
	version, count, again, err := t.encodeRows(ctx, enc, sql, args, keys, names, layer, fast, true)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(again) > 0 {
		// The polygons Go would not draw, from ST_AsMVTGeom. Their rows are read in another
		// snapshot, which can only be newer: the tile keeps the first query's version, so a
		// change in between still drops it from the cache once heard.
		exactArgs := append(append([]any(nil), args[:10]...), again)
		if _, _, _, err := t.encodeRows(ctx, enc, fast.exactSQL, exactArgs, keys, names, layer, nil, false); err != nil {
			return 0, 0, nil, err
		}
	}
	return version, count, enc.finish(layer), nil
}

// memQuery draws a layer's tile from its copy in memory (memstore.go), with ST_AsMVTGeom for the
// features Go does not draw; done is false when the copy does not hold the current version.
func (t *Tiler) memQuery(ctx context.Context, d *layerDef, ml *memLayer, ta tileArgs, names []string) (
	version int64, count int, raw []byte, done bool, err error) {
	enc := newLayerEncoder()
	defer enc.release()
	keys := make([]uint32, len(names))
	for i, n := range names {
		keys[i] = enc.key(n)
	}
	done, version, count, again, err := t.memTile(ctx, d, ml, ta, enc, keys)
	if err != nil || !done {
		return 0, 0, nil, false, err
	}
	if len(again) > 0 {
		exactArgs := append(append([]any(nil), ta.exactArgs...), again)
		if _, _, _, err := t.encodeRows(ctx, enc, ta.exactSQL, exactArgs, keys, names, d.Slug, nil, false); err != nil {
			return 0, 0, nil, false, err
		}
	}
	return version, count, enc.finish(d.Slug), true, nil
}

// background runs fn in its own goroutine, detached from any request.
func (t *Tiler) background(fn func(ctx context.Context)) {
	go fn(context.Background())
}

// encodeRows runs one tile query and adds its features to enc; with fast it returns the ids of
// the polygons left to ST_AsMVTGeom. Only a counting query enforces the feature cap.
func (t *Tiler) encodeRows(ctx context.Context, enc *layerEncoder, sql string, args []any, keys []uint32, names []string,
	layer string, fast *fastDraw, counting bool) (version int64, count int, again []int64, err error) {
	rows, err := t.reads.Query(replica.WithLayers(ctx, layer), sql, args...)
	if err != nil {
		return 0, 0, nil, err
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	first := 3 // the first property's column
	if fast != nil {
		first = 4
	}
	if len(fds) != first+len(names) {
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, 0, nil, err
		}
		return 0, 0, nil, fmt.Errorf("tile query returned %d columns, want %d", len(fds), first+len(names))
	}
	for rows.Next() {
		vals := rows.RawValues()
		if version, err = rawInt(fds[0], vals[0]); err != nil {
			return 0, 0, nil, fmt.Errorf("version: %w", err)
		}
		if vals[1] == nil {
			continue // no features: the version row alone
		}
		if counting {
			count++
			if count > t.opts.MaxFeatures {
				continue
			}
		}
		id, err := rawInt(fds[1], vals[1])
		if err != nil {
			return 0, 0, nil, fmt.Errorf("id: %w", err)
		}
		drawn := fast != nil && vals[3] != nil
		if drawn {
			if err := enc.drawPolygon(vals[3], fast.m); err != nil {
				if errors.Is(err, errNeedsExact) {
					again = append(again, id)
					continue
				}
				return 0, 0, nil, fmt.Errorf("feature %d: %w", id, err)
			}
			if len(enc.geom) == 0 {
				continue // collapsed to nothing at this zoom
			}
		}
		for i := range names {
			v, fd := vals[first+i], fds[first+i]
			if v == nil {
				continue
			}
			var idx uint32
			switch fd.DataTypeOID {
			case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
				n, err := rawInt(fd, v)
				if err != nil {
					return 0, 0, nil, fmt.Errorf("%s: %w", names[i], err)
				}
				idx = enc.intValue(n)
			case pgtype.Float4OID, pgtype.Float8OID:
				f, err := rawFloat(fd, v)
				if err != nil {
					return 0, 0, nil, fmt.Errorf("%s: %w", names[i], err)
				}
				idx = enc.doubleValue(f)
			case pgtype.BoolOID:
				idx = enc.boolValue(v[0] == 1 || v[0] == 't')
			default: // text, and what the query turned into text
				idx = enc.stringValue(v)
			}
			enc.property(keys[i], idx)
		}
		if drawn {
			enc.emit(uint64(id), mvtPolygon)
			continue
		}
		if err := enc.feature(uint64(id), vals[2]); err != nil {
			if errors.Is(err, errUnsupportedGeometry) {
				t.logger.Warn("tiles: feature left out", "layer", layer, "id", id, "error", err)
				continue
			}
			return 0, 0, nil, fmt.Errorf("feature %d: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, nil, err
	}
	return version, count, again, nil
}

// rawInt reads an integer column in either wire format.
func rawInt(fd pgconn.FieldDescription, v []byte) (int64, error) {
	if fd.Format == pgx.TextFormatCode {
		return strconv.ParseInt(string(v), 10, 64)
	}
	switch len(v) {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(v))), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(v))), nil
	case 8:
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	return 0, fmt.Errorf("integer of %d bytes", len(v))
}

// rawFloat reads a floating-point column in either wire format.
func rawFloat(fd pgconn.FieldDescription, v []byte) (float64, error) {
	if fd.Format == pgx.TextFormatCode {
		return strconv.ParseFloat(string(v), 64)
	}
	switch len(v) {
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(v))), nil
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(v)), nil
	}
	return 0, fmt.Errorf("float of %d bytes", len(v))
}

// seal stores raw in e with its compressed form and entity tag. The tag is the CRC-32 and length
// of the tile, which gzip computes anyway (they end the gzip stream).
func (t *Tiler) seal(e *entry, raw []byte) error {
	e.raw = raw
	if len(raw) == 0 {
		e.etag = `W/"0-0"`
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/2 + 64)
	zw := t.gzipPool.Get().(*gzip.Writer)
	zw.Reset(&buf)
	zw.Write(raw)
	err := zw.Close()
	t.gzipPool.Put(zw)
	if err != nil {
		return fmt.Errorf("tiles: gzip %s: %w", e.key, err)
	}
	e.gz = buf.Bytes()
	crc := binary.LittleEndian.Uint32(e.gz[len(e.gz)-8:])
	e.etag = `W/"` + strconv.FormatUint(uint64(crc), 16) + "-" + strconv.FormatUint(uint64(len(raw)), 16) + `"`
	return nil
}
