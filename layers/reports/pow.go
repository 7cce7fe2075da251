package reports

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
)

// Proof of work keeps scripted floods of anonymous reports expensive without a third-party
// captcha: the browser must find a nonce such that SHA-256(challenge ":" nonce) starts with
// Difficulty zero bits (about 2^Difficulty hashes, well under a second in a browser).
const (
	DefaultDifficulty = 16
	challengeTTL      = 10 * time.Minute
)

// Challenge is handed to a client before it files a report.
type Challenge struct {
	Challenge  string    `json:"challenge"`
	Difficulty int       `json:"difficulty"`
	ExpiresAt  time.Time `json:"expires_at"`
}

type powKey struct {
	once sync.Once
	key  []byte
	err  error
}

func (s *Store) powSecret(ctx context.Context) ([]byte, error) {
	s.pow.once.Do(func() {
		s.pow.err = s.pool.QueryRow(ctx, `SELECT value FROM reports.secrets WHERE name = 'pow'`).Scan(&s.pow.key)
	})
	return s.pow.key, s.pow.err
}

// NewChallenge returns a signed, timestamped challenge.
func (s *Store) NewChallenge(ctx context.Context) (Challenge, error) {
	key, err := s.powSecret(ctx)
	if err != nil {
		return Challenge{}, fmt.Errorf("proof of work: %w", err)
	}
	body := make([]byte, 8+16)
	binary.BigEndian.PutUint64(body, uint64(s.Now().Unix()))
	rand.Read(body[8:])
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	c := base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
	return Challenge{Challenge: c, Difficulty: s.difficulty(), ExpiresAt: time.Unix(int64(binary.BigEndian.Uint64(body)), 0).Add(challengeTTL)}, nil
}

func (s *Store) difficulty() int {
	if s.Difficulty > 0 {
		return s.Difficulty
	}
	return DefaultDifficulty
}

// SpendChallenge checks a solved challenge and marks it spent, so it cannot be replayed.
func (s *Store) SpendChallenge(ctx context.Context, challenge, nonce string) error {
	bad := func(why string) error {
		return geoportal.Errorf(geoportal.EINVALID, "proof of work: %s", why)
	}
	if challenge == "" || nonce == "" {
		return bad("pow_challenge and pow_nonce are required")
	}
	if len(nonce) > 64 || len(challenge) > 100 {
		return bad("malformed")
	}
	key, err := s.powSecret(ctx)
	if err != nil {
		return fmt.Errorf("proof of work: %w", err)
	}
	b64body, b64mac, ok := strings.Cut(challenge, ".")
	body, err1 := base64.RawURLEncoding.DecodeString(b64body)
	gotMAC, err2 := base64.RawURLEncoding.DecodeString(b64mac)
	if !ok || err1 != nil || err2 != nil || len(body) != 24 {
		return bad("malformed challenge")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil)[:16], gotMAC) {
		return bad("challenge was not issued here")
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(body)), 0)
	if s.Now().Sub(issued) > challengeTTL {
		return bad("challenge expired; ask for a new one")
	}
	if LeadingZeroBits(challenge, nonce) < s.difficulty() {
		return bad("nonce does not solve the challenge")
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO reports.spent_challenges (challenge) VALUES ($1) ON CONFLICT DO NOTHING`, challenge)
	if err != nil {
		return fmt.Errorf("proof of work: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return bad("challenge already used")
	}
	s.pool.Exec(ctx, `DELETE FROM reports.spent_challenges WHERE spent_at < now() - interval '1 hour'`)
	return nil
}

// LeadingZeroBits counts the zero bits that start SHA-256(challenge ":" nonce).
func LeadingZeroBits(challenge, nonce string) int {
	h := sha256.Sum256([]byte(challenge + ":" + nonce))
	n := 0
	for _, b := range h {
		if b == 0 {
			n += 8
			continue
		}
		n += bits.LeadingZeros8(b)
		break
	}
	return n
}

// Solve finds a nonce for a challenge (what the browser does; tests and scripted clients use it).
func Solve(challenge string, difficulty int) string {
	for i := 0; ; i++ {
		nonce := fmt.Sprint(i)
		if LeadingZeroBits(challenge, nonce) >= difficulty {
			return nonce
		}
	}
}
