package modules

import (
	"context"
	"fmt"
)

// SeedSocialTaxiArea fills the social-taxi service area of the demo city: the city within its
// boundary, served by a demo operator. It leaves an area drawn or imported by staff alone and
// returns how many areas it wrote (0 or 1).
func (s *Store) SeedSocialTaxiArea(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO layer.social_taxi_area (geom, operator, phone, hours, who, is_demo)
		SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3)),
			'Әлеуметтік такси / Социальное такси (demo)', '+7 7132 00-00-00 (demo)', '07:00–21:00',
			'Инвалиды I–II группы, дети с инвалидностью, колясочники / people with disabilities and wheelchair users', true
		FROM layer.city_boundary
		HAVING count(*) > 0 AND NOT EXISTS (SELECT 1 FROM layer.social_taxi_area)`)
	if err != nil {
		return 0, fmt.Errorf("social taxi area: %w", err)
	}
	return tag.RowsAffected(), nil
}
