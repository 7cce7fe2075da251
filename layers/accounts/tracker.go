package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// Tracker is a GPS tracker's Wialon IPS login: its unit id and either a password (stored
// hashed) or, when an administrator chose so, Open: any password is accepted. A unit without a
// row is refused.
type Tracker struct {
	Login     string    `json:"login"`
	Note      string    `json:"note"`
	Open      bool      `json:"open"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Tracker passwords are between MinTrackerPasswordLen and MaxTrackerPasswordLen characters. A
// tracker sends "NA" when it has no password: that is never accepted as one.
const (
	MinTrackerPasswordLen = 8
	MaxTrackerPasswordLen = 100
)

// TrackerHashParams are the argon2id costs of tracker passwords: device secrets checked at every
// reconnect, lighter than people's passwords (the listener also limits login attempts).
var TrackerHashParams = HashParams{Memory: 4 * 1024, Time: 1, Threads: 1}

// trackerDummyHash is a TrackerHashParams hash of a random password nobody knows, verified
// against when a unit has no password so that every refusal costs the same.
const trackerDummyHash = "$argon2id$v=19$m=4096,t=1,p=1$YJSNifDHIPTOk4MnO0K75Q$XFjtq/AwD6uR29YgaJhilXM+g0iiRFqD1HusjLfVCvw"

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

// CheckTrackerPassword returns an EINVALID error naming what is wrong with a tracker password.
func CheckTrackerPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return geoportal.Errorf(geoportal.EINVALID, "tracker password is not valid UTF-8")
	case strings.EqualFold(password, "NA"):
		return geoportal.Errorf(geoportal.EINVALID, `tracker password "NA" means "no password" in Wialon IPS; choose a real one (or mark the unit open)`)
	case n < MinTrackerPasswordLen || n > MaxTrackerPasswordLen:
		return geoportal.Errorf(geoportal.EINVALID, "tracker password must have %d to %d characters, not %d", MinTrackerPasswordLen, MaxTrackerPasswordLen, n)
	case strings.ContainsAny(password, ";#\r\n"):
		// The Wialon login packet separates its fields with ';' and ends with CR LF.
		return geoportal.Errorf(geoportal.EINVALID, "tracker password may not contain ';', '#' or line breaks (Wialon IPS cannot send them)")
	}
	return nil
}

// SetTrackerPassword adds a tracker login or changes its password (an open login gets the
// password and is open no more).
func (s *Store) SetTrackerPassword(ctx context.Context, login, password, note string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return SetTrackerPasswordTx(ctx, tx, login, password, note)
	})
}

// SetTrackerPasswordTx is SetTrackerPassword inside tx (the vehicle registry sets the password of
// a vehicle it registers in the same transaction).
func SetTrackerPasswordTx(ctx context.Context, tx pgx.Tx, login, password, note string) error {
	login, err := checkTrackerLogin(login)
	if err != nil {
		return err
	}
	if note, err = cleanText("note", note, 200); err != nil {
		return err
	}
	if err := CheckTrackerPassword(password); err != nil {
		return err
	}
	hash := HashPassword(password, TrackerHashParams)
	var created bool
	if err := tx.QueryRow(ctx, `INSERT INTO auth.tracker_passwords (login, password_hash, note) VALUES ($1, $2, $3)
		ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash, open = false, note = excluded.note, updated_at = now()
		RETURNING xmax = 0`, login, hash, note).Scan(&created); err != nil {
		return fmt.Errorf("tracker %s: %w", login, err)
	}
	action := "tracker.password"
	if created {
		action = "tracker.create"
	}
	return Audit(ctx, tx, Entry{Action: action, ObjectType: "tracker", ObjectID: login, After: map[string]any{"login": login, "note": note, "open": false}})
}

// SetTrackerOpen marks a tracker login open: the unit logs in with any password (or none), so
// anyone who knows its unit id can send positions in its name. Meant for trackers that cannot
// store a password; the admin page shows such units with a warning. Any password it had is
// removed.
func (s *Store) SetTrackerOpen(ctx context.Context, login, note string) error {
	login, err := checkTrackerLogin(login)
	if err != nil {
		return err
	}
	if note, err = cleanText("note", note, 200); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO auth.tracker_passwords (login, password_hash, open, note) VALUES ($1, NULL, true, $2)
			ON CONFLICT (login) DO UPDATE SET password_hash = NULL, open = true, note = excluded.note, updated_at = now()`,
			login, note); err != nil {
			return fmt.Errorf("tracker %s: %w", login, err)
		}
		return Audit(ctx, tx, Entry{Action: "tracker.open", ObjectType: "tracker", ObjectID: login,
			After: map[string]any{"login": login, "note": note, "open": true}, Detail: "logs in without a password"})
	})
}

// VerifyTracker reports whether login and password match a tracker (an open tracker matches any
// password). Unknown logins cost the same hashing work as known ones.
func (s *Store) VerifyTracker(ctx context.Context, login, password string) (bool, error) {
	var hash *string
	var open bool
	err := s.pool.QueryRow(ctx, `SELECT password_hash, open FROM auth.tracker_passwords WHERE login = $1`, login).Scan(&hash, &open)
	if errors.Is(err, pgx.ErrNoRows) {
		hash = nil
	} else if err != nil {
		return false, fmt.Errorf("tracker %s: %w", login, err)
	}
	return CheckTrackerLogin(password, hash, open)
}

// CheckTrackerLogin checks a password against a tracker's stored hash (nil: no password). It
// accepts an open tracker's login, and always does one tracker hash's work, so that a unit with
// no password, an open one, an unknown one and a wrong password cannot be told apart by time.
func CheckTrackerLogin(password string, hash *string, open bool) (bool, error) {
	if hash == nil {
		VerifyPassword(password, trackerDummyHash)
		return open, nil
	}
	ok, err := VerifyPassword(password, *hash)
	if err != nil {
		return false, err
	}
	return ok, nil
}

// Trackers lists the tracker logins.
func (s *Store) Trackers(ctx context.Context) ([]Tracker, error) {
	rows, err := s.pool.Query(ctx, `SELECT login, note, open, created_at, updated_at FROM auth.tracker_passwords ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("list trackers: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tracker, error) {
		var t Tracker
		err := r.Scan(&t.Login, &t.Note, &t.Open, &t.CreatedAt, &t.UpdatedAt)
		return t, err
	})
}

// DeleteTracker removes a tracker login: its unit cannot log in any more.
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
