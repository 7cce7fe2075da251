package tiles

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"
)

// Channel is the PostgreSQL notification channel the layer tables' triggers write to
// (data/migrations/0001_catalog.sql): {"layer": slug, "version": v, "bbox": [w, s, e, n]}.
const Channel = "layer_changed"

// ListenerName is the application_name of the listener's connection (seen in pg_stat_activity).
const ListenerName = "geoportal tiles listener"

// maxChanges is how many recent changes per layer are kept to vet tiles built while they
// happened; a tile built from a version older than the oldest kept change is not cached.
const maxChanges = 1024

// Invalidator listens to the layer_changed notifications on a dedicated connection and drops the
// cached tiles each change touches: those of the changed layer, at every zoom, whose area grown by
// the tile buffer meets the change's bounding box. While it is not connected nothing is cached,
// and when the connection breaks the cache is emptied, because changes may go unheard; it then
// reconnects with back-off. A tile built while a change was committed is checked against the
// changes heard since the version it was built from before it enters the cache.
type Invalidator struct {
	t *Tiler

	mu        sync.RWMutex // held for writing to change state and drop tiles, for reading to add tiles
	connected bool
	base      map[string]int64 // layer versions when the listener connected (or after trimming)
	changes   map[string][]change
	up        chan struct{} // closed while connected
}

type change struct {
	version int64
	bbox    *orb.Bound // nil: the whole layer (TRUNCATE)
}

func newInvalidator(t *Tiler) *Invalidator {
	return &Invalidator{t: t, base: map[string]int64{}, changes: map[string][]change{}, up: make(chan struct{})}
}

// Connected returns a channel that is closed once the listener is connected.
func (i *Invalidator) Connected() <-chan struct{} {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.up
}

// Run listens until ctx ends, reconnecting with back-off (250 ms doubling to 10 s) when the
// connection or the database goes away.
func (i *Invalidator) Run(ctx context.Context) {
	l := data.Listener{
		Config: i.t.pool.Config().ConnConfig, Name: ListenerName, Channels: []string{Channel},
		Connected: i.onConnect,
		Notify: func(ctx context.Context, _ *pgx.Conn, n *pgconn.Notification) error {
			return i.handle(ctx, n.Payload)
		},
		Disconnected: i.disconnect,
		Logger:       i.t.logger,
		Lost:         "tiles: change listener disconnected, tile cache emptied",
	}
	l.Run(ctx)
}

// onConnect reads the layers' versions on the listening connection, after LISTEN (any change
// committed later is heard), and starts caching.
func (i *Invalidator) onConnect(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT slug, version FROM geoportal.layers`)
	if err != nil {
		return fmt.Errorf("read layer versions: %w", err)
	}
	base := map[string]int64{}
	var slug string
	var v int64
	if _, err := pgx.ForEachRow(rows, []any{&slug, &v}, func() error { base[slug] = v; return nil }); err != nil {
		return fmt.Errorf("read layer versions: %w", err)
	}
	i.mu.Lock()
	i.base, i.changes, i.connected = base, map[string][]change{}, true
	close(i.up)
	i.mu.Unlock()
	i.t.logger.Info("tiles: listening for layer changes", "channel", Channel)
	return nil
}

// disconnect stops caching and empties the cache: changes from now on would go unheard.
func (i *Invalidator) disconnect() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.connected {
		i.connected = false
		i.up = make(chan struct{})
	}
	i.t.cache.flush()
	i.t.mem.flush()
}

type notification struct {
	Layer   string      `json:"layer"`
	Version int64       `json:"version"`
	BBox    *[4]float64 `json:"bbox"`
	// Catalog marks a change of the layer's catalog entry (title, visibility, style, deletion:
	// layers/manage.go), not of its features: the catalog is read again.
	Catalog bool `json:"catalog"`
}

// handle applies one notification: the change is recorded and the tiles it touches dropped. An
// unreadable notification empties the cache and fails, so that the listener starts over.
func (i *Invalidator) handle(ctx context.Context, payload string) error {
	i.t.metrics.notifications.Inc()
	var n notification
	if err := json.Unmarshal([]byte(payload), &n); err != nil || n.Layer == "" {
		i.disconnect()
		return fmt.Errorf("unreadable %s notification %q: %v", Channel, truncate(payload, 200), err)
	}
	if n.Catalog {
		// The refreshed catalog drops the tiles of the layer when its definition changed.
		if err := i.t.RefreshCatalog(ctx); err != nil {
			i.t.logger.Warn("tiles: catalog refresh after a layer change failed", "layer", n.Layer, "error", err)
		}
		return nil
	}
	c := change{version: n.Version}
	if n.BBox != nil {
		b := orb.Bound{Min: orb.Point{n.BBox[0], n.BBox[1]}, Max: orb.Point{n.BBox[2], n.BBox[3]}}
		c.bbox = &b
	}
	i.mu.Lock()
	cs := append(i.changes[n.Layer], c)
	if len(cs) > maxChanges {
		i.base[n.Layer] = max(i.base[n.Layer], cs[0].version)
		cs = append([]change(nil), cs[len(cs)-maxChanges:]...)
	}
	i.changes[n.Layer] = cs
	dropped := i.t.cache.invalidate(n.Layer, n.Version, c.bbox)
	i.mu.Unlock()
	i.t.mem.heard(n.Layer, c)
	i.t.metrics.invalidated.Add(float64(dropped))
	i.t.logger.Debug("tiles: layer changed", "layer", n.Layer, "version", n.Version, "tiles_dropped", dropped)
	return nil
}

// dropLayer drops every cached tile of a layer (its definition changed).
func (i *Invalidator) dropLayer(slug string) {
	i.mu.Lock()
	dropped := i.t.cache.invalidate(slug, 0, nil)
	i.mu.Unlock()
	i.t.mem.drop(slug)
	i.t.metrics.invalidated.Add(float64(dropped))
}

// store caches e unless a change heard since the versions it was built from touches it, the
// listener is not connected, or a layer's definition changed while it was built. It reports
// whether e was cached.
func (i *Invalidator) store(e *entry) bool {
	i.mu.RLock()
	defer i.mu.RUnlock()
	if !i.connected {
		return false
	}
	cat := i.t.catalog.Load()
	for k, slug := range e.slugs {
		if d := cat.defs[slug]; d == nil || d.fingerprint != e.fingerprints[k] {
			return false
		}
		v := e.versions[k]
		if v == dataless {
			continue
		}
		if v < i.base[slug] {
			return false
		}
		cs := i.changes[slug]
		for j := len(cs) - 1; j >= 0 && cs[j].version > v; j-- {
			if cs[j].bbox == nil || geo.TilesCovering(*cs[j].bbox, e.tile.Z, invalidationMargin).Contains(e.tile) {
				return false
			}
		}
	}
	i.t.cache.put(e)
	return true
}

// version returns the latest data version of a layer the listener knows of (read when it
// connected, or heard since), and false while it is not connected.
func (i *Invalidator) version(slug string) (int64, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	if !i.connected {
		return 0, false
	}
	v := i.base[slug]
	if cs := i.changes[slug]; len(cs) > 0 {
		v = max(v, cs[len(cs)-1].version)
	}
	return v, true
}
