package open311_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/web/webtest"
)

// An Open311 client's session, with requests written as the GeoReport v2 specification writes them.
func TestOpen311Client(t *testing.T) {
	env := webtest.NewReports(t)
	base := env.TS.URL + "/open311/v2"

	// discovery
	code, _, b := webtest.Fetch(t, "GET", base+"/discovery.json", "", nil)
	var disc struct {
		Endpoints []struct {
			Specification string   `json:"specification"`
			URL           string   `json:"url"`
			Formats       []string `json:"formats"`
		} `json:"endpoints"`
	}
	if code != 200 || json.Unmarshal(b, &disc) != nil || len(disc.Endpoints) != 1 ||
		disc.Endpoints[0].URL != base || len(disc.Endpoints[0].Formats) != 2 {
		t.Fatalf("discovery: %d %s", code, b)
	}

	// GET services.xml
	code, h, b := webtest.Fetch(t, "GET", base+"/services.xml?locale=kk", "", nil)
	var services struct {
		XMLName  xml.Name `xml:"services"`
		Services []struct {
			Code     string `xml:"service_code"`
			Name     string `xml:"service_name"`
			Metadata bool   `xml:"metadata"`
			Type     string `xml:"type"`
		} `xml:"service"`
	}
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") || !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Fatalf("services.xml: %d %s %s", code, h.Get("Content-Type"), b)
	}
	if err := xml.Unmarshal(b, &services); err != nil || len(services.Services) != 15 {
		t.Fatalf("services.xml: %v %s", err, b)
	}
	if s := services.Services[0]; s.Code != "street_light" || s.Name != "Көше шамы жанбайды" || !s.Metadata || s.Type != "realtime" {
		t.Fatalf("first service %+v", s)
	}

	// GET services/{code}.json (service definition)
	code, _, b = webtest.Fetch(t, "GET", base+"/services/street_light.json?locale=en", "", nil)
	var def struct {
		ServiceCode string `json:"service_code"`
		Attributes  []struct {
			Variable bool   `json:"variable"`
			Code     string `json:"code"`
			Datatype string `json:"datatype"`
			Required bool   `json:"required"`
			Values   []struct{ Key, Name string }
		} `json:"attributes"`
	}
	if code != 200 || json.Unmarshal(b, &def) != nil || def.ServiceCode != "street_light" || len(def.Attributes) != 2 ||
		def.Attributes[1].Code != "state" || !def.Attributes[1].Required || len(def.Attributes[1].Values) != 3 {
		t.Fatalf("service definition: %d %s", code, b)
	}

	// POST requests.json, form-encoded with api_key
	form := url.Values{
		"api_key": {env.Key}, "service_code": {"street_light"}, "lat": {"50.2839"}, "long": {"57.1669"},
		"address_string": {"пр. Абулхаир хана, 40"}, "email": {"citizen@example.kz"}, "first_name": {"Ерлан"},
		"description": {"Фонарь не горит третий день"}, "attribute[state]": {"off"}, "device_id": {"phone-1"},
	}
	code, _, b = webtest.Fetch(t, "POST", base+"/requests.json", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	var created []struct {
		ID     string `json:"service_request_id"`
		Token  string `json:"token"`
		Notice string `json:"service_notice"`
	}
	if code != 200 || json.Unmarshal(b, &created) != nil || len(created) != 1 || created[0].ID == "" {
		t.Fatalf("POST requests.json: %d %s", code, b)
	}
	id := created[0].ID

	// GET requests/{id}.xml
	code, _, b = webtest.Fetch(t, "GET", base+"/requests/"+id+".xml", "", nil)
	var one struct {
		Requests []struct {
			ID          string  `xml:"service_request_id"`
			Status      string  `xml:"status"`
			ServiceCode string  `xml:"service_code"`
			Agency      string  `xml:"agency_responsible"`
			Requested   string  `xml:"requested_datetime"`
			Lat         float64 `xml:"lat"`
			Long        float64 `xml:"long"`
			Address     string  `xml:"address"`
		} `xml:"request"`
	}
	if code != 200 || xml.Unmarshal(b, &one) != nil || len(one.Requests) != 1 {
		t.Fatalf("request xml: %d %s", code, b)
	}
	if r := one.Requests[0]; r.ID != id || r.Status != "open" || r.ServiceCode != "street_light" || r.Agency == "" ||
		r.Lat != 50.2839 || r.Long != 57.1669 || r.Address != "пр. Абулхаир хана, 40" || !strings.Contains(r.Requested, "T") {
		t.Fatalf("request %+v", r)
	}
	if bytes.Contains(b, []byte("citizen@example.kz")) || bytes.Contains(b, []byte("Ерлан")) {
		t.Fatal("contact details leaked into the public request")
	}

	// GET tokens/{token}.json
	code, _, b = webtest.Fetch(t, "GET", base+"/tokens/"+created[0].Token+".json", "", nil)
	if code != 200 || !bytes.Contains(b, []byte(`"service_request_id":"`+id+`"`)) {
		t.Fatalf("token: %d %s", code, b)
	}

	// GET requests.json with filters
	code, _, b = webtest.Fetch(t, "GET", base+"/requests.json?service_code=street_light&status=open", "", nil)
	var list []map[string]any
	if code != 200 || json.Unmarshal(b, &list) != nil || len(list) != 1 {
		t.Fatalf("requests.json open: %d %s", code, b)
	}
	code, _, b = webtest.Fetch(t, "GET", base+"/requests.json?status=closed", "", nil)
	if code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("requests.json closed: %d %s", code, b)
	}
	code, _, b = webtest.Fetch(t, "GET", base+"/requests.json?start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z", "", nil)
	if code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("requests.json in 2001: %d %s", code, b)
	}
	code, _, b = webtest.Fetch(t, "GET", base+"/requests.json?service_request_id="+id+",999999", "", nil)
	if code != 200 || json.Unmarshal(b, &list) != nil || len(list) != 1 {
		t.Fatalf("requests.json by id: %d %s", code, b)
	}
}

