package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// KeyPrefix starts every API key, so leaked keys are easy to find in logs and code.
const KeyPrefix = "gpk_"

// ErrBadKey is returned for an API key that is unknown, expired or revoked.
var ErrBadKey = geoportal.Errorf(geoportal.EUNAUTHORIZED, "API key is not valid")

// ValidKeyShape reports whether k looks like an API key (gpk_ and 43 base64url characters).
func ValidKeyShape(k string) bool {
	return strings.HasPrefix(k, KeyPrefix) && ValidSessionToken(k[len(KeyPrefix):])
}

const keyColumns = `k.id, k.user_id, u.email, k.name, k.prefix, k.scopes, k.created_at, k.last_used_at, k.expires_at, k.revoked_at`

func scanKey(row pgx.Row, extra ...any) (*APIKey, error) {
	k := &APIKey{}
	var scopes []string
	dest := append([]any{&k.ID, &k.UserID, &k.UserEmail, &k.Name, &k.Prefix, &scopes, &k.CreatedAt, &k.LastUsedAt,
		&k.ExpiresAt, &k.RevokedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	for _, s := range scopes {
		k.Scopes = append(k.Scopes, Scope(s))
	}
	return k, nil
}

// CreateKey makes an API key for the user and returns it; the key itself is never shown again.
// A nil expires means the key lives until revoked.
func (s *Store) CreateKey(ctx context.Context, userID int64, name string, scopes []Scope, expires *time.Time) (string, *APIKey, error) {
	name, err := cleanText("key name", name, 200)
	if err != nil {
		return "", nil, err
	}
	if len(scopes) == 0 {
		return "", nil, geoportal.Errorf(geoportal.EINVALID, "an API key needs at least one scope")
	}
	var names []string
	for _, sc := range scopes {
		if _, err := ParseScopes(string(sc)); err != nil {
			return "", nil, err
		}
		names = append(names, string(sc))
	}
	if expires != nil && !expires.After(time.Now()) {
		return "", nil, geoportal.Errorf(geoportal.EINVALID, "key expiry %s is in the past", expires.Format(time.RFC3339))
	}
	tok, hash := newToken(KeyPrefix)
	var k *APIKey
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO auth.api_keys (user_id, name, prefix, key_hash, scopes, expires_at)
			SELECT id, $2, $3, $4, $5, $6 FROM auth.users WHERE id = $1 RETURNING id`,
			userID, name, tok[:len(KeyPrefix)+8], hash, names, expires).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "no user with id %d", userID)
		} else if err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		if k, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id
			WHERE k.id = $1`, id)); err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		return Audit(ctx, tx, Entry{Action: "key.create", ObjectType: "api_key", ObjectID: fmt.Sprint(id), After: k})
	})
	if err != nil {
		return "", nil, err
	}
	return tok, k, nil
}

// KeyUser returns the owner of a live API key, with Key set, and notes when the key was used
// (at most once a minute).
func (s *Store) KeyUser(ctx context.Context, key string) (*User, error) {
	if !ValidKeyShape(key) {
		return nil, ErrBadKey
	}
	k := &APIKey{}
	var scopes []string
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, k.id, k.name, k.prefix, k.scopes, k.created_at,
			k.last_used_at, k.expires_at
		FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND NOT u.disabled`,
		hashToken(key)), &k.ID, &k.Name, &k.Prefix, &scopes, &k.CreatedAt, &k.LastUsedAt, &k.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrBadKey
	} else if err != nil {
		return nil, fmt.Errorf("api key: %w", err)
	}
	for _, sc := range scopes {
		k.Scopes = append(k.Scopes, Scope(sc))
	}
	k.UserID, k.UserEmail = u.ID, u.Email
	u.Key = k
	if _, err := s.pool.Exec(ctx, `UPDATE auth.api_keys SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, k.ID); err != nil {
		return nil, fmt.Errorf("api key: %w", err)
	}
	return u, nil
}

// Keys returns every API key (never the key itself), newest first.
func (s *Store) Keys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id
		ORDER BY k.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// RevokeKey stops an API key from working at once.
func (s *Store) RevokeKey(ctx context.Context, id int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id
			WHERE k.id = $1 FOR UPDATE OF k`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "no API key with id %d", id)
		} else if err != nil {
			return fmt.Errorf("revoke key %d: %w", id, err)
		}
		if before.RevokedAt != nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE auth.api_keys SET revoked_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("revoke key %d: %w", id, err)
		}
		after := *before
		now := time.Now()
		after.RevokedAt = &now
		return Audit(ctx, tx, Entry{Action: "key.revoke", ObjectType: "api_key", ObjectID: fmt.Sprint(id), Before: before, After: after})
	})
}
