package open311_test

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/web/webtest"
)

// winter is what migration 0150 adds: each category's name in kk, ru and en and the department
// that must receive it (agency_responsible in English).
var winter = []struct {
	code, kk, ru, en, agency string
}{
	{"snow_road", "Жолда қар мен мұз тазаланбаған", "Дорога не очищена от снега и льда", "Snow or ice on a road", "Transport and roads department"},
	{"icy_pavement", "Жаяу жүргінші жолы тайғақ", "Скользкий тротуар", "Icy pavement", "Environment and landscaping department"},
	{"icicles", "Шатырда мұз сүңгілер мен қар", "Сосульки и снег на крыше", "Icicles or snow on a roof", "Housing and utilities department"},
	{"no_heating", "Жылу жоқ немесе нашар", "Нет отопления или плохо греет", "No heating or too little", "Energy and heating department"},
	{"no_water", "Су жоқ", "Нет воды", "No water supply", "Housing and utilities department"},
	{"water_leak", "Су ағып жатыр, құбыр жарылған", "Утечка воды, прорыв трубы", "Water leak or burst pipe", "Housing and utilities department"},
	{"stray_animals", "Иесіз жануарлар", "Бездомные животные", "Stray animals", "Veterinary department"},
	{"open_manhole", "Ашық құдық", "Открытый люк", "Open manhole", "Housing and utilities department"},
}

// The winter and utility categories are Open311 services in every language, in JSON and XML.
func TestOpen311WinterServices(t *testing.T) {
	env := webtest.NewReports(t)
	base := env.TS.URL + "/open311/v2"
	for _, lang := range []string{"kk", "ru", "en"} {
		code, _, b := webtest.Fetch(t, "GET", base+"/services.json?locale="+lang, "", nil)
		var js []struct {
			Code  string `json:"service_code"`
			Name  string `json:"service_name"`
			Group string `json:"group"`
		}
		if code != 200 || json.Unmarshal(b, &js) != nil {
			t.Fatalf("services.json %s: %d %s", lang, code, b)
		}
		code, _, b = webtest.Fetch(t, "GET", base+"/services.xml?locale="+lang, "", nil)
		var xs struct {
			Services []struct {
				Code string `xml:"service_code"`
				Name string `xml:"service_name"`
			} `xml:"service"`
		}
		if code != 200 || xml.Unmarshal(b, &xs) != nil {
			t.Fatalf("services.xml %s: %d %s", lang, code, b)
		}
		jsn, xmln := map[string]string{}, map[string]string{}
		for _, s := range js {
			jsn[s.Code] = s.Name
		}
		for _, s := range xs.Services {
			xmln[s.Code] = s.Name
		}
		for _, w := range winter {
			want := map[string]string{"kk": w.kk, "ru": w.ru, "en": w.en}[lang]
			if jsn[w.code] != want || xmln[w.code] != want {
				t.Errorf("%s in %s: json %q, xml %q, want %q", w.code, lang, jsn[w.code], xmln[w.code], want)
			}
		}
	}
	// their questions: no_heating asks for the state (required, three values) and the temperature
	code, _, b := webtest.Fetch(t, "GET", base+"/services/no_heating.json?locale=kk", "", nil)
	var def struct {
		Attributes []struct {
			Code        string `json:"code"`
			Required    bool   `json:"required"`
			Description string `json:"description"`
			Values      []struct{ Key, Name string }
		} `json:"attributes"`
	}
	if code != 200 || json.Unmarshal(b, &def) != nil || len(def.Attributes) != 2 || def.Attributes[0].Code != "state" ||
		!def.Attributes[0].Required || len(def.Attributes[0].Values) != 3 || def.Attributes[0].Values[0].Name != "Батареялар суық" ||
		def.Attributes[1].Code != "temperature" {
		t.Fatalf("no_heating definition: %d %s", code, b)
	}
}

// A report in each winter category reaches the department that owns it.
func TestOpen311WinterRouting(t *testing.T) {
	env := webtest.NewReports(t)
	base := env.TS.URL + "/open311/v2"
	answers := map[string]string{"snow_road": "attribute[problem]=ice", "no_heating": "attribute[state]=cold",
		"no_water": "attribute[which]=hot", "stray_animals": "attribute[animal]=dogs"}
	for _, w := range winter {
		form := url.Values{"api_key": {env.Key}, "service_code": {w.code}, "lat": {"50.2839"}, "long": {"57.1669"},
			"description": {"Декабрь: " + w.ru}, "device_id": {"winter-" + w.code}}
		if a, ok := answers[w.code]; ok {
			k, v, _ := strings.Cut(a, "=")
			form.Set(k, v)
		}
		code, _, b := webtest.Fetch(t, "POST", base+"/requests.json", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		var created []struct {
			ID string `json:"service_request_id"`
		}
		if code != 200 || json.Unmarshal(b, &created) != nil || len(created) != 1 {
			t.Fatalf("POST %s: %d %s", w.code, code, b)
		}
		code, _, b = webtest.Fetch(t, "GET", base+"/requests/"+created[0].ID+".json?locale=en", "", nil)
		var got []struct {
			ServiceCode string `json:"service_code"`
			Agency      string `json:"agency_responsible"`
		}
		if code != 200 || json.Unmarshal(b, &got) != nil || len(got) != 1 || got[0].ServiceCode != w.code || got[0].Agency != w.agency {
			t.Errorf("%s routed to %s, want %q", w.code, b, w.agency)
		}
	}
	// a required question left out is refused, naming it
	form := url.Values{"api_key": {env.Key}, "service_code": {"no_heating"}, "lat": {"50.2839"}, "long": {"57.1669"}, "description": {"Холодно"}}
	code, _, b := webtest.Fetch(t, "POST", base+"/requests.json", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if code != 400 || !strings.Contains(string(b), "state") {
		t.Fatalf("no_heating without state: %d %s", code, b)
	}
}
