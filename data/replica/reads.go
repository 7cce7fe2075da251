package replica

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reads is one use's connection pools (tiles, public reads, analysis): the primary's pool of that
// use and, per replica, a pool made from the replica's URL by the same configure function. Its
// methods are those of a pgxpool.Pool that the stores read with; each picks a replica that is in
// rotation and has replayed what the read needs (see Set), in turn, else the primary.
type Reads struct {
	set     *Set
	use     string
	primary *pgxpool.Pool
	pools   []*pgxpool.Pool // per member of set
	next    atomic.Uint64
}

// Reads opens the use's pool on every replica: configure gets a copy of the replica's parsed URL
// (with the same settings the primary's pool of the use has, such as a statement_timeout) and
// returns the pool's configuration. With no replica every read goes to primary.
func (s *Set) Reads(ctx context.Context, use string, primary *pgxpool.Pool, configure func(*pgxpool.Config) *pgxpool.Config) (*Reads, error) {
	r := &Reads{set: s, use: use, primary: primary}
	for _, m := range s.members {
		p, err := pgxpool.NewWithConfig(ctx, configure(m.cfg.Copy()))
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("replica %s: %s pool: %w", m.name, use, err)
		}
		r.pools = append(r.pools, p)
	}
	return r, nil
}

// Close closes the replica pools (the primary's pool belongs to the caller).
func (r *Reads) Close() {
	for _, p := range r.pools {
		p.Close()
	}
}

// Primary is the use's pool on the primary.
func (r *Reads) Primary() *pgxpool.Pool { return r.primary }

// pick returns the pool for a read under ctx and the index of its replica (-1: the primary).
func (r *Reads) pick(ctx context.Context) (*pgxpool.Pool, int) {
	n := len(r.pools)
	if n == 0 {
		return r.primary, -1
	}
	if on, _ := ctx.Value(primaryKey).(bool); on {
		r.set.metrics.fallbacks.WithLabelValues(r.use, "asked").Inc()
		return r.primary, -1
	}
	layers, _ := ctx.Value(layersKey).([]string)
	need, ok := r.set.needFor(layers)
	if !ok {
		r.set.metrics.fallbacks.WithLabelValues(r.use, "not_listening").Inc()
		return r.primary, -1
	}
	start := int(r.next.Add(1))
	behind := false
	for i := range n {
		k := (start + i) % n
		m := r.set.members[k]
		if !m.usable.Load() {
			continue
		}
		if LSN(m.replay.Load()) < need {
			behind = true
			continue
		}
		return r.pools[k], k
	}
	reason := "none_in_rotation"
	if behind {
		reason = "behind"
	}
	r.set.metrics.fallbacks.WithLabelValues(r.use, reason).Inc()
	return r.primary, -1
}

// failed takes a replica out of rotation after a read on it failed before doing anything; the
// next check puts it back when it answers again.
func (r *Reads) failed(k int, err error) {
	r.set.setRotation(r.set.members[k], false, "a read failed: "+err.Error())
	r.set.metrics.fallbacks.WithLabelValues(r.use, "failed").Inc()
}

func (r *Reads) count(k int) {
	target := "primary"
	if k >= 0 {
		target = "replica"
	}
	r.set.metrics.reads.WithLabelValues(r.use, target).Inc()
}

// Query runs a query on a replica or the primary; a replica that fails before the query ran is
// passed over and the query run on the primary.
func (r *Reads) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	p, k := r.pick(ctx)
	rows, err := p.Query(ctx, sql, args...)
	if k >= 0 && retryable(err) && ctx.Err() == nil {
		r.failed(k, err)
		p, k = r.primary, -1
		rows, err = p.Query(ctx, sql, args...)
	}
	r.count(k)
	return rows, err
}

// Acquire takes a connection from a replica's pool or the primary's.
func (r *Reads) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	p, k := r.pick(ctx)
	c, err := p.Acquire(ctx)
	if k >= 0 && err != nil && ctx.Err() == nil {
		r.failed(k, err)
		p, k = r.primary, -1
		c, err = p.Acquire(ctx)
	}
	r.count(k)
	return c, err
}

// QueryRow runs a one-row query (see Query).
func (r *Reads) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := r.Acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return &releasingRow{row: c.QueryRow(ctx, sql, args...), conn: c}
}

// BeginTx starts a transaction (read-only ones only make sense here) on a replica or the primary.
func (r *Reads) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	p, k := r.pick(ctx)
	tx, err := p.BeginTx(ctx, opts)
	if k >= 0 && retryable(err) && ctx.Err() == nil {
		r.failed(k, err)
		p, k = r.primary, -1
		tx, err = p.BeginTx(ctx, opts)
	}
	r.count(k)
	return tx, err
}

type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

type releasingRow struct {
	row  pgx.Row
	conn *pgxpool.Conn
}

func (r *releasingRow) Scan(dest ...any) error {
	defer r.conn.Release()
	return r.row.Scan(dest...)
}
