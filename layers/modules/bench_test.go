package modules_test

import (
	"context"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/data/demo"
	"github.com/aktobe/geoportal/layers/modules"
)

// BenchmarkDemoCity runs each module on the demo city (seed 2040: 570,000 residents, about
// 52,000 features):
//
//	go test -run '^$' -bench BenchmarkDemoCity -benchtime 5x ./layers/modules/
func BenchmarkDemoCity(b *testing.B) {
	pool := dbtest.New(b)
	ctx := context.Background()
	if _, err := demo.Load(ctx, pool, demo.Options{Seed: 2040}, nil); err != nil {
		b.Fatal(err)
	}
	m := modules.NewStore(pool, nil, nil)
	if _, err := m.RecomputeAreas(ctx, modules.ClinicAreas); err != nil {
		b.Fatal(err)
	}
	b.Run("lighting_audit", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.LightingAudit(ctx, modules.DefaultTariff); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clinic_areas_recompute", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.RecomputeAreas(ctx, modules.ClinicAreas); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("school_catchments_recompute", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.RecomputeAreas(ctx, modules.SchoolCatchments); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clinic_mine", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Mine(ctx, modules.ClinicAreas, 57.17, 50.28); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same lookup without the area's GeoJSON (the answer before it carried the area): the
	// reference for what the highlight costs.
	b.Run("clinic_mine_without_area", func(b *testing.B) {
		for b.Loop() {
			var id int64
			if err := pool.QueryRow(ctx, `SELECT f.id FROM layer.clinic_areas a JOIN layer.clinics f ON f.id = a.clinic_id
				WHERE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY a.id LIMIT 1`, 57.17, 50.28).Scan(&id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("outage_affected_building", func(b *testing.B) {
		var id int64
		if err := pool.QueryRow(ctx, `SELECT id FROM layer.buildings ORDER BY geom <-> ST_SetSRID(ST_MakePoint(57.17, 50.28), 4326) LIMIT 1`).Scan(&id); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := m.AffectedBuilding(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("school_cameras", func(b *testing.B) {
		var id int64
		if err := pool.QueryRow(ctx, `SELECT min(id) FROM layer.schools`).Scan(&id); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := m.SchoolCameras(ctx, id, 300); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("outage_affected", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.AffectedAt(ctx, 57.17, 50.28); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("school_safety", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.SchoolSafety(ctx, 300); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("accessibility", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Accessibility(ctx, 300, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
}
