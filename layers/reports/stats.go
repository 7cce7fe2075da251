package reports

import (
	"context"
	"fmt"

	"github.com/aktobe/geoportal/layers"
)

// Count is one bucket of a statistic.
type Count struct {
	Key   string `json:"key"`
	Open  int    `json:"open"`
	Total int    `json:"total"`
	// Names are a district's names by language (kk and en fall back to ru, then to the
	// layer's name); nil for the other statistics.
	Names *layers.Titles `json:"names,omitempty"`
}

// Stats are the report counts planners and the public see on the statistics page.
type Stats struct {
	ByCategory []Count `json:"by_category"`
	ByDistrict []Count `json:"by_district"`
	ByMonth    []Count `json:"by_month"`
	ByStatus   []Count `json:"by_status"`
	// MedianDaysToResolve is over resolved reports (null when none is resolved).
	MedianDaysToResolve *float64 `json:"median_days_to_resolve"`
}

// Stats counts reports by category, district, month and status.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	queries := []struct {
		dst  *[]Count
		sql  string
		args []any
	}{
		{&st.ByCategory, `SELECT service_code, count(*) FILTER (WHERE status IN ('new','accepted','in_progress')), count(*)
			FROM layer.citizen_reports GROUP BY 1 ORDER BY 3 DESC, 1`, nil},
		{&st.ByDistrict, `SELECT coalesce(nullif(d.name_ru, ''), d.name, '—'), count(*) FILTER (WHERE r.status IN ('new','accepted','in_progress')), count(*),
				coalesce(nullif(d.name_kk, ''), nullif(d.name_ru, ''), d.name, '—'), coalesce(nullif(d.name_en, ''), nullif(d.name_ru, ''), d.name, '—')
			FROM layer.citizen_reports r
			LEFT JOIN LATERAL (SELECT name, name_kk, name_ru, name_en FROM layer.districts d WHERE ST_Intersects(d.geom, r.geom) LIMIT 1) d ON true
			GROUP BY 1, 4, 5 ORDER BY 3 DESC, 1`, nil},
		{&st.ByMonth, `SELECT to_char(date_trunc('month', requested_at AT TIME ZONE $1), 'YYYY-MM'),
				count(*) FILTER (WHERE status IN ('new','accepted','in_progress')), count(*)
			FROM layer.citizen_reports GROUP BY 1 ORDER BY 1`, []any{layers.TimeZone}},
		{&st.ByStatus, `SELECT status, count(*) FILTER (WHERE status IN ('new','accepted','in_progress')), count(*)
			FROM layer.citizen_reports GROUP BY 1 ORDER BY 3 DESC, 1`, nil},
	}
	for _, q := range queries {
		rows, err := s.pool.Query(ctx, q.sql, q.args...)
		if err != nil {
			return st, fmt.Errorf("report stats: %w", err)
		}
		*q.dst = []Count{}
		for rows.Next() {
			var c Count
			dst := []any{&c.Key, &c.Open, &c.Total}
			if q.dst == &st.ByDistrict {
				c.Names = &layers.Titles{}
				dst = append(dst, &c.Names.KK, &c.Names.EN)
			}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return st, err
			}
			if c.Names != nil {
				c.Names.RU = c.Key
			}
			*q.dst = append(*q.dst, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return st, err
		}
	}
	err := s.pool.QueryRow(ctx, `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM h.at - r.requested_at) / 86400)
		FROM layer.citizen_reports r JOIN reports.history h ON h.report_id = r.id AND h.status = 'resolved'`).Scan(&st.MedianDaysToResolve)
	if err != nil {
		return st, fmt.Errorf("report stats: %w", err)
	}
	return st, nil
}
