package reports

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
)

// Channels by which residents hear of their reports.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// The confirmation step: a resident who leaves an e-mail or a phone gets a six-digit code and a
// link; only confirmed contacts hear of status changes, so nobody can subscribe someone else's
// inbox or phone. Codes are single-use, expire, take a few wrong guesses at most and are kept
// only as keyed hashes; how many are sent is bounded per contact and per address.
const (
	ConfirmTTL = 24 * time.Hour
	// ConfirmMaxAttempts wrong codes kill a code.
	ConfirmMaxAttempts = 5
	// ConfirmPerContactHour codes at most per report contact and hour (the first one included).
	ConfirmPerContactHour = 3
	// ConfirmPerAddressDay codes at most per e-mail address or phone number and day, over all
	// reports: filing many reports with a victim's address cannot flood them.
	ConfirmPerAddressDay = 10
)

// Contact is how a report's reporter may be reached, as the reporter sees it (the address masked).
type Contact struct {
	Channel   string `json:"channel"`
	Address   string `json:"address"` // masked: a***@example.kz, +7 *** ** 00
	Confirmed bool   `json:"confirmed"`
}

// Confirmed is the answer to a successful confirmation.
type Confirmed struct {
	ReportID int64  `json:"report_id"`
	Channel  string `json:"channel"`
	Address  string `json:"address"` // masked
}

func (s *Store) confirmSecret(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) ([]byte, error) {
	s.confirmKey.once.Do(func() {
		s.confirmKey.err = q.QueryRow(ctx, `SELECT value FROM reports.secrets WHERE name = 'confirm'`).Scan(&s.confirmKey.key)
	})
	return s.confirmKey.key, s.confirmKey.err
}

// codeHash binds a code to its contact, keyed by a server secret: a copy of the table alone does
// not give the codes away by trying all million of them.
func codeHash(key []byte, reportID int64, channel, address, code string) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%d\x00%s\x00%s\x00%s", reportID, channel, address, code)
	return m.Sum(nil)
}

func sixDigits() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000)
}

// MaskAddress shows enough of an address for its owner to recognise it.
func MaskAddress(channel, a string) string {
	if channel == ChannelEmail {
		local, domain, ok := strings.Cut(a, "@")
		if !ok || local == "" {
			return "***"
		}
		r := []rune(local)
		return string(r[:1]) + "***@" + domain
	}
	digits := 0
	out := []rune(a)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] >= '0' && out[i] <= '9' {
			digits++
			if digits > 2 && !(i == 1 && out[0] == '+') {
				out[i] = '*'
			}
		}
	}
	return string(out)
}

// addContact records that address follows the report by channel and sends it a confirmation,
// inside the caller's transaction. A contact already known is left as it is. When the address
// has had its daily share of confirmations the contact is kept unconfirmed and nothing is sent
// (the report itself must not fail because someone else flooded the address).
func (s *Store) addContact(ctx context.Context, tx pgx.Tx, reportID int64, channel, address, role, base string) error {
	tag, err := tx.Exec(ctx, `INSERT INTO reports.contacts (report_id, channel, address, role) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, reportID, channel, address, role)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	err = s.issueConfirmation(ctx, tx, reportID, channel, address, base)
	if geoportal.ErrorCode(err) == geoportal.ERATELIMIT {
		return nil
	}
	return err
}

// issueConfirmation makes a code and a link for one contact and queues the message carrying them.
func (s *Store) issueConfirmation(ctx context.Context, tx pgx.Tx, reportID int64, channel, address, base string) error {
	now := s.Now()
	akey := reporterKey(channel, address)
	// Concurrent reports with one address take turns here, so the limits hold exactly.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('reports.confirm:' || $1, 0))`, akey); err != nil {
		return err
	}
	var perContact, perAddress int
	if err := tx.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE report_id = $1 AND channel = $2 AND address = $3 AND created_at > $5),
			count(*)
		FROM reports.confirmations WHERE address_key = $4 AND created_at > $6`,
		reportID, channel, address, akey, now.Add(-time.Hour), now.Add(-24*time.Hour)).Scan(&perContact, &perAddress); err != nil {
		return err
	}
	if perContact >= ConfirmPerContactHour {
		return geoportal.Errorf(geoportal.ERATELIMIT, "%d confirmation codes were sent to this contact in the last hour; try again later", perContact)
	}
	if perAddress >= ConfirmPerAddressDay {
		return geoportal.Errorf(geoportal.ERATELIMIT, "this address has had %d confirmation codes today; try again tomorrow", perAddress)
	}
	key, err := s.confirmSecret(ctx, tx)
	if err != nil {
		return fmt.Errorf("confirmation key: %w", err)
	}
	code, link := sixDigits(), randomSecret("c")
	if _, err := tx.Exec(ctx, `INSERT INTO reports.confirmations (report_id, channel, address, address_key,
			code_hash, link_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		reportID, channel, address, akey, codeHash(key, reportID, channel, address, code), hashSecret(link),
		now, now.Add(ConfirmTTL)); err != nil {
		return err
	}
	url := strings.TrimSuffix(base, "/") + "/#confirm/" + link
	var subject, body string
	if channel == ChannelSMS {
		body = fmt.Sprintf("Aktobe geoportal: %s — код/code, №%d. %s", code, reportID, url)
	} else {
		subject = fmt.Sprintf("Өтініш №%d / Обращение №%d / Report %d: %s", reportID, reportID, reportID, code)
		body = fmt.Sprintf("Өтінішіңіз №%d қабылданды. Электрондық поштаңызды растау үшін сілтемені ашыңыз немесе кодты енгізіңіз: %s\n%s\n\n"+
			"Ваше обращение №%d принято. Чтобы подтвердить адрес и получать новости о нём, откройте ссылку или введите код: %s\n%s\n\n"+
			"Your report %d was received. To confirm this address and hear of its progress, open the link or enter the code: %s\n%s\n\n"+
			"Код 24 сағат / 24 часа / 24 hours.\n", reportID, code, url, reportID, code, url, reportID, code, url)
	}
	_, err = tx.Exec(ctx, `INSERT INTO reports.outbox (report_id, channel, to_addr, subject, body, sensitive)
		VALUES ($1, $2, $3, $4, $5, true)`, reportID, channel, address, subject, body)
	return err
}

