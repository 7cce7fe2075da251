package data

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
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

// CheckBeforeUse makes cfg's pool ping each connection as it is acquired (pgx's default: only
// those idle for more than a second). A connection whose backend is gone (pg_terminate_backend,
// a restart) then fails its ping before the statement is sent, and the pool discards it and
// tries the next or a new one: a read is retried where that is safe, at the cost of one round
// trip per acquisition. A connection that breaks while its statement runs is not retried here;
// the web layer answers that 503 with Retry-After. `geoportal serve` sets it on the main pool (and
// so on the tile pool made from its config) and on the public read pool.
func CheckBeforeUse(cfg *pgxpool.Config) {
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
}

// PublicReadConfig returns a copy of base for the pool that serves reads anyone may ask for (OGC
// API items, search, nearest): at most maxConns connections, and a statement_timeout on each
// (0: none), so that anonymous clients can neither hold the database with a costly statement
// nor take the connections that sign-in, session lookups and writes need: those keep the main
// pool. A statement past the timeout fails with SQLSTATE 57014 ("canceling statement due to
// statement timeout"). Its connections are checked before each use (CheckBeforeUse).
func PublicReadConfig(base *pgxpool.Config, maxConns int32, statementTimeout time.Duration) *pgxpool.Config {
	cfg := base.Copy()
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(statementTimeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["application_name"] = "geoportal public reads"
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if cfg.MinConns > cfg.MaxConns {
		cfg.MinConns = cfg.MaxConns
	}
	CheckBeforeUse(cfg)
	return cfg
}
