package transit_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/transit"
)

// BenchmarkIngest measures the group-committed ingest path (history, state, trip matching, live
// layer, notification) with 2,000 vehicles of route 5 reporting in batches from 16 senders.
// Report: positions/s = b.N / elapsed.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	s, pool := newService(b)
	importFeed(b, pool)
	const nv = 2000
	ids := make([]int64, nv)
	for i := range ids {
		v, _, err := s.AddVehicle(ctx, transit.NewVehicle{DeviceID: fmt.Sprintf("b-%d", i), Route: "5"})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = v.ID
	}
	base := time.Now().Add(-2 * time.Hour)
	var seq atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / 16
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < per; done += 50 {
				batch := make([]transit.Position, 0, 50)
				for range 50 {
					k := seq.Add(1)
					id := ids[int(k)%nv]
					batch = append(batch, transit.Position{VehicleID: id, At: base.Add(time.Duration(k/nv) * time.Second).Add(time.Duration(w) * time.Millisecond),
						Lon: 57.15 + float64(k%1000)*1e-6, Lat: 50.2812, SpeedKmh: 20, Heading: 90, AltM: math.NaN(), Sats: 9})
				}
				if _, err := s.Ingest(ctx, batch); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*16)/b.Elapsed().Seconds(), "positions/s")
}
