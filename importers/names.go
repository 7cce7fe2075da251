package importers

import (
	"strings"
	"unicode"
)

var translit = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z", 'и': "i",
	'й': "i", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t",
	'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "",
	'э': "e", 'ю': "iu", 'я': "ia", 'ә': "a", 'ғ': "g", 'қ': "q", 'ң': "n", 'ө': "o", 'ұ': "u", 'ү': "u",
	'һ': "h", 'і': "i",
}

// identifier turns a file or field name into a lower-case word of [a-z0-9_] starting with a letter
// (Cyrillic transliterated), at most n bytes; "" when nothing is left.
func identifier(s string, n int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case translit[r] != "" || r == 'ъ' || r == 'ь':
			b.WriteString(translit[r])
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), "_")
	for strings.Contains(out, "__") {
		out = strings.ReplaceAll(out, "__", "_")
	}
	if out != "" && (out[0] < 'a' || out[0] > 'z') {
		out = "f_" + out
	}
	if len(out) > n {
		out = strings.TrimRight(out[:n], "_")
	}
	return out
}

// reservedColumns are the columns every layer table has.
var reservedColumns = map[string]bool{"id": true, "geom": true, "created_at": true, "updated_at": true, "is_demo": true}

// attributeNames gives each source field a unique column name.
func attributeNames(fields []Field) []string {
	used := map[string]bool{}
	out := make([]string, len(fields))
	for i, f := range fields {
		n := identifier(f.Name, 60)
		if n == "" {
			n = "field"
		}
		if reservedColumns[n] {
			n = "src_" + n
		}
		base := n
		for k := 2; used[n]; k++ {
			n = base + "_" + itoa(k)
		}
		used[n] = true
		out[i] = n
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
