package reports

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
)

// Actor is the staff member acting on reports: department staff act on their department's
// reports only; AllDepartments (administrators) on every report.
type Actor struct {
	Label          string
	Department     string
	AllDepartments bool
}

func (a Actor) may(department string) bool {
	return a.AllDepartments || (a.Department != "" && a.Department == department)
}

// Change is one step of the workflow.
type Change struct {
	Status      string
	Comment     string // public
	DuplicateOf int64  // for StatusDuplicate
}

// lockReport reads a report's status and department for update, checking the actor's scope.
func lockReport(ctx context.Context, tx pgx.Tx, id int64, who Actor) (status, dept string, err error) {
	err = tx.QueryRow(ctx, `SELECT status, coalesce(department, '') FROM layer.citizen_reports WHERE id = $1 FOR UPDATE`,
		id).Scan(&status, &dept)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", geoportal.Errorf(geoportal.ENOTFOUND, "report %d not found", id)
	} else if err != nil {
		return "", "", err
	}
	if !who.may(dept) {
		return "", "", geoportal.Errorf(geoportal.EFORBIDDEN, "report %d belongs to department %s", id, dept)
	}
	return status, dept, nil
}

// ChangeStatus moves a report to a new status with a public comment, records the step, tells the
// reporter (outbox) and audits it, in one transaction.
func (s *Store) ChangeStatus(ctx context.Context, id int64, c Change, who Actor) (Report, error) {
	comment, err := cleanText("comment", c.Comment, 2000)
	if err != nil {
		return Report{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		status, _, err := lockReport(ctx, tx, id, who)
		if err != nil {
			return err
		}
		if !slices.Contains(transitions[status], c.Status) {
			return geoportal.Errorf(geoportal.EINVALID, "report %d is %s and cannot become %q (allowed: %v)",
				id, status, c.Status, transitions[status])
		}
		if c.Status == StatusRejected && comment == "" {
			return geoportal.Errorf(geoportal.EINVALID, "rejecting a report needs a reason in the comment")
		}
		var dup *int64
		if c.Status == StatusDuplicate {
			if c.DuplicateOf == 0 || c.DuplicateOf == id {
				return geoportal.Errorf(geoportal.EINVALID, "duplicate_of must name another report")
			}
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM layer.citizen_reports WHERE id = $1)`,
				c.DuplicateOf).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return geoportal.Errorf(geoportal.EINVALID, "duplicate_of: report %d does not exist", c.DuplicateOf)
			}
			dup = &c.DuplicateOf
		}
		if _, err := tx.Exec(ctx, `UPDATE layer.citizen_reports SET status = $2, duplicate_of = $3, updated_at = $4
			WHERE id = $1`, id, c.Status, dup, s.Now()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO reports.history (report_id, at, status, comment, actor)
			VALUES ($1, $2, $3, $4, $5)`, id, s.Now(), c.Status, comment, who.Label); err != nil {
			return err
		}
		// Everyone who follows the report with a confirmed e-mail or phone hears of the change.
		if _, err := tx.Exec(ctx, `INSERT INTO reports.outbox (report_id, channel, to_addr, subject, body)
			SELECT $1, k.channel, k.address, CASE k.channel WHEN 'email' THEN $2 ELSE '' END,
				CASE k.channel WHEN 'email' THEN $3 ELSE $4 END
			FROM reports.contacts k WHERE k.report_id = $1 AND k.confirmed_at IS NOT NULL`,
			id, fmt.Sprintf("Report %d: %s", id, c.Status),
			fmt.Sprintf("Report %d is now %s.\n%s\n", id, c.Status, comment),
			smsText(fmt.Sprintf("Aktobe geoportal: №%d — %s. %s", id, c.Status, comment))); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "report.status", ObjectType: "report",
			ObjectID: strconv.FormatInt(id, 10), Before: map[string]string{"status": status},
			After: map[string]any{"status": c.Status, "comment": comment, "duplicate_of": dup}})
	})
	if err != nil {
		return Report{}, wrap(err, "change report %d", id)
	}
	return s.Get(ctx, id)
}

