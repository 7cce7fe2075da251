package ogc_test

import (
	"net/url"
	"strings"
	"testing"
)

// Before: DWITHIN(…, 2e7, meters) in a filter and 1,700 properties= names were answered 500 with
// an ERROR line (a geography buffer of 20,000 km; a select list past PostgreSQL's 1,664
// entries). Now both are 400 naming the parameter; distances up to half the Earth's
// circumference still work.
func TestFaultCostlyFilterAndProperties(t *testing.T) {
	_, full, _ := newOGCTest(t, false)
	u := full.URL + "/ogc/collections/ogc_points/items?limit=1&"
	for _, f := range []string{
		`DWITHIN(geom, POINT(57.0 50.2), 2e7, meters)`,
		`DWITHIN(geom, POINT(57.0 50.2), 20000, kilometers)`,
		`DWITHIN(geom, POINT(57.0 50.2), 5000, kilometers)`,
		`DWITHIN(geom, POINT(57.0 50.2), 1000, kilometers)`,
		`DWITHIN(geom, POINT(57.0 50.2), 100, kilometers)`,
	} {
		if r := do(t, "GET", u+"filter="+url.QueryEscape(f), ""); r.status != 200 {
			t.Errorf("filter %s: %d %.300s, want 200", f, r.status, r.body)
		}
	}
	for _, f := range []string{
		`DWITHIN(geom, POINT(57.0 50.2), 2.1e7, meters)`,
		`DWITHIN(geom, POINT(57.0 50.2), 1e300, kilometers)`,
	} {
		wantError(t, do(t, "GET", u+"filter="+url.QueryEscape(f), ""), 400, "DWITHIN distance")
	}
	wantError(t, do(t, "GET", u+"filter-lang=cql2-json&filter="+url.QueryEscape(
		`{"op":"s_dwithin","args":[{"property":"geom"},{"type":"Point","coordinates":[57,50.2]},3e7]}`), ""), 400, "distance")

	names := strings.TrimSuffix(strings.Repeat("name,", 1700), ",")
	wantError(t, do(t, "GET", u+"properties="+names, ""), 400, "properties")
	wantError(t, do(t, "GET", u+"properties=name,name", ""), 400, "properties")
	wantError(t, do(t, "GET", u+"properties=name,no_such", ""), 400, "no_such")
	if r := do(t, "GET", u+"properties=name,status", ""); r.status != 200 {
		t.Errorf("properties=name,status: %d %.300s", r.status, r.body)
	}
}
