package layers

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The search normaliser: names, addresses and queries are all turned into one folded Cyrillic
// skeleton before they are compared, so that the Kazakh, Russian and Latin spellings of one name
// meet ("Ақтөбе", "Актобе", "Aqtöbe" and "Aktobe" are all "актобе"; "Құрманғазы" and "kurmangazy"
// are "курмангази"), street words are dropped ("ул. Маресьева", "Маресьева көшесі" and
// "Maresyeva street" are "маресев") and the simple endings of Russian and Kazakh forms are cut
// ("Абая" and "Абай" are "аба"). What is left is matched with pg_trgm's word similarity, which
// keeps the typo tolerance.

// latinDigraphs are the informal two-letter spellings, tried before single letters.
var latinDigraphs = map[string]string{
	"sh": "ш", "ch": "ч", "zh": "ж", "kh": "к", "ts": "ц", "ya": "я", "yu": "ю", "yo": "е", "ye": "е",
	"ia": "я", "iu": "ю",
}

// latinLetters maps the Latin letters of English, of informal Kazakh and Russian spellings and of
// the Kazakh alphabet of 2021 (ä ğ ı i ñ ö q ş ū ü) onto Cyrillic.
var latinLetters = map[rune]string{
	'a': "а", 'b': "б", 'c': "к", 'd': "д", 'e': "е", 'f': "ф", 'g': "г", 'h': "к", 'i': "и",
	'j': "ж", 'k': "к", 'l': "л", 'm': "м", 'n': "н", 'o': "о", 'p': "п", 'q': "к", 'r': "р",
	's': "с", 't': "т", 'u': "у", 'v': "в", 'w': "у", 'x': "кс", 'y': "и", 'z': "з",
	'ä': "а", 'á': "а", 'ğ': "г", 'ǵ': "г", 'ı': "и", 'ñ': "н", 'ń': "н", 'ö': "о", 'ó': "о",
	'ş': "ш", 'ç': "ч", 'ū': "у", 'ü': "у", 'ú': "у", 'é': "е", 'è': "е", 'ý': "и",
}

// cyrillicFold folds the Kazakh letters onto their Russian neighbours and the letters that
// Latin spellings cannot tell apart (и/і/й/ы, е/э/ё) onto one. х, һ and қ are one letter too:
// where Kazakh writes қ or һ in a name of Arabic or Persian origin Russian writes х
// ("Әбілқайыр" and "Абулхаир", "Қасым" and "Хасым", "Һарон" and "Харун"), and Latin spellings
// write kh, h or q for either.
var cyrillicFold = map[rune]string{
	'ә': "а", 'ғ': "г", 'қ': "к", 'ң': "н", 'ө': "о", 'ұ': "у", 'ү': "у", 'һ': "к", 'х': "к", 'і': "и",
	'й': "и", 'ы': "и", 'ё': "е", 'э': "е", 'ь': "", 'ъ': "",
}

// nameVariants are the Kazakh and Russian spellings of the common Arabic-origin parts of names
// that the letter folding alone does not bring together, by the folded beginning of a word:
// "Әбіл-" is the Russian "Абул-" (Әбілқайыр, Абулхаир), "Әбдол-", "Ғабдол-" and "Габдул-" are
// "Абдул-" (Әбдолла, Абдулла), "Ғали-" is "Али-", "Ғаббас" is "Аббас". Tried longest first.
var nameVariants = [][2]string{
	{"габдол", "абдул"}, {"габдул", "абдул"}, {"абдол", "абдул"},
	{"абил", "абул"}, {"габас", "абас"}, {"гали", "али"},
}

// streetWords are the words (and abbreviations) of addresses that are not part of a street's
// name, in Russian, Kazakh and English; each is folded like the text before use.
var streetWords = foldSet(
	"улица", "ул", "көшесі", "көше", "көш", "street", "st", "str", "ulitsa", "koshesi", "kosesi", "koshe",
	"проспект", "просп", "пр", "пр-т", "даңғылы", "даңғыл", "даң", "avenue", "ave", "av", "prospekt", "prospect", "dangyly",
	"переулок", "пер", "тұйық", "тұйығы", "тұйы", "lane", "ln", "pereulok",
	"микрорайон", "мкр", "мкрн", "м-н", "шағын", "шағынаудан", "ш/а", "microdistrict", "mkr", "mikrorayon",
	"бульвар", "бул", "б-р", "boulevard", "blvd", "шоссе", "тракт", "проезд", "пр-д", "өткел", "drive",
	"дом", "д", "үй", "house", "building", "здание", "корпус",
	"г", "город", "қала", "қаласы", "city",
)

