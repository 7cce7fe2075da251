package ogc

import (
	"net/http"

	"github.com/aktobe/geoportal/layers"
)

// The OpenAPI 3.0 definition of /ogc (service-desc); f=html shows its operations as a page.

func oaParam(name, in, desc string, required bool, schema map[string]any) map[string]any {
	return map[string]any{"name": name, "in": in, "description": desc, "required": required,
		"schema": schema, "style": "form", "explode": false}
}

func oaResponses(mediaType, schema, desc string) map[string]any {
	errBody := map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/exception"}}}
	return map[string]any{
		"200":     map[string]any{"description": desc, "content": map[string]any{mediaType: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}, MediaHTML: map[string]any{"schema": map[string]any{"type": "string"}}}},
		"400":     map[string]any{"description": "Bad request: the description names the problem", "content": errBody},
		"404":     map[string]any{"description": "No such collection or feature", "content": errBody},
		"default": map[string]any{"description": "Error", "content": errBody},
	}
}

func (o *API) openAPI(r *http.Request, ids []string) map[string]any {
	str := map[string]any{"type": "string"}
	f := oaParam("f", "query", "Encoding: json or html (else the Accept header decides)", false,
		map[string]any{"type": "string", "enum": []string{"json", "html"}})
	lg := oaParam("lang", "query", "Language of titles: kk, ru or en (else Accept-Language; default en)", false,
		map[string]any{"type": "string", "enum": []string{"kk", "ru", "en"}})
	coll := map[string]any{"name": "collectionId", "in": "path", "required": true, "description": "Layer id",
		"schema": map[string]any{"type": "string", "enum": ids}}
	fid := map[string]any{"name": "featureId", "in": "path", "required": true, "schema": map[string]any{"type": "integer"}}
	crs := oaParam("crs", "query", "CRS of returned geometries", false, map[string]any{"type": "string", "format": "uri", "enum": crsURIs()})
	op := func(id, summary string, params []any, mediaType, schema string) map[string]any {
		return map[string]any{"operationId": id, "summary": summary, "parameters": params,
			"responses": oaResponses(mediaType, schema, summary)}
	}
	items := []any{coll, f, lg,
		oaParam("limit", "query", "Page size", false, map[string]any{"type": "integer", "minimum": 1, "maximum": layers.MaxLimit, "default": 10}),
		oaParam("offset", "query", "Features to skip (next/prev links carry it)", false, map[string]any{"type": "integer", "minimum": 0, "default": 0}),
		oaParam("bbox", "query", "west,south,east,north in bbox-crs (CRS84 by default)", false,
			map[string]any{"type": "array", "minItems": 4, "maxItems": 6, "items": map[string]any{"type": "number"}}),
		oaParam("bbox-crs", "query", "CRS of bbox", false, map[string]any{"type": "string", "format": "uri", "enum": crsURIs()}),
		oaParam("datetime", "query", "Instant or interval (a/b, open ends ..) on the layer's time property", false, str),
		crs,
		oaParam("filter", "query", "CQL2 filter", false, str),
		oaParam("filter-lang", "query", "cql2-text (default) or cql2-json", false, map[string]any{"type": "string", "enum": []string{"cql2-text", "cql2-json"}}),
		oaParam("filter-crs", "query", "CRS of the filter's geometries", false, map[string]any{"type": "string", "format": "uri", "enum": crsURIs()}),
		oaParam("sortby", "query", "Sort keys: +name or -name, comma-separated", false, map[string]any{"type": "array", "items": str}),
		oaParam("properties", "query", "Properties to return, comma-separated", false, map[string]any{"type": "array", "items": str}),
	}
	featureBody := map[string]any{"required": true, "content": map[string]any{MediaGeoJSON: map[string]any{"schema": map[string]any{"type": "object"}}}}
	noContent := map[string]any{"204": map[string]any{"description": "Done"}, "default": map[string]any{"description": "Error"}}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": serviceTitle.EN + " – OGC API Features", "version": "1.0.0",
			"description": serviceDescription.EN, "license": map[string]any{"name": "Layer licences as attributed per collection"}},
		"servers": []any{map[string]any{"url": o.base(r)}},
		"paths": map[string]any{
			"/":                                      map[string]any{"get": op("getLandingPage", "Landing page", []any{f, lg}, MediaJSON, "landingPage")},
			"/conformance":                           map[string]any{"get": op("getConformance", "Conformance classes", []any{f, lg}, MediaJSON, "confClasses")},
			"/collections":                           map[string]any{"get": op("getCollections", "Collections (layers)", []any{f, lg}, MediaJSON, "collections")},
			"/collections/{collectionId}":            map[string]any{"get": op("describeCollection", "A collection", []any{coll, f, lg}, MediaJSON, "collectionInfo")},
			"/collections/{collectionId}/queryables": map[string]any{"get": op("getQueryables", "Queryable properties (JSON Schema)", []any{coll, lg}, MediaSchema, "queryables")},
			"/collections/{collectionId}/items": map[string]any{
				"get":  op("getFeatures", "Features of a collection; other query parameters named after queryables filter by equality", items, MediaGeoJSON, "featureCollectionGeoJSON"),
				"post": map[string]any{"operationId": "createFeature", "summary": "Add a feature (staff)", "parameters": []any{coll}, "requestBody": featureBody, "responses": map[string]any{"201": map[string]any{"description": "Created; Location names it"}, "default": map[string]any{"description": "Error"}}},
			},
			"/collections/{collectionId}/items/{featureId}": map[string]any{
				"get":    op("getFeature", "One feature", []any{coll, fid, f, lg, crs}, MediaGeoJSON, "featureGeoJSON"),
				"put":    map[string]any{"operationId": "replaceFeature", "summary": "Replace a feature (staff)", "parameters": []any{coll, fid}, "requestBody": featureBody, "responses": noContent},
				"patch":  map[string]any{"operationId": "updateFeature", "summary": "Update a feature's given members (staff)", "parameters": []any{coll, fid}, "requestBody": featureBody, "responses": noContent},
				"delete": map[string]any{"operationId": "deleteFeature", "summary": "Delete a feature (staff)", "parameters": []any{coll, fid}, "responses": noContent},
			},
		},
		"components": map[string]any{"schemas": oaSchemas()},
	}
}

