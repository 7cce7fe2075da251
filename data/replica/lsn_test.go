package replica

import "testing"

func TestParseLSN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want LSN
	}{{"0/0", 0}, {"16/B374D848", 0x16B374D848}, {"FFFFFFFF/FFFFFFFF", ^LSN(0)}} {
		got, err := ParseLSN(tc.in)
		if err != nil || got != tc.want || got.String() != tc.in {
			t.Errorf("ParseLSN(%q) = %v (%s), %v; want %v", tc.in, got, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "16", "G/1", "1/2/3", "100000000/0"} {
		if _, err := ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q): no error", bad)
		}
	}
}

func TestLayerOf(t *testing.T) {
	for in, want := range map[string]string{
		`{"layer" : "bus_stops", "version": 3}`: "bus_stops",
		`{"version": 3, "layer":"parks"}`:       "parks",
		`{"version": 3}`:                        "",
		`junk`:                                  "",
	} {
		if got := layerOf(in); got != want {
			t.Errorf("layerOf(%s) = %q, want %q", in, got, want)
		}
	}
}
