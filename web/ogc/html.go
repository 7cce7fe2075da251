package ogc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/aktobe/geoportal/layers"
)

// The HTML encoding of OGC API – Features: plain pages a person can browse; html/template
// escapes every value (layer titles and attribute values come from users).
var templates = template.Must(template.New("ogc").Parse(`
{{define "head"}}<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="{{.Base}}/ogc.css"></head>
<body><nav aria-label="OGC API"><a href="{{.Base}}/">{{.Home}}</a><a href="{{.Base}}/collections">Collections</a><a href="{{.Base}}/conformance">Conformance</a>
<a href="{{.JSON}}">JSON</a></nav><main><h1>{{.Title}}</h1>{{end}}
{{define "foot"}}</main></body></html>{{end}}
{{define "links"}}<ul>{{range .}}<li><a href="{{.Href}}" rel="{{.Rel}}">{{if .Title}}{{.Title}}{{else}}{{.Href}}{{end}}</a> <small>({{.Rel}}{{if .Type}}, {{.Type}}{{end}})</small></li>{{end}}</ul>{{end}}

{{define "landing"}}{{template "head" .}}<p>{{.Doc.description}}</p>{{template "links" .Doc.links}}{{template "foot" .}}{{end}}

{{define "conformance"}}{{template "head" .}}<ul>{{range .Doc.conformsTo}}<li><code>{{.}}</code></li>{{end}}</ul>{{template "foot" .}}{{end}}

{{define "collections"}}{{template "head" .}}<table><thead><tr><th>id</th><th>title</th><th>description</th></tr></thead><tbody>
{{range .Doc.collections}}<tr><td><a href="{{$.Base}}/collections/{{.id}}?f=html">{{.id}}</a></td><td>{{.title}}</td><td>{{.description}}</td></tr>{{end}}
</tbody></table>{{template "foot" .}}{{end}}

{{define "collection"}}{{template "head" .}}<p>{{.Doc.description}}</p>
{{with .Doc.extent}}<p>Extent (CRS84): <code>{{.spatial.bbox}}</code></p>{{end}}
{{with .Doc.attribution}}<p>{{.}}</p>{{end}}
<p><a href="{{.Base}}/collections/{{.Doc.id}}/items?f=html">Browse the features</a></p>{{template "links" .Doc.links}}{{template "foot" .}}{{end}}

{{define "items"}}{{template "head" .}}<p>{{.Doc.Returned}} of {{.Doc.Matched}}</p>
<table><thead><tr><th>id</th>{{range .Doc.Columns}}<th>{{.}}</th>{{end}}<th>geometry</th></tr></thead><tbody>
{{range .Doc.Rows}}<tr><td><a href="{{.Href}}">{{.ID}}</a></td>{{range .Cells}}<td>{{.}}</td>{{end}}<td><code>{{.Geometry}}</code></td></tr>{{end}}
</tbody></table><p>{{with .Doc.Prev}}<a href="{{.}}" rel="prev">Previous</a> {{end}}{{with .Doc.Next}}<a href="{{.}}" rel="next">Next</a>{{end}}</p>{{template "foot" .}}{{end}}

{{define "item"}}{{template "head" .}}<table><tbody>{{range .Doc.Rows}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}
<tr><th>geometry</th><td><code>{{.Doc.Geometry}}</code></td></tr></tbody></table>
<p><a href="{{.Doc.Collection}}?f=html">{{.Doc.CollectionTitle}}</a></p>{{template "foot" .}}{{end}}
`))

type pageData struct {
	Lang, Title, Home, Base, JSON string
	Doc                           any
}

