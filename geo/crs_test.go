package geo

import (
	"os"
	"testing"
)

func TestParseCRSCorpus(t *testing.T) {
	for _, f := range []string{"debian-r-cran-sf/nc.prj", "debian-spdata/NY8_utm18.prj", "shapefile-js/senate.prj", "debian-r-cran-sf/olinda1.prj", "mbostock-shapefile/points.prj", "shapefile-js/htmlprj.prj"} {
		b, _ := os.ReadFile("/work/shared/testdata/shapefiles/" + f)
		c, err := ParseCRS(string(b))
		t.Logf("%s: %+v %v", f, c.String(), err)
	}
	for _, code := range []int{4326, 32640, 28410, 3857, 2940, 4284} {
		c, err := EPSG(code)
		t.Logf("%d: %s %v %v", code, c, c.Geographic, err)
	}
}
