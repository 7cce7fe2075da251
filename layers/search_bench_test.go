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
// p50 and p99 are over single queries, and p50_ratio is index over tables.
//
//	go test ./layers/ -run '^$' -bench 'BenchmarkSearch$' -benchtime 20x
func BenchmarkSearch(b *testing.B) {
	store, _ := demoSearch(b)
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
	var li, lt []time.Duration
	index := func(q string) error {
		_, err := store.Find(ctx, layers.SearchQuery{Q: q, Lang: "ru", Limit: 10, Near: &[2]float64{57.17, 50.28}})
		return err
	}
	tables := func(q string) error {
		_, err := layers.OldSearch(store, ctx, q, "ru", 10, false)
		return err
	}
	perQuery := map[string][2][]time.Duration{}
	timed := func(lat *[]time.Duration, one func(string) error, q string) {
		t0 := time.Now()
		if err := one(q); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		*lat = append(*lat, d)
		pq := perQuery[q]
		if lat == &li {
			pq[0] = append(pq[0], d)
		} else {
			pq[1] = append(pq[1], d)
		}
		perQuery[q] = pq
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
	// With -v: the medians of each query, index and tables.
	for _, q := range benchQueries {
		if pq := perQuery[q]; len(pq[0]) > 0 {
			b.Logf("%-20s index %6.2f ms  tables %6.2f ms", q, ms(pq[0], 0.5), ms(pq[1], 0.5))
		}
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
