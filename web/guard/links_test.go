package guard

import "testing"

func TestParsePublicURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"https://geo.aktobe.kz":   "https://geo.aktobe.kz",
		"https://geo.aktobe.kz/":  "https://geo.aktobe.kz",
		"http://127.0.0.1:8080":   "http://127.0.0.1:8080",
		"geo.aktobe.kz":           "error",
		"ftp://geo.aktobe.kz":     "error",
		"https://geo.aktobe.kz/x": "error",
		"https://u:p@geo.kz":      "error",
		"https://geo.kz/?a=1":     "error",
		"https://":                "error",
	} {
		got, err := ParsePublicURL(in)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParsePublicURL(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}
