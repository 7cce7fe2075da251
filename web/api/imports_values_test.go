package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/web/webtest"
)

// An import may give its layer value dictionaries (form field values); a bad one is a 400 that
// names the attribute and value, and nothing is created.
func TestImportValueDictionaries(t *testing.T) {
	s, ts, gis, _, postAs := importServer(t)
	ctx := context.Background()
	files := map[string][]byte{"kiosks.geojson": []byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"kind":"food"},"geometry":{"type":"Point","coordinates":[57.16,50.28]}},
		{"type":"Feature","properties":{"kind":"press"},"geometry":{"type":"Point","coordinates":[57.17,50.29]}}]}`)}
	post := func(fields map[string]string) (int, string) {
		t.Helper()
		// A new layer needs its titles in the three languages (requireTitles).
		fields["title_kk"], fields["title_ru"], fields["title_en"] = "Дүңгіршектер", "Киоски", "Kiosks"
		code, b := postAs(gis, fields, files)
		return code, string(b)
	}
	for _, tc := range []struct{ name, values, want string }{
		{"not JSON", `kind=food`, "values: want a JSON object"},
		{"unknown language", `{"kind": {"food": {"kk": "тамақ", "ru": "еда", "en": "food", "de": "Essen"}}}`, "values: want a JSON object"},
		{"missing label", `{"kind": {"food": {"kk": "тамақ", "ru": "еда"}}}`, `value \"food\" has no en label`},
		{"no such attribute", `{"sort": {"food": {"kk": "тамақ", "ru": "еда", "en": "food"}}}`, `has no attribute \"sort\"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := post(map[string]string{"layer": "kiosks", "values": tc.values})
			if code != 400 || !strings.Contains(b, tc.want) {
				t.Errorf("got %d %s, want 400 with %s", code, b, tc.want)
			}
			if _, err := s.Layers.Layer(ctx, "kiosks", true); err == nil {
				t.Error("a refused import created the layer")
			}
		})
	}
	code, b := post(map[string]string{"layer": "kiosks", "values": `{"kind": {"food": {"kk": "тамақ", "ru": "еда", "en": "food"}}}`})
	if code != 200 {
		t.Fatalf("import: %d %s", code, b)
	}
	// Appending with a dictionary merges it into the layer's.
	code, b = post(map[string]string{"layer": "kiosks", "mode": "append", "values": `{"kind": {"press": {"kk": "баспасөз", "ru": "пресса", "en": "press"}}}`})
	if code != 200 {
		t.Fatalf("append: %d %s", code, b)
	}
	l, err := s.Layers.Layer(ctx, "kiosks", true)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := l.Attribute("kind")
	if a.ValueLabel("food", "kk") != "тамақ" || a.ValueLabel("press", "ru") != "пресса" || l.FeatureCount != 4 {
		t.Errorf("layer after the imports: %d features, kind %+v", l.FeatureCount, a)
	}
	code, body := webtest.GetJSON(t, ts.URL+"/api/layers/kiosks")
	attrs, _ := body["attributes"].([]any)
	if code != 200 || len(attrs) == 0 || attrs[0].(map[string]any)["values"] == nil {
		t.Errorf("/api/layers/kiosks: %d %v", code, body)
	}
}