// Contacts returns the reporter's contacts of a report (masked) and whether each is confirmed.
func (s *Store) Contacts(ctx context.Context, reportID int64) ([]Contact, error) {
	rows, err := s.pool.Query(ctx, `SELECT channel, address, confirmed_at IS NOT NULL FROM reports.contacts
		WHERE report_id = $1 AND role = 'reporter' ORDER BY channel`, reportID)
	if err != nil {
		return nil, fmt.Errorf("report %d contacts: %w", reportID, err)
	}
	defer rows.Close()
	out := []Contact{}
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.Channel, &c.Address, &c.Confirmed); err != nil {
			return nil, err
		}
		c.Address = MaskAddress(c.Channel, c.Address)
		out = append(out, c)
	}
	return out, rows.Err()
}

// confirmRow is a confirmation locked for checking.
type confirmRow struct {
	id                      int64
	reportID                int64
	channel, address        string
	codeHash                []byte
	expires                 time.Time
	used                    *time.Time
	attempts                int
	contactAlreadyConfirmed bool
}

const confirmColumns = `c.id, c.report_id, c.channel, c.address, c.code_hash, c.expires_at, c.used_at, c.attempts,
	k.confirmed_at IS NOT NULL`

func scanConfirm(row pgx.Row) (confirmRow, error) {
	var c confirmRow
	err := row.Scan(&c.id, &c.reportID, &c.channel, &c.address, &c.codeHash, &c.expires, &c.used, &c.attempts,
		&c.contactAlreadyConfirmed)
	return c, err
}

