package modules_test

import (
	"math"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/modules"
)

// Any text is either a tariff in range or a 400 naming it; never a panic or a NaN.
func FuzzParseTariff(f *testing.F) {
	for _, s := range []string{"", "30", "27.5", "-1", "NaN", "Inf", "1e309", "0x10", " 5 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := modules.ParseTariff(s)
		if err != nil {
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Fatalf("ParseTariff(%q): %v is not EINVALID", s, err)
			}
			return
		}
		if math.IsNaN(v) || v <= 0 || v > modules.MaxTariff {
			t.Fatalf("ParseTariff(%q) = %g out of range", s, v)
		}
	})
}

func FuzzParsePoint(f *testing.F) {
	f.Add("57.17", "50.28")
	f.Add("NaN", "0")
	f.Add("181", "-91")
	f.Fuzz(func(t *testing.T, lon, lat string) {
		x, y, err := modules.ParsePoint(lon, lat)
		if err != nil {
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Fatalf("ParsePoint(%q, %q): %v is not EINVALID", lon, lat, err)
			}
			return
		}
		if !(x >= -180 && x <= 180 && y >= -90 && y <= 90) {
			t.Fatalf("ParsePoint(%q, %q) = %g, %g", lon, lat, x, y)
		}
	})
}
