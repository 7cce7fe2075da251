// Package ogc serves OGC API – Features (parts 1–4: core, CRS, filtering with CQL2, create,
// replace, update and delete) over the layer store, for QGIS, GDAL and other clients.
package ogc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
	"golang.org/x/text/language"
)

// API serves OGC API – Features under /ogc: the landing page, conformance, collections,
// queryables and features as JSON, GeoJSON and HTML, and (Part 4) feature writes. Its handlers
// are registered in web/routes.go.
type API struct {
	Layers *layers.Store
	// Reply writes error answers (the OGC exception body after reply.Writer.Fail).
	Reply reply.Writer
	// LinkBase is the scheme and host of self links in an answer to r (guard.Guard.RequestBase).
	LinkBase func(r *http.Request) string
	// CanView says whether a request may see staff-only layers, CanEdit whether it may create,
	// replace, update and delete features (nil error: allowed).
	CanView func(*http.Request) bool
	CanEdit func(*http.Request) error
}

// GISStaffEdit is the CanEdit of the served API: GIS staff and admins edit features (OGC API –
// Features Part 4); 401 for anonymous callers, 403 for other roles.
func GISStaffEdit(g *guard.Guard) func(*http.Request) error {
	return func(r *http.Request) error {
		u, err := g.AuthUser(r)
		switch {
		case err != nil:
			return err
		case u == nil:
			return geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in as GIS staff to edit features")
		case !u.HasRole(accounts.GISStaff, accounts.Admin):
			return geoportal.Errorf(geoportal.EFORBIDDEN, "role %s may not edit features (needs gis_staff or admin)", u.Role)
		}
		return nil
	}
}

// Conformance classes, exactly as the standards name them.
var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
	"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
}

// Media types.
const (
	MediaJSON    = "application/json"
	MediaGeoJSON = "application/geo+json"
	MediaHTML    = "text/html"
	MediaSchema  = "application/schema+json"
	MediaOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
)

// Link is a link object of OGC API responses.
type Link struct {
	Href     string `json:"href"`
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Title    string `json:"title,omitempty"`
	Hreflang string `json:"hreflang,omitempty"`
}

// fail writes err as the OGC exception of an answer of this API.
func (o *API) fail(w http.ResponseWriter, r *http.Request, err error) { WriteError(o.Reply, w, r, err) }

// WriteError writes the OGC exception JSON {"code", "description"} with the status
// reply.Classify gives err (nothing when the client went away).
func WriteError(rw reply.Writer, w http.ResponseWriter, r *http.Request, err error) {
	f, ok := rw.Fail(w, r, err)
	if !ok {
		return
	}
	code := map[int]string{
		http.StatusBadRequest:            "InvalidParameterValue",
		http.StatusUnauthorized:          "Unauthorized",
		http.StatusForbidden:             "Forbidden",
		http.StatusNotFound:              "NotFound",
		http.StatusConflict:              "Conflict",
		http.StatusRequestEntityTooLarge: "PayloadTooLarge",
		http.StatusNotAcceptable:         "NotAcceptable",
		http.StatusServiceUnavailable:    "ServiceUnavailable",
	}[f.Status]
	if code == "" {
		code = "ServerError"
	}
	writeTyped(w, f.Status, MediaJSON, map[string]any{"code": code, "description": geoportal.ErrorMessage(f.Err)})
}

func badRequest(format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, format, args...)
}

