package geo

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/paulmach/orb"
)

func corpusPrj(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(testfiles.Path(t, "shapefiles", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseCRS(t *testing.T) {
	cases := []struct {
		prj        string
		epsg       int
		geographic bool
		name       string
	}{
		{"debian-r-cran-sf/nc.prj", 4267, true, "NAD27"},                            // ESRI WKT
		{"shapefile-js/senate.prj", 26986, false, "NAD83 / Massachusetts Mainland"}, // ESRI State Plane
		{"mbostock-shapefile/points.prj", 4326, true, "WGS 84"},                     // GCS_WGS_1984
		{"debian-spdata/NY8_utm18.prj", 0, false, "WGS 84 / UTM zone 18N"},          // unknown datum: no code, still usable
		{"shapefile-js/ipra_dresden_polygon.prj", 4326, true, "WGS 84"},             // OGC WKT
	}
	for _, tc := range cases {
		t.Run(tc.prj, func(t *testing.T) {
			c, err := ParseCRS(corpusPrj(t, tc.prj))
			if err != nil {
				t.Fatal(err)
			}
			if c.EPSG != tc.epsg || c.Geographic != tc.geographic || c.Name != tc.name {
				t.Errorf("got %+v", c)
			}
		})
	}
	if _, err := ParseCRS(corpusPrj(t, "shapefile-js/htmlprj.prj")); err == nil || !strings.Contains(err.Error(), "HTML") {
		t.Errorf("HTML .prj: %v", err)
	}
	for _, bad := range []string{"", "hello", "PROJCS[", "EPSG:999999"} {
		if _, err := ParseCRS(bad); err == nil {
			t.Errorf("ParseCRS(%q) accepted", bad)
		}
	}
	for _, code := range []int{4326, 4284, 32640, 32641, 28410, 28411, 2500, 2940, 3857} {
		if c, err := EPSG(code); err != nil || c.EPSG != code {
			t.Errorf("EPSG(%d) = %+v, %v", code, c, err)
		}
	}
}

func TestTransformer(t *testing.T) {
	c, _ := EPSG(32640)
	tr, err := NewTransformer(c)
	if err != nil {
		t.Fatal(err)
	}
	// Aktobe in UTM 40N (cs2cs EPSG:4326 EPSG:32640: 50.283 57.166 → 511826.8 5570109.9).
	g, err := tr.Transform(orb.Point{511826.8, 5570109.9})
	if err != nil {
		t.Fatal(err)
	}
	p := g.(orb.Point)
	if math.Abs(p[0]-57.166) > 1e-6 || math.Abs(p[1]-50.283) > 1e-6 {
		t.Errorf("got %v", p)
	}
	if _, err := tr.Transform(orb.Point{1e12, 1e12}); err == nil {
		t.Error("far-out coordinates accepted")
	}
	w, _ := NewTransformer(WGS84)
	if _, err := w.Transform(orb.Point{500000, 5500000}); err == nil || !strings.Contains(err.Error(), "not a longitude/latitude") {
		t.Errorf("metres taken as degrees: %v", err)
	}
}

func TestRepair(t *testing.T) {
	v := NewValidator()
	square := orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}
	if g, repaired, err := v.Repair(square); err != nil || repaired || g.GeoJSONType() != "Polygon" {
		t.Errorf("valid square: %v %v %v", g, repaired, err)
	}
	bowtie := orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}
	g, repaired, err := v.Repair(bowtie)
	if err != nil || !repaired || Dimension(g) != 2 {
		t.Errorf("bow-tie: %v %v %v", g, repaired, err)
	}
	flat := orb.Polygon{{{0, 0}, {1, 0}, {2, 0}, {0, 0}}}
	if _, _, err := v.Repair(flat); err == nil {
		t.Error("a polygon of zero area was accepted")
	}
	if _, _, err := v.Repair(orb.LineString{{1, 1}, {1, 1}}); err == nil {
		t.Error("a line of one distinct point was accepted")
	}
}
