package analysis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// querier is what the loaders need of a connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// onConn runs fn on one connection of the pool so that cancelling ctx cancels the statement
// running on the server too. pgx's default only drops the connection, and a backend waiting for
// a lock (or still scanning) goes on until it next talks to the client; a cancelled analysis
// must stop its SQL at once. A connection that was sent a cancel is closed, not reused.
func (s *Store) onConn(ctx context.Context, fn func(db querier) error) error {
	conn, err := s.reads.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	pg := conn.Conn().PgConn()
	sent := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(sent)
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pg.CancelRequest(cctx) // best effort: the connection is closed below anyway
	})
	err = fn(conn)
	if !stop() {
		<-sent
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Conn().Close(cctx)
	}
	return err
}
