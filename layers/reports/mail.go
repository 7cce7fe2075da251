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

// SMSGateway sends one text message to a phone number. It is the seam for an operator's SMS API:
// no gateway is wired on this machine, so SMS wait in reports.outbox (channel sms) unless the
// development gateway LogSMS is chosen.
type SMSGateway interface {
	SendSMS(ctx context.Context, to, text string) error
}

// LogSMS is the development SMS gateway: each message goes to the log instead of a phone (the
// log then holds confirmation codes: never use it in production).
type LogSMS struct{ Logger *slog.Logger }

// SendSMS writes the message to the log.
func (g LogSMS) SendSMS(ctx context.Context, to, text string) error {
	g.Logger.Info("sms (log gateway, not delivered)", "to", to, "text", text)
	return nil
}

// SMSSender returns a send function for SendPendingOn(ChannelSMS) over a gateway.
func SMSSender(ctx context.Context, g SMSGateway) func(Message) error {
	return func(m Message) error { return g.SendSMS(ctx, m.To, m.Body) }
}

// smsText keeps an SMS within 300 characters (two or three segments).
func smsText(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > 300 {
		return string(r[:299]) + "…"
	}
	return string(r)
}

// Senders deliver queued messages, one send function per channel; a nil one leaves its
// channel's messages queued in the outbox.
type Senders struct {
	Email func(Message) error
	SMS   func(Message) error
}

// RunOutbox sends queued e-mails every interval until ctx ends.
func (s *Store) RunOutbox(ctx context.Context, interval time.Duration, send func(Message) error, logger *slog.Logger) {
	s.RunOutboxes(ctx, interval, Senders{Email: send}, logger)
}

// RunOutboxes sends queued messages of every channel that has a sender, every interval until ctx ends.
func (s *Store) RunOutboxes(ctx context.Context, interval time.Duration, senders Senders, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, ch := range []struct {
			name string
			send func(Message) error
		}{{ChannelEmail, senders.Email}, {ChannelSMS, senders.SMS}} {
			if ch.send == nil {
				continue
			}
			sent, failed, err := s.SendPendingOn(ctx, ch.name, 200, ch.send)
			if err != nil && ctx.Err() == nil {
				logger.Warn("outbox round failed", "channel", ch.name, "error", err)
			} else if sent > 0 || failed > 0 {
				logger.Info("outbox", "channel", ch.name, "sent", sent, "failed", failed)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
