package layers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// MaxAreaLabelLayers bounds the layers of one AreaLabels call, MaxAreaLabels the areas of each.
const (
	MaxAreaLabelLayers = 8
	MaxAreaLabels      = 5000
)

// areaLabelsBuildings is the layer whose buildings say where an area's people are.
const areaLabelsBuildings = "buildings"

// AreaLabels answers where the names of the areas of polygon layers (districts, the city) are
// written on the map: one point per named area, so that a district's name stands once instead of
// once per vector tile its polygon reaches (a tile only knows its own piece). The point is the
// centre of the area's buildings, where its residents look for the name (a district of a city
// like Aktobe reaches far into the steppe, and the middle of its polygon lies outside any view of
// the town), brought onto the area when that centre falls outside it; an area without buildings
// gets the centre of the largest circle inside it. The answer is a GeoJSON FeatureCollection
// whose features carry layer, id and the layer's name columns (name, name_kk, name_ru, name_en as
// the layer has them). It is kept in memory until one of the layers or the buildings change
// (their catalog versions). Staff may name staff-only layers.
func (s *Store) AreaLabels(ctx context.Context, slugs []string, staff bool) (json.RawMessage, error) {
	if len(slugs) == 0 || len(slugs) > MaxAreaLabelLayers {
		return nil, geoportal.Errorf(geoportal.EINVALID, "area labels: name 1 to %d layers, got %d", MaxAreaLabelLayers, len(slugs))
	}
	var areas []Layer
	seen := map[string]bool{}
	for _, slug := range slugs {
		if seen[slug] {
			continue
		}
		seen[slug] = true
		l, err := s.Layer(ctx, slug, staff)
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(l.GeometryType, "Polygon") {
			return nil, geoportal.Errorf(geoportal.EINVALID, "area labels: layer %q holds %s, not areas", slug, l.GeometryType)
		}
		if names, _ := textColumns(&l); len(names) == 0 {
			return nil, geoportal.Errorf(geoportal.EINVALID, "area labels: layer %q has no name column", slug)
		}
		areas = append(areas, l)
	}
	key := fmt.Sprint(staff)
	for _, l := range areas {
		key += fmt.Sprintf(" %s.%d", l.Slug, l.Version)
	}
	var buildings *Layer
	if b, err := s.Layer(ctx, areaLabelsBuildings, false); err == nil && strings.HasSuffix(b.GeometryType, "Polygon") {
		buildings = &b
		key += fmt.Sprintf(" %s.%d", b.Slug, b.Version)
	} else if err != nil && geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		return nil, err
	}
	if fc, ok := s.areaLabels.get(key); ok {
		return fc, nil
	}
	parts := make([]string, len(areas))
	for i, l := range areas {
		parts[i] = areaLabelsQuery(&l, buildings)
	}
	sql := `SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f), '[]'::json))
		FROM (` + strings.Join(parts, " UNION ALL ") + `) labels`
	var fc json.RawMessage
	if err := s.read.QueryRow(ctx, sql).Scan(&fc); err != nil {
		return nil, mapPgError(fmt.Errorf("area labels: %w", err))
	}
	s.areaLabels.put(key, fc)
	return fc, nil
}

// areaLabelsQuery selects the label features of one area layer (AreaLabels).
func areaLabelsQuery(l *Layer, buildings *Layer) string {
	names, _ := textColumns(l)
	props := []string{"'layer', " + quoteLiteral(l.Slug), "'id', a.id"}
	var named []string
	for _, c := range names {
		col := "a." + pgx.Identifier{c}.Sanitize()
		props = append(props, quoteLiteral(c)+", nullif("+col+", '')")
		named = append(named, "nullif("+col+", '') IS NOT NULL")
	}
	// The inscribed circle is found on the geometry as stored (degrees): only its centre is
	// used, and the stretch of degrees this far north does not move it out of the area.
	inside := "(ST_MaximumInscribedCircle(a.geom)).center"
	point := inside
	if buildings != nil {
		// The centre of the buildings' centres, or the nearest point of the area to it.
		point = fmt.Sprintf(`coalesce((SELECT CASE WHEN ST_Intersects(a.geom, c) THEN c ELSE ST_ClosestPoint(a.geom, c) END
			FROM (SELECT ST_Centroid(ST_Collect(ST_PointOnSurface(b.geom))) AS c FROM %s b
				WHERE b.geom && a.geom AND ST_Intersects(a.geom, ST_PointOnSurface(b.geom))) bc WHERE c IS NOT NULL), %s)`,
			buildings.Table(), inside)
	}
	return fmt.Sprintf(`(SELECT json_build_object('type', 'Feature',
			'geometry', ST_AsGeoJSON(coalesce(%s, ST_PointOnSurface(a.geom)), 6)::json,
			'properties', json_build_object(%s)) AS f
		FROM %s a WHERE a.geom IS NOT NULL AND NOT ST_IsEmpty(a.geom) AND (%s) ORDER BY a.id LIMIT %d)`,
		point, strings.Join(props, ", "), l.Table(), strings.Join(named, " OR "), MaxAreaLabels)
}

// labelCache keeps the last few AreaLabels answers by their key (the layers' versions).
type labelCache struct {
	mu   sync.Mutex
	keys []string
	fcs  map[string]json.RawMessage
}

const labelCacheSize = 8

func (c *labelCache) get(key string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fc, ok := c.fcs[key]
	return fc, ok
}

func (c *labelCache) put(key string, fc json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fcs == nil {
		c.fcs = map[string]json.RawMessage{}
	}
	if _, ok := c.fcs[key]; ok {
		return
	}
	if len(c.keys) == labelCacheSize {
		delete(c.fcs, c.keys[0])
		c.keys = c.keys[1:]
	}
	c.keys = append(c.keys, key)
	c.fcs[key] = fc
}
