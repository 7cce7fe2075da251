package layers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5/pgxpool"
)

// searchFixture fills a few layers with named features around the centre of Aktobe.
func searchFixture(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.New(t)
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO layer.clinics (id, geom, name, address) VALUES
			(1, ST_SetSRID(ST_MakePoint(57.170, 50.280), 4326), 'Городская поликлиника №1', 'проспект Абилкайыр хана, 40'),
			(2, ST_SetSRID(ST_MakePoint(57.200, 50.300), 4326), 'Поликлиника №3', 'улица Бокенбай батыра, 12'),
			(3, ST_SetSRID(ST_MakePoint(57.150, 50.250), 4326), 'Детская поликлиника', 'улица Маресьева, 7')`,
		`INSERT INTO layer.schools (id, geom, name, address) VALUES
			(1, ST_SetSRID(ST_MakePoint(57.171, 50.281), 4326), 'Школа-гимназия №12', 'улица Маресьева, 85'),
			(2, ST_SetSRID(ST_MakePoint(57.180, 50.290), 4326), '<b>Школа</b> "№7" ''; DROP TABLE layer.schools; --', 'улица Есет батыра, 3')`,
		`INSERT INTO layer.districts (id, geom, name, name_kk, name_ru, name_en) VALUES
			(1, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(57.17, 50.28), 4326), 0.05)), 'Астана ауданы', 'Астана ауданы', 'район Астана', 'Astana district')`,
		`INSERT INTO layer.ramps (id, geom, address) VALUES
			(1, ST_SetSRID(ST_MakePoint(57.1705, 50.2802), 4326), 'проспект Абилкайыр хана, 40'),
			(2, ST_SetSRID(ST_MakePoint(57.300, 50.350), 4326), 'улица Тургенева, 1')`,
		// A park named in Kazakh after the avenue the clinic's address names in Russian.
		`INSERT INTO layer.parks (id, geom, name) VALUES
			(1, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(57.175, 50.285), 4326), 0.002)), 'Әбілқайыр хан саябағы')`,
		// A stop named after the clinic next to it: a search for clinics must list the clinics first.
		`INSERT INTO layer.bus_stops (id, geom, name) VALUES (1, ST_SetSRID(ST_MakePoint(57.2002, 50.3001), 4326), 'Поликлиника')`,
		// Staff-only layer: must never show in public search.
		`INSERT INTO layer.utility_networks (id, geom, network) VALUES
			(1, ST_SetSRID(ST_MakeLine(ST_MakePoint(57.17, 50.28), ST_MakePoint(57.18, 50.28)), 4326), 'Поликлиника')`,
	}
	for _, s := range stmts {
		if _, err := pool.Exec(ctx, s); err != nil {
			t.Fatalf("fixture: %v\n%s", err, s)
		}
	}
	return pool
}

func TestSearch(t *testing.T) {
	store := layers.NewStore(searchFixture(t))
	ctx := context.Background()
	tests := []struct {
		name, q, lang string
		wantFirst     string // "layer/id"
		wantName      string
		wantAll       []string // layer/id that must be among the hits
	}{
		{name: "exact name", q: "Поликлиника №3", lang: "ru", wantFirst: "clinics/2"},
		{name: "kind of place first", q: "поликлиника", lang: "en", wantFirst: "clinics/2", wantAll: []string{"bus_stops/1"}},
		{name: "typo", q: "поликлинника", lang: "ru", wantAll: []string{"clinics/1", "clinics/2", "clinics/3"}},
		{name: "case and substring", q: "гимназия", lang: "ru", wantFirst: "schools/1"},
		{name: "address", q: "Маресьева", lang: "ru", wantAll: []string{"clinics/3", "schools/1"}},
		{name: "address with typo", q: "Абилкайр хана", lang: "ru", wantAll: []string{"clinics/1", "ramps/1"}},
		{name: "kazakh spelling of a russian address", q: "Әбілқайыр хан", lang: "kk", wantAll: []string{"clinics/1", "ramps/1", "parks/1"}},
		{name: "russian spelling of a kazakh name", q: "Абулхаир хана", lang: "ru", wantFirst: "parks/1", wantAll: []string{"clinics/1"}},
		{name: "name in kazakh", q: "Астана", lang: "kk", wantFirst: "districts/1", wantName: "Астана ауданы"},
		{name: "name in english", q: "Astana", lang: "en", wantFirst: "districts/1", wantName: "Astana district"},
		{name: "name in russian", q: "Astana", lang: "ru", wantFirst: "districts/1", wantName: "район Астана"},
		{name: "sql in the query is text", q: "'; DROP TABLE layer.schools; --", lang: "ru", wantFirst: "schools/2"},
		{name: "like wildcards are literal", q: "%", lang: "ru"},
		{name: "nothing", q: "zzzzqqqq", lang: "en"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := store.Search(ctx, tc.q, tc.lang, 10, false)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]layers.Hit{}
			var order []string
			for _, h := range hits {
				k := h.Layer + "/" + strconv.FormatInt(h.ID, 10)
				got[k] = h
				order = append(order, k)
				if h.Layer == "utility_networks" {
					t.Errorf("staff-only layer in public search: %+v", h)
				}
				if h.Point[0] < 57 || h.Point[0] > 58 || h.Point[1] < 50 || h.Point[1] > 51 {
					t.Errorf("hit %s point %v not in Aktobe", k, h.Point)
				}
				if h.LayerTitle.RU == "" {
					t.Errorf("hit %s without layer title", k)
				}
			}
			if tc.wantFirst != "" && (len(order) == 0 || order[0] != tc.wantFirst) {
				t.Errorf("first hit %v, want %s", order, tc.wantFirst)
			}
			if tc.wantName != "" && got[tc.wantFirst].Name != tc.wantName {
				t.Errorf("name %q, want %q", got[tc.wantFirst].Name, tc.wantName)
			}
			for _, k := range tc.wantAll {
				if _, ok := got[k]; !ok {
					t.Errorf("%s not found in %v", k, order)
				}
			}
			if tc.wantFirst == "" && tc.wantAll == nil && len(hits) != 0 {
				t.Errorf("want no hits, got %v", order)
			}
		})
	}
	// The schools table survived the query above.
	var n int
	if err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM layer.schools`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("schools: %d, %v", n, err)
	}
}

