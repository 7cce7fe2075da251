package data_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5"
)

// A listener's wait must end with its own context even on a pool configured to cancel queries
// (geoportal serve's): otherwise it lasts until the next notification, and batching loops that
// wait briefly for more notifications (the live vehicles hub) add seconds of delay.
func TestListenConfigWaitEndsWithItsContext(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, data.ListenConfig(pool.Config().ConnConfig, "conn test"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var app string
	if err := conn.QueryRow(ctx, `SELECT current_setting('application_name')`).Scan(&app); err != nil || app != "conn test" {
		t.Fatalf("application_name = %q, %v", app, err)
	}
	if _, err := conn.Exec(ctx, `LISTEN conn_test`); err != nil {
		t.Fatal(err)
	}
	// A notification comes 3 s from now, long after the wait's own 100 ms.
	sent := make(chan error, 1)
	go func() {
		time.Sleep(3 * time.Second)
		_, err := pool.Exec(ctx, `SELECT pg_notify('conn_test', 'late')`)
		sent <- err
	}()
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	n, err := conn.WaitForNotification(wctx)
	cancel()
	if err == nil {
		t.Fatalf("the wait outlived its context and returned %q", n.Payload)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !pgconnTimeout(err) {
		t.Fatalf("wait: %v; want its context's deadline", err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// The connection is still listening: the late notification is there.
	wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err = conn.WaitForNotification(wctx)
	if err != nil || n.Payload != "late" {
		t.Fatalf("after a timed-out wait: %v, %v", n, err)
	}
}

func pgconnTimeout(err error) bool {
	var to interface{ Timeout() bool }
	return errors.As(err, &to) && to.Timeout()
}
