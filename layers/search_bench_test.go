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
	"поликлиника", "clinic", "емхана", "emhana", "school", "мектеп", "школа", "pharmacy", "аптека",
	"kurmangazy", "Курмангазы", "Aktobe", "Ақтөбе", "A0415", "Маресева", "парк", "Абулхаир хана",
}

// BenchmarkSearch measures the search over the demo city: "index" is Store.Find over
// geoportal.search_index, "tables" the search before it (one UNION of trigram matches over every
// layer's name and address columns, layers.OldSearch), in the same run on the same database.
// Each iteration runs every query once; p50 and p99 are over single queries.
//
//	go test ./layers/ -run '^$' -bench BenchmarkSearch -benchtime 20x
func BenchmarkSearch(b *testing.B) {
	store, _ := demoSearch(b)
	ctx := context.Background()
	if err := store.RefreshSearchIndex(ctx); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, one func(q string) error) {
		var lat []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, q := range benchQueries {
				t0 := time.Now()
				if err := one(q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		ms := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(ms(0.5), "p50_ms")
		b.ReportMetric(ms(0.99), "p99_ms")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("index", func(b *testing.B) {
		run(b, func(q string) error {
			_, err := store.Find(ctx, layers.SearchQuery{Q: q, Lang: "ru", Limit: 10, Near: &[2]float64{57.17, 50.28}})
			return err
		})
	})
	b.Run("tables", func(b *testing.B) {
		run(b, func(q string) error {
			_, err := layers.OldSearch(store, ctx, q, "ru", 10, false)
			return err
		})
	})
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
