// Package open311 serves Open311 GeoReport v2 at /open311/v2: services, service definitions,
// requests and tokens as JSON or XML, and requests filed by clients with an open311 API key, over
// the citizen reports module.
package open311

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2) over the reports module. Every resource
// comes as .json or .xml; errors are the spec's list of {code, description}.

const changeset = "2026-11-25T00:00:00Z"

// fileFormat splits "services.json" style names into the resource and its format.
func fileFormat(name string) (string, string, bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name, "", false
	}
	f := name[i+1:]
	return name[:i], f, f == "json" || f == "xml"
}

type errorItem struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

// write encodes v as JSON or as XML under the root element root: a slice becomes one
// child element per item (each item's XMLName names it), a struct the root's children.
func write(w http.ResponseWriter, format string, status int, root string, v any) {
	if format != "xml" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	enc := xml.NewEncoder(w)
	start := xml.StartElement{Name: xml.Name{Local: root}}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		enc.EncodeToken(start)
		for i := 0; i < rv.Len(); i++ {
			enc.Encode(rv.Index(i).Interface())
		}
		enc.EncodeToken(start.End())
		enc.Flush()
		return
	}
	enc.EncodeElement(v, start)
}

// API serves the Open311 resources; its handlers are registered in web/routes.go.
type API struct {
	Reports  *reports.Store
	Accounts *accounts.Store
	// Guard gives the client's address and the bases of links; Reply writes error answers.
	Guard  *guard.Guard
	Reply  reply.Writer
	Logger *slog.Logger
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, format string, err error) {
	WriteError(a.Reply, w, r, format, err)
}

// WriteError writes err in the spec's error shape ("json" or "xml") with the status
// reply.Classify gives err (nothing when the client went away).
func WriteError(rw reply.Writer, w http.ResponseWriter, r *http.Request, format string, err error) {
	f, ok := rw.Fail(w, r, err)
	if !ok {
		return
	}
	if format == "" {
		format = "json"
	}
	write(w, format, f.Status, "errors", []errorItem{{Code: f.Status, Description: geoportal.ErrorMessage(f.Err)}})
}

// language picks the language of names: the locale parameter, else Accept-Language, else ru.
func language(r *http.Request) string {
	for _, l := range []string{r.URL.Query().Get("locale"), r.Header.Get("Accept-Language")} {
		l = strings.ToLower(l)
		for _, want := range []string{"kk", "ru", "en"} {
			if strings.HasPrefix(l, want) {
				return want
			}
		}
	}
	return "ru"
}

func pick(t layers.Titles, lang string) string {
	switch lang {
	case "kk":
		return t.KK
	case "en":
		return t.EN
	}
	return t.RU
}

type endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

func (a *API) Discovery(w http.ResponseWriter, r *http.Request) {
	_, format, ok := fileFormat(chi.URLParam(r, "file"))
	if !ok {
		a.fail(w, r, "json", geoportal.Errorf(geoportal.ENOTFOUND, "use discovery.json or discovery.xml"))
		return
	}
	write(w, format, 200, "discovery", struct {
		Changeset  string     `json:"changeset" xml:"changeset"`
		Contact    string     `json:"contact" xml:"contact"`
		KeyService string     `json:"key_service" xml:"key_service"`
		Endpoints  []endpoint `json:"endpoints" xml:"endpoints>endpoint"`
	}{
		Changeset:  changeset,
		Contact:    "Akimat of Aktobe, People's chancellery",
		KeyService: "API keys are issued by the geoportal administrators (scope open311)",
		Endpoints: []endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2",
			URL: a.Guard.RequestBase(r) + "/open311/v2", Changeset: changeset, Type: "production",
			Formats: []string{"text/xml", "application/json"}}},
	})
}

type service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

