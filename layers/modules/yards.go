package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Contest limits.
const (
	MaxNominationsPerAccount = 3 // per season
	MaxWinners               = 20
)

// Season is one year's best-yard contest.
type Season struct {
	Season   int        `json:"season"`
	Status   string     `json:"status"` // open or closed
	OpenedAt time.Time  `json:"opened_at"`
	ClosedAt *time.Time `json:"closed_at"`
	Winners  []int64    `json:"winners"`
}

// NewNomination is a resident's nomination of a yard.
type NewNomination struct {
	Geometry    json.RawMessage `json:"geometry"` // GeoJSON Point or Polygon
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Photos      []reports.Photo `json:"-"`
}

// Nomination is a nominated yard with its votes.
type Nomination struct {
	ID          int64           `json:"id"`
	Season      int             `json:"season"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Geometry    json.RawMessage `json:"geometry"`
	Photos      int             `json:"photos"`
	Votes       int             `json:"votes"`
	Rank        int             `json:"rank"`
	Winner      bool            `json:"winner"`
	CreatedAt   time.Time       `json:"created_at"`
}

// Ranking is a season's nominations, most votes first.
type Ranking struct {
	Season      Season       `json:"season"`
	Nominations []Nomination `json:"nominations"`
}

func seasonError(season int) error {
	return geoportal.Errorf(geoportal.ENOTFOUND, "there is no best-yard season %d", season)
}

// OpenSeason opens a season for nominations and votes; audited as yard_season.open.
func (s *Store) OpenSeason(ctx context.Context, season int) (Season, error) {
	if season < 2000 || season > 2100 {
		return Season{}, geoportal.Errorf(geoportal.EINVALID, "season %d is not a year between 2000 and 2100", season)
	}
	var out Season
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO modules.yard_seasons (season) VALUES ($1) ON CONFLICT DO NOTHING
			RETURNING season, status, opened_at, closed_at, winners`, season).
			Scan(&out.Season, &out.Status, &out.OpenedAt, &out.ClosedAt, &out.Winners)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ECONFLICT, "season %d already exists", season)
		}
		if err != nil {
			return fmt.Errorf("open season %d: %w", season, err)
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "yard_season.open", ObjectType: "yard_season",
			ObjectID: fmt.Sprint(season)})
	})
	return out, err
}

// CurrentSeason is the open season (the latest, if several are open).
func (s *Store) CurrentSeason(ctx context.Context) (Season, error) {
	var out Season
	err := s.pool.QueryRow(ctx, `SELECT season, status, opened_at, closed_at, winners FROM modules.yard_seasons
		WHERE status = 'open' ORDER BY season DESC LIMIT 1`).Scan(&out.Season, &out.Status, &out.OpenedAt, &out.ClosedAt, &out.Winners)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, geoportal.Errorf(geoportal.ENOTFOUND, "no best-yard season is open")
	}
	if err != nil {
		return out, fmt.Errorf("current season: %w", err)
	}
	return out, nil
}

