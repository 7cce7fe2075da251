package layers

import (
	"slices"
	"testing"
)

func TestNormalizeMeets(t *testing.T) {
	// Each group: spellings a resident may type for one thing; all must normalise alike.
	groups := [][]string{
		{"Ақтөбе", "Актобе", "Aqtöbe", "Aktobe", "AKTOBE", "Актобе."},
		{"Құрманғазы", "Курмангазы", "kurmangazy", "Qurmanğazy", "Kurmangazy street", "ул. Курмангазы", "Құрманғазы көшесі"},
		{"ул. Маресьева", "Маресьева", "улица Маресьева", "Маресьев көшесі", "Maresyeva street", "Maresyeva st.", "Маресьёва"},
		{"пр. Абая", "проспект Абая", "Абай даңғылы", "Abay avenue", "Abai ave", "Абая", "Абай"},
		{"есет батыра", "Есет батыр көшесі", "Eset batyr"},
		{"емхана", "Емхана", "emhana", "emkhana"},
		{"мектеп", "mektep", "Мектеп"},
		{"Шевченко", "Shevchenko"},
		{"Жубанова", "Zhubanov", "Жұбанов"},
		{"мкр. Шығыс-1", "шағын аудан Шығыс-1", "Shygys-1 mkr", "Шыгыс 1"},
		// Kazakh and Russian spellings of one name that differ in more than the letters'
		// shapes: қ/һ for х, a doubled letter, the Arabic-origin beginnings (nameVariants).
		{"Әбілқайыр хан", "Абулхаир хана", "пр. Абулхаир хана", "Әбілқайыр хан даңғылы", "проспект Абилкайыр хана",
			"Abulkhair khan", "Äbilqaiyr han", "Abulhair khana"},
		{"Әбдолла", "Абдулла", "Габдулла", "Ғабдолла", "Abdulla"},
		{"Ғали", "Гали", "Али"},
		{"Қасым", "Хасым", "Kasym", "Khasym"},
		{"Аққайнар", "Аккайнар", "Акайнар"},
	}
	for _, g := range groups {
		want := Normalize(g[0])
		for _, s := range g[1:] {
			if got := Normalize(s); got != want {
				t.Errorf("Normalize(%q) = %q, want %q as for %q", s, got, want, g[0])
			}
		}
	}
	// Different names stay different.
	if Normalize("Абая") == Normalize("Абдирова") || Normalize("Маресьева") == Normalize("Мира") ||
		Normalize("Абулхаир хана") == Normalize("Абая") || Normalize("Абдулла") == Normalize("Абая") {
		t.Error("different streets normalised alike")
	}
	// Digits are never merged: "11" and "1" are different houses.
	if _, h := splitAddress("Абая 11"); h != "11" {
		t.Errorf("house of \"Абая 11\" is %q", h)
	}
}

func TestSplitAddress(t *testing.T) {
	tests := []struct{ in, street, house string }{
		{"ул. Маресьева, 95", "маресев", "95"},
		{"Маресьева 95", "маресев", "95"},
		{"95 Маресьева", "маресев", "95"},
		{"Абай даңғылы 12", "аба", "12"},
		{"пр. Абая, 12а", "аба", "12а"},
		{"мкр. Шығыс-1, д. 12", "шигис 1", "12"},
		{"Маресьева", "", ""},
		{"Школа №12", "школ", "12"},
		{"12", "", ""},
	}
	for _, tc := range tests {
		if s, h := splitAddress(tc.in); s != tc.street || h != tc.house {
			t.Errorf("splitAddress(%q) = %q, %q; want %q, %q", tc.in, s, h, tc.street, tc.house)
		}
	}
}

func TestCategoryOf(t *testing.T) {
	titles := map[string]Titles{
		"clinics":    {KK: "Емханалар", RU: "Поликлиники", EN: "Clinics"},
		"schools":    {KK: "Мектептер", RU: "Школы", EN: "Schools"},
		"pharmacies": {KK: "Дәріханалар", RU: "Аптеки", EN: "Pharmacies"},
		"bus_stops":  {KK: "Қоғамдық көлік аялдамалары", RU: "Остановки общественного транспорта", EN: "Bus stops"},
		"streets":    {KK: "Көшелер", RU: "Улицы", EN: "Streets"},
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"clinic", []string{"clinics"}}, {"поликлиника", []string{"clinics"}}, {"емхана", []string{"clinics"}},
		{"emhana", []string{"clinics"}}, {"Емханалар", []string{"clinics"}}, {"поликлинника", []string{"clinics"}},
		{"school", []string{"schools"}}, {"мектеп", []string{"schools"}}, {"школа", []string{"schools"}}, {"mektep", []string{"schools"}},
		{"pharmacy", []string{"pharmacies"}}, {"аптека", []string{"pharmacies"}}, {"дәріхана", []string{"pharmacies"}}, {"darihana", []string{"pharmacies"}},
		{"аялдама", []string{"bus_stops"}}, {"остановка", []string{"bus_stops"}}, {"bus stop", []string{"bus_stops"}},
		{"Маресьева", nil}, {"школа 12", nil}, {"A0415", nil},
	}
	for _, tc := range tests {
		exact, near := categoryOf(tc.q, titles)
		got := append(exact, near...)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("categoryOf(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

// A category word typed as it is, and one typed with a wrong letter, are told apart: the second
// is only a guess, ranked below good name matches.
func TestCategoryOfExactOrNear(t *testing.T) {
	titles := map[string]Titles{
		"clinics":     {KK: "Емханалар", RU: "Поликлиники", EN: "Clinics"},
		"waste_sites": {KK: "Қалдық жинау орындары", RU: "Площадки для отходов", EN: "Waste sites"},
	}
	for _, tc := range []struct {
		q           string
		exact, near []string
	}{
		{"поликлиника", []string{"clinics"}, nil},
		{"полклиника", nil, []string{"clinics"}}, // a letter missing (a doubled one is the same word: Normalize)
		{"қалдық", []string{"waste_sites"}, nil},
		{"қаллық", nil, []string{"waste_sites"}},
	} {
		exact, near := categoryOf(tc.q, titles)
		if !slices.Equal(exact, tc.exact) || !slices.Equal(near, tc.near) {
			t.Errorf("categoryOf(%q) = %v exact, %v near; want %v, %v", tc.q, exact, near, tc.exact, tc.near)
		}
	}
}

func TestNormCode(t *testing.T) {
	// A stop code typed with a Latin or a Cyrillic A, with or without a space.
	for _, s := range []string{"A0415", "а0415", "А 0415", "a0415"} {
		if got := normCode(s); got != "а0415" {
			t.Errorf("normCode(%q) = %q", s, got)
		}
	}
}