// streetWordPairs are two-word street words ("шағын аудан": a housing estate).
var streetWordPairs = map[[2]string]bool{
	{fold("шағын"), fold("аудан")}: true, {fold("shagyn"), fold("audan")}: true,
}

func foldSet(words ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		for _, t := range tokens(fold(w)) {
			m[t] = true
		}
		m[strings.Join(tokens(fold(w)), "")] = true
	}
	return m
}

// fold lower-cases s, transliterates Latin to Cyrillic and folds the Cyrillic letters; anything
// that is neither a letter nor a digit becomes a space.
func fold(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r < 0x80 && i+2 <= len(s) {
			if c, ok := latinDigraphs[s[i:i+2]]; ok {
				b.WriteString(c)
				i += 2
				continue
			}
		}
		i += n
		if c, ok := latinLetters[r]; ok {
			b.WriteString(c)
			continue
		}
		if c, ok := cyrillicFold[r]; ok {
			b.WriteString(c)
			continue
		}
		switch {
		case r == 'i' || r == 'İ':
			b.WriteString("и")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return undouble(b.String())
}

// undouble writes a doubled letter once: spellings disagree on them ("Абдулла" and "Әбдолла",
// "Аккайнар" and "Акайнар") and the folding makes more ("Әбілқайыр" is "абилкаиир"). Digits
// are kept as they are: "11" is a house number.
func undouble(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var prev rune
	for _, r := range s {
		if r == prev && unicode.IsLetter(r) {
			continue
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// nameVariant writes the beginning of a folded word the way nameVariants does.
func nameVariant(w string) string {
	for _, v := range nameVariants {
		if strings.HasPrefix(w, v[0]) {
			return v[1] + w[len(v[0]):]
		}
	}
	return w
}

func tokens(s string) []string { return strings.Fields(s) }

// stem cuts the endings that tell the forms of one name apart: Russian genitives of street names
// ("Абая", "Маресьева", "Есет батыра", "Алии Молдагуловой") and the plain Kazakh forms ("Абай",
// "Маресьев", "Есет батыр"). Words shorter than four letters and numbers are kept whole.
func stem(w string) string {
	r := []rune(w)
	if len(r) < 4 || unicode.IsDigit(r[0]) {
		return w
	}
	for _, end := range []string{"ого", "его"} {
		if strings.HasSuffix(w, end) && len(r) > 5 {
			r = r[:len(r)-3]
			break
		}
	}
	for len(r) > 3 && strings.ContainsRune("аяиуеоюи", r[len(r)-1]) {
		r = r[:len(r)-1]
	}
	return string(r)
}

// normWords returns the stemmed words of s with the street words dropped (unless nothing else is
// left: "улица" alone is searched as it is).
func normWords(s string) []string {
	ts := tokens(fold(s))
	out := make([]string, 0, len(ts))
	for i := 0; i < len(ts); i++ {
		if i+1 < len(ts) && streetWordPairs[[2]string{ts[i], ts[i+1]}] {
			i++
			continue
		}
		if streetWords[ts[i]] {
			continue
		}
		out = append(out, stem(nameVariant(ts[i])))
	}
	if len(out) == 0 {
		for _, t := range ts {
			out = append(out, stem(t))
		}
	}
	return out
}

// Normalize is the search normaliser: the folded, stemmed words of s without street words,
// joined by single spaces.
func Normalize(s string) string { return strings.Join(normWords(s), " ") }

// isHouseNumber reports whether a normalised word is a house number: digits, maybe a letter or a
// fraction after them ("95", "95а", "12/1" is two words after folding and not one).
func isHouseNumber(w string) bool {
	r := []rune(w)
	if len(r) == 0 || len(r) > 6 || !unicode.IsDigit(r[0]) {
		return false
	}
	letters := 0
	for _, c := range r {
		if !unicode.IsDigit(c) {
			letters++
		}
	}
	return letters <= 1 && !unicode.IsDigit(r[len(r)-1]) == (letters == 1)
}

// splitAddress splits an address into its normalised street and house number: "ул. Маресьева,
// 95" and "Маресьева 95" and "95 Маресьева" are all ("маресев", "95"); "мкр. Шығыс-1, д. 12" is
// ("шигис 1", "12"). Without a house number the house is empty.
func splitAddress(s string) (street, house string) {
	ws := normWords(s)
	if len(ws) < 2 {
		return "", ""
	}
	if last := ws[len(ws)-1]; isHouseNumber(last) {
		return strings.Join(ws[:len(ws)-1], " "), last
	}
	if first := ws[0]; isHouseNumber(first) && !isHouseNumber(ws[1]) {
		return strings.Join(ws[1:], " "), first
	}
	return "", ""
}

// normCode normalises a code ("A0415", typed in Latin or Cyrillic letters): folded, no spaces.
func normCode(s string) string { return strings.Join(tokens(fold(s)), "") }

// categoryWords are the words residents search a kind of place by, in kk, ru and en (the layer's
// own titles count too); they are compared after normalisation, with one typo allowed in long words.
var categoryWords = map[string][]string{
	"clinics": {"clinic", "clinics", "polyclinic", "polyclinics", "outpatient clinic", "поликлиника", "поликлиники",
		"емхана", "емханалар", "амбулатория", "медпункт", "больница", "hospital", "аурухана", "health centre", "health center", "doctor", "врач", "дәрігер"},
	"schools":        {"school", "schools", "gymnasium", "lyceum", "школа", "школы", "гимназия", "лицей", "мектеп", "мектептер", "гимназиясы", "лицейі"},
	"pharmacies":     {"pharmacy", "pharmacies", "drugstore", "chemist", "аптека", "аптеки", "дәріхана", "дәріханалар"},
	"bus_stops":      {"bus stop", "bus stops", "stop", "stops", "остановка", "остановки", "аялдама", "аялдамалар", "автобус аялдамасы"},
	"parks":          {"park", "parks", "square", "boulevard", "парк", "парки", "сквер", "бульвар", "саябақ", "саябақтар", "скверлер"},
	"playgrounds":    {"playground", "playgrounds", "детская площадка", "детские площадки", "ойын алаңы", "балалар алаңы"},
	"sports_grounds": {"sports ground", "sports grounds", "pitch", "stadium", "спортплощадка", "спортивная площадка", "стадион", "спорт алаңы"},
	"biotoilets":     {"toilet", "toilets", "wc", "restroom", "туалет", "биотуалет", "дәретхана", "биодәретхана"},
	"cameras":        {"camera", "cameras", "cctv", "камера", "камеры", "видеокамера", "бейнекамера", "камералар"},
	"waste_sites":    {"recycling", "waste", "recycling point", "мусор", "отходы", "раздельный сбор", "қалдық", "қоқыс"},
	"leisure_places": {"cinema", "leisure", "кино", "кинотеатр", "досуг", "демалыс", "кинотеатр"},
	"ramps":          {"ramp", "ramps", "пандус", "пандусы", "пандустар"},
	"street_lights":  {"street light", "street lights", "lamp", "фонарь", "освещение", "шам"},
	"yards":          {"yard", "yards", "двор", "дворы", "аула", "аулалар"},
}

// categoryOf returns the layers whose kind the whole query names ("clinic", "емхана",
// "поликлиники"), given the layers' titles too: exact when a category word or title is the
// query, near when one is only a letter away ("школа" with a typo). A near category is a guess:
// "қаллық" is a letter from "қалдық" (waste) and from "қалалық" (city, in every clinic's name),
// so the search ranks a near category's features below good name matches (searchMatches).
func categoryOf(q string, titles map[string]Titles) (exact, near []string) {
	nq := Normalize(q)
	if nq == "" || strings.ContainsAny(nq, "0123456789") {
		return nil, nil
	}
	isExact, isNear := map[string]bool{}, map[string]bool{}
	for slug, t := range titles {
		words := append(append([]string(nil), categoryWords[slug]...), t.KK, t.RU, t.EN)
		for _, w := range words {
			switch nw := Normalize(w); {
			case nw == nq:
				isExact[slug] = true
			case utf8.RuneCountInString(nq) >= 5 && editDistanceAtMost1(nq, nw):
				isNear[slug] = true
			}
		}
	}
	for slug := range titles {
		if isExact[slug] {
			exact = append(exact, slug)
		} else if isNear[slug] {
			near = append(near, slug)
		}
	}
	slices.Sort(exact)
	slices.Sort(near)
	return exact, near
}

// editDistanceAtMost1 reports whether a and b differ by at most one inserted, deleted, replaced
// or two swapped neighbouring letters.
func editDistanceAtMost1(a, b string) bool {
	x, y := []rune(a), []rune(b)
	if len(x) > len(y) {
		x, y = y, x
	}
	if len(y)-len(x) > 1 {
		return false
	}
	i := 0
	for i < len(x) && x[i] == y[i] {
		i++
	}
	if i == len(x) {
		return true
	}
	if len(x) == len(y) {
		if string(x[i+1:]) == string(y[i+1:]) {
			return true
		}
		return i+1 < len(x) && x[i] == y[i+1] && x[i+1] == y[i] && string(x[i+2:]) == string(y[i+2:])
	}
	return string(x[i:]) == string(y[i+1:])
}