func TestOpen311Errors(t *testing.T) {
	env := webtest.NewReports(t)
	base := env.TS.URL + "/open311/v2"
	post := func(format string, v url.Values) (int, []byte) {
		code, _, b := webtest.Fetch(t, "POST", base+"/requests."+format, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
		return code, b
	}
	good := url.Values{"api_key": {env.Key}, "service_code": {"pothole"}, "lat": {"50.28"}, "long": {"57.17"}, "description": {"Яма"}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	tests := []struct {
		name   string
		format string
		form   url.Values
		status int
	}{
		{"bad key json", "json", with("api_key", "gk_not-a-real-key"), 403},
		{"no key xml", "xml", with("api_key", ""), 403},
		{"missing service_code", "json", with("service_code", ""), 400},
		{"missing location", "xml", with("lat", ""), 400},
		{"unknown service", "json", with("service_code", "ufo"), 404},
		{"outside the city", "json", with("long", "71.4"), 400},
		{"bad attribute", "json", with("attribute[size]", "enormous"), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, b := post(tc.format, tc.form)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, b)
			}
			if tc.format == "json" {
				var errs []struct {
					Code        int    `json:"code"`
					Description string `json:"description"`
				}
				if json.Unmarshal(b, &errs) != nil || len(errs) != 1 || errs[0].Code != tc.status || errs[0].Description == "" {
					t.Fatalf("not the spec's error shape: %s", b)
				}
			} else {
				var errs struct {
					XMLName xml.Name `xml:"errors"`
					Errors  []struct {
						Code        int    `xml:"code"`
						Description string `xml:"description"`
					} `xml:"error"`
				}
				if xml.Unmarshal(b, &errs) != nil || len(errs.Errors) != 1 || errs.Errors[0].Code != tc.status {
					t.Fatalf("not the spec's XML error shape: %s", b)
				}
			}
		})
	}
	if code, _, b := webtest.Fetch(t, "GET", base+"/requests/424242.json", "", nil); code != 404 || !bytes.Contains(b, []byte(`"code":404`)) {
		t.Fatalf("unknown request: %d %s", code, b)
	}
	if code, _, _ := webtest.Fetch(t, "GET", base+"/services.html", "", nil); code != 404 {
		t.Fatalf("unsupported format: %d", code)
	}
	var n int
	env.Srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM layer.citizen_reports`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d reports stored from refused requests", n)
	}
}
