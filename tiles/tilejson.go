package tiles

import (
	"context"
	"strings"
)

// TileJSON is a TileJSON 3.0.0 document (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0).
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
	// Private is set when a layer named is staff-only: the document must not be kept by a shared
	// cache.
	Private bool `json:"-"`
}

// VectorLayer describes one layer inside the tiles: its id (the source-layer name) and fields.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// CatalogEntry is one layer in the tile catalog.
type CatalogEntry struct {
	Slug         string      `json:"slug"`
	Title        string      `json:"title"`
	GeometryType string      `json:"geometry_type"`
	MinZoom      int         `json:"minzoom"`
	MaxZoom      int         `json:"maxzoom"`
	Live         bool        `json:"live"`
	Version      int64       `json:"version"`
	TileJSON     string      `json:"tilejson"`
	Tiles        string      `json:"tiles"`
	Bounds       *[4]float64 `json:"bounds,omitempty"`
}

var worldBounds = [4]float64{-180, -85.0511287798066, 180, 85.0511287798066}

// tilesURL is the URL template of the tiles of list under base (scheme://host, no trailing /).
func tilesURL(base, list string) string {
	return base + "/tiles/" + list + "/{z}/{x}/{y}.mvt" // list holds checked slugs and commas only
}

// TileJSON describes the tiles of the layers in list; base is the scheme and host the client
// used (tile URLs are absolute).
func (t *Tiler) TileJSON(ctx context.Context, list string, staff bool, base string) (*TileJSON, error) {
	defs, err := t.ParseLayers(ctx, list, staff)
	if err != nil {
		return nil, err
	}
	tj := &TileJSON{TileJSON: "3.0.0", Version: "1.0.0", Scheme: "xyz", Tiles: []string{tilesURL(base, list)},
		MinZoom: 22, MaxZoom: 0}
	var names, descs, attributions []string
	var bounds *[4]float64
	for _, d := range defs {
		tj.Private = tj.Private || !d.Public()
		names = append(names, d.Title.EN)
		if d.Description.EN != "" {
			descs = append(descs, d.Description.EN)
		}
		if d.Attribution != "" && !contains(attributions, d.Attribution) {
			attributions = append(attributions, d.Attribution)
		}
		tj.MinZoom = min(tj.MinZoom, d.MinZoom)
		tj.MaxZoom = max(tj.MaxZoom, d.MaxZoom)
		if len(d.BBox) == 4 {
			if bounds == nil {
				bounds = &[4]float64{d.BBox[0], d.BBox[1], d.BBox[2], d.BBox[3]}
			} else {
				bounds[0], bounds[1] = min(bounds[0], d.BBox[0]), min(bounds[1], d.BBox[1])
				bounds[2], bounds[3] = max(bounds[2], d.BBox[2]), max(bounds[3], d.BBox[3])
			}
		}
		fields := make(map[string]string, len(d.fields))
		for k, v := range d.fields {
			fields[k] = v
		}
		tj.VectorLayers = append(tj.VectorLayers, VectorLayer{ID: d.Slug, Description: d.Title.EN,
			MinZoom: d.MinZoom, MaxZoom: d.MaxZoom, Fields: fields})
	}
	tj.Name = strings.Join(names, ", ")
	tj.Description = strings.Join(descs, " ")
	tj.Attribution = strings.Join(attributions, "; ")
	tj.Bounds = worldBounds
	if bounds != nil {
		tj.Bounds = *bounds
	}
	cz := max(tj.MinZoom, min(tj.MaxZoom, 12))
	tj.Center = [3]float64{(tj.Bounds[0] + tj.Bounds[2]) / 2, (tj.Bounds[1] + tj.Bounds[3]) / 2, float64(cz)}
	return tj, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Catalog lists the layers a client may fetch tiles of, in the catalog's display order.
func (t *Tiler) Catalog(ctx context.Context, staff bool, base string) ([]CatalogEntry, error) {
	ls, err := t.store.Layers(ctx, staff)
	if err != nil {
		return nil, err
	}
	out := make([]CatalogEntry, 0, len(ls))
	for _, l := range ls {
		e := CatalogEntry{Slug: l.Slug, Title: l.Title.EN, GeometryType: l.GeometryType, MinZoom: l.MinZoom,
			MaxZoom: l.MaxZoom, Live: l.Live, Version: l.Version,
			TileJSON: base + "/tiles/" + l.Slug + ".json", Tiles: tilesURL(base, l.Slug)}
		if len(l.BBox) == 4 {
			e.Bounds = &[4]float64{l.BBox[0], l.BBox[1], l.BBox[2], l.BBox[3]}
		}
		out = append(out, e)
	}
	return out, nil
}