// Support records "this is my problem too" from a resident (by device id or e-mail), once per
// resident, and subscribes their e-mail to the report's news once they confirm it (a code and
// link are sent to linkBase). It returns the new count.
func (s *Store) Support(ctx context.Context, id int64, deviceID, email, linkBase string) (int, error) {
	email = strings.TrimSpace(email)
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
			return 0, geoportal.Errorf(geoportal.EINVALID, "email %q is not an e-mail address", email)
		}
	}
	key := firstNonEmpty(reporterKey("email", email), reporterKey("device", deviceID))
	if key == "" {
		return 0, geoportal.Errorf(geoportal.EINVALID, "device_id or email is needed to support a report")
	}
	var count int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM layer.citizen_reports WHERE id = $1 FOR UPDATE`, id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "report %d not found", id)
		} else if err != nil {
			return err
		}
		if !Open(status) {
			return geoportal.Errorf(geoportal.ECONFLICT, "report %d is %s; it takes no more support", id, status)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO reports.supporters (report_id, supporter, email) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, id, key, email)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			if _, err := tx.Exec(ctx, `UPDATE layer.citizen_reports SET support_count = support_count + 1
				WHERE id = $1`, id); err != nil {
				return err
			}
			if email != "" {
				if err := s.addContact(ctx, tx, id, ChannelEmail, email, "supporter", linkBase); err != nil {
					return err
				}
			}
		}
		return tx.QueryRow(ctx, `SELECT support_count FROM layer.citizen_reports WHERE id = $1`, id).Scan(&count)
	})
	return count, wrap(err, "support report %d", id)
}

// Moderation is what a moderator may do to a report's public face.
type Moderation struct {
	HideText   *bool // hide (true) or restore (false) the description
	HidePhotos []int // photo numbers to hide
	Ban        bool  // ban the reporter from filing again
	Reason     string
}

// Moderate applies a moderation in one transaction, audited.
func (s *Store) Moderate(ctx context.Context, id int64, m Moderation, who Actor) error {
	reason, err := cleanText("reason", m.Reason, 500)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, _, err := lockReport(ctx, tx, id, who); err != nil {
			return err
		}
		if m.HideText != nil {
			if _, err := tx.Exec(ctx, `UPDATE reports.private SET text_hidden = $2 WHERE report_id = $1`, id, *m.HideText); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE layer.citizen_reports r SET description =
					CASE WHEN $2 THEN '' ELSE p.original_text END
				FROM reports.private p WHERE p.report_id = r.id AND r.id = $1`, id, *m.HideText); err != nil {
				return err
			}
		}
		if len(m.HidePhotos) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE reports.photos SET hidden = true WHERE report_id = $1 AND n = ANY($2)`,
				id, m.HidePhotos); err != nil {
				return err
			}
		}
		if m.Ban {
			var device, email string
			if err := tx.QueryRow(ctx, `SELECT device_id, email FROM reports.private WHERE report_id = $1`, id).
				Scan(&device, &email); err != nil {
				return err
			}
			for _, k := range []string{reporterKey("device", device), reporterKey("email", email)} {
				if k == "" {
					continue
				}
				if _, err := tx.Exec(ctx, `INSERT INTO reports.banned (reporter, reason) VALUES ($1, $2)
					ON CONFLICT (reporter) DO UPDATE SET reason = EXCLUDED.reason`, k, reason); err != nil {
					return err
				}
			}
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "report.moderate", ObjectType: "report",
			ObjectID: strconv.FormatInt(id, 10), After: map[string]any{"hide_text": m.HideText,
				"hide_photos": m.HidePhotos, "ban": m.Ban, "reason": reason}})
	})
	return wrap(err, "moderate report %d", id)
}

// PhotoData returns a visible photo (or its thumbnail) of a report.
func (s *Store) PhotoData(ctx context.Context, id int64, n int, thumb bool) ([]byte, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT CASE WHEN $3 THEN thumb ELSE data END FROM reports.photos
		WHERE report_id = $1 AND n = $2 AND NOT hidden`, id, n, thumb).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "report %d has no photo %d", id, n)
	}
	return b, err
}

// wrap adds context to internal errors and leaves domain errors as they are.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var ge *geoportal.Error
	if errors.As(err, &ge) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
