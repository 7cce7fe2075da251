package logthrottle

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestBurstThenSuppressedCount(t *testing.T) {
	var buf bytes.Buffer
	h := New(slog.NewTextHandler(&buf, nil), 10*time.Second, 3)
	clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h.state.now = func() time.Time { return clock }
	log := slog.New(h)
	for i := 0; i < 280; i++ { // a 10 s outage's worth of one warning
		log.Warn("database unavailable", "attempt", i)
		log.With("route", "/x").Error("request failed", "i", i)
	}
	log.Info("another message")                                   // other messages are not held back
	log.Error("request failed", "error", "another cause")         // nor the same message with another error
	log.Error("request failed", "error", "another cause", "n", 2) // (held back from the fourth on too)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3+3+1+2 {
		t.Fatalf("%d lines, want 9:\n%s", len(lines), buf.String())
	}
	clock = clock.Add(11 * time.Second)
	buf.Reset()
	log.Warn("database unavailable", "attempt", 999)
	if got := buf.String(); !strings.Contains(got, "suppressed=277") || !strings.Contains(got, "attempt=999") {
		t.Errorf("after the window: %q, want suppressed=277 and the record", got)
	}
	buf.Reset()
	log.Warn("database unavailable", "attempt", 1000)
	if got := buf.String(); strings.Contains(got, "suppressed") {
		t.Errorf("the count is reported once: %q", got)
	}
}
