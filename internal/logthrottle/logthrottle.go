// Package logthrottle keeps a burst of identical log lines from flooding the log: a slog.Handler
// that lets through a few records of each kind (level, message and the text of an "error"
// attribute) per interval and counts the rest, which the next record of that kind reports as
// suppressed=N. A database outage, say, logs each
// kind of failure a few times a window instead of once per request.
//
//	logger := slog.New(logthrottle.New(slog.NewTextHandler(os.Stderr, nil), 10*time.Second, 5))
package logthrottle

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Handler passes at most burst records of one kind per interval to the next handler.
type Handler struct {
	next  slog.Handler
	state *state
}

type state struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu    sync.Mutex
	kinds map[kind]*window
}

type kind struct {
	level    slog.Level
	msg, err string
}

type window struct {
	start      time.Time
	passed     int
	suppressed int
}

// New wraps next: of each kind, burst records pass per interval every.
func New(next slog.Handler, every time.Duration, burst int) *Handler {
	return &Handler{next: next, state: &state{every: every, burst: burst, now: time.Now, kinds: map[kind]*window{}}}
}

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	s := h.state
	k := kind{level: r.Level, msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			k.err = a.Value.String()
			return false
		}
		return true
	})
	s.mu.Lock()
	now := s.now()
	w := s.kinds[k]
	if w == nil {
		if len(s.kinds) > 10000 {
			// Messages are constants in the code, so this many kinds means windows long over:
			// start afresh rather than grow.
			s.kinds = map[kind]*window{}
		}
		w = &window{start: now}
		s.kinds[k] = w
	}
	suppressed := 0
	if now.Sub(w.start) >= s.every {
		suppressed = w.suppressed
		w.start, w.passed, w.suppressed = now, 0, 0
	}
	if w.passed >= s.burst {
		w.suppressed++
		s.mu.Unlock()
		return nil
	}
	w.passed++
	s.mu.Unlock()
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.next.Handle(ctx, r)
}

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), state: h.state}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), state: h.state}
}