// lockOpenSeason locks a season's row for the transaction and checks it takes entries.
func lockOpenSeason(ctx context.Context, tx pgx.Tx, season int, forUpdate bool) error {
	lock := "FOR SHARE"
	if forUpdate {
		lock = "FOR UPDATE"
	}
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM modules.yard_seasons WHERE season = $1 `+lock, season).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return seasonError(season)
	}
	if err != nil {
		return fmt.Errorf("season %d: %w", season, err)
	}
	if status != "open" {
		return geoportal.Errorf(geoportal.ECONFLICT, "best-yard season %d is closed", season)
	}
	return nil
}

// Nominate adds a resident's yard to the open season; audited as yard.nominate.
func (s *Store) Nominate(ctx context.Context, accountID int64, n NewNomination) (Nomination, error) {
	n.Title = strings.TrimSpace(n.Title)
	n.Description = strings.TrimSpace(n.Description)
	switch {
	case accountID == 0:
		return Nomination{}, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to nominate a yard")
	case n.Title == "" || len([]rune(n.Title)) > 200:
		return Nomination{}, geoportal.Errorf(geoportal.EINVALID, "title is required, at most 200 characters")
	case len([]rune(n.Description)) > 4000:
		return Nomination{}, geoportal.Errorf(geoportal.EINVALID, "description is longer than 4000 characters")
	case len(n.Photos) > reports.MaxPhotos:
		return Nomination{}, geoportal.Errorf(geoportal.EINVALID, "at most %d photos", reports.MaxPhotos)
	case len(n.Geometry) == 0:
		return Nomination{}, geoportal.Errorf(geoportal.EINVALID, "geometry is required: a GeoJSON Point or Polygon of the yard")
	}
	var g struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(n.Geometry, &g); err != nil || (g.Type != "Point" && g.Type != "Polygon") {
		return Nomination{}, geoportal.Errorf(geoportal.EINVALID, "geometry must be a GeoJSON Point or Polygon, got %q", g.Type)
	}
	season, err := s.CurrentSeason(ctx)
	if err != nil {
		return Nomination{}, err
	}
	var out Nomination
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockOpenSeason(ctx, tx, season.Season, false); err != nil {
			return err
		}
		var mine int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM modules.yard_nominations WHERE season = $1 AND account_id = $2`,
			season.Season, accountID).Scan(&mine); err != nil {
			return fmt.Errorf("nominate: %w", err)
		}
		if mine >= MaxNominationsPerAccount {
			return geoportal.Errorf(geoportal.ECONFLICT, "you have already nominated %d yards in season %d", mine, season.Season)
		}
		var reason string
		err := tx.QueryRow(ctx, `SELECT CASE WHEN NOT ST_IsValid(g) THEN ST_IsValidReason(g)
			WHEN ST_XMin(g) < -180 OR ST_XMax(g) > 180 OR ST_YMin(g) < -90 OR ST_YMax(g) > 90
			THEN 'coordinates must be lon -180..180, lat -90..90 (WGS 84 degrees)' ELSE '' END
			FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) g) x`, string(n.Geometry)).Scan(&reason)
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return geoportal.Errorf(geoportal.EINVALID, "geometry is not valid GeoJSON: %s", pe.Message)
		} else if err != nil {
			return fmt.Errorf("nominate: %w", err)
		}
		if reason != "" {
			return geoportal.Errorf(geoportal.EINVALID, "geometry is not valid: %s", reason)
		}
		err = tx.QueryRow(ctx, `INSERT INTO modules.yard_nominations (season, account_id, geom, title, description)
			VALUES ($1, $2, ST_SetSRID(ST_GeomFromGeoJSON($3), 4326), $4, $5)
			RETURNING id, season, title, description, ST_AsGeoJSON(geom, 7)::jsonb, created_at`,
			season.Season, accountID, string(n.Geometry), n.Title, n.Description).
			Scan(&out.ID, &out.Season, &out.Title, &out.Description, &out.Geometry, &out.CreatedAt)
		if err != nil {
			return fmt.Errorf("nominate: %w", err)
		}
		for i, p := range n.Photos {
			if _, err := tx.Exec(ctx, `INSERT INTO modules.yard_photos (nomination_id, n, data, thumb, width, height)
				VALUES ($1, $2, $3, $4, $5, $6)`, out.ID, i+1, p.JPEG, p.Thumb, p.Width, p.Height); err != nil {
				return fmt.Errorf("nominate: photo %d: %w", i+1, err)
			}
		}
		out.Photos = len(n.Photos)
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "yard.nominate", ObjectType: "yard_nomination",
			ObjectID: fmt.Sprint(out.ID), After: map[string]any{"season": out.Season, "title": out.Title, "photos": out.Photos}})
	})
	return out, err
}

