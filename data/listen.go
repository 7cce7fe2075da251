package data

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Listener keeps one connection that LISTENs on channels of the database, for as long as its
// Run's context lasts: it connects, LISTENs, lets Connected read what was committed before (a
// change from then on is heard), hands each notification to Notify, checks a quiet connection
// every 30 s, and after any failure reconnects with back-off (250 ms doubling to 10 s, from
// 250 ms again after a connection that held for a minute). The tile cache, the search index and
// the replica routing each keep one.
type Listener struct {
	// Config is the database's; the connection is made from ListenConfig(Config, Name).
	Config *pgx.ConnConfig
	// Name is the connection's application_name (pg_stat_activity shows it).
	Name string
	// Channels are LISTENed to.
	Channels []string
	// Connected runs once LISTEN is in place, on the listening connection; an error drops it.
	Connected func(ctx context.Context, conn *pgx.Conn) error
	// Notify handles one notification; an error drops the connection.
	Notify func(ctx context.Context, conn *pgx.Conn, n *pgconn.Notification) error
	// Disconnected runs after the connection is lost, before the retry: what the owner must
	// forget or stop while nothing is heard.
	Disconnected func()
	// Logger writes one warning per lost connection, as "<Lost>; reconnecting", with the error
	// and the delay (the server's logger throttles repeats).
	Logger *slog.Logger
	Lost   string
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	delay := 250 * time.Millisecond
	for {
		start := time.Now()
		err := l.listen(ctx)
		if l.Disconnected != nil {
			l.Disconnected()
		}
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			delay = 250 * time.Millisecond
		}
		if l.Logger != nil {
			l.Logger.Warn(l.Lost+"; reconnecting", "retry_in", delay.String(), "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

func (l *Listener) listen(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, ListenConfig(l.Config, l.Name))
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range l.Channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	if l.Connected != nil {
		if err := l.Connected(ctx, conn); err != nil {
			return err
		}
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				// Quiet for a while: make sure the connection is still alive.
				pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err = conn.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			return err
		}
		if l.Notify != nil {
			if err := l.Notify(ctx, conn, n); err != nil {
				return err
			}
		}
	}
}
