package reports_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/jackc/pgx/v5/pgxpool"
)

// withStreet places ул. Курмангазы (Kazakh name too) and its house 1 at 57.1720..57.1723, 50.2803..50.2806.
func withStreet(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, s := range []string{
		`INSERT INTO layer.streets (id, geom, name, name_kk) VALUES
			(1, ST_SetSRID(ST_MakeLine(ST_MakePoint(57.170, 50.280), ST_MakePoint(57.180, 50.280)), 4326), 'ул. Курмангазы', 'Құрманғазы көшесі')`,
		`INSERT INTO layer.buildings (id, geom, address) VALUES (1, ST_MakeEnvelope(57.1720, 50.2803, 57.1723, 50.2806, 4326), 'ул. Курмангазы, 1')`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCreateStoresPlace(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	withStreet(t, pool)
	tests := []struct {
		name     string
		lon, lat float64
		typed    string
		want     layers.Titles
		wantRU   string // AddressIn("ru")
	}{
		{name: "at the house", lon: 57.17215, lat: 50.28045,
			want:   layers.Titles{KK: "Құрманғазы көшесі, 1", RU: "ул. Курмангазы, 1", EN: "ул. Курмангазы, 1"},
			wantRU: "ул. Курмангазы, 1"},
		{name: "on the street", lon: 57.1740, lat: 50.2801,
			want:   layers.Titles{KK: "Құрманғазы көшесі, 1 үйдің жанында", RU: "ул. Курмангазы, у дома 1", EN: "ул. Курмангазы, near No. 1"},
			wantRU: "ул. Курмангазы, у дома 1"},
		{name: "typed address wins on show, the place is still kept", lon: 57.17215, lat: 50.28045, typed: "двор за домом",
			want:   layers.Titles{KK: "Құрманғазы көшесі, 1", RU: "ул. Курмангазы, 1", EN: "ул. Курмангазы, 1"},
			wantRU: "двор за домом"},
		{name: "nothing near", lon: 57.29, lat: 50.39, wantRU: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: tc.lon, Lat: tc.lat,
				Description: "Яма", Address: tc.typed, DeviceID: "d-" + tc.name})
			if err != nil {
				t.Fatal(err)
			}
			if r.Place != tc.want {
				t.Errorf("place %+v, want %+v", r.Place, tc.want)
			}
			if got := r.AddressIn("ru"); got != tc.wantRU {
				t.Errorf("AddressIn(ru) = %q, want %q", got, tc.wantRU)
			}
			got, err := s.Get(ctx, r.ID)
			if err != nil || got.Place != tc.want || got.Address != tc.typed {
				t.Errorf("stored %+v, %v", got, err)
			}
		})
	}
}

// The migration that added the places fills them for reports filed before it.
func TestPlacesMigrationBackfill(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	withStreet(t, pool)
	var ids []int64
	for i, pt := range [][2]float64{{57.17215, 50.28045}, {57.1740, 50.2801}, {57.29, 50.39}} {
		r, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: pt[0], Lat: pt[1],
			Description: "Яма", DeviceID: "d" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	want := map[int64][3]string{}
	for _, id := range ids {
		r, _ := s.Get(ctx, id)
		want[id] = [3]string{r.Place.KK, r.Place.RU, r.Place.EN}
	}
	if _, err := pool.Exec(ctx, `UPDATE reports.private SET place_kk = '', place_ru = '', place_en = '', place_distance_m = NULL`); err != nil {
		t.Fatal(err)
	}
	ms, err := data.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var backfill string
	for _, m := range ms {
		if m.Version == 230 {
			_, backfill, _ = strings.Cut(m.SQL, "DO $$")
		}
	}
	if backfill == "" {
		t.Fatal("migration 0230 has no DO block")
	}
	if _, err := pool.Exec(ctx, "DO $$"+backfill); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		r, _ := s.Get(ctx, id)
		if got := [3]string{r.Place.KK, r.Place.RU, r.Place.EN}; got != want[id] {
			t.Errorf("report %d: backfilled %q, filed with %q", id, got, want[id])
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.private WHERE place_ru <> '' AND place_distance_m IS NOT NULL`); n != 2 {
		t.Errorf("%d reports with a place and its distance, want 2", n)
	}
}
