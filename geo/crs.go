package geo

// Coordinate reference systems: identification of .prj files with PROJ and reprojection to
// EPSG:4326.

/*
#cgo pkg-config: proj
#include <stdlib.h>
#include <proj.h>

// identify returns the EPSG code PROJ finds for a CRS definition (WKT1, ESRI WKT, WKT2,
// PROJJSON or "EPSG:n"), with its confidence (0-100); 0 when there is none. kind is 1 for a
// geographic CRS, 2 for a projected one, 0 otherwise or when the text is not a CRS (-1).
static int identify(const char *def, int *confidence, int *kind, char *name, int namelen) {
	PJ_CONTEXT *ctx = proj_context_create();
	proj_log_level(ctx, PJ_LOG_NONE);
	PJ *obj = proj_create(ctx, def);
	*confidence = 0;
	*kind = -1;
	if (obj == NULL) { proj_context_destroy(ctx); return 0; }
	PJ_TYPE t = proj_get_type(obj);
	if (t == PJ_TYPE_BOUND_CRS) {
		PJ *src = proj_get_source_crs(ctx, obj);
		if (src != NULL) { proj_destroy(obj); obj = src; t = proj_get_type(obj); }
	}
	switch (t) {
	case PJ_TYPE_GEOGRAPHIC_2D_CRS: case PJ_TYPE_GEOGRAPHIC_3D_CRS: case PJ_TYPE_GEOGRAPHIC_CRS: *kind = 1; break;
	case PJ_TYPE_PROJECTED_CRS: *kind = 2; break;
	case PJ_TYPE_GEOCENTRIC_CRS: case PJ_TYPE_COMPOUND_CRS: case PJ_TYPE_VERTICAL_CRS: case PJ_TYPE_ENGINEERING_CRS: case PJ_TYPE_OTHER_CRS: case PJ_TYPE_CRS: *kind = 0; break;
	default: proj_destroy(obj); proj_context_destroy(ctx); return 0;
	}
	const char *nm = proj_get_name(obj);
	if (nm != NULL && name != NULL && namelen > 0) {
		int i = 0;
		for (; nm[i] != 0 && i < namelen - 1; i++) name[i] = nm[i];
		name[i] = 0;
	}
	int code = 0;
	const char *auth = proj_get_id_auth_name(obj, 0);
	const char *id = proj_get_id_code(obj, 0);
	if (auth != NULL && id != NULL && (auth[0] == 'E' || auth[0] == 'e') && (auth[1] == 'P' || auth[1] == 'p')) {
		code = atoi(id);
		*confidence = 100;
	} else {
		int *conf = NULL;
		PJ_OBJ_LIST *list = proj_identify(ctx, obj, "EPSG", NULL, &conf);
		if (list != NULL) {
			int n = proj_list_get_count(list);
			int best = -1;
			for (int i = 0; i < n; i++) {
				if (best < 0 || conf[i] > conf[best]) best = i;
			}
			if (best >= 0) {
				PJ *m = proj_list_get(ctx, list, best);
				if (m != NULL) {
					const char *c = proj_get_id_code(m, 0);
					if (c != NULL) { code = atoi(c); *confidence = conf[best]; }
					proj_destroy(m);
				}
			}
			proj_int_list_destroy(conf);
			proj_list_destroy(list);
		}
	}
	proj_destroy(obj);
	proj_context_destroy(ctx);
	return code;
}
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// CRS is a coordinate reference system as a source declares it.
type CRS struct {
	// EPSG is the EPSG code, 0 when the definition matches none with enough confidence.
	EPSG int `json:"epsg,omitempty"`
	// Name is PROJ's name for it, e.g. "Pulkovo 1942 / Gauss-Kruger zone 10".
	Name string `json:"name,omitempty"`
	// Definition is what was given: WKT from a .prj, or "EPSG:n".
	Definition string `json:"-"`
	// Geographic is true for longitude/latitude systems.
	Geographic bool `json:"geographic"`
	// Confidence of the EPSG identification, 0..100.
	Confidence int `json:"confidence,omitempty"`
}

// WGS84 is EPSG:4326, the CRS of every layer.
var WGS84 = CRS{EPSG: 4326, Name: "WGS 84", Definition: "EPSG:4326", Geographic: true, Confidence: 100}

// String names the CRS for people.
func (c CRS) String() string {
	switch {
	case c.EPSG != 0 && c.Name != "":
		return fmt.Sprintf("EPSG:%d (%s)", c.EPSG, c.Name)
	case c.EPSG != 0:
		return fmt.Sprintf("EPSG:%d", c.EPSG)
	case c.Name != "":
		return c.Name + " (no EPSG code)"
	}
	return "unknown"
}

// ParseCRS reads a CRS definition: WKT1 (OGC or ESRI flavour, as in a .prj), WKT2, PROJJSON
// or "EPSG:n", and identifies its EPSG code with PROJ. Matches below 70% confidence keep the
// definition without a code (it still reprojects, through the WKT itself).
func ParseCRS(def string) (CRS, error) {
	def = strings.TrimSpace(strings.TrimPrefix(def, "\uFEFF"))
	if def == "" {
		return CRS{}, fmt.Errorf("empty coordinate system definition")
	}
	if len(def) > 64<<10 {
		return CRS{}, fmt.Errorf("coordinate system definition is %d bytes long: not a WKT", len(def))
	}
	if strings.HasPrefix(def, "<") {
		return CRS{}, fmt.Errorf("not a coordinate system: it looks like HTML or XML (%q…)", head(def, 40))
	}
	cs := C.CString(def)
	defer C.free(unsafe.Pointer(cs))
	var conf, kind C.int
	var name [256]C.char
	code := int(C.identify(cs, &conf, &kind, &name[0], C.int(len(name))))
	if kind < 0 {
		return CRS{}, fmt.Errorf("not a coordinate system PROJ can read (%q…)", head(def, 40))
	}
	c := CRS{Name: C.GoString(&name[0]), Definition: def, Geographic: kind == 1, Confidence: int(conf)}
	if conf >= 70 {
		c.EPSG = code
	}
	if kind == 0 {
		return c, fmt.Errorf("%s is not a 2-D geographic or projected coordinate system", c)
	}
	return c, nil
}

// EPSG returns the CRS with the given EPSG code.
func EPSG(code int) (CRS, error) {
	c, err := ParseCRS(fmt.Sprintf("EPSG:%d", code))
	if err != nil {
		return CRS{}, fmt.Errorf("EPSG:%d: %w", code, err)
	}
	c.EPSG = code
	return c, nil
}

func head(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