// Vote records an account's vote for a nomination: one vote per account per season, only while
// the season is open. Audited as yard.vote.
func (s *Store) Vote(ctx context.Context, accountID, nominationID int64) error {
	if accountID == 0 {
		return geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to vote")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var season int
		err := tx.QueryRow(ctx, `SELECT season FROM modules.yard_nominations WHERE id = $1 AND NOT hidden`, nominationID).Scan(&season)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "there is no nomination %d", nominationID)
		}
		if err != nil {
			return fmt.Errorf("vote: %w", err)
		}
		if err := lockOpenSeason(ctx, tx, season, false); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO modules.yard_votes (season, account_id, nomination_id) VALUES ($1, $2, $3)
			ON CONFLICT (season, account_id) DO NOTHING`, season, accountID, nominationID)
		if err != nil {
			return fmt.Errorf("vote: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return geoportal.Errorf(geoportal.ECONFLICT, "you have already voted in best-yard season %d", season)
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "yard.vote", ObjectType: "yard_nomination",
			ObjectID: fmt.Sprint(nominationID), Detail: fmt.Sprintf("season %d", season)})
	})
}

// CloseSeason closes a season (no more nominations or votes) and publishes its winners: the
// winners nominations with the most votes (ties broken by the earlier nomination); a yard nobody
// voted for does not win. Audited as yard_season.close.
func (s *Store) CloseSeason(ctx context.Context, season, winners int) (Season, error) {
	if winners < 1 || winners > MaxWinners {
		return Season{}, geoportal.Errorf(geoportal.EINVALID, "winners %d is out of range 1..%d", winners, MaxWinners)
	}
	var out Season
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockOpenSeason(ctx, tx, season, true); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `UPDATE modules.yard_seasons SET status = 'closed', closed_at = now(),
			winners = coalesce((SELECT array_agg(id ORDER BY votes DESC, id) FROM (
			    SELECT n.id, count(v.account_id) votes FROM modules.yard_nominations n
			    LEFT JOIN modules.yard_votes v ON v.nomination_id = n.id
			    WHERE n.season = $1 AND NOT n.hidden GROUP BY n.id HAVING count(v.account_id) > 0
			    ORDER BY votes DESC, n.id LIMIT $2) w), '{}')
			WHERE season = $1 RETURNING season, status, opened_at, closed_at, winners`, season, winners).
			Scan(&out.Season, &out.Status, &out.OpenedAt, &out.ClosedAt, &out.Winners)
		if err != nil {
			return fmt.Errorf("close season %d: %w", season, err)
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "yard_season.close", ObjectType: "yard_season",
			ObjectID: fmt.Sprint(season), After: out})
	})
	return out, err
}

// Ranking lists a season's nominations, most votes first (ties: earlier nomination first);
// ranks are shared by equal vote counts.
func (s *Store) Ranking(ctx context.Context, season int) (*Ranking, error) {
	var r Ranking
	err := s.pool.QueryRow(ctx, `SELECT season, status, opened_at, closed_at, winners FROM modules.yard_seasons WHERE season = $1`,
		season).Scan(&r.Season.Season, &r.Season.Status, &r.Season.OpenedAt, &r.Season.ClosedAt, &r.Season.Winners)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, seasonError(season)
	}
	if err != nil {
		return nil, fmt.Errorf("ranking %d: %w", season, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT n.id, n.season, n.title, n.description, ST_AsGeoJSON(n.geom, 7)::jsonb,
			(SELECT count(*) FROM modules.yard_photos p WHERE p.nomination_id = n.id)::int,
			count(v.account_id)::int, (rank() OVER (ORDER BY count(v.account_id) DESC))::int, n.created_at
		FROM modules.yard_nominations n LEFT JOIN modules.yard_votes v ON v.nomination_id = n.id
		WHERE n.season = $1 AND NOT n.hidden
		GROUP BY n.id ORDER BY 7 DESC, n.id`, season)
	if err != nil {
		return nil, fmt.Errorf("ranking %d: %w", season, err)
	}
	defer rows.Close()
	r.Nominations = []Nomination{}
	winners := map[int64]bool{}
	for _, w := range r.Season.Winners {
		winners[w] = true
	}
	for rows.Next() {
		var n Nomination
		if err := rows.Scan(&n.ID, &n.Season, &n.Title, &n.Description, &n.Geometry, &n.Photos, &n.Votes, &n.Rank, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("ranking %d: %w", season, err)
		}
		n.Winner = winners[n.ID]
		r.Nominations = append(r.Nominations, n)
	}
	return &r, rows.Err()
}

