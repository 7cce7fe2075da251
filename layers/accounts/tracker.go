package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// Tracker is a GPS tracker allowed to log in over Wialon IPS; its password is stored hashed.
type Tracker struct {
	Login     string    `json:"login"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func checkTrackerLogin(login string) (string, error) {
	login, err := cleanText("tracker login", login, 100)
	if err != nil {
		return "", err
	}
	if login == "" {
		return "", geoportal.Errorf(geoportal.EINVALID, "tracker login is required")
	}
	return login, nil
}

// SetTrackerPassword adds a tracker login or changes its password. Wialon devices often have
// short passwords, so only 1 to 100 characters are required.
func (s *Store) SetTrackerPassword(ctx context.Context, login, password, note string) error {
	login, err := checkTrackerLogin(login)
	if err != nil {
		return err
	}
	if note, err = cleanText("note", note, 200); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(password); password == "" || n > 100 || !utf8.ValidString(password) {
		return geoportal.Errorf(geoportal.EINVALID, "tracker password must have 1 to 100 characters")
	}
	hash := HashPassword(password, s.Params)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var created bool
		if err := tx.QueryRow(ctx, `INSERT INTO auth.tracker_passwords (login, password_hash, note) VALUES ($1, $2, $3)
			ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash, note = excluded.note, updated_at = now()
			RETURNING xmax = 0`, login, hash, note).Scan(&created); err != nil {
			return fmt.Errorf("tracker %s: %w", login, err)
		}
		action := "tracker.password"
		if created {
			action = "tracker.create"
		}
		return Audit(ctx, tx, Entry{Action: action, ObjectType: "tracker", ObjectID: login, After: map[string]string{"login": login, "note": note}})
	})
}

// VerifyTracker reports whether login and password match a tracker. Unknown logins cost the same
// hashing work as known ones.
func (s *Store) VerifyTracker(ctx context.Context, login, password string) (bool, error) {
	var hash string
	err := s.pool.QueryRow(ctx, `SELECT password_hash FROM auth.tracker_passwords WHERE login = $1`, login).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		VerifyPassword(password, s.dummyHash())
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("tracker %s: %w", login, err)
	}
	ok, err := VerifyPassword(password, hash)
	if err != nil {
		return false, fmt.Errorf("tracker %s: %w", login, err)
	}
	return ok, nil
}

// Trackers lists the tracker logins.
func (s *Store) Trackers(ctx context.Context) ([]Tracker, error) {
	rows, err := s.pool.Query(ctx, `SELECT login, note, created_at, updated_at FROM auth.tracker_passwords ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("list trackers: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tracker, error) {
		var t Tracker
		err := r.Scan(&t.Login, &t.Note, &t.CreatedAt, &t.UpdatedAt)
		return t, err
	})
}

// DeleteTracker removes a tracker login.
func (s *Store) DeleteTracker(ctx context.Context, login string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM auth.tracker_passwords WHERE login = $1`, login)
		if err != nil {
			return fmt.Errorf("delete tracker %s: %w", login, err)
		}
		if tag.RowsAffected() == 0 {
			return geoportal.Errorf(geoportal.ENOTFOUND, "no tracker with login %q", truncate(login, 100))
		}
		return Audit(ctx, tx, Entry{Action: "tracker.delete", ObjectType: "tracker", ObjectID: login, Before: map[string]string{"login": login}})
	})
}
