package pages

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The wording of every page in kk, ru and en (see GLOSSARY.md), in catalog.json: one flat key
// space of dotted keys ("reports.console"), each with its three texts; a placeholder is written
// {name} and filled by Text. The front-end's catalog (web/frontend/src/catalog.json) has the same
// shape. Layer titles are not here: they live in the layer catalog (database).
//
// A new text is a new key with its three texts; a fourth language is one more entry in Langs and
// one more text in every key: catalog_test.go names each key that lacks one, and each key a
// template or the Go code names that the catalog lacks.

//go:embed catalog.json
var catalogJSON []byte

// Langs are the page languages, in the order the language links show them.
var Langs = []string{"kk", "ru", "en"}

// defaultLang is the language of a visitor who asks for none of Langs.
const defaultLang = "ru"

// catalog maps a key to its text by language.
var catalog = mustCatalog(catalogJSON)

func mustCatalog(b []byte) map[string]map[string]string {
	var c map[string]map[string]string
	if err := json.Unmarshal(b, &c); err != nil {
		panic("pages: catalog.json: " + err.Error())
	}
	return c
}

// Text is key's text in lang, its {name} placeholders filled from params, given as name, value
// pairs: Text("en", "reports.bulk_done", "done", 3, "of", 5). A key the catalog lacks shows as
// itself (the catalog test fails first).
func Text(lang, key string, params ...any) string {
	s, ok := catalog[key][lang]
	if !ok {
		return key
	}
	if len(params) == 0 {
		return s
	}
	pairs := make([]string, 0, len(params))
	for i := 0; i+1 < len(params); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(params[i])+"}", fmt.Sprint(params[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// has reports whether the catalog holds key.
func has(key string) bool { _, ok := catalog[key]; return ok }

// table is the texts of one key prefix in lang, keyed without the prefix: the upload page hands
// its table to its script.
func table(lang, prefix string) map[string]string {
	t := map[string]string{}
	for k, v := range catalog {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			t[rest] = v[lang]
		}
	}
	return t
}

// Lang picks a page's language: ?lang= or the form field lang, then Accept-Language, then ru.
func Lang(r *http.Request) string {
	for _, l := range []string{r.URL.Query().Get("lang"), r.PostFormValue("lang")} {
		if slices.Contains(Langs, l) {
			return l
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag, _, _ = strings.Cut(strings.ToLower(tag), "-")
		if slices.Contains(Langs, tag) {
			return tag
		}
	}
	return defaultLang
}