// YardPhoto returns photo n (1..3) of a nomination, or its thumbnail.
func (s *Store) YardPhoto(ctx context.Context, nominationID int64, n int, thumb bool) ([]byte, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT CASE WHEN $3 THEN p.thumb ELSE p.data END FROM modules.yard_photos p
		JOIN modules.yard_nominations y ON y.id = p.nomination_id
		WHERE p.nomination_id = $1 AND p.n = $2 AND NOT y.hidden`, nominationID, n, thumb).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "nomination %d has no photo %d", nominationID, n)
	}
	if err != nil {
		return nil, fmt.Errorf("yard photo: %w", err)
	}
	return b, nil
}

// HideNomination takes a nomination out of the contest (moderation: an offensive text or
// photo, not a yard); its votes no longer count. Audited as yard.hide with the reason.
func (s *Store) HideNomination(ctx context.Context, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return geoportal.Errorf(geoportal.EINVALID, "reason is required, at most 500 characters")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE modules.yard_nominations SET hidden = true WHERE id = $1 AND NOT hidden`, id)
		if err != nil {
			return fmt.Errorf("hide nomination %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return geoportal.Errorf(geoportal.ENOTFOUND, "there is no visible nomination %d", id)
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "yard.hide", ObjectType: "yard_nomination",
			ObjectID: fmt.Sprint(id), Detail: reason})
	})
}

// Seasons lists every best-yard season, the latest first: the map shows the open season, or the
// winners of the last closed one.
func (s *Store) Seasons(ctx context.Context) ([]Season, error) {
	rows, err := s.pool.Query(ctx, `SELECT season, status, opened_at, closed_at, winners FROM modules.yard_seasons
		ORDER BY season DESC`)
	if err != nil {
		return nil, fmt.Errorf("seasons: %w", err)
	}
	defer rows.Close()
	out := []Season{}
	for rows.Next() {
		var x Season
		if err := rows.Scan(&x.Season, &x.Status, &x.OpenedAt, &x.ClosedAt, &x.Winners); err != nil {
			return nil, fmt.Errorf("seasons: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Participation is what one account has done in a season: its vote and its nominations.
type Participation struct {
	Season int `json:"season"`
	// VotedFor is the nomination the account voted for, nil before it votes.
	VotedFor        *int64  `json:"voted_for"`
	Nominations     []int64 `json:"nominations"`
	NominationsLeft int     `json:"nominations_left"`
}

// Participation tells the map whether an account may still vote and nominate in a season.
func (s *Store) Participation(ctx context.Context, accountID int64, season int) (Participation, error) {
	out := Participation{Season: season, Nominations: []int64{}}
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM modules.yard_seasons WHERE season = $1),
			(SELECT nomination_id FROM modules.yard_votes WHERE season = $1 AND account_id = $2),
			coalesce((SELECT array_agg(id ORDER BY id) FROM modules.yard_nominations WHERE season = $1 AND account_id = $2), '{}')`,
		season, accountID).Scan(&exists, &out.VotedFor, &out.Nominations)
	if err != nil {
		return out, fmt.Errorf("participation in season %d: %w", season, err)
	}
	if !exists {
		return out, seasonError(season)
	}
	out.NominationsLeft = max(0, MaxNominationsPerAccount-len(out.Nominations))
	return out, nil
}
