package ogc_test

import (
	"strings"
	"testing"

	"github.com/aktobe/geoportal/web/ogc"
)

// TestOGCOpenAPIRefsResolve: every $ref of /ogc/api names a schema the document defines, and every
// GET operation documents the schema of its 200 JSON answer (scripts/standards-tests.sh validates
// real answers against them with ajv).
func TestOGCOpenAPIRefsResolve(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	doc := do(t, "GET", full.URL+"/ogc/api", "").json(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(path string, v any)
	refs := 0
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					refs++
					name, ok := strings.CutPrefix(c.(string), "#/components/schemas/")
					if !ok || schemas[name] == nil {
						t.Errorf("%s: $ref %v names no schema of the document", path, c)
					}
					continue
				}
				walk(path+"/"+k, c)
			}
		case []any:
			for _, c := range x {
				walk(path, c)
			}
		}
	}
	walk("", doc)
	if refs == 0 {
		t.Fatal("no $ref in the document")
	}
	for p, item := range doc["paths"].(map[string]any) {
		get, ok := item.(map[string]any)["get"].(map[string]any)
		if !ok {
			continue
		}
		ok200 := get["responses"].(map[string]any)["200"].(map[string]any)
		for mt, media := range ok200["content"].(map[string]any) {
			if mt == ogc.MediaHTML {
				continue
			}
			if _, ok := media.(map[string]any)["schema"].(map[string]any)["$ref"]; !ok {
				t.Errorf("GET %s: 200 %s has no schema of its own", p, mt)
			}
		}
	}
}
