package tiles

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	served        *prometheus.CounterVec
	servedBy      map[int]prometheus.Counter // the usual statuses, resolved once
	sentBytes     prometheus.Counter
	hits          prometheus.Counter
	misses        prometheus.Counter
	diskHits      prometheus.Counter
	generation    *prometheus.HistogramVec
	truncated     *prometheus.CounterVec
	invalidated   prometheus.Counter
	notifications prometheus.Counter
	memTiles      prometheus.Counter
	memLoads      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, cache *Cache, mem *memStore) *metrics {
	m := &metrics{
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geoportal_tiles_served_total", Help: "Vector tiles answered, by HTTP status (200, 204, 304).",
		}, []string{"status"}),
		sentBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tiles_sent_bytes_total", Help: "Bytes of vector tile bodies sent (as encoded on the wire).",
		}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tile_cache_hits_total", Help: "Tile requests answered from the in-memory cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tile_cache_misses_total", Help: "Tile requests that had to build the tile.",
		}),
		diskHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tile_disk_hits_total", Help: "Tiles read from the disk tier of the cache instead of being built.",
		}),
		generation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "geoportal_tile_generation_seconds", Help: "Time to build one layer's tile in PostGIS, by layer.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"layer"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geoportal_tile_features_truncated_total", Help: "Features left out of tiles by the per-tile feature cap, by layer.",
		}, []string{"layer"}),
		invalidated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tile_cache_invalidated_total", Help: "Cached tiles dropped because their data changed.",
		}),
		notifications: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tile_change_notifications_total", Help: "layer_changed notifications received from PostgreSQL.",
		}),
		memTiles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tile_memory_builds_total", Help: "Layer tiles drawn from the layers' copies in memory rather than read from PostgreSQL.",
		}),
		memLoads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geoportal_tile_memory_loads_total", Help: "Layers read whole into memory for drawing tiles.",
		}),
	}
	reg.MustRegister(m.served, m.memTiles, m.memLoads,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "geoportal_tile_memory_bytes", Help: "Bytes (estimated) of the layers' copies held in memory for drawing tiles.",
		}, func() float64 { return float64(mem.usedBytes()) }), m.sentBytes, m.hits, m.misses, m.diskHits, m.generation, m.truncated, m.invalidated, m.notifications,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "geoportal_tile_cache_bytes", Help: "Bytes held by the in-memory tile cache.",
		}, func() float64 { _, b := cache.stats(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "geoportal_tile_cache_tiles", Help: "Tiles held by the in-memory tile cache.",
		}, func() float64 { n, _ := cache.stats(); return float64(n) }))
	// Pre-create the common series so the hot path only increments.
	m.servedBy = map[int]prometheus.Counter{}
	for _, s := range []int{200, 204, 304} {
		m.servedBy[s] = m.served.WithLabelValues(strconv.Itoa(s))
	}
	return m
}

// staffOnlyLabel stands for every staff-only layer in the metrics' layer label: /metrics is
// served to anyone, and the names of staff-only layers (what the city keeps, e.g. utility
// networks) are not public. Their series are summed under this one label.
const staffOnlyLabel = "staff_only"

// metricLabel is the layer label of d's series: its slug when public, staffOnlyLabel otherwise.
func metricLabel(d *layerDef) string {
	if d.Public() {
		return d.Slug
	}
	return staffOnlyLabel
}
