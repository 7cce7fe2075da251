package ogc_test

import (
	"context"
	"strings"
	"testing"
)

// The HTML pages show a coded value in the page's language from the attribute's dictionary.
func TestOGCHTMLValueDictionary(t *testing.T) {
	_, full, s := newOGCTest(t, false)
	if _, err := s.Pool.Exec(context.Background(), `INSERT INTO layer.street_lights (id, geom, lamp_type, power_w, control)
		VALUES (7, ST_SetSRID(ST_MakePoint(57.16, 50.28), 4326), 'LED', 90, 'photocell'),
		       (8, ST_SetSRID(ST_MakePoint(57.17, 50.28), 4326), 'LED', 90, 'relay_x')`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, lang, want string }{
		{"/items/7", "kk", "фотореле"},
		{"/items/7", "ru", "светодиодная"},
		{"/items/7", "en", "<td>photocell</td>"},
		{"/items/8", "en", "<td>relay_x</td>"}, // no entry: as it is
	} {
		r := do(t, "GET", full.URL+"/ogc/collections/street_lights"+tc.path+"?f=html&lang="+tc.lang, "")
		if r.status != 200 {
			t.Fatalf("%s: %d", tc.path, r.status)
		}
		if !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s lang=%s: no %q: %.2000s", tc.path, tc.lang, tc.want, r.body)
		}
	}
	r := do(t, "GET", full.URL+"/ogc/collections/street_lights/items?f=html&lang=en", "")
	if !strings.Contains(string(r.body), "<td>LED</td>") || !strings.Contains(string(r.body), "<td>photocell</td>") {
		t.Errorf("items page: %.3000s", r.body)
	}
	r = do(t, "GET", full.URL+"/ogc/collections/street_lights/items?f=html&lang=kk", "")
	if !strings.Contains(string(r.body), "жарық диодты") {
		t.Errorf("items page in kk: %.3000s", r.body)
	}
}
