package reports_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	linkRE     = regexp.MustCompile(`/#confirm/(c[0-9a-f]+)`)
	emailCode  = regexp.MustCompile(`: (\d{6})$`)
	smsCodeRE  = regexp.MustCompile(`^Aktobe geoportal: (\d{6}) `)
	housingAll = reports.Actor{Label: "housing@akimat.kz", Department: "housing"}
)

// confirmationSent reads the newest confirmation queued for a report's channel (as the resident
// would read it in their mail or SMS) and returns its link secret and code.
func confirmationSent(t *testing.T, pool *pgxpool.Pool, reportID int64, channel string) (link, code string) {
	t.Helper()
	var subject, body string
	if err := pool.QueryRow(context.Background(), `SELECT subject, body FROM reports.outbox
		WHERE report_id = $1 AND channel = $2 AND sensitive ORDER BY id DESC LIMIT 1`, reportID, channel).
		Scan(&subject, &body); err != nil {
		t.Fatalf("no confirmation queued for report %d by %s: %v", reportID, channel, err)
	}
	m := linkRE.FindStringSubmatch(body)
	var c []string
	if channel == "email" {
		c = emailCode.FindStringSubmatch(subject)
		if !strings.Contains(body, "Your report") || !strings.Contains(body, "Ваше обращение") || !strings.Contains(body, "Өтінішіңіз") {
			t.Errorf("the confirmation e-mail is not in kk/ru/en: %q", body)
		}
	} else {
		c = smsCodeRE.FindStringSubmatch(body)
	}
	if m == nil || c == nil {
		t.Fatalf("confirmation without link or code: %q %q", subject, body)
	}
	if !strings.Contains(body, c[1]) || (channel == "email" && !strings.HasPrefix(m[0], "/#confirm/")) {
		t.Fatalf("code %s not in the body %q", c[1], body)
	}
	return m[1], c[1]
}

