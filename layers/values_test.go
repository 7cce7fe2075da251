package layers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
)

// The coded values of the city layers read in people's words in each language (migration 0220).
func TestCityValueDictionaries(t *testing.T) {
	store := layers.NewStore(dbtest.New(t))
	all, err := store.Layers(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := layers.ValidateValues(nil); err != nil {
		t.Fatal(err)
	}
	bySlug := map[string]layers.Layer{}
	for _, l := range all {
		bySlug[l.Slug] = l
		if err := layers.ValidateValues(l.Attributes); err != nil {
			t.Errorf("layer %s: %v", l.Slug, err)
		}
	}
	for _, tc := range []struct{ layer, attr, value, lang, want string }{
		{"parks", "kind", "park", "kk", "саябақ"},
		{"parks", "kind", "park", "ru", "парк"},
		{"parks", "kind", "boulevard", "en", "boulevard"},
		{"ramps", "condition", "good", "ru", "хорошее"},
		{"sports_grounds", "surface", "artificial_turf", "en", "artificial turf"},
		{"street_lights", "control", "photocell", "kk", "фотореле"},
		{"street_lights", "control", "astronomical", "en", "astronomical timer"},
		{"cameras", "owner", "city", "ru", "город"},
		{"buildings", "use", "industrial", "kk", "өнеркәсіптік"},
		{"clinics", "kind", "polyclinic", "en", "polyclinic"},
		{"clinics", "kind", "family_health_centre", "kk", "отбасылық денсаулық орталығы"},
		{"leisure_places", "kind", "summer_cinema", "ru", "летний кинотеатр"},
		{"places", "place", "village", "kk", "ауыл"},
		{"waste_sites", "fractions", "пластик, бумага, металл", "en", "plastic, paper, metal"},
		{"parks", "facilities", "аллеи, фонтан, скамейки", "kk", "аллеялар, фонтан, орындықтар"},
		{"utility_networks", "network", "heating", "en", "heating"},
		{"outages", "network", "gas", "kk", "газбен жабдықтау"},
		{"trees", "leaf_type", "needleleaved", "ru", "хвойное"},
		{"pharmacies", "hours", "круглосуточно", "en", "open 24 hours"},
		// Values with no entry are shown as they are.
		{"parks", "kind", "allotments", "en", "allotments"},
		{"waste_sites", "fractions", "пластик, уголь", "en", "пластик, уголь"},
	} {
		t.Run(tc.layer+"/"+tc.attr+"/"+tc.value+"/"+tc.lang, func(t *testing.T) {
			l, ok := bySlug[tc.layer]
			if !ok {
				t.Fatalf("no layer %s", tc.layer)
			}
			a, ok := l.Attribute(tc.attr)
			if !ok {
				t.Fatalf("layer %s has no attribute %s", tc.layer, tc.attr)
			}
			if got := a.ValueLabel(tc.value, tc.lang); got != tc.want {
				t.Errorf("ValueLabel(%q, %s) = %q, want %q", tc.value, tc.lang, got, tc.want)
			}
		})
	}
}

func TestValidateValuesRejects(t *testing.T) {
	ok := layers.Titles{KK: "саябақ", RU: "парк", EN: "park"}
	for _, tc := range []struct {
		name string
		attr layers.Attribute
		want string
	}{
		{"double attribute", layers.Attribute{Name: "height", Type: "double", Values: map[string]layers.Titles{"1": ok}}, "attribute height is of type double"},
		{"no English", layers.Attribute{Name: "kind", Type: "text", Values: map[string]layers.Titles{"park": {KK: "саябақ", RU: "парк"}}}, `value "park" has no en label`},
		{"blank Kazakh", layers.Attribute{Name: "kind", Type: "text", Values: map[string]layers.Titles{"park": {KK: " ", RU: "парк", EN: "park"}}}, `value "park" has no kk label`},
		{"empty value", layers.Attribute{Name: "kind", Type: "text", Values: map[string]layers.Titles{"": ok}}, "attribute kind: a value must be"},
		{"long label", layers.Attribute{Name: "kind", Type: "text", Values: map[string]layers.Titles{"park": {KK: "а", RU: strings.Repeat("п", 201), EN: "park"}}}, "the ru label is longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := layers.ValidateValues([]layers.Attribute{tc.attr})
			if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want EINVALID with %q", err, tc.want)
			}
		})
	}
	many := map[string]layers.Titles{}
	for i := 0; i <= layers.MaxDictionaryValues; i++ {
		many[strings.Repeat("x", i+1)] = ok
	}
	if err := layers.ValidateValues([]layers.Attribute{{Name: "kind", Type: "text", Values: many}}); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("%d entries: %v", len(many), err)
	}
	l := layers.Layer{Slug: "pois", Attributes: []layers.Attribute{{Name: "kind", Type: "text"}}}
	if err := l.ApplyValues(map[string]map[string]layers.Titles{"sort": {"a": ok}}); geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), `no attribute "sort"`) {
		t.Errorf("unknown attribute: %v", err)
	}
}

// A layer created with a bad dictionary is refused whole: no catalog row, no table.
func TestCreateLayerRefusesBadDictionary(t *testing.T) {
	pool := dbtest.New(t)
	store := layers.NewStore(pool)
	ctx := context.Background()
	l := layers.Layer{Slug: "kiosks", Title: layers.Titles{KK: "Дүңгіршектер", RU: "Киоски", EN: "Kiosks"}, GeometryType: "Point",
		Attributes: []layers.Attribute{{Name: "kind", Type: "text", Values: map[string]layers.Titles{"food": {RU: "еда"}}}}}
	if err := store.CreateLayer(ctx, nil, l); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("bad dictionary: %v", err)
	}
	if _, err := store.Layer(ctx, "kiosks", true); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("layer after a refused create: %v", err)
	}
	l.Attributes[0].Values = map[string]layers.Titles{"food": {KK: "тамақ", RU: "еда", EN: "food"}}
	if err := store.CreateLayer(ctx, nil, l); err != nil {
		t.Fatal(err)
	}
	got, err := store.Layer(ctx, "kiosks", true)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := got.Attribute("kind"); a.ValueLabel("food", "kk") != "тамақ" {
		t.Errorf("stored dictionary: %+v", a)
	}
}
