package reports

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/smtp"
	"strings"
	"time"
)

// SMTPSender returns a send function for SendPending that relays through an SMTP server
// (user and password optional: PLAIN auth when set).
func SMTPSender(addr, from, user, password string) func(Message) error {
	var auth smtp.Auth
	if user != "" {
		host, _, _ := strings.Cut(addr, ":")
		auth = smtp.PlainAuth("", user, password, host)
	}
	return func(m Message) error {
		if strings.ContainsAny(m.To, "\r\n") {
			return fmt.Errorf("bad recipient %q", m.To)
		}
		msg := "From: " + from + "\r\nTo: " + m.To + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", m.Subject) +
			"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
			strings.ReplaceAll(m.Body, "\n", "\r\n")
		return smtp.SendMail(addr, auth, from, []string{m.To}, []byte(msg))
	}
}

// RunOutbox sends queued messages every interval until ctx ends.
func (s *Store) RunOutbox(ctx context.Context, interval time.Duration, send func(Message) error, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sent, failed, err := s.SendPending(ctx, 200, send)
		if err != nil && ctx.Err() == nil {
			logger.Warn("outbox round failed", "error", err)
		} else if sent > 0 || failed > 0 {
			logger.Info("outbox", "sent", sent, "failed", failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
