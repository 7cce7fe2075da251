package layers_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/data/demo"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5/pgxpool"
)

// demoSearch loads the demo city (the one residents see) into a fresh database.
func demoSearch(t testing.TB) (*layers.Store, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := demo.Load(context.Background(), pool, demo.Options{Seed: demo.DefaultSeed}, nil); err != nil {
		t.Fatal(err)
	}
	return layers.NewStore(pool), pool
}

func find(t *testing.T, store *layers.Store, q layers.SearchQuery) layers.SearchPage {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 10
	}
	p, err := store.Find(context.Background(), q)
	if err != nil {
		t.Fatalf("Find(%q): %v", q.Q, err)
	}
	return p
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSearchDemoCity(t *testing.T) {
	store, pool := demoSearch(t)
	ctx := context.Background()
	centre := &[2]float64{57.17, 50.28}

	t.Run("address in any order and with street words", func(t *testing.T) {
		for _, lang := range layers.Languages {
			for _, q := range []string{"Маресьева 95", "95 Маресьева", "ул. Маресьева, 95", "улица Маресьева 95",
				"Маресьев көшесі 95", "Maresyeva street 95", "maresyeva 95", "Маресьева, д. 95"} {
				p := find(t, store, layers.SearchQuery{Q: q, Lang: lang})
				if len(p.Results) == 0 || p.Results[0].Layer != "buildings" || p.Results[0].Name != "пр. Маресьева, 95" || p.Results[0].Match != "address" {
					t.Errorf("%s %q: first %+v", lang, q, first(p))
				}
			}
		}
	})
	t.Run("kazakh and russian forms of one street", func(t *testing.T) {
		for _, q := range []string{"Абай даңғылы 12", "пр. Абая 12", "проспект Абая, 12", "Abay avenue 12", "12 Абай"} {
			p := find(t, store, layers.SearchQuery{Q: q, Lang: "kk"})
			if len(p.Results) == 0 || p.Results[0].Name != "ул. Абая, 12" {
				t.Errorf("%q: first %+v", q, first(p))
			}
		}
		// the street itself, first, with its segments merged
		for _, q := range []string{"Абай даңғылы", "Абая", "ул. Абая", "Abai"} {
			p := find(t, store, layers.SearchQuery{Q: q, Lang: "ru"})
			if h := first(p); h.Layer != "streets" || h.Name != "ул. Абая" || h.Count < 2 || h.BBox == nil {
				t.Errorf("%q: first %+v", q, h)
			}
		}
	})
	t.Run("kazakh spelling of a street named in russian", func(t *testing.T) {
		for _, q := range []string{"Әбілқайыр хан", "Әбілқайыр хан даңғылы", "Абулхаир хана", "Abulkhair khan", "Äbilqaiyr han"} {
			p := find(t, store, layers.SearchQuery{Q: q, Lang: "kk"})
			if h := first(p); h.Layer != "streets" || h.Name != "пр. Абулхаир хана" {
				t.Errorf("%q: first %+v", q, h)
			}
		}
	})
	t.Run("category words in three languages, nearest first", func(t *testing.T) {
		clinics := count(t, pool, `SELECT count(*) FROM layer.clinics`)
		for _, tc := range []struct{ q, lang, layer string }{
			{"clinic", "en", "clinics"}, {"поликлиника", "ru", "clinics"}, {"емхана", "kk", "clinics"}, {"emhana", "kk", "clinics"},
			{"school", "en", "schools"}, {"школа", "ru", "schools"}, {"мектеп", "kk", "schools"}, {"mektep", "en", "schools"},
			{"pharmacy", "en", "pharmacies"}, {"аптека", "ru", "pharmacies"}, {"дәріхана", "kk", "pharmacies"},
			{"bus stop", "en", "bus_stops"}, {"остановка", "ru", "bus_stops"}, {"аялдама", "kk", "bus_stops"},
		} {
			p := find(t, store, layers.SearchQuery{Q: tc.q, Lang: tc.lang, Limit: 20, Near: centre})
			if len(p.Categories) != 1 || p.Categories[0] != tc.layer || len(p.Results) != 20 {
				t.Errorf("%q: categories %v, %d results", tc.q, p.Categories, len(p.Results))
				continue
			}
			last := -1.0
			for _, h := range p.Results {
				if h.Layer != tc.layer || h.DistanceM == nil || *h.DistanceM < last {
					t.Errorf("%q: %+v after %v m: not %s nearest first", tc.q, h, last, tc.layer)
					break
				}
				last = *h.DistanceM
			}
		}
		// the true count: every clinic, and the 120 schools (more than any page)
		if p := find(t, store, layers.SearchQuery{Q: "clinic", Lang: "en"}); p.Total < clinics {
			t.Errorf("clinic: total %d, want at least the %d clinics", p.Total, clinics)
		}
		schools := count(t, pool, `SELECT count(*) FROM layer.schools`)
		if p := find(t, store, layers.SearchQuery{Q: "school", Lang: "en"}); p.Total != schools || schools < 100 {
			t.Errorf("school: total %d, schools %d", p.Total, schools)
		}
	})
	t.Run("a name typed with a wrong letter beats a category a letter away", func(t *testing.T) {
		// "қаллық": "қалалық" (city, in every clinic's name) missing a letter, and a letter from
		// "қалдық" (waste). The names come first, the waste sites after, nearest first or not.
		for _, near := range []*[2]float64{nil, centre} {
			p := find(t, store, layers.SearchQuery{Q: "қаллық", Lang: "kk", Limit: 10, Near: near})
			if h := first(p); h.Layer != "clinics" {
				t.Errorf("near %v: first %+v, want a clinic", near, h)
			}
			if !slices.Contains(p.Categories, "waste_sites") {
				t.Errorf("near %v: categories %v, want the waste sites too", near, p.Categories)
			}
		}
	})
	t.Run("kazakh in latin letters and cyrillic", func(t *testing.T) {
		for _, q := range []string{"Aqtöbe", "Aktobe", "Ақтөбе", "Актобе", "aktobe"} {
			p := find(t, store, layers.SearchQuery{Q: q, Lang: "en"})
			if h := first(p); h.Name != "Актобе" && h.Name != "Aktobe" {
				t.Errorf("%q: first %+v", q, h)
			}
		}
		for _, q := range []string{"kurmangazy", "Qurmanğazy", "Құрманғазы", "Курмангазы", "курмангазы", "kurmangazi"} {
			p := find(t, store, layers.SearchQuery{Q: q, Lang: "ru", Limit: 5})
			if !has(p, "streets", "ул. Курмангазы") || !has(p, "bus_stops", "Курмангазы") {
				t.Errorf("%q: %v", q, names(p))
			}
		}
	})
	t.Run("identical rows merged with a count", func(t *testing.T) {
		stops := count(t, pool, `SELECT count(*) FROM layer.bus_stops WHERE name = 'Курмангазы'`)
		if stops < 2 {
			t.Fatalf("the demo has %d stops called Курмангазы", stops)
		}
		p := find(t, store, layers.SearchQuery{Q: "Курмангазы", Lang: "ru", Limit: 50})
		seen := map[string]bool{}
		for _, h := range p.Results {
			k := h.Layer + "|" + h.Name + "|" + h.Address
			if seen[k] {
				t.Errorf("two rows %s", k)
			}
			seen[k] = true
			if h.Layer == "bus_stops" && h.Name == "Курмангазы" && (h.Count != stops || h.BBox == nil) {
				t.Errorf("merged stops: %+v, want count %d with a bbox", h, stops)
			}
		}
	})
	t.Run("stop codes", func(t *testing.T) {
		var code string
		var id int64
		if err := pool.QueryRow(ctx, `SELECT code, id FROM layer.bus_stops ORDER BY id OFFSET 14 LIMIT 1`).Scan(&code, &id); err != nil {
			t.Fatal(err)
		}
		cyr := strings.Replace(code, "A", "А", 1) // the Cyrillic letter, as a Russian keyboard types it
		for _, q := range []string{code, strings.ToLower(code), cyr} {
			p := find(t, store, layers.SearchQuery{Q: q, Lang: "kk"})
			if h := first(p); h.Layer != "bus_stops" || h.ID != id || h.Code != code || h.Match != "code" {
				t.Errorf("%q: first %+v, want stop %d", q, h, id)
			}
		}
	})
	t.Run("paging", func(t *testing.T) {
		a := find(t, store, layers.SearchQuery{Q: "school", Lang: "ru", Limit: 7})
		b := find(t, store, layers.SearchQuery{Q: "school", Lang: "ru", Limit: 7, Offset: 7})
		if a.Total != b.Total || len(b.Results) != 7 {
			t.Fatalf("totals %d %d, page 2 has %d", a.Total, b.Total, len(b.Results))
		}
		for _, x := range a.Results {
			for _, y := range b.Results {
				if x.Layer == y.Layer && x.ID == y.ID {
					t.Errorf("%s/%d on both pages", x.Layer, x.ID)
				}
			}
		}
		past := find(t, store, layers.SearchQuery{Q: "school", Lang: "ru", Limit: 10, Offset: 1000})
		if len(past.Results) != 0 || past.Total != a.Total {
			t.Errorf("past the end: %d results, total %d", len(past.Results), past.Total)
		}
	})
	t.Run("names in the chosen language", func(t *testing.T) {
		p := find(t, store, layers.SearchQuery{Q: "Ақтөбе", Lang: "kk", Limit: 20})
		if !has(p, "places", "Ақтөбе") {
			t.Errorf("kk: %v", names(p))
		}
	})
	t.Run("the index follows the layer's changes", func(t *testing.T) {
		q := layers.SearchQuery{Q: "Сарыарқатау", Lang: "kk", Near: centre}
		if p := find(t, store, q); has(p, "clinics", "Сарыарқатау") {
			t.Fatalf("before: %v", names(p))
		}
		if _, err := pool.Exec(ctx, `INSERT INTO layer.clinics (id, geom, name, address) VALUES
			(9001, ST_SetSRID(ST_MakePoint(57.171, 50.281), 4326), 'Сарыарқатау', 'пр. Абая, 999')`); err != nil {
			t.Fatal(err)
		}
		if h := first(find(t, store, q)); h.ID != 9001 || h.Layer != "clinics" {
			t.Fatalf("after insert: %+v", h)
		}
		if h := first(find(t, store, layers.SearchQuery{Q: "Абая 999", Lang: "ru"})); h.ID != 9001 || h.Match != "address" {
			t.Fatalf("its address: %+v", h)
		}
		if _, err := pool.Exec(ctx, `UPDATE layer.clinics SET name = 'Көкжиекбұлақ' WHERE id = 9001`); err != nil {
			t.Fatal(err)
		}
		if p := find(t, store, q); has(p, "clinics", "Сарыарқатау") {
			t.Fatalf("after rename: %v", names(p))
		}
		if _, err := pool.Exec(ctx, `DELETE FROM layer.clinics WHERE id = 9001`); err != nil {
			t.Fatal(err)
		}
		if p := find(t, store, layers.SearchQuery{Q: "Көкжиекбұлақ", Lang: "kk"}); has(p, "clinics", "Көкжиекбұлақ") {
			t.Fatalf("after delete: %v", names(p))
		}
	})
}

