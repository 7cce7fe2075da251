package web

import (
	"net/http"

	"github.com/aktobe/geoportal/layers"
)

// The OpenAPI 3.0 definition of /ogc (service-desc); f=html shows its operations as a page.

func oaParam(name, in, desc string, required bool, schema map[string]any) map[string]any {
	return map[string]any{"name": name, "in": in, "description": desc, "required": required,
		"schema": schema, "style": "form", "explode": false}
}

func oaResponses(mediaType, desc string) map[string]any {
	errBody := map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/exception"}}}
	return map[string]any{
		"200":     map[string]any{"description": desc, "content": map[string]any{mediaType: map[string]any{"schema": map[string]any{"type": "object"}}, mtHTML: map[string]any{"schema": map[string]any{"type": "string"}}}},
		"400":     map[string]any{"description": "Bad request: the description names the problem", "content": errBody},
		"404":     map[string]any{"description": "No such collection or feature", "content": errBody},
		"default": map[string]any{"description": "Error", "content": errBody},
	}
}

func (o *ogcAPI) openAPI(r *http.Request, ids []string) map[string]any {
	str := map[string]any{"type": "string"}
	f := oaParam("f", "query", "Encoding: json or html (else the Accept header decides)", false,
		map[string]any{"type": "string", "enum": []string{"json", "html"}})
	lg := oaParam("lang", "query", "Language of titles: kk, ru or en (else Accept-Language; default en)", false,
		map[string]any{"type": "string", "enum": []string{"kk", "ru", "en"}})
	coll := map[string]any{"name": "collectionId", "in": "path", "required": true, "description": "Layer id",
		"schema": map[string]any{"type": "string", "enum": ids}}
	fid := map[string]any{"name": "featureId", "in": "path", "required": true, "schema": map[string]any{"type": "integer"}}
	crs := oaParam("crs", "query", "CRS of returned geometries", false, map[string]any{"type": "string", "format": "uri", "enum": crsURIs()})
	op := func(id, summary string, params []any, mediaType string) map[string]any {
		return map[string]any{"operationId": id, "summary": summary, "parameters": params,
			"responses": oaResponses(mediaType, summary)}
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
	featureBody := map[string]any{"required": true, "content": map[string]any{mtGeoJSON: map[string]any{"schema": map[string]any{"type": "object"}}}}
	noContent := map[string]any{"204": map[string]any{"description": "Done"}, "default": map[string]any{"description": "Error"}}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": serviceTitle.EN + " – OGC API Features", "version": "1.0.0",
			"description": serviceDescription.EN, "license": map[string]any{"name": "Layer licences as attributed per collection"}},
		"servers": []any{map[string]any{"url": o.base(r)}},
		"paths": map[string]any{
			"/":                                      map[string]any{"get": op("getLandingPage", "Landing page", []any{f, lg}, mtJSON)},
			"/conformance":                           map[string]any{"get": op("getConformance", "Conformance classes", []any{f, lg}, mtJSON)},
			"/collections":                           map[string]any{"get": op("getCollections", "Collections (layers)", []any{f, lg}, mtJSON)},
			"/collections/{collectionId}":            map[string]any{"get": op("describeCollection", "A collection", []any{coll, f, lg}, mtJSON)},
			"/collections/{collectionId}/queryables": map[string]any{"get": op("getQueryables", "Queryable properties (JSON Schema)", []any{coll, lg}, mtSchema)},
			"/collections/{collectionId}/items": map[string]any{
				"get":  op("getFeatures", "Features of a collection; other query parameters named after queryables filter by equality", items, mtGeoJSON),
				"post": map[string]any{"operationId": "createFeature", "summary": "Add a feature (staff)", "parameters": []any{coll}, "requestBody": featureBody, "responses": map[string]any{"201": map[string]any{"description": "Created; Location names it"}, "default": map[string]any{"description": "Error"}}},
			},
			"/collections/{collectionId}/items/{featureId}": map[string]any{
				"get":    op("getFeature", "One feature", []any{coll, fid, f, lg, crs}, mtGeoJSON),
				"put":    map[string]any{"operationId": "replaceFeature", "summary": "Replace a feature (staff)", "parameters": []any{coll, fid}, "requestBody": featureBody, "responses": noContent},
				"patch":  map[string]any{"operationId": "updateFeature", "summary": "Update a feature's given members (staff)", "parameters": []any{coll, fid}, "requestBody": featureBody, "responses": noContent},
				"delete": map[string]any{"operationId": "deleteFeature", "summary": "Delete a feature (staff)", "parameters": []any{coll, fid}, "responses": noContent},
			},
		},
		"components": map[string]any{"schemas": map[string]any{"exception": map[string]any{
			"type": "object", "required": []string{"code"},
			"properties": map[string]any{"code": str, "description": str}}}},
	}
}

func (o *ogcAPI) handleAPI(w http.ResponseWriter, r *http.Request) {
	f, lg, ok := o.begin(w, r)
	if !ok {
		return
	}
	ls, err := o.s.Layers.Layers(r.Context(), o.canView(r))
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
		var links []ogcLink
		for _, p := range []string{"/", "/conformance", "/collections", "/collections/{collectionId}",
			"/collections/{collectionId}/queryables", "/collections/{collectionId}/items",
			"/collections/{collectionId}/items/{featureId}"} {
			links = append(links, ogcLink{Href: o.base(r) + p, Rel: "item", Title: "GET " + p})
		}
		o.html(w, r, "landing", lg, map[string]any{"title": "API", "description": serviceDescription.EN +
			" The machine-readable definition is OpenAPI 3.0 JSON at " + o.base(r) + "/api.", "links": links})
		return
	}
	writeTyped(w, http.StatusOK, mtOpenAPI, doc)
}