// checkParams refuses query parameters the endpoint does not know, as OGC API – Features asks.
func checkParams(r *http.Request, allowed ...string) error {
	var unknown []string
	for k := range r.URL.Query() {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return badRequest("unknown query parameter(s): %s (allowed: %s)", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
	}
	return nil
}

// format picks the encoding: f=json|html wins, then the Accept header; JSON is the default.
func format(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("f"); f {
	case "json", "geojson", "application/json", "application/geo+json":
		return "json", nil
	case "html", "text/html":
		return "html", nil
	case "":
	default:
		return "", badRequest("unsupported format f=%s (use f=json or f=html)", f)
	}
	accept := r.Header.Get("Accept")
	html := strings.Index(accept, "text/html")
	jsn := strings.Index(accept, "json")
	if html >= 0 && (jsn < 0 || html < jsn) {
		return "html", nil
	}
	return "json", nil
}

var ogcLangs = language.NewMatcher([]language.Tag{language.English, language.Russian, language.Kazakh})

// lang picks the language of titles: the lang parameter (kk, ru or en), else the best match of
// Accept-Language among them, else English, the language GIS clients expect by default.
func lang(r *http.Request) (string, error) {
	if l := r.URL.Query().Get("lang"); l != "" {
		switch l {
		case "kk", "ru", "en":
			return l, nil
		}
		return "", badRequest("unsupported lang=%s (use kk, ru or en)", l)
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en", nil
	}
	_, i, conf := ogcLangs.Match(tags...)
	if conf == language.No {
		return "en", nil
	}
	return []string{"en", "ru", "kk"}[i], nil
}

func pick(t layers.Titles, l string) string {
	switch {
	case l == "kk" && t.KK != "":
		return t.KK
	case l == "ru" && t.RU != "":
		return t.RU
	}
	return t.EN
}

var serviceTitle = layers.Titles{EN: "Aktobe geoportal", RU: "Геопортал Актобе", KK: "Ақтөбе геопорталы"}
var serviceDescription = layers.Titles{
	EN: "Spatial layers of the city of Aktobe as OGC API – Features.",
	RU: "Пространственные слои города Актобе по стандарту OGC API – Features.",
	KK: "Ақтөбе қаласының кеңістіктік қабаттары OGC API – Features стандарты бойынша.",
}

// base is the absolute URL of /ogc for self links (Server.requestBase: the public URL when one
// is configured).
func (o *API) base(r *http.Request) string { return o.LinkBase(r) + "/ogc" }

// withQuery returns href with the given query parameters set on top of r's.
func withQuery(r *http.Request, path string, set map[string]string) string {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		q[k] = v
	}
	for k, v := range set {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// selfLinks returns self and alternate links for a resource in JSON type jsonType.
func selfLinks(r *http.Request, path, f, jsonType string) []Link {
	j := Link{Href: withQuery(r, path, map[string]string{"f": "json"}), Type: jsonType, Title: "This document as JSON"}
	h := Link{Href: withQuery(r, path, map[string]string{"f": "html"}), Type: MediaHTML, Title: "This document as HTML"}
	if f == "html" {
		h.Rel, j.Rel = "self", "alternate"
		return []Link{h, j}
	}
	j.Rel, h.Rel = "self", "alternate"
	return []Link{j, h}
}

// request is what every OGC handler starts with: the negotiated format and language.
func (o *API) begin(w http.ResponseWriter, r *http.Request, allowed ...string) (f, lg string, ok bool) {
	var err error
	if err = checkParams(r, append(allowed, "f", "lang")...); err == nil {
		if f, err = format(r); err == nil {
			lg, err = lang(r)
		}
	}
	if err != nil {
		o.fail(w, r, err)
		return "", "", false
	}
	w.Header().Set("Content-Language", lg)
	w.Header().Add("Vary", "Accept, Accept-Language")
	return f, lg, true
}

func (o *API) Landing(w http.ResponseWriter, r *http.Request) {
	f, lg, ok := o.begin(w, r)
	if !ok {
		return
	}
	b := o.base(r)
	links := append(selfLinks(r, b+"/", f, MediaJSON),
		Link{Href: b + "/api", Rel: "service-desc", Type: MediaOpenAPI, Title: "The API definition (OpenAPI 3.0)"},
		Link{Href: b + "/api?f=html", Rel: "service-doc", Type: MediaHTML, Title: "The API documentation"},
		Link{Href: b + "/conformance", Rel: "conformance", Type: MediaJSON, Title: "Conformance classes"},
		Link{Href: b + "/collections", Rel: "data", Type: MediaJSON, Title: "Collections"},
	)
	doc := map[string]any{"title": pick(serviceTitle, lg), "description": pick(serviceDescription, lg), "links": links}
	if f == "html" {
		o.html(w, r, "landing", lg, doc)
		return
	}
	writeTyped(w, http.StatusOK, MediaJSON, doc)
}

func (o *API) Conformance(w http.ResponseWriter, r *http.Request) {
	f, lg, ok := o.begin(w, r)
	if !ok {
		return
	}
	doc := map[string]any{"conformsTo": conformanceClasses}
	if f == "html" {
		o.html(w, r, "conformance", lg, doc)
		return
	}
	writeTyped(w, http.StatusOK, MediaJSON, doc)
}

func crsURIs() []string {
	var out []string
	for _, c := range layers.SupportedCRS {
		out = append(out, c.URI)
	}
	return out
}

// collection describes one layer as an OGC collection.
func collection(r *http.Request, b string, l layers.Layer, lg string) map[string]any {
	p := b + "/collections/" + l.Slug
	c := map[string]any{
		"id":          l.Slug,
		"title":       pick(l.Title, lg),
		"description": pick(l.Description, lg),
		"itemType":    "feature",
		"crs":         crsURIs(),
		"storageCrs":  layers.CRS84.URI,
		"links": []Link{
			{Href: p, Rel: "self", Type: MediaJSON, Title: "This collection"},
			{Href: p + "?f=html", Rel: "alternate", Type: MediaHTML, Title: "This collection as HTML"},
			{Href: p + "/items", Rel: "items", Type: MediaGeoJSON, Title: "Features as GeoJSON"},
			{Href: p + "/items?f=html", Rel: "items", Type: MediaHTML, Title: "Features as HTML"},
			{Href: p + "/queryables", Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: MediaSchema, Title: "Queryable properties"},
		},
	}
	if l.Attribution != "" {
		c["attribution"] = l.Attribution
	}
	if len(l.BBox) == 4 {
		c["extent"] = map[string]any{"spatial": map[string]any{"bbox": [][]float64{l.BBox}, "crs": layers.CRS84.URI}}
	}
	return c
}

func (o *API) Collections(w http.ResponseWriter, r *http.Request) {
	f, lg, ok := o.begin(w, r)
	if !ok {
		return
	}
	ls, err := o.Layers.Layers(r.Context(), o.CanView(r))
	if err != nil {
		o.fail(w, r, err)
		return
	}
	cs := []map[string]any{}
	for _, l := range ls {
		cs = append(cs, collection(r, o.base(r), l, lg))
	}
	doc := map[string]any{"links": selfLinks(r, o.base(r)+"/collections", f, MediaJSON), "collections": cs, "crs": crsURIs()}
	if f == "html" {
		o.html(w, r, "collections", lg, doc)
		return
	}
	writeTyped(w, http.StatusOK, MediaJSON, doc)
}

// layer looks the collection up; staff-only layers are "not found" for others.
func (o *API) layer(r *http.Request) (layers.Layer, error) {
	return o.Layers.Layer(r.Context(), chi.URLParam(r, "collectionId"), o.CanView(r))
}

func (o *API) Collection(w http.ResponseWriter, r *http.Request) {
	f, lg, ok := o.begin(w, r)
	if !ok {
		return
	}
	l, err := o.layer(r)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	privateIfStaffOnly(w, l)
	doc := collection(r, o.base(r), l, lg)
	if f == "html" {
		o.html(w, r, "collection", lg, doc)
		return
	}
	writeTyped(w, http.StatusOK, MediaJSON, doc)
}

// jsonSchemaOf is the JSON Schema of an attribute type.
func jsonSchemaOf(typ string) map[string]any {
	switch typ {
	case "integer", "bigint":
		return map[string]any{"type": "integer"}
	case "double":
		return map[string]any{"type": "number"}
	case "boolean":
		return map[string]any{"type": "boolean"}
	case "date":
		return map[string]any{"type": "string", "format": "date"}
	case "timestamptz":
		return map[string]any{"type": "string", "format": "date-time"}
	case "jsonb":
		return map[string]any{}
	}
	return map[string]any{"type": "string"}
}

func (o *API) Queryables(w http.ResponseWriter, r *http.Request) {
	_, lg, ok := o.begin(w, r)
	if !ok {
		return
	}
	l, err := o.layer(r)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	privateIfStaffOnly(w, l)
	props := map[string]any{
		"id": map[string]any{"title": "id", "type": "integer", "x-ogc-role": "id"},
		"geom": map[string]any{"title": "geometry", "x-ogc-role": "primary-geometry",
			"format": "geometry-" + strings.ToLower(l.GeometryType)},
	}
	for _, a := range l.Attributes {
		if a.Type == "jsonb" {
			continue
		}
		p := jsonSchemaOf(a.Type)
		p["title"] = pick(a.Title, lg)
		if a.Name == l.TimeColumn {
			p["x-ogc-role"] = "primary-instant"
		}
		props[a.Name] = p
	}
	doc := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  o.base(r) + "/collections/" + l.Slug + "/queryables",
		"type":                 "object",
		"title":                pick(l.Title, lg),
		"properties":           props,
		"additionalProperties": false,
	}
	writeTyped(w, http.StatusOK, MediaSchema, doc)
}

// writeTyped writes v as JSON with the given media type. URLs keep their & (no HTML escaping:
// these are JSON documents, and HTML pages go through html/template).
func writeTyped(w http.ResponseWriter, status int, mediaType string, v any) {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	w.Write(marshalJSON(v)) // an error here means the client went away
}

// marshalJSON encodes v without HTML escaping.
func marshalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("ogc: encode %T: %v", v, err)) // only plain maps and slices come here
	}
	return b.Bytes()
}

// privateIfStaffOnly marks an answer about a staff-only layer as private: only staff get it, so
// a shared cache must not keep it for others (the browser may, revalidating each time).
func privateIfStaffOnly(w http.ResponseWriter, l layers.Layer) {
	if !l.Public() {
		w.Header().Set("Cache-Control", "private, no-cache")
		w.Header().Add("Vary", guard.CredentialHeaders)
	}
}
