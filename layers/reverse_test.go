package layers_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5/pgxpool"
)

// reverseFixture hand-places two streets, three houses and a settlement near the centre of
// Aktobe, inside a city boundary. At this latitude 0.001° is about 71 m east-west and 111 m
// north-south.
func reverseFixture(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.New(t)
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO layer.city_boundary (id, geom, name) VALUES
			(1, ST_Multi(ST_MakeEnvelope(57.10, 50.20, 57.30, 50.35, 4326)), 'Актобе')`,
		// Маресьева runs east along 50.280 with a Kazakh name; Курмангазы runs north along 57.190
		// with an English one.
		`INSERT INTO layer.streets (id, geom, name, name_kk, name_en) VALUES
			(1, ST_SetSRID(ST_MakeLine(ST_MakePoint(57.170, 50.280), ST_MakePoint(57.180, 50.280)), 4326),
				'ул. Маресьева', 'Маресьев көшесі', NULL),
			(2, ST_SetSRID(ST_MakeLine(ST_MakePoint(57.190, 50.270), ST_MakePoint(57.190, 50.290)), 4326),
				'ул. Курмангазы', NULL, 'Kurmangazy Street'),
			(3, ST_SetSRID(ST_MakeLine(ST_MakePoint(57.1701, 50.2801), ST_MakePoint(57.1702, 50.2802)), 4326), NULL, NULL, NULL)`,
		`INSERT INTO layer.buildings (id, geom, address) VALUES
			(1, ST_MakeEnvelope(57.1720, 50.2803, 57.1723, 50.2806, 4326), 'ул. Маресьева, 95'),
			(2, ST_MakeEnvelope(57.1775, 50.2803, 57.1778, 50.2806, 4326), 'ул. Маресьева, 97'),
			(3, ST_MakeEnvelope(57.1740, 50.2803, 57.1743, 50.2806, 4326), NULL)`,
		`INSERT INTO layer.places (id, geom, name, name_kk) VALUES
			(1, ST_SetSRID(ST_MakePoint(57.175, 50.262), 4326), 'Курайлы', 'Құрайлы')`,
	}
	for _, s := range stmts {
		if _, err := pool.Exec(ctx, s); err != nil {
			t.Fatalf("fixture: %v\n%s", err, s)
		}
	}
	return pool
}

func TestReverse(t *testing.T) {
	store := layers.NewStore(reverseFixture(t))
	ctx := context.Background()
	tests := []struct {
		name             string
		lon, lat         float64
		lang             string
		wantAddress      string
		wantKind         string
		wantLayer        string
		wantID           int64
		minDist, maxDist float64
	}{
		{name: "inside a house", lon: 57.17215, lat: 50.28045, lang: "ru",
			wantAddress: "ул. Маресьева, 95", wantKind: layers.PlaceBuilding, wantLayer: "buildings", wantID: 1},
		{name: "next to a house", lon: 57.17215, lat: 50.28075, lang: "ru", // 17 m north of it
			wantAddress: "ул. Маресьева, 95", wantKind: layers.PlaceBuilding, wantLayer: "buildings", wantID: 1, minDist: 12, maxDist: 20},
		{name: "house in kazakh from the street's name_kk", lon: 57.17215, lat: 50.28045, lang: "kk",
			wantAddress: "Маресьев көшесі, 95", wantKind: layers.PlaceBuilding, wantLayer: "buildings", wantID: 1},
		{name: "house in english falls back to the address", lon: 57.17215, lat: 50.28045, lang: "en",
			wantAddress: "ул. Маресьева, 95", wantKind: layers.PlaceBuilding, wantLayer: "buildings", wantID: 1},
		{name: "on the street, the nearest house of it", lon: 57.1790, lat: 50.2801, lang: "ru",
			wantAddress: "ул. Маресьева, у дома 97", wantKind: layers.PlaceStreet, wantLayer: "streets", wantID: 1, maxDist: 20},
		{name: "on the street in kazakh", lon: 57.1790, lat: 50.2801, lang: "kk",
			wantAddress: "Маресьев көшесі, 97 үйдің жанында", wantKind: layers.PlaceStreet, wantLayer: "streets", wantID: 1, maxDist: 20},
		{name: "street only", lon: 57.1905, lat: 50.2850, lang: "ru",
			wantAddress: "ул. Курмангазы", wantKind: layers.PlaceStreet, wantLayer: "streets", wantID: 2, minDist: 25, maxDist: 45},
		{name: "street in english", lon: 57.1905, lat: 50.2850, lang: "en",
			wantAddress: "Kurmangazy Street", wantKind: layers.PlaceStreet, wantLayer: "streets", wantID: 2, minDist: 25, maxDist: 45},
		{name: "street in kazakh falls back to name", lon: 57.1905, lat: 50.2850, lang: "kk",
			wantAddress: "ул. Курмангазы", wantKind: layers.PlaceStreet, wantLayer: "streets", wantID: 2, minDist: 25, maxDist: 45},
		{name: "nearest street, far from houses", lon: 57.175, lat: 50.2730, lang: "ru",
			wantAddress: "ул. Маресьева", wantKind: layers.PlaceNamed, wantLayer: "streets", wantID: 1, minDist: 750, maxDist: 800},
		{name: "nearest settlement", lon: 57.175, lat: 50.2580, lang: "kk",
			wantAddress: "Құрайлы", wantKind: layers.PlaceNamed, wantLayer: "places", wantID: 1, minDist: 420, maxDist: 470},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := store.Reverse(ctx, tc.lon, tc.lat, tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			if p.Address != tc.wantAddress || p.Kind != tc.wantKind || p.Layer != tc.wantLayer || p.ID != tc.wantID {
				t.Errorf("got %q (%s, %s/%d), want %q (%s, %s/%d)", p.Address, p.Kind, p.Layer, p.ID,
					tc.wantAddress, tc.wantKind, tc.wantLayer, tc.wantID)
			}
			if p.DistanceM < tc.minDist || p.DistanceM > math.Max(tc.maxDist, tc.minDist) {
				t.Errorf("distance %v m, want %v..%v", p.DistanceM, tc.minDist, tc.maxDist)
			}
			if p.Lang != tc.lang {
				t.Errorf("lang %q, want %q", p.Lang, tc.lang)
			}
		})
	}
}

func TestReverseAll(t *testing.T) {
	pool := reverseFixture(t)
	got, d, err := layers.ReverseAll(context.Background(), pool, 57.17215, 50.28045)
	if err != nil {
		t.Fatal(err)
	}
	want := layers.Titles{KK: "Маресьев көшесі, 95", RU: "ул. Маресьева, 95", EN: "ул. Маресьева, 95"}
	if got != want || d != 0 {
		t.Errorf("got %+v at %v m, want %+v at 0 m", got, d, want)
	}
}

func TestReverseErrors(t *testing.T) {
	store := layers.NewStore(reverseFixture(t))
	ctx := context.Background()
	tests := []struct {
		name     string
		lon, lat float64
		lang     string
		code     string
	}{
		{"lon not a number", math.NaN(), 50.28, "ru", geoportal.EINVALID},
		{"lon infinite", math.Inf(1), 50.28, "ru", geoportal.EINVALID},
		{"lon out of range", 181, 50.28, "ru", geoportal.EINVALID},
		{"lat out of range", 57.17, -91, "ru", geoportal.EINVALID},
		{"lang unknown", 57.17, 50.28, "de", geoportal.EINVALID},
		{"lang missing", 57.17, 50.28, "", geoportal.EINVALID},
		{"far outside the city", 57.17, 49.0, "ru", geoportal.EINVALID},
		{"null island", 0, 0, "en", geoportal.EINVALID},
		{"in the city, nothing near", 57.28, 50.34, "ru", geoportal.ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := store.Reverse(ctx, tc.lon, tc.lat, tc.lang)
			var ge *geoportal.Error
			if !errors.As(err, &ge) || ge.Code != tc.code {
				t.Fatalf("got %+v, %v; want a %s error", p, err, tc.code)
			}
		})
	}
}

// Without a city boundary nothing is "outside the city": a far point is simply not near anything.
func TestReverseNoBoundary(t *testing.T) {
	pool := reverseFixture(t)
	if _, err := pool.Exec(context.Background(), `DELETE FROM layer.city_boundary`); err != nil {
		t.Fatal(err)
	}
	_, err := layers.NewStore(pool).Reverse(context.Background(), 57.17, 49.0, "ru")
	var ge *geoportal.Error
	if !errors.As(err, &ge) || ge.Code != geoportal.ENOTFOUND {
		t.Fatalf("got %v, want not found", err)
	}
}
