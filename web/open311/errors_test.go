package open311_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/web/webtest"
)

// TestOpen311ErrorPath: the Open311 face answers every error through reply.Classify, in the
// spec's errors document ([{"code", "description"}] or <errors><error>…</error></errors>).
func TestOpen311ErrorPath(t *testing.T) {
	t.Run("database down", func(t *testing.T) {
		ts := webtest.DatabaseDown(t)
		webtest.WantUnavailable(t, ts.URL, "/open311/v2/services.json", `"code":503`)
		webtest.WantUnavailable(t, ts.URL, "/open311/v2/requests.json", `"code":503`)
		webtest.WantUnavailable(t, ts.URL, "/open311/v2/services.xml", `<code>503</code>`)
	})

	env := webtest.NewReports(t)
	base := env.TS.URL + "/open311/v2"
	form := url.Values{"api_key": {env.Key}, "service_code": {"pothole"}, "lat": {"50.28"}, "long": {"57.17"}}
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		shape                    string
	}{
		// Before: a form past the 1 MiB body limit was answered 400 "not a form".
		{"body too large", "POST", "/requests.json", form.Encode() + "&description=" + strings.Repeat("я", 1<<20), 413, `"code":413`},
		{"body too large xml", "POST", "/requests.xml", form.Encode() + "&description=" + strings.Repeat("я", 1<<20), 413, `<code>413</code>`},
		{"not found", "GET", "/requests/999999.json", "", 404, `"code":404`},
		{"forbidden", "POST", "/requests.xml", strings.Replace(form.Encode(), env.Key, "gpk_not-a-key", 1), 403, `<code>403</code>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, b := webtest.Fetch(t, c.method, base+c.path, "application/x-www-form-urlencoded", strings.NewReader(c.body))
			if code != c.status || !strings.Contains(strings.ReplaceAll(string(b), " ", ""), c.shape) {
				t.Errorf("%s %s: %d %.300s, want %d with %s", c.method, c.path, code, b, c.status, c.shape)
			}
		})
	}

	t.Run("canceled", func(t *testing.T) {
		logs := &webtest.Logs{}
		w := webtest.ServeCanceled(webtest.NewServer(t, logs.Logger()).Handler(), "GET", "/open311/v2/requests.json")
		if w.Body.Len() != 0 {
			t.Errorf("a canceled request was answered %d %.200s", w.Code, w.Body)
		}
		if l := logs.String(); strings.Contains(l, "request failed") || strings.Contains(l, "request refused") {
			t.Errorf("a canceled request was logged: %s", l)
		}
	})
}
