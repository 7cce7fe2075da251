package layers

import (
	"strings"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
)

// Limits of a value dictionary (Attribute.Values), so that a catalog entry stays small enough
// to travel with every /api/layers answer.
const (
	MaxDictionaryValues = 500 // entries of one attribute
	MaxValueLabel       = 200 // characters of one label
)

// dictionaryTypes are the attribute types whose values may be coded: a dictionary of a
// double, a date or a JSON document would never match what is stored.
var dictionaryTypes = map[string]bool{"text": true, "integer": true, "bigint": true}

// Label is the text in lang ("kk", "ru" or "en"), falling back to Russian, then the others.
func (t Titles) Label(lang string) string {
	switch lang {
	case "kk":
		if t.KK != "" {
			return t.KK
		}
	case "en":
		if t.EN != "" {
			return t.EN
		}
	}
	for _, s := range []string{t.RU, t.KK, t.EN} {
		if s != "" {
			return s
		}
	}
	return ""
}

// ValueLabel is value in people's words in lang from the attribute's dictionary. A list
// ("пластик, бумага") whose every item is in the dictionary reads item by item; anything else
// not in the dictionary is returned as it is.
func (a Attribute) ValueLabel(value, lang string) string {
	if t, ok := a.Values[value]; ok {
		return t.Label(lang)
	}
	if len(a.Values) == 0 || !strings.Contains(value, ",") {
		return value
	}
	parts := strings.Split(value, ",")
	for i, p := range parts {
		t, ok := a.Values[strings.TrimSpace(p)]
		if !ok {
			return value
		}
		parts[i] = t.Label(lang)
	}
	return strings.Join(parts, ", ")
}

// ValidateValues checks the value dictionaries of attrs: only on text and whole-number
// attributes, each entry a non-empty code with its kk, ru and en labels, within the limits.
// The error (EINVALID) names the attribute, the value and the language at fault.
func ValidateValues(attrs []Attribute) error {
	for _, a := range attrs {
		if len(a.Values) == 0 {
			continue
		}
		if !dictionaryTypes[a.Type] {
			return geoportal.Errorf(geoportal.EINVALID, "values: attribute %s is of type %s: a value dictionary is for text, integer or bigint attributes", a.Name, a.Type)
		}
		if len(a.Values) > MaxDictionaryValues {
			return geoportal.Errorf(geoportal.EINVALID, "values: attribute %s has %d entries: at most %d", a.Name, len(a.Values), MaxDictionaryValues)
		}
		for code, t := range a.Values {
			if strings.TrimSpace(code) == "" || utf8.RuneCountInString(code) > MaxValueLabel {
				return geoportal.Errorf(geoportal.EINVALID, "values: attribute %s: a value must be 1 to %d characters", a.Name, MaxValueLabel)
			}
			for _, l := range []struct{ lang, s string }{{"kk", t.KK}, {"ru", t.RU}, {"en", t.EN}} {
				if strings.TrimSpace(l.s) == "" {
					return geoportal.Errorf(geoportal.EINVALID, "values: attribute %s: value %q has no %s label", a.Name, code, l.lang)
				}
				if utf8.RuneCountInString(l.s) > MaxValueLabel {
					return geoportal.Errorf(geoportal.EINVALID, "values: attribute %s: value %q: the %s label is longer than %d characters", a.Name, code, l.lang, MaxValueLabel)
				}
			}
		}
	}
	return nil
}

// ApplyValues puts the dictionaries of dicts (attribute name → value → labels) on the layer's
// attributes, replacing the entries of the same values, and validates the result. An attribute
// the layer does not have is an error naming it.
func (l *Layer) ApplyValues(dicts map[string]map[string]Titles) error {
	for name, dict := range dicts {
		i := -1
		for k := range l.Attributes {
			if l.Attributes[k].Name == name {
				i = k
			}
		}
		if i < 0 {
			return geoportal.Errorf(geoportal.EINVALID, "values: layer %s has no attribute %q", l.Slug, name)
		}
		a := &l.Attributes[i]
		merged := make(map[string]Titles, len(a.Values)+len(dict))
		for k, v := range a.Values {
			merged[k] = v
		}
		for k, v := range dict {
			merged[k] = v
		}
		a.Values = merged
	}
	return ValidateValues(l.Attributes)
}
