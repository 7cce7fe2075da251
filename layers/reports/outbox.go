package reports

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Message is one queued message to a reporter or supporter: an e-mail, or an SMS (Subject empty).
type Message struct {
	ID      int64
	Channel string // ChannelEmail or ChannelSMS
	To      string
	Subject string
	Body    string
}

// SendPending hands queued e-mails to send; see SendPendingOn.
func (s *Store) SendPending(ctx context.Context, limit int, send func(Message) error) (sent, failed int, err error) {
	return s.SendPendingOn(ctx, ChannelEmail, limit, send)
}

// SendPendingOn hands queued messages of one channel to send, oldest first, at most limit of
// them. A message is marked sent only when send returns nil; a failure is counted and kept for
// the next round, so nothing is lost while mail is down. A message carrying a confirmation code
// has its body wiped once sent. Several processes may run this at once (SKIP LOCKED).
func (s *Store) SendPendingOn(ctx context.Context, channel string, limit int, send func(Message) error) (sent, failed int, err error) {
	for i := 0; i < limit; i++ {
		var done bool
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var m Message
			err := tx.QueryRow(ctx, `SELECT id, channel, to_addr, subject, body FROM reports.outbox
				WHERE sent_at IS NULL AND attempts < 20 AND channel = $1
				ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, channel).Scan(&m.ID, &m.Channel, &m.To, &m.Subject, &m.Body)
			if err == pgx.ErrNoRows {
				done = true
				return nil
			} else if err != nil {
				return err
			}
			if serr := send(m); serr != nil {
				failed++
				_, err = tx.Exec(ctx, `UPDATE reports.outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
					m.ID, serr.Error())
				done = true // mail is down: try again next round
				return err
			}
			sent++
			_, err = tx.Exec(ctx, `UPDATE reports.outbox SET sent_at = now(), attempts = attempts + 1, last_error = '',
					body = CASE WHEN sensitive THEN '(removed after sending)' ELSE body END
				WHERE id = $1`, m.ID)
			return err
		})
		if err != nil {
			return sent, failed, fmt.Errorf("outbox: %w", err)
		}
		if done {
			break
		}
	}
	return sent, failed, nil
}