func TestSearchBadQuery(t *testing.T) {
	store := layers.NewStore(dbtest.New(t))
	nan := math.NaN()
	tests := []struct {
		name string
		q    layers.SearchQuery
		want string
	}{
		{"control characters", layers.SearchQuery{Q: "шко\x00ла", Lang: "ru", Limit: 10}, "control"},
		{"escape", layers.SearchQuery{Q: "\x1b[31mшкола", Lang: "kk", Limit: 10}, "control"},
		{"10 KB", layers.SearchQuery{Q: strings.Repeat("емхана ", 1500), Lang: "kk", Limit: 10}, "longer"},
		{"negative offset", layers.SearchQuery{Q: "школа", Lang: "en", Limit: 10, Offset: -1}, "offset"},
		{"huge offset", layers.SearchQuery{Q: "школа", Lang: "en", Limit: 10, Offset: 1 << 30}, "offset"},
		{"lon", layers.SearchQuery{Q: "школа", Lang: "ru", Limit: 10, Near: &[2]float64{200, 50}}, "lon"},
		{"lat", layers.SearchQuery{Q: "школа", Lang: "ru", Limit: 10, Near: &[2]float64{57, nan}}, "lat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Find(context.Background(), tc.q)
			if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want EINVALID naming %q", err, tc.want)
			}
		})
	}
}

func first(p layers.SearchPage) layers.Hit {
	if len(p.Results) == 0 {
		return layers.Hit{}
	}
	return p.Results[0]
}

func has(p layers.SearchPage, layer, name string) bool {
	for _, h := range p.Results {
		if h.Layer == layer && h.Name == name {
			return true
		}
	}
	return false
}

func names(p layers.SearchPage) []string {
	var out []string
	for _, h := range p.Results {
		out = append(out, fmt.Sprintf("%s/%d %q ×%d", h.Layer, h.ID, h.Name, h.Count))
	}
	return out
}