func TestSearchStaffSeesStaffLayers(t *testing.T) {
	store := layers.NewStore(searchFixture(t))
	// utility_networks has no name column, so even staff do not find it by name; the store
	// must not fail on layers without searchable columns.
	if _, err := store.Search(context.Background(), "Поликлиника", "ru", 5, true); err != nil {
		t.Fatal(err)
	}
}

func TestSearchLimit(t *testing.T) {
	store := layers.NewStore(searchFixture(t))
	hits, err := store.Search(context.Background(), "поликлиника", "ru", 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Fatalf("limit 2 gave %d hits", len(hits))
	}
	if hits[0].Score < hits[1].Score {
		t.Errorf("not ranked: %v then %v", hits[0].Score, hits[1].Score)
	}
}

func TestSearchBadInput(t *testing.T) {
	store := layers.NewStore(dbtest.New(t))
	tests := []struct {
		name, q, lang, want string
		limit               int
	}{
		{"empty", "   ", "ru", "empty", 10},
		{"too long", strings.Repeat("а", layers.MaxSearchQuery+1), "ru", "longer", 10},
		{"bad lang", "школа", "de", "lang", 10},
		{"zero limit", "школа", "ru", "limit", 0},
		{"huge limit", "школа", "ru", "limit", 1000},
		{"bad utf8", "шк\xffола", "ru", "UTF-8", 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Search(context.Background(), tc.q, tc.lang, tc.limit, false)
			if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want EINVALID naming %q", err, tc.want)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	store := layers.NewStore(searchFixture(t))
	ctx := context.Background()
	hits, err := store.Nearest(ctx, "clinics", 57.1701, 50.2801, "ru", 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].ID != 1 || hits[1].ID != 2 { // clinic 2 is 3.1 km away, clinic 3 3.6 km
		t.Fatalf("nearest clinics: %+v", hits)
	}
	if d := *hits[0].DistanceM; d < 5 || d > 20 {
		t.Errorf("distance to clinic 1 = %v m, want about 13 m", d)
	}
	if *hits[0].DistanceM > *hits[1].DistanceM {
		t.Errorf("not ordered by distance")
	}
	if hits[0].Name != "Городская поликлиника №1" || hits[0].Address == "" {
		t.Errorf("hit %+v", hits[0])
	}
	// A layer with only an address is named by its address.
	ramps, err := store.Nearest(ctx, "ramps", 57.17, 50.28, "en", 5, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ramps) != 2 || ramps[0].Name != "проспект Абилкайыр хана, 40" {
		t.Fatalf("ramps: %+v", ramps)
	}
	// Empty layer: empty list, not an error.
	none, err := store.Nearest(ctx, "biotoilets", 57.17, 50.28, "en", 5, false)
	if err != nil || len(none) != 0 {
		t.Fatalf("biotoilets: %v %v", none, err)
	}
}

func TestNearestBadInput(t *testing.T) {
	store := layers.NewStore(dbtest.New(t))
	ctx := context.Background()
	tests := []struct {
		name, layer string
		lon, lat    float64
		limit       int
		code        string
	}{
		{"lon", "clinics", 181, 50, 5, geoportal.EINVALID},
		{"lat", "clinics", 57, -91, 5, geoportal.EINVALID},
		{"limit", "clinics", 57, 50, 0, geoportal.EINVALID},
		{"big limit", "clinics", 57, 50, 51, geoportal.EINVALID},
		{"unknown layer", "no_such_layer", 57, 50, 5, geoportal.ENOTFOUND},
		{"bad slug", "clinics; DROP TABLE x", 57, 50, 5, geoportal.ENOTFOUND},
		{"staff layer", "utility_networks", 57, 50, 5, geoportal.ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Nearest(ctx, tc.layer, tc.lon, tc.lat, "ru", tc.limit, false)
			if got := geoportal.ErrorCode(err); got != tc.code {
				t.Fatalf("err %v (code %s), want %s", err, got, tc.code)
			}
		})
	}
}