func TestConfirmByLink(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	r, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "street_light", Lon: 57.17, Lat: 50.28,
		Description: "Не горит", Email: "aigul@example.kz", Attributes: map[string]string{"state": "off"},
		LinkBase: "https://geo.aktobe.kz/"})
	if err != nil {
		t.Fatal(err)
	}
	link, code := confirmationSent(t, pool, r.ID, "email")
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE body LIKE '%https://geo.aktobe.kz/#confirm/' || $1 || '%'`, link); n != 1 {
		t.Fatal("the link does not start with the site's address")
	}
	// Only hashes are stored.
	if n := count(t, pool, `SELECT count(*) FROM reports.confirmations WHERE position($1::bytea IN code_hash) > 0
		OR position($2::bytea IN link_hash) > 0`, []byte(code), []byte(link)); n != 0 {
		t.Fatal("a code or link is stored in clear")
	}
	contacts, err := s.Contacts(ctx, r.ID)
	if err != nil || len(contacts) != 1 || contacts[0].Address != "a***@example.kz" || contacts[0].Confirmed {
		t.Fatalf("contacts %+v %v", contacts, err)
	}
	if p, _ := s.GetPrivate(ctx, r.ID); p.EmailConfirmed {
		t.Fatal("confirmed before confirming")
	}
	// Not confirmed: a status change is not mailed.
	if _, err := s.ChangeStatus(ctx, r.ID, reports.Change{Status: "accepted"}, housingAll); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE NOT sensitive`); n != 0 {
		t.Fatalf("%d status messages to an unconfirmed address", n)
	}
	if _, err := s.ConfirmLink(ctx, link+"0"); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("a wrong link: %v", err)
	}
	c, err := s.ConfirmLink(ctx, link)
	if err != nil || c.ReportID != r.ID || c.Channel != "email" || c.Address != "a***@example.kz" {
		t.Fatalf("confirm: %+v %v", c, err)
	}
	if _, err := s.ConfirmLink(ctx, link); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Fatalf("the link used twice: %v", err)
	}
	if p, _ := s.GetPrivate(ctx, r.ID); !p.EmailConfirmed || p.PhoneConfirmed {
		t.Fatalf("private after confirming: %+v", p)
	}
	if ps, _ := s.Privates(ctx, []int64{r.ID}); !ps[r.ID].EmailConfirmed {
		t.Fatal("Privates does not say confirmed")
	}
	if _, err := s.ChangeStatus(ctx, r.ID, reports.Change{Status: "in_progress", Comment: "Едем"}, housingAll); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE NOT sensitive AND to_addr = 'aigul@example.kz'
		AND channel = 'email' AND body LIKE '%in_progress%Едем%'`); n != 1 {
		t.Fatalf("%d status messages after confirming, want 1", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM auth.audit_log WHERE action = 'report.contact_confirm'`); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	// Once sent, the message that carried the code keeps no code.
	var got []reports.Message
	if sent, _, err := s.SendPending(ctx, 10, func(m reports.Message) error { got = append(got, m); return nil }); err != nil || sent != 2 {
		t.Fatalf("sent %d %v", sent, err)
	}
	if !strings.Contains(got[0].Body, code) || got[0].Channel != "email" {
		t.Fatalf("first message %+v", got[0])
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE body LIKE '%' || $1 || '%'`, link); n != 0 {
		t.Fatal("the sent confirmation still holds its link")
	}
}

func TestConfirmByCodeAndSMS(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	r, sec, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
		Description: "Яма", Phone: "+7 701 123 45 67", LinkBase: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	_, code := confirmationSent(t, pool, r.ID, "sms")
	contacts, _ := s.Contacts(ctx, r.ID)
	if len(contacts) != 1 || contacts[0].Channel != "sms" || contacts[0].Address != "+7 *** *** ** 67" {
		t.Fatalf("contacts %+v", contacts)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for _, tc := range []struct{ follow, channel, code string }{
		{sec.Follow, "sms", "12345"}, {sec.Follow, "sms", "abcdef"}, {sec.Follow, "fax", code},
	} {
		if _, err := s.ConfirmCode(ctx, tc.follow, tc.channel, tc.code); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("%+v: %v, want invalid", tc, err)
		}
	}
	if _, err := s.ConfirmCode(ctx, sec.Follow+"x", "sms", code); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("another report's link: %v", err)
	}
	if _, err := s.ConfirmCode(ctx, sec.Follow, "email", code); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("no e-mail to confirm: %v", err)
	}
	// Five wrong guesses kill the code, even the right one after them.
	for i := 0; i < reports.ConfirmMaxAttempts; i++ {
		_, err := s.ConfirmCode(ctx, sec.Follow, "sms", wrong)
		if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), "wrong code") {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if n := count(t, pool, `SELECT attempts FROM reports.confirmations WHERE report_id = $1`, r.ID); n != reports.ConfirmMaxAttempts {
		t.Fatalf("attempts %d: wrong guesses must be counted", n)
	}
	if _, err := s.ConfirmCode(ctx, sec.Follow, "sms", code); err == nil {
		t.Fatal("a blocked code was accepted")
	}
	// A new code; the limit is 3 per contact and hour, the first one included.
	if c, err := s.ResendConfirmation(ctx, sec.Follow, "sms", "http://127.0.0.1:8080"); err != nil || c.Address != "+7 *** *** ** 67" {
		t.Fatalf("resend: %+v %v", c, err)
	}
	_, code2 := confirmationSent(t, pool, r.ID, "sms")
	if _, err := s.ResendConfirmation(ctx, sec.Follow, "sms", ""); err != nil {
		t.Fatal(err)
	}
	_, code3 := confirmationSent(t, pool, r.ID, "sms")
	if _, err := s.ResendConfirmation(ctx, sec.Follow, "sms", ""); geoportal.ErrorCode(err) != geoportal.ERATELIMIT {
		t.Fatalf("a fourth code within the hour: %v", err)
	}
	if _, err := s.ResendConfirmation(ctx, sec.Follow, "email", ""); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("resend to a missing e-mail: %v", err)
	}
	// The newest code confirms (an older one is not the one asked for).
	if code2 != code3 {
		if _, err := s.ConfirmCode(ctx, sec.Follow, "sms", code2); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Fatalf("an older code: %v", err)
		}
	}
	c, err := s.ConfirmCode(ctx, sec.Follow, "sms", code3)
	if err != nil || c.ReportID != r.ID || c.Channel != "sms" {
		t.Fatalf("confirm: %+v %v", c, err)
	}
	if _, err := s.ConfirmCode(ctx, sec.Follow, "sms", code3); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("the code used twice: %v", err)
	}
	if _, err := s.ResendConfirmation(ctx, sec.Follow, "sms", ""); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Fatalf("resend after confirming: %v", err)
	}
	if p, _ := s.GetPrivate(ctx, r.ID); !p.PhoneConfirmed {
		t.Fatal("the phone is not confirmed")
	}
	// Status changes now go out by SMS, through the SMS gateway; e-mail senders do not see them.
	if _, err := s.ChangeStatus(ctx, r.ID, reports.Change{Status: "accepted", Comment: "Принято"}, reports.Actor{Label: "roads", Department: "roads"}); err != nil {
		t.Fatal(err)
	}
	if sent, _, _ := s.SendPending(ctx, 10, func(reports.Message) error { return nil }); sent != 0 {
		t.Fatalf("the e-mail sender took %d SMS", sent)
	}
	gw := &fakeGateway{}
	sent, failed, err := s.SendPendingOn(ctx, reports.ChannelSMS, 10, reports.SMSSender(ctx, gw))
	if err != nil || sent != 4 || failed != 0 {
		t.Fatalf("sms: sent %d failed %d %v", sent, failed, err)
	}
	last := gw.got[len(gw.got)-1]
	if last.to != "+7 701 123 45 67" || !strings.Contains(last.text, "accepted") || !strings.Contains(last.text, "Принято") {
		t.Fatalf("status SMS %+v", last)
	}
	var logged bytes.Buffer
	if err := (reports.LogSMS{Logger: newTextLogger(&logged)}).SendSMS(ctx, "+7 700", "hello"); err != nil || !strings.Contains(logged.String(), "hello") {
		t.Fatalf("log gateway: %v %q", err, logged.String())
	}
}

func TestConfirmationExpires(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	now := time.Now()
	s.Now = func() time.Time { return now }
	r, sec, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
		Description: "Яма", Email: "late@example.kz"})
	if err != nil {
		t.Fatal(err)
	}
	link, code := confirmationSent(t, pool, r.ID, "email")
	now = now.Add(reports.ConfirmTTL + time.Minute)
	if _, err := s.ConfirmLink(ctx, link); geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired link: %v", err)
	}
	if _, err := s.ConfirmCode(ctx, sec.Follow, "email", code); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("an expired code: %v", err)
	}
	if _, err := s.ResendConfirmation(ctx, sec.Follow, "email", ""); err != nil {
		t.Fatal(err)
	}
	_, code = confirmationSent(t, pool, r.ID, "email")
	if _, err := s.ConfirmCode(ctx, sec.Follow, "email", code); err != nil {
		t.Fatal(err)
	}
}

// Filing many reports with someone else's address sends them at most ConfirmPerAddressDay codes;
// the reports are filed all the same.
func TestConfirmationsPerAddressAreLimited(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	for i := 0; i < reports.ConfirmPerAddressDay+2; i++ {
		if _, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
			Description: "Яма", Email: "Victim@example.kz"}); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM layer.citizen_reports`); n != reports.ConfirmPerAddressDay+2 {
		t.Fatalf("%d reports filed", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE to_addr = 'Victim@example.kz'`); n != reports.ConfirmPerAddressDay {
		t.Fatalf("%d messages to one address in a day, want %d", n, reports.ConfirmPerAddressDay)
	}
}

// A supporter's e-mail hears of changes only once confirmed.
func TestSupporterConfirms(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	r, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28, Description: "Яма", DeviceID: "dev-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Support(ctx, r.ID, "", "not an address", ""); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("a bad e-mail: %v", err)
	}
	for _, e := range []string{"one@example.kz", "two@example.kz"} {
		if n, err := s.Support(ctx, r.ID, "", e, "http://x"); err != nil || n < 2 {
			t.Fatal(n, err)
		}
	}
	link, _ := confirmationSent(t, pool, r.ID, "email") // the newest: two@
	if c, err := s.ConfirmLink(ctx, link); err != nil || c.Address != "t***@example.kz" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := s.ChangeStatus(ctx, r.ID, reports.Change{Status: "accepted"}, reports.Actor{Label: "roads", Department: "roads"}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE NOT sensitive AND to_addr = 'two@example.kz'`); n != 1 {
		t.Fatalf("confirmed supporter: %d messages", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE NOT sensitive AND to_addr = 'one@example.kz'`); n != 0 {
		t.Fatalf("unconfirmed supporter: %d messages", n)
	}
}

type fakeGateway struct{ got []struct{ to, text string } }

func (g *fakeGateway) SendSMS(ctx context.Context, to, text string) error {
	g.got = append(g.got, struct{ to, text string }{to, text})
	return nil
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
