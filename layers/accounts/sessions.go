package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// ErrNoSession is returned for a session token that is unknown, expired, idle too long or revoked.
var ErrNoSession = geoportal.Errorf(geoportal.EUNAUTHORIZED, "not signed in or the session has ended")

// newToken returns a random 32-byte token, base64url-encoded, and its SHA-256.
func newToken(prefix string) (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// CSRFToken derives the CSRF token of a session from its secret token: knowing it requires
// the session cookie, which other sites cannot read.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("geoportal csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidSessionToken reports whether tok has the shape of a session token (43 base64url characters).
func ValidSessionToken(tok string) bool {
	if len(tok) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil
}

// CreateSession starts a session for the user and returns its secret token (for the cookie).
func (s *Store) CreateSession(ctx context.Context, userID int64, ip, userAgent string) (string, *Session, error) {
	tok, hash := newToken("")
	sess := &Session{UserID: userID, IP: truncate(ip, 64), UserAgent: truncate(userAgent, 300)}
	err := s.pool.QueryRow(ctx, `INSERT INTO auth.sessions (token_hash, user_id, expires_at, ip, user_agent)
		VALUES ($1, $2, now() + $3 * interval '1 second', $4, $5) RETURNING id, created_at, last_seen_at, expires_at`,
		hash, userID, s.SessionTTL.Seconds(), sess.IP, sess.UserAgent).Scan(&sess.ID, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt)
	if err != nil {
		return "", nil, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	// Sessions that ended over a day ago are of no use; each login clears its user's.
	if _, err := s.pool.Exec(ctx, `DELETE FROM auth.sessions WHERE user_id = $1 AND (expires_at < now() - interval '1 day'
		OR revoked_at < now() - interval '1 day' OR last_seen_at < now() - interval '1 day' - $2 * interval '1 second')`,
		userID, s.SessionIdle.Seconds()); err != nil {
		return "", nil, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	return tok, sess, nil
}

// SessionUser returns the user of a live session and marks the session as used (at most once a
// minute, to spare the database a write per request).
func (s *Store) SessionUser(ctx context.Context, token string) (*User, error) {
	if !ValidSessionToken(token) {
		return nil, ErrNoSession
	}
	sess := &Session{}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, s.id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent
		FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
		  AND s.last_seen_at > now() - $2 * interval '1 second' AND NOT u.disabled`, hashToken(token), s.SessionIdle.Seconds()),
		&sess.ID, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt, &sess.IP, &sess.UserAgent)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoSession
	} else if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	sess.UserID = u.ID
	u.Session = sess
	if _, err := s.pool.Exec(ctx, `UPDATE auth.sessions SET last_seen_at = now()
		WHERE id = $1 AND last_seen_at < now() - interval '1 minute'`, sess.ID); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return u, nil
}

// RevokeSession ends the session with token (logout). An unknown token is not an error.
func (s *Store) RevokeSession(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `UPDATE auth.sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`,
		hashToken(token))
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions ends every session of the user and returns how many were live.
func (s *Store) RevokeUserSessions(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE auth.sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
		if err != nil {
			return fmt.Errorf("revoke sessions of user %d: %w", userID, err)
		}
		n = tag.RowsAffected()
		return Audit(ctx, tx, Entry{Action: "user.revoke_sessions", ObjectType: "user", ObjectID: fmt.Sprint(userID),
			Detail: fmt.Sprintf("%d session(s) revoked", n)})
	})
	return n, err
}

// Sessions returns the live sessions of a user, newest first.
func (s *Store) Sessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, user_id, created_at, last_seen_at, expires_at, ip, user_agent
		FROM auth.sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
		  AND last_seen_at > now() - $2 * interval '1 second' ORDER BY created_at DESC`, userID, s.SessionIdle.Seconds())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var x Session
		err := r.Scan(&x.ID, &x.UserID, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.IP, &x.UserAgent)
		return x, err
	})
}

// PurgeSessions deletes sessions that ended more than a day ago and returns how many.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM auth.sessions WHERE expires_at < now() - interval '1 day'
		OR revoked_at < now() - interval '1 day' OR last_seen_at < now() - interval '1 day' - $1 * interval '1 second'`,
		s.SessionIdle.Seconds())
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
