package ogc

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/cql2"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// itemsParams are the query parameters of /items besides f, lang and the queryables.
var itemsParams = []string{"limit", "offset", "cursor", "bbox", "bbox-crs", "datetime", "crs", "filter",
	"filter-lang", "filter-crs", "sortby", "properties"}

// itemsQuery reads the items request into a feature query.
func itemsQuery(r *http.Request, l layers.Layer) (layers.FeatureQuery, error) {
	v := r.URL.Query()
	q := layers.FeatureQuery{Limit: 10, CRS: layers.CRS84, BBoxCRS: layers.CRS84, FilterCRS: layers.CRS84}
	var err error
	if s := v.Get("limit"); v.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, badRequest("limit=%q: want a whole number from 1 to %d", s, layers.MaxLimit)
		}
		q.Limit = min(n, layers.MaxLimit)
	}
	if s := v.Get("offset"); v.Has("offset") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, badRequest("offset=%q: want a whole number, 0 or more", s)
		}
		q.Offset = n
	}
	if s := v.Get("cursor"); v.Has("cursor") {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return q, badRequest("cursor=%q: not a cursor from a next link", s)
		}
		q.AfterID = &id
	}
	if v.Has("crs") {
		if q.CRS, err = layers.ParseCRS(v.Get("crs")); err != nil {
			return q, badRequest("crs: %s", geoportal.ErrorMessage(err))
		}
	}
	if v.Has("bbox-crs") {
		if q.BBoxCRS, err = layers.ParseCRS(v.Get("bbox-crs")); err != nil {
			return q, badRequest("bbox-crs: %s", geoportal.ErrorMessage(err))
		}
	}
	if s := v.Get("bbox"); v.Has("bbox") {
		parts := strings.Split(s, ",")
		var nums []float64
		for _, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return q, badRequest("bbox=%q: %q is not a number", s, p)
			}
			nums = append(nums, f)
		}
		switch len(nums) {
		case 4:
		case 6: // minx, miny, minz, maxx, maxy, maxz: heights are ignored
			nums = []float64{nums[0], nums[1], nums[3], nums[4]}
		default:
			return q, badRequest("bbox=%q: want 4 numbers (west,south,east,north) or 6 with heights", s)
		}
		if q.BBoxCRS.LatLon {
			nums = []float64{nums[1], nums[0], nums[3], nums[2]}
		}
		q.BBox = nums
	}
	if v.Has("datetime") {
		iv, err := layers.ParseDatetime(v.Get("datetime"))
		if err != nil {
			return q, err
		}
		q.Time = &iv
	}
	if v.Has("filter-crs") {
		if q.FilterCRS, err = layers.ParseCRS(v.Get("filter-crs")); err != nil {
			return q, badRequest("filter-crs: %s", geoportal.ErrorMessage(err))
		}
	}
	if v.Has("filter") {
		switch fl := v.Get("filter-lang"); fl {
		case "", "cql2-text":
			q.Filter, err = cql2.ParseText(v.Get("filter"))
		case "cql2-json":
			q.Filter, err = cql2.ParseJSON([]byte(v.Get("filter")))
		default:
			return q, badRequest("filter-lang=%q: use cql2-text or cql2-json", fl)
		}
		if err != nil {
			return q, err
		}
	} else if v.Has("filter-lang") || v.Has("filter-crs") {
		return q, badRequest("filter-lang and filter-crs need a filter")
	}
	if s := v.Get("sortby"); v.Has("sortby") {
		for _, k := range strings.Split(s, ",") {
			// A "+" in a query string arrives as a space.
			k = strings.TrimLeft(k, " ")
			desc := strings.HasPrefix(k, "-")
			k = strings.TrimPrefix(strings.TrimPrefix(k, "-"), "+")
			if k == "" {
				return q, badRequest("sortby=%q: empty property name", s)
			}
			q.SortBy = append(q.SortBy, layers.Sort{Property: k, Desc: desc})
		}
	}
	if v.Has("properties") {
		q.SelectProperties = true
		if s := v.Get("properties"); s != "" {
			names := strings.Split(s, ",")
			if len(names) > maxPropertyNames {
				return q, badRequest("properties: %d names, at most %d (leave properties out for all of them)", len(names), maxPropertyNames)
			}
			for _, p := range names {
				q.Properties = append(q.Properties, strings.TrimSpace(p))
			}
		}
	}
	reserved := map[string]bool{"f": true, "lang": true}
	for _, p := range itemsParams {
		reserved[p] = true
	}
	for k := range v {
		if !reserved[k] {
			if q.Equals == nil {
				q.Equals = map[string]string{}
			}
			q.Equals[k] = v.Get(k)
		}
	}
	return q, l.CheckFeatureQuery(q)
}

// equalityParams are the queryables usable as ?name=value.
func equalityParams(l layers.Layer) []string {
	var out []string
	for name, typ := range l.Queryables() {
		if typ != "geometry" {
			out = append(out, name)
		}
	}
	return out
}

// maxPropertyNames bounds the names of properties= (each must be a property of the layer, once).
const maxPropertyNames = 500