// markConfirmed spends a confirmation and confirms its contact, audited.
func (s *Store) markConfirmed(ctx context.Context, tx pgx.Tx, c confirmRow, how string) (Confirmed, error) {
	now := s.Now()
	if _, err := tx.Exec(ctx, `UPDATE reports.confirmations SET used_at = $2 WHERE id = $1`, c.id, now); err != nil {
		return Confirmed{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE reports.contacts SET confirmed_at = coalesce(confirmed_at, $4)
		WHERE report_id = $1 AND channel = $2 AND address = $3`, c.reportID, c.channel, c.address, now); err != nil {
		return Confirmed{}, err
	}
	if err := accounts.Audit(ctx, tx, accounts.Entry{Action: "report.contact_confirm", ObjectType: "report",
		ObjectID: strconv.FormatInt(c.reportID, 10), After: map[string]any{"channel": c.channel, "by": how}}); err != nil {
		return Confirmed{}, err
	}
	return Confirmed{ReportID: c.reportID, Channel: c.channel, Address: MaskAddress(c.channel, c.address)}, nil
}

// ConfirmLink confirms the contact that a link secret (…/#confirm/<secret>) was sent to.
func (s *Store) ConfirmLink(ctx context.Context, secret string) (Confirmed, error) {
	var out Confirmed
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := scanConfirm(tx.QueryRow(ctx, `SELECT `+confirmColumns+` FROM reports.confirmations c
			JOIN reports.contacts k USING (report_id, channel, address)
			WHERE c.link_hash = $1 FOR UPDATE OF c`, hashSecret(secret)))
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "this confirmation link is not valid")
		} else if err != nil {
			return err
		}
		switch {
		case c.used != nil:
			return geoportal.Errorf(geoportal.ECONFLICT, "this confirmation link has already been used")
		case !s.Now().Before(c.expires):
			return geoportal.Errorf(geoportal.EINVALID, "this confirmation link has expired; ask for a new one")
		case c.attempts >= ConfirmMaxAttempts:
			return geoportal.Errorf(geoportal.EINVALID, "this confirmation was blocked after %d wrong codes; ask for a new one", c.attempts)
		}
		out, err = s.markConfirmed(ctx, tx, c, "link")
		return err
	})
	return out, wrap(err, "confirm link")
}

// ConfirmCode confirms a reporter's contact with the code sent to it; the reporter proves the
// report is theirs with its private follow secret. A wrong code counts against the code.
func (s *Store) ConfirmCode(ctx context.Context, followSecret, channel, code string) (Confirmed, error) {
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return Confirmed{}, geoportal.Errorf(geoportal.EINVALID, "code must be the 6 digits we sent")
	}
	if channel != ChannelEmail && channel != ChannelSMS {
		return Confirmed{}, geoportal.Errorf(geoportal.EINVALID, "channel must be email or sms")
	}
	var out Confirmed
	var wrong error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var reportID int64
		err := tx.QueryRow(ctx, `SELECT report_id FROM reports.private WHERE follow_hash = $1`,
			hashSecret(followSecret)).Scan(&reportID)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "no report behind this link")
		} else if err != nil {
			return err
		}
		c, err := scanConfirm(tx.QueryRow(ctx, `SELECT `+confirmColumns+` FROM reports.confirmations c
			JOIN reports.contacts k USING (report_id, channel, address)
			WHERE c.report_id = $1 AND c.channel = $2 AND k.role = 'reporter'
			  AND c.used_at IS NULL AND c.expires_at > $3 AND c.attempts < $4
			ORDER BY c.created_at DESC, c.id DESC LIMIT 1 FOR UPDATE OF c`, reportID, channel, s.Now(), ConfirmMaxAttempts))
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.EINVALID, "no confirmation code is waiting for this report's %s; ask for a new one", channel)
		} else if err != nil {
			return err
		}
		key, err := s.confirmSecret(ctx, tx)
		if err != nil {
			return err
		}
		if !hmac.Equal(c.codeHash, codeHash(key, c.reportID, c.channel, c.address, code)) {
			// The wrong guess is counted (committed), then refused.
			if _, err := tx.Exec(ctx, `UPDATE reports.confirmations SET attempts = attempts + 1 WHERE id = $1`, c.id); err != nil {
				return err
			}
			left := ConfirmMaxAttempts - c.attempts - 1
			wrong = geoportal.Errorf(geoportal.EINVALID, "wrong code (%d tries left)", left)
			return nil
		}
		out, err = s.markConfirmed(ctx, tx, c, "code")
		return err
	})
	if err == nil && wrong != nil {
		return Confirmed{}, wrong
	}
	return out, wrap(err, "confirm code")
}

// ResendConfirmation sends the reporter's contact on channel a new code and link, within the
// per-contact and per-address limits.
func (s *Store) ResendConfirmation(ctx context.Context, followSecret, channel, base string) (Contact, error) {
	if channel != ChannelEmail && channel != ChannelSMS {
		return Contact{}, geoportal.Errorf(geoportal.EINVALID, "channel must be email or sms")
	}
	var out Contact
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var reportID int64
		var address string
		var confirmed bool
		err := tx.QueryRow(ctx, `SELECT p.report_id, coalesce(k.address, ''), coalesce(k.confirmed_at IS NOT NULL, false)
			FROM reports.private p LEFT JOIN reports.contacts k ON k.report_id = p.report_id AND k.channel = $2
				AND k.role = 'reporter'
			WHERE p.follow_hash = $1 FOR UPDATE OF p`, hashSecret(followSecret), channel).Scan(&reportID, &address, &confirmed)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "no report behind this link")
		} else if err != nil {
			return err
		}
		if address == "" {
			return geoportal.Errorf(geoportal.ENOTFOUND, "report %d has no %s contact to confirm", reportID, channel)
		}
		if confirmed {
			return geoportal.Errorf(geoportal.ECONFLICT, "this %s contact is already confirmed", channel)
		}
		out = Contact{Channel: channel, Address: MaskAddress(channel, address)}
		return s.issueConfirmation(ctx, tx, reportID, channel, address, base)
	})
	return out, wrap(err, "resend confirmation")
}
