package layers_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers"
)

// benchQueries are what residents type: addresses, category words, Latin Kazakh, a stop code,
// a typo, in the three languages.
var benchQueries = []string{
	"Маресьева 95", "95 Маресьева", "ул. Маресьева, 95", "Абай даңғылы 12", "пр. Абая 12",
	"поликлиника", "clinic", "емхана", "emhana", "school", "мектеп", "mektep", "школа", "pharmacy", "аптека",
	"kurmangazy", "Курмангазы", "Aktobe", "Ақтөбе", "A0415", "Маресева", "парк", "Абулхаир хана", "Әбілқайыр хан",
}

// BenchmarkSearch measures the search over the demo city: "index" is Store.Find over
// geoportal.search_index with the background indexer running (as `geoportal serve` does), "tables"
// the search before it (one UNION of trigram matches over every layer's name and address
// columns, layers.OldSearch), on the same database in the same run. Each iteration runs every
// query once with each, alternating which goes first, so that a noisy machine slows both alike;
// p50 and p99 are over single queries, and p50_ratio is index over tables. "fresh" runs right
// after the load, "vacuumed" after VACUUM ANALYZE.
//
//	go test ./layers/ -run '^$' -bench 'BenchmarkSearch$' -benchtime 20x
func BenchmarkSearch(b *testing.B) {
	store, pool := demoSearch(b)
	ctx, stop := context.WithCancel(context.Background())
	ix := store.SearchIndexer(nil)
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx) }()
	defer func() { stop(); <-done }()
	select {
	case <-ix.Ready():
	case <-time.After(2 * time.Minute):
		b.Fatal("the search indexer did not get ready")
	}
	index := func(q string) (int, error) {
		p, err := store.Find(ctx, layers.SearchQuery{Q: q, Lang: "ru", Limit: 10, Near: &[2]float64{57.17, 50.28}})
		return len(p.Results), err
	}
	tables := func(q string) (int, error) {
		hits, err := layers.OldSearch(store, ctx, q, "ru", 10, false)
		return len(hits), err
	}
	// fresh: right after the demo load and the indexer's first build, as after an import (the
	// layer tables and their own trigram indexes, which the old search reads, as the load left
	// them).
	b.Run("fresh", func(b *testing.B) { compareSearch(b, index, tables) })
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	// vacuumed: the steady state, after VACUUM ANALYZE of the whole database.
	b.Run("vacuumed", func(b *testing.B) { compareSearch(b, index, tables) })
}

// compareSearch times every benchmark query with index and with tables, alternating which goes
// first, and reports p50/p99 of each and the ratio of the p50s, over all queries and over those
// the old search finds something for (it finds nothing for Latin or Kazakh spellings of Russian
// names or for stop codes, and answers those quickly); with -v, each query's medians and
// result counts.
func compareSearch(b *testing.B, index, tables func(string) (int, error)) {
	var li, lt []time.Duration
	perQuery := map[string][2][]time.Duration{}
	found := map[string][2]int{}
	timed := func(lat *[]time.Duration, one func(string) (int, error), q string) {
		t0 := time.Now()
		n, err := one(q)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		*lat = append(*lat, d)
		k := 1
		if lat == &li {
			k = 0
		}
		pq, f := perQuery[q], found[q]
		pq[k], f[k] = append(pq[k], d), n
		perQuery[q], found[q] = pq, f
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, q := range benchQueries {
			if (i+k)%2 == 0 {
				timed(&li, index, q)
				timed(&lt, tables, q)
			} else {
				timed(&lt, tables, q)
				timed(&li, index, q)
			}
		}
	}
	b.StopTimer()
	ms := func(lat []time.Duration, p float64) float64 {
		slices.Sort(lat)
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	// With -v: the medians and result counts of each query, index and tables.
	var bi, bt []time.Duration
	for _, q := range benchQueries {
		pq, f := perQuery[q], found[q]
		b.Logf("%-20s index %6.2f ms %2d results   tables %6.2f ms %2d results", q, ms(pq[0], 0.5), f[0], ms(pq[1], 0.5), f[1])
		if f[1] > 0 {
			bi, bt = append(bi, pq[0]...), append(bt, pq[1]...)
		}
	}
	if len(bt) > 0 {
		b.ReportMetric(ms(bi, 0.5), "both_index_p50_ms")
		b.ReportMetric(ms(bt, 0.5), "both_tables_p50_ms")
		b.ReportMetric(ms(bi, 0.5)/ms(bt, 0.5), "both_p50_ratio")
	}
	b.ReportMetric(ms(li, 0.5), "index_p50_ms")
	b.ReportMetric(ms(li, 0.99), "index_p99_ms")
	b.ReportMetric(ms(lt, 0.5), "tables_p50_ms")
	b.ReportMetric(ms(lt, 0.99), "tables_p99_ms")
	b.ReportMetric(ms(li, 0.5)/ms(lt, 0.5), "p50_ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSearchIndexBuild is the cost of a rebuild after a change, for the largest layer
// (buildings) and for all layers at once (after a demo load or an import).
//
//	go test ./layers/ -run '^$' -bench BenchmarkSearchIndexBuild -benchtime 3x
func BenchmarkSearchIndexBuild(b *testing.B) {
	store, pool := demoSearch(b)
	ctx := context.Background()
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := pool.Exec(ctx, `TRUNCATE geoportal.search_index_state`); err != nil {
				b.Fatal(err)
			}
			if err := store.RefreshSearchIndex(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("buildings", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := pool.Exec(ctx, `UPDATE layer.buildings SET levels = levels WHERE id = (SELECT min(id) FROM layer.buildings)`); err != nil {
				b.Fatal(err)
			}
			if err := store.RefreshSearchIndex(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
