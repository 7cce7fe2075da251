package data

import (
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// ListenConfig returns a copy of cfg for a connection that waits for notifications. The
// application's pool cancels a running query with a CancelRequest when its context ends, which
// suits queries but not LISTEN: a connection idle in WaitForNotification has nothing to cancel,
// so a wait with a timeout would last until the next notification or the watcher's deadline
// (5 s) instead of its own timeout, and each would send a CancelRequest (a new backend process
// at the server). Here an ended context simply interrupts the read, pgx's default.
func ListenConfig(cfg *pgx.ConnConfig, applicationName string) *pgx.ConnConfig {
	c := cfg.Copy()
	c.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: pc.Conn()}
	}
	if applicationName != "" {
		c.RuntimeParams["application_name"] = applicationName
	}
	return c
}

// CancelQueriesOnContext makes an ended context stop its statement in PostgreSQL too (a client
// gone, an analysis cancelled): pgx's default only interrupts the socket read, and a backend
// waiting for a lock or still scanning would go on until it next talks to the client. Do not use
// it for connections that LISTEN (see ListenConfig).
func CancelQueriesOnContext(cfg *pgx.ConnConfig) {
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: 0, DeadlineDelay: 5 * time.Second}
	}
}