// html renders page with doc; the page is built in memory, then written.
func (o *API) html(w http.ResponseWriter, r *http.Request, page, lg string, doc any) {
	title := pick(serviceTitle, lg)
	switch d := doc.(type) {
	case map[string]any:
		if t, ok := d["title"].(string); ok {
			title = t
		} else if page == "collections" {
			title = "Collections"
		} else if page == "conformance" {
			title = "Conformance"
		}
	case itemsPage:
		title = d.Title
	case itemPage:
		title = d.Title
	}
	var buf bytes.Buffer
	err := templates.ExecuteTemplate(&buf, page, pageData{Lang: lg, Title: title, Home: pick(serviceTitle, lg), Base: o.base(r),
		JSON: withQuery(r, r.URL.Path, map[string]string{"f": "json"}), Doc: doc})
	if err != nil {
		o.fail(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

type itemsRow struct {
	ID       int64
	Href     string
	Cells    []string
	Geometry string
}

type itemsPage struct {
	Title           string
	Columns         []string
	Rows            []itemsRow
	Matched         string
	Returned        int
	Next, Prev      string
	CollectionTitle string
}

// cell formats a JSON property value of attribute a for a table cell: a coded value in people's
// words in lang from the attribute's value dictionary, other values as they are.
func cell(a layers.Attribute, v any, lang string) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return a.ValueLabel(v, lang)
	case json.Number:
		return a.ValueLabel(v.String(), lang)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func shortGeometry(g []byte) string {
	if len(g) > 160 {
		return string(g[:160]) + "…"
	}
	return string(g)
}

func decodeProps(raw []byte) map[string]any {
	props := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.Decode(&props)
	return props
}

// visibleColumns are the attributes shown for q, in catalog order.
func visibleColumns(l layers.Layer, q layers.FeatureQuery) []layers.Attribute {
	if !q.SelectProperties {
		return l.Attributes
	}
	var out []layers.Attribute
	for _, p := range q.Properties {
		if a, ok := l.Attribute(p); ok {
			out = append(out, a)
		}
	}
	return out
}

// maxHTMLPage caps HTML pages, which are built in memory (GeoJSON pages stream).
const maxHTMLPage = 1000

func (o *API) itemsHTML(w http.ResponseWriter, r *http.Request, l layers.Layer, q layers.FeatureQuery, lg, path string) {
	q.Limit = min(q.Limit, maxHTMLPage)
	cols := visibleColumns(l, q)
	p := itemsPage{Title: pick(l.Title, lg)}
	for _, a := range cols {
		p.Columns = append(p.Columns, pick(a.Title, lg))
	}
	var lastID int64
	page, err := o.Layers.Features(r.Context(), l, q, func(ft layers.Feature) error {
		lastID = ft.ID
		props := decodeProps(ft.Properties)
		row := itemsRow{ID: ft.ID, Href: path + "/" + strconv.FormatInt(ft.ID, 10) + "?f=html", Geometry: shortGeometry(ft.Geometry)}
		for _, a := range cols {
			row.Cells = append(row.Cells, cell(a, props[a.Name], lg))
		}
		p.Rows = append(p.Rows, row)
		return nil
	})
	if err != nil {
		o.fail(w, r, err)
		return
	}
	p.Returned = page.NumberReturned
	p.Matched = strconv.FormatInt(page.NumberMatched, 10)
	if page.Estimated {
		p.Matched = "about " + p.Matched
	}
	if page.More {
		p.Next = withQuery(r, path, nextPage(q, lastID))
	}
	if q.Offset > 0 {
		p.Prev = withQuery(r, path, prevPage(q))
	}
	o.html(w, r, "items", lg, p)
}

type itemPage struct {
	Title           string
	Rows            []struct{ Name, Value string }
	Geometry        string
	Collection      string
	CollectionTitle string
}

func (o *API) itemHTML(w http.ResponseWriter, r *http.Request, l layers.Layer, ft layers.Feature, lg, path string) {
	props := decodeProps(ft.Properties)
	p := itemPage{Title: pick(l.Title, lg) + " " + strconv.FormatInt(ft.ID, 10), Geometry: string(ft.Geometry),
		Collection: o.base(r) + "/collections/" + l.Slug, CollectionTitle: pick(l.Title, lg)}
	for _, a := range l.Attributes {
		p.Rows = append(p.Rows, struct{ Name, Value string }{pick(a.Title, lg), cell(a, props[a.Name], lg)})
	}
	o.html(w, r, "item", lg, p)
}

// ogcCSS styles the HTML pages; it is a file of its own because the CSP allows no inline styles.
const ogcCSS = `body{font:15px/1.5 system-ui,sans-serif;margin:1rem auto;max-width:70rem;padding:0 1rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
nav a{margin-right:1rem}code{font-size:85%}`

func (o *API) CSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write([]byte(ogcCSS))
}