func (a *API) Services(w http.ResponseWriter, r *http.Request) {
	_, format, ok := fileFormat(chi.URLParam(r, "file"))
	if !ok {
		a.fail(w, r, "json", geoportal.Errorf(geoportal.ENOTFOUND, "use services.json or services.xml"))
		return
	}
	svs, err := a.Reports.Services(r.Context())
	if err != nil {
		a.fail(w, r, format, err)
		return
	}
	lang := language(r)
	out := []service{}
	for _, sv := range svs {
		out = append(out, service{ServiceCode: sv.Code, ServiceName: pick(sv.Name, lang),
			Description: pick(sv.Description, lang), Metadata: len(sv.Attributes) > 0, Type: "realtime",
			Keywords: sv.Keywords, Group: sv.Group})
	}
	write(w, format, 200, "services", out)
}

type attributeValue struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

type attribute struct {
	Variable            bool             `json:"variable" xml:"variable"`
	Code                string           `json:"code" xml:"code"`
	Datatype            string           `json:"datatype" xml:"datatype"`
	Required            bool             `json:"required" xml:"required"`
	DatatypeDescription string           `json:"datatype_description" xml:"datatype_description"`
	Order               int              `json:"order" xml:"order"`
	Description         string           `json:"description" xml:"description"`
	Values              []attributeValue `json:"values,omitempty" xml:"values>value,omitempty"`
}

func (a *API) ServiceDefinition(w http.ResponseWriter, r *http.Request) {
	code, format, ok := fileFormat(chi.URLParam(r, "file"))
	if !ok {
		a.fail(w, r, "json", geoportal.Errorf(geoportal.ENOTFOUND, "use services/CODE.json or .xml"))
		return
	}
	sv, err := a.Reports.Service(r.Context(), code)
	if err != nil {
		a.fail(w, r, format, err)
		return
	}
	lang := language(r)
	attrs := []attribute{}
	for _, a := range sv.Attributes {
		oa := attribute{Variable: true, Code: a.Code, Datatype: a.Datatype, Required: a.Required,
			Order: a.Order, Description: pick(a.Description, lang)}
		for _, v := range a.Values {
			oa.Values = append(oa.Values, attributeValue{Key: v.Key, Name: pick(v.Name, lang)})
		}
		attrs = append(attrs, oa)
	}
	write(w, format, 200, "service_definition", struct {
		ServiceCode string      `json:"service_code" xml:"service_code"`
		Attributes  []attribute `json:"attributes" xml:"attributes>attribute"`
	}{sv.Code, attrs})
}