// oaSchemas are the response schemas of OGC API - Features Part 1's OpenAPI building blocks
// (landingPage, confClasses, collections, collectionInfo, featureCollectionGeoJSON,
// featureGeoJSON, link, exception), so that a client validating our answers against this
// document checks what the standard requires of them.
func oaSchemas() map[string]any {
	str := map[string]any{"type": "string"}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	arr := func(items map[string]any) map[string]any { return map[string]any{"type": "array", "items": items} }
	obj := func(required []string, props map[string]any) map[string]any {
		return map[string]any{"type": "object", "required": required, "properties": props}
	}
	count := map[string]any{"type": "integer", "minimum": 0}
	return map[string]any{
		"exception": obj([]string{"code"}, map[string]any{"code": str, "description": str}),
		"link": obj([]string{"href", "rel"}, map[string]any{"href": str, "rel": str, "type": str,
			"hreflang": str, "title": str, "length": map[string]any{"type": "integer"}}),
		"landingPage": obj([]string{"links"}, map[string]any{"title": str, "description": str, "links": arr(ref("link"))}),
		"confClasses": obj([]string{"conformsTo"}, map[string]any{"conformsTo": arr(str)}),
		"collections": obj([]string{"links", "collections"}, map[string]any{"links": arr(ref("link")),
			"collections": arr(ref("collectionInfo"))}),
		"collectionInfo": obj([]string{"id", "links"}, map[string]any{"id": str, "title": str, "description": str,
			"links": arr(ref("link")), "itemType": str, "crs": arr(str),
			"extent": map[string]any{"type": "object", "properties": map[string]any{
				"spatial": map[string]any{"type": "object", "properties": map[string]any{
					"bbox": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{
						"type": "array", "minItems": 4, "maxItems": 6, "items": map[string]any{"type": "number"}}},
					"crs": str}},
				"temporal": map[string]any{"type": "object", "properties": map[string]any{
					"interval": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{
						"type": "array", "minItems": 2, "maxItems": 2, "items": map[string]any{"type": "string", "format": "date-time", "nullable": true}}},
					"trs": str}}}}}),
		"queryables": obj([]string{"type", "properties"}, map[string]any{"type": map[string]any{"type": "string", "enum": []string{"object"}},
			"title": str, "properties": map[string]any{"type": "object"}}),
		"featureCollectionGeoJSON": obj([]string{"type", "features"}, map[string]any{
			"type":     map[string]any{"type": "string", "enum": []string{"FeatureCollection"}},
			"features": arr(ref("featureGeoJSON")), "links": arr(ref("link")),
			"timeStamp":     map[string]any{"type": "string", "format": "date-time"},
			"numberMatched": count, "numberReturned": count}),
		"featureGeoJSON": obj([]string{"type", "geometry", "properties"}, map[string]any{
			"type":       map[string]any{"type": "string", "enum": []string{"Feature"}},
			"geometry":   map[string]any{"type": "object", "nullable": true, "required": []string{"type"}, "properties": map[string]any{"type": str}},
			"properties": map[string]any{"type": "object", "nullable": true},
			"id":         map[string]any{"oneOf": []any{str, map[string]any{"type": "integer"}}},
			"links":      arr(ref("link"))}),
	}
}

func (o *API) OpenAPI(w http.ResponseWriter, r *http.Request) {
	f, lg, ok := o.begin(w, r)
	if !ok {
		return
	}
	ls, err := o.Layers.Layers(r.Context(), o.CanView(r))
	if err != nil {
		o.fail(w, r, err)
		return
	}
	ids := []string{}
	for _, l := range ls {
		ids = append(ids, l.Slug)
	}
	doc := o.openAPI(r, ids)
	if f == "html" {
		var links []Link
		for _, p := range []string{"/", "/conformance", "/collections", "/collections/{collectionId}",
			"/collections/{collectionId}/queryables", "/collections/{collectionId}/items",
			"/collections/{collectionId}/items/{featureId}"} {
			links = append(links, Link{Href: o.base(r) + p, Rel: "item", Title: "GET " + p})
		}
		o.html(w, r, "landing", lg, map[string]any{"title": "API", "description": serviceDescription.EN +
			" The machine-readable definition is OpenAPI 3.0 JSON at " + o.base(r) + "/api.", "links": links})
		return
	}
	writeTyped(w, http.StatusOK, MediaOpenAPI, doc)
}
