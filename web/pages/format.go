package pages

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The server pages' one formatter of numbers, shares, plurals, years and dates in kk, ru and en
// (the web map's is web/frontend/src/format.js, with the same rules). Kazakh and Russian write
// 4 080,5 and 70,1 %: a no-break space between thousands and a decimal comma; English writes
// 4,080.5 and 70.1%. Years are never grouped. Dates are on the city's clock (cityClock), with
// the month named in the page's language.

// groupSep and decimalSep are the separators of lang.
func separators(lang string) (group, decimal string) {
	if lang == "en" {
		return ",", "."
	}
	return "\u00a0", ","
}

// FormatNumber writes v in lang with decimals digits after the point (trailing zeros dropped):
// FormatNumber("kk", 4080.46, 1) = "4 080,5", FormatNumber("en", 4080.46, 1) = "4,080.5".
func FormatNumber(lang string, v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	if neg && strings.Trim(whole+frac, "0") == "" {
		neg = false // no "-0"
	}
	group, decimal := separators(lang)
	var b strings.Builder
	if neg {
		b.WriteString("-")
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(decimal)
		b.WriteString(frac)
	}
	return b.String()
}

// FormatPercent writes a share (0.701) as a percentage with digits decimals, always shown:
// "70,1 %" in kk and ru, "70.1%" in en.
func FormatPercent(lang string, share float64, digits int) string {
	if math.IsNaN(share) || math.IsInf(share, 0) {
		return "—"
	}
	s := strconv.FormatFloat(share*100, 'f', digits, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-") // no "-0,0 %"
	}
	if lang == "en" {
		return s + "%"
	}
	return strings.Replace(s, ".", ",", 1) + "\u00a0%"
}

// FormatYear writes a year without separators: "2026".
func FormatYear(y int) string { return strconv.Itoa(y) }

// Plural picks the form of a count n in lang: Russian has three (one: 1, 21; few: 2–4, 22–24;
// many: 5–20, 25…), English two (one, other = many), Kazakh one (many).
func Plural(lang string, n int64, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	switch lang {
	case "kk":
		return many
	case "en":
		if n == 1 {
			return one
		}
		return many
	}
	switch m10, m100 := n%10, n%100; {
	case m10 == 1 && m100 != 11:
		return one
	case m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14):
		return few
	}
	return many
}

// months are the names of the months in each language, January first: Kazakh and English in the
// nominative ("7 желтоқсан"), Russian in the genitive ("7 декабря").
var months = map[string][12]string{
	"kk": {"қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"},
	"ru": {"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// FormatDate writes the day of t on the city's clock with the month named in lang:
// "7 желтоқсан 2026 ж.", "7 декабря 2026 г.", "7 December 2026".
func FormatDate(lang string, t time.Time) string {
	t = t.In(cityClock)
	m, ok := months[lang]
	if !ok {
		m = months["ru"]
	}
	name := m[t.Month()-1]
	switch lang {
	case "kk":
		return fmt.Sprintf("%d %s %d ж.", t.Day(), name, t.Year())
	case "en":
		return fmt.Sprintf("%d %s %d", t.Day(), name, t.Year())
	}
	return fmt.Sprintf("%d %s %d г.", t.Day(), name, t.Year())
}

// monthsNominative are the Russian months standing alone ("декабрь 2026").
var monthsNominative = [12]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}

// FormatMonth writes a month of a year: "2026 ж. желтоқсан", "декабрь 2026", "December 2026".
func FormatMonth(lang string, year int, month time.Month) string {
	if month < 1 || month > 12 {
		return FormatYear(year)
	}
	switch lang {
	case "kk":
		return fmt.Sprintf("%d ж. %s", year, months["kk"][month-1])
	case "en":
		return fmt.Sprintf("%s %d", months["en"][month-1], year)
	}
	return fmt.Sprintf("%s %d", monthsNominative[month-1], year)
}

// FormatDateTime is FormatDate with the time of day: "7 желтоқсан 2026 ж., 01:50".
func FormatDateTime(lang string, t time.Time) string {
	return FormatDate(lang, t) + ", " + t.In(cityClock).Format("15:04")
}

// number is a template argument as a float64: any Go number, or a pointer to one (nil: false).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *float64:
		if x != nil {
			return *x, true
		}
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case *int64:
		if x != nil {
			return float64(*x), true
		}
	case *int:
		if x != nil {
			return float64(*x), true
		}
	}
	return 0, false
}

// timeOf is a template argument as a time: time.Time or a non-nil *time.Time.
func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t != nil {
			return *t, true
		}
	}
	return time.Time{}, false
}

// formatFuncs are the formatter's template funcs for lang.
func formatFuncs(lang string) map[string]any {
	return map[string]any{
		// num is a whole number, dec a number with up to n decimals, pct a share as a
		// percentage, year a year; each "—" for what is not a number (a nil pointer).
		"num": func(v any) string {
			if x, ok := number(v); ok {
				return FormatNumber(lang, x, 0)
			}
			return "—"
		},
		// round is num with halves rounded away from zero (num rounds them to even).
		"round": func(v any) string {
			if x, ok := number(v); ok {
				return FormatNumber(lang, math.Round(x), 0)
			}
			return "—"
		},
		"dec": func(v any, n int) string {
			if x, ok := number(v); ok {
				return FormatNumber(lang, x, n)
			}
			return "—"
		},
		"pct": func(v any) string {
			if x, ok := number(v); ok {
				return FormatPercent(lang, x, 1)
			}
			return "—"
		},
		"year": func(v any) string {
			if x, ok := number(v); ok {
				return FormatYear(int(x))
			}
			return "—"
		},
		// day and when are a time's date, and date and time, with the month named: for prose.
		"day": func(v any) string {
			if t, ok := timeOf(v); ok {
				return FormatDate(lang, t)
			}
			return "—"
		},
		"when": func(v any) string {
			if t, ok := timeOf(v); ok {
				return FormatDateTime(lang, t)
			}
			return "—"
		},
	}
}