type serviceRequest struct {
	XMLName           xml.Name `json:"-" xml:"request"`
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               float64  `json:"lat" xml:"lat"`
	Long              float64  `json:"long" xml:"long"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

func (a *API) serviceRequests(r *http.Request, rs []reports.Report) ([]serviceRequest, error) {
	svs, err := a.Reports.Services(r.Context())
	if err != nil {
		return nil, err
	}
	lang := language(r)
	names := map[string]string{}
	for _, sv := range svs {
		names[sv.Code] = pick(sv.Name, lang)
	}
	depts, err := a.Reports.Departments(r.Context())
	if err != nil {
		return nil, err
	}
	out := []serviceRequest{}
	for _, rep := range rs {
		o := serviceRequest{ServiceRequestID: strconv.FormatInt(rep.ID, 10), Status: "closed",
			StatusNotes: rep.StatusNotes, ServiceName: names[rep.ServiceCode], ServiceCode: rep.ServiceCode,
			Description: rep.Description, AgencyResponsible: pick(depts[rep.Department], lang),
			RequestedDatetime: rep.RequestedAt.Format(time.RFC3339), UpdatedDatetime: rep.UpdatedAt.Format(time.RFC3339),
			Address: rep.AddressIn(lang), Lat: rep.Lat, Long: rep.Lon}
		if reports.Open(rep.Status) {
			o.Status = "open"
		}
		if rep.ExpectedAt != nil {
			o.ExpectedDatetime = rep.ExpectedAt.Format(time.RFC3339)
		}
		if rep.Photos > 0 {
			o.MediaURL = a.Guard.RequestBase(r) + "/api/reports/" + o.ServiceRequestID + "/photos/1.jpg"
		}
		out = append(out, o)
	}
	return out, nil
}

// parseTime accepts the spec's W3C date-time forms.
func parseTime(name, v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a W3C date-time (e.g. 2026-11-25T10:00:00+05:00)", name, v)
}

func (a *API) Requests(w http.ResponseWriter, r *http.Request) {
	_, format, ok := fileFormat(chi.URLParam(r, "file"))
	if !ok {
		a.fail(w, r, "json", geoportal.Errorf(geoportal.ENOTFOUND, "use requests.json or requests.xml"))
		return
	}
	q := r.URL.Query()
	var f reports.Filter
	if ids := q.Get("service_request_id"); ids != "" {
		// The spec: with service_request_id every other parameter is ignored.
		for _, v := range strings.Split(ids, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				a.fail(w, r, format, geoportal.Errorf(geoportal.EINVALID, "service_request_id %q is not a number", v))
				return
			}
			f.IDs = append(f.IDs, id)
		}
	} else {
		if codes := q.Get("service_code"); codes != "" {
			for _, c := range strings.Split(codes, ",") {
				f.ServiceCodes = append(f.ServiceCodes, strings.TrimSpace(c))
			}
		}
		var err error
		if v := q.Get("start_date"); v != "" {
			if f.From, err = parseTime("start_date", v); err != nil {
				a.fail(w, r, format, err)
				return
			}
		}
		if v := q.Get("end_date"); v != "" {
			if f.To, err = parseTime("end_date", v); err != nil {
				a.fail(w, r, format, err)
				return
			}
		}
		// The spec's default window: the last 90 days.
		if f.From.IsZero() {
			end := f.To
			if end.IsZero() {
				end = time.Now()
			}
			f.From = end.AddDate(0, 0, -90)
		}
		if st := q.Get("status"); st != "" {
			for _, v := range strings.Split(st, ",") {
				switch strings.TrimSpace(v) {
				case "open":
					f.Statuses = append(f.Statuses, reports.StatusNew, reports.StatusAccepted, reports.StatusInProgress)
				case "closed":
					f.Statuses = append(f.Statuses, reports.StatusResolved, reports.StatusRejected, reports.StatusDuplicate)
				default:
					a.fail(w, r, format, geoportal.Errorf(geoportal.EINVALID, "status %q is not open or closed", v))
					return
				}
			}
		}
		f.Limit = 1000
	}
	rs, err := a.Reports.List(r.Context(), f)
	if err == nil {
		var out []serviceRequest
		if out, err = a.serviceRequests(r, rs); err == nil {
			write(w, format, 200, "service_requests", out)
			return
		}
	}
	a.fail(w, r, format, err)
}

func (a *API) Request(w http.ResponseWriter, r *http.Request) {
	idText, format, ok := fileFormat(chi.URLParam(r, "file"))
	if !ok {
		a.fail(w, r, "json", geoportal.Errorf(geoportal.ENOTFOUND, "use requests/ID.json or .xml"))
		return
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		a.fail(w, r, format, geoportal.Errorf(geoportal.ENOTFOUND, "service request %q not found", idText))
		return
	}
	rep, err := a.Reports.Get(r.Context(), id)
	if err == nil {
		var out []serviceRequest
		if out, err = a.serviceRequests(r, []reports.Report{rep}); err == nil {
			write(w, format, 200, "service_requests", out)
			return
		}
	}
	a.fail(w, r, format, err)
}

func (a *API) Token(w http.ResponseWriter, r *http.Request) {
	token, format, ok := fileFormat(chi.URLParam(r, "file"))
	if !ok {
		a.fail(w, r, "json", geoportal.Errorf(geoportal.ENOTFOUND, "use tokens/TOKEN.json or .xml"))
		return
	}
	id, err := a.Reports.ByToken(r.Context(), token)
	if err != nil {
		a.fail(w, r, format, err)
		return
	}
	write(w, format, 200, "service_requests", []struct {
		XMLName          xml.Name `json:"-" xml:"request"`
		ServiceRequestID string   `json:"service_request_id" xml:"service_request_id"`
		Token            string   `json:"token" xml:"token"`
	}{{ServiceRequestID: strconv.FormatInt(id, 10), Token: token}})
}

// Post files a request from an Open311 client. The api_key (form field, as the spec
// has it) must belong to a key with the open311 scope.
func (a *API) Post(w http.ResponseWriter, r *http.Request) {
	_, format, ok := fileFormat(chi.URLParam(r, "file"))
	if !ok {
		a.fail(w, r, "json", geoportal.Errorf(geoportal.ENOTFOUND, "use requests.json or requests.xml"))
		return
	}
	if err := r.ParseForm(); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			err = reply.ErrTooLarge(mbe.Limit) // was answered 400 "not a form"
		} else {
			err = geoportal.Errorf(geoportal.EINVALID, "the request body is not a form: %v", err)
		}
		a.fail(w, r, format, err)
		return
	}
	key := r.PostForm.Get("api_key")
	if key == "" {
		key, _ = guard.APIKeyFrom(r)
	}
	u, err := a.Accounts.KeyUser(r.Context(), key)
	if err != nil || u.Key == nil || !(u.Key.HasScope(accounts.ScopeOpen311) || u.Key.HasScope(accounts.ScopeReports)) {
		a.Logger.Warn("open311 post refused", "reason", "api_key", "ip", a.Guard.ClientIP(r))
		a.fail(w, r, format, geoportal.Errorf(geoportal.EFORBIDDEN, "api_key is missing, invalid or lacks the open311 scope"))
		return
	}
	f := r.PostForm
	if f.Get("service_code") == "" {
		a.fail(w, r, format, geoportal.Errorf(geoportal.EINVALID, "service_code is required"))
		return
	}
	if f.Get("lat") == "" || f.Get("long") == "" {
		msg := "lat and long are required"
		if f.Get("address_string") != "" || f.Get("address_id") != "" {
			msg += " (addresses are not geocoded here)"
		}
		a.fail(w, r, format, geoportal.Errorf(geoportal.EINVALID, "%s", msg))
		return
	}
	lat, err1 := strconv.ParseFloat(f.Get("lat"), 64)
	lon, err2 := strconv.ParseFloat(f.Get("long"), 64)
	if err1 != nil || err2 != nil {
		a.fail(w, r, format, geoportal.Errorf(geoportal.EINVALID, "lat and long must be decimal degrees"))
		return
	}
	n := reports.NewReport{ServiceCode: f.Get("service_code"), Lat: lat, Lon: lon,
		Address: f.Get("address_string"), Description: f.Get("description"), Email: f.Get("email"),
		Phone: f.Get("phone"), FirstName: f.Get("first_name"), LastName: f.Get("last_name"),
		DeviceID: f.Get("device_id"), APIKeyID: u.Key.ID, Attributes: map[string]string{}, LinkBase: a.Guard.MessageBase()}
	for k, v := range f {
		if strings.HasPrefix(k, "attribute[") && strings.HasSuffix(k, "]") {
			n.Attributes[k[len("attribute["):len(k)-1]] = strings.Join(v, ",")
		}
	}
	ctx := accounts.WithActor(r.Context(), accounts.Actor{UserID: u.ID, Label: u.Label() + " (open311)", IP: a.Guard.ClientIP(r)})
	rep, sec, err := a.Reports.Create(ctx, n)
	if err != nil {
		a.fail(w, r, format, err)
		return
	}
	write(w, format, http.StatusOK, "service_requests", []struct {
		XMLName          xml.Name `json:"-" xml:"request"`
		ServiceRequestID string   `json:"service_request_id" xml:"service_request_id"`
		Token            string   `json:"token" xml:"token"`
		ServiceNotice    string   `json:"service_notice" xml:"service_notice"`
		AccountID        string   `json:"account_id" xml:"account_id"`
	}{{ServiceRequestID: strconv.FormatInt(rep.ID, 10), Token: sec.Token,
		ServiceNotice: "Follow this request at " + a.Guard.RequestBase(r) + "/#report/" + sec.Follow}})
}