func (o *API) Items(w http.ResponseWriter, r *http.Request) {
	l, err := o.layer(r)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	privateIfStaffOnly(w, l)
	f, lg, ok := o.begin(w, r, append(itemsParams, equalityParams(l)...)...)
	if !ok {
		return
	}
	q, err := itemsQuery(r, l)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	path := o.base(r) + "/collections/" + l.Slug + "/items"
	if f == "html" {
		o.itemsHTML(w, r, l, q, lg, path)
		return
	}
	// The page is read whole, the database connection let go, and only then written: a client
	// that reads slowly (or not at all) holds no connection of the pool while it waits. A page is
	// at most 10,000 features, a few MB. A big page to a slow client may outlast the write
	// timeout while the client keeps reading.
	var buf bytes.Buffer
	buf.WriteString(`{"type":"FeatureCollection","features":[`)
	n := 0
	var lastID int64
	page, err := o.Layers.Features(r.Context(), l, q, func(ft layers.Feature) error {
		lastID = ft.ID
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		writeFeature(&buf, ft)
		buf.WriteByte('}')
		return nil
	})
	if err != nil {
		o.fail(w, r, err)
		return
	}
	links := selfLinks(r, path, "json", MediaGeoJSON)
	if page.More {
		links = append(links, Link{Href: withQuery(r, path, nextPage(q, lastID)), Rel: "next", Type: MediaGeoJSON, Title: "Next page"})
	}
	if q.Offset > 0 {
		links = append(links, Link{Href: withQuery(r, path, prevPage(q)), Rel: "prev", Type: MediaGeoJSON, Title: "Previous page"})
	}
	links = append(links, Link{Href: o.base(r) + "/collections/" + l.Slug, Rel: "collection", Type: MediaJSON, Title: pick(l.Title, lg)})
	tail := map[string]any{"numberMatched": page.NumberMatched, "numberReturned": page.NumberReturned,
		"timeStamp": time.Now().UTC().Format(time.RFC3339), "links": links}
	if page.Estimated {
		// Counting a filtered match over a big layer would scan it; this is the planner's estimate.
		tail["numberMatchedIsEstimate"] = true
	}
	raw := marshalJSON(tail)
	buf.WriteString("],")
	buf.Write(raw[1:]) // the tail's members, continuing the collection object
	reply.KeepWriting(r)
	w.Header().Set("Content-Type", MediaGeoJSON)
	w.Header().Set("Content-Crs", "<"+q.CRS.URI+">")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// nextPage is the query change for the next page: in the default order a keyset cursor (the
// last id) that costs the same on every page, plus the offset for numbering and prev links.
func nextPage(q layers.FeatureQuery, lastID int64) map[string]string {
	set := map[string]string{"offset": strconv.Itoa(q.Offset + q.Limit)}
	if len(q.SortBy) == 0 {
		set["cursor"] = strconv.FormatInt(lastID, 10)
	}
	return set
}

// prevPage goes back by offset (prev pages are rarely deep).
func prevPage(q layers.FeatureQuery) map[string]string {
	set := map[string]string{"offset": "", "cursor": ""}
	if q.Offset > q.Limit {
		set["offset"] = strconv.Itoa(q.Offset - q.Limit)
	}
	return set
}

// jsonWriter is what writeFeature writes to (a bytes.Buffer, a bufio.Writer).
type jsonWriter interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}

// writeFeature writes a GeoJSON feature without its closing brace, so that callers can add
// members (links).
func writeFeature(bw jsonWriter, ft layers.Feature) {
	bw.WriteString(`{"type":"Feature","id":`)
	bw.WriteString(strconv.FormatInt(ft.ID, 10))
	bw.WriteString(`,"geometry":`)
	bw.Write(ft.Geometry)
	bw.WriteString(`,"properties":`)
	bw.Write(ft.Properties)
}

// featureID reads {featureId}; anything but an id is "not found".
func featureID(r *http.Request, l layers.Layer) (int64, error) {
	s := chi.URLParam(r, "featureId")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, geoportal.Errorf(geoportal.ENOTFOUND, "feature %q not found in %s", s, l.Slug)
	}
	return id, nil
}

func (o *API) Item(w http.ResponseWriter, r *http.Request) {
	l, err := o.layer(r)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	privateIfStaffOnly(w, l)
	f, lg, ok := o.begin(w, r, "crs")
	if !ok {
		return
	}
	crs := layers.CRS84
	if r.URL.Query().Has("crs") {
		if crs, err = layers.ParseCRS(r.URL.Query().Get("crs")); err != nil {
			o.fail(w, r, badRequest("crs: %s", geoportal.ErrorMessage(err)))
			return
		}
	}
	id, err := featureID(r, l)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	ft, err := o.Layers.Feature(r.Context(), l, id, crs)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	path := o.base(r) + "/collections/" + l.Slug + "/items/" + strconv.FormatInt(id, 10)
	if f == "html" {
		o.itemHTML(w, r, l, ft, lg, path)
		return
	}
	links := append(selfLinks(r, path, "json", MediaGeoJSON),
		Link{Href: o.base(r) + "/collections/" + l.Slug, Rel: "collection", Type: MediaJSON, Title: pick(l.Title, lg)})
	raw := bytes.TrimSpace(marshalJSON(links))
	w.Header().Set("Content-Type", MediaGeoJSON)
	w.Header().Set("Content-Crs", "<"+crs.URI+">")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	writeFeature(bw, ft)
	bw.WriteString(`,"links":`)
	bw.Write(raw)
	bw.WriteString("}\n")
	bw.Flush()
}
