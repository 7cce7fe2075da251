package ogc

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
)

// MaxFeatureBody limits a written feature's size.
const MaxFeatureBody = 16 << 20

// writable looks up the layer and checks that the request may edit it and that the layer takes
// generic writes (layers.Layer.GenericWrites).
func (o *API) writable(w http.ResponseWriter, r *http.Request) (layers.Layer, bool) {
	l, err := o.layer(r)
	if err == nil {
		err = o.CanEdit(r)
	}
	if err == nil {
		err = checkParams(r)
	}
	if err == nil {
		err = l.GenericWrites() // a module's layer changes only through its workflow
	}
	if err != nil {
		o.fail(w, r, err)
		return l, false
	}
	return l, true
}

// readFeature decodes a GeoJSON feature (or, for PATCH, a JSON merge patch of one) from the body.
// The Content-Crs header names the CRS of its coordinates (CRS84 when absent).
func readFeature(r *http.Request, w http.ResponseWriter, patch bool) (layers.FeatureInput, error) {
	in := layers.FeatureInput{CRS: layers.CRS84}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case MediaGeoJSON, MediaJSON, "application/merge-patch+json":
	default:
		return in, badRequest("Content-Type %q: send application/geo+json", r.Header.Get("Content-Type"))
	}
	if h := r.Header.Get("Content-Crs"); h != "" {
		c, err := layers.ParseCRS(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(h), "<"), ">"))
		if err != nil {
			return in, badRequest("Content-Crs: %s", geoportal.ErrorMessage(err))
		}
		in.CRS = c
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFeatureBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return in, geoportal.Errorf(geoportal.ETOOLARGE, "a feature may have at most %d bytes", MaxFeatureBody)
	} else if err != nil {
		return in, badRequest("reading the body: %v", err)
	}
	var doc struct {
		Type       string                     `json:"type"`
		Geometry   json.RawMessage            `json:"geometry"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return in, badRequest("body is not a GeoJSON feature: %v", err)
	}
	if !patch && doc.Type != "Feature" {
		return in, badRequest("body must be a GeoJSON object of type Feature, not %q", doc.Type)
	}
	if len(doc.Geometry) > 0 && string(doc.Geometry) != "null" {
		in.Geometry = doc.Geometry
	}
	in.Properties = doc.Properties
	return in, nil
}

func (o *API) CreateItem(w http.ResponseWriter, r *http.Request) {
	l, ok := o.writable(w, r)
	if !ok {
		return
	}
	in, err := readFeature(r, w, false)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	id, err := o.Layers.CreateFeature(r.Context(), l, in)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	ft, err := o.Layers.Feature(r.Context(), l, id, layers.CRS84)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	w.Header().Set("Location", o.base(r)+"/collections/"+l.Slug+"/items/"+strconv.FormatInt(id, 10))
	w.Header().Set("Content-Type", MediaGeoJSON)
	w.Header().Set("Content-Crs", "<"+layers.CRS84.URI+">")
	w.WriteHeader(http.StatusCreated)
	w.Write([]byte(`{"type":"Feature","id":` + strconv.FormatInt(ft.ID, 10) + `,"geometry":` +
		string(ft.Geometry) + `,"properties":` + string(ft.Properties) + "}\n"))
}

func (o *API) ReplaceItem(w http.ResponseWriter, r *http.Request) { o.update(w, r, false) }
func (o *API) PatchItem(w http.ResponseWriter, r *http.Request)   { o.update(w, r, true) }

func (o *API) update(w http.ResponseWriter, r *http.Request, patch bool) {
	l, ok := o.writable(w, r)
	if !ok {
		return
	}
	id, err := featureID(r, l)
	if err == nil {
		var in layers.FeatureInput
		if in, err = readFeature(r, w, patch); err == nil {
			if patch {
				err = o.Layers.UpdateFeature(r.Context(), l, id, in)
			} else {
				err = o.Layers.ReplaceFeature(r.Context(), l, id, in)
			}
		}
	}
	if err != nil {
		o.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (o *API) DeleteItem(w http.ResponseWriter, r *http.Request) {
	l, ok := o.writable(w, r)
	if !ok {
		return
	}
	id, err := featureID(r, l)
	if err == nil {
		err = o.Layers.DeleteFeature(r.Context(), l, id)
	}
	if err != nil {
		o.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
