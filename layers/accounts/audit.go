package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Execer runs a statement: a pgx.Tx, *pgx.Conn or *pgxpool.Pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Entry is one line of the audit log. Actor, ActorID and IP default to the Actor in ctx
// (set by the web layer for every request).
type Entry struct {
	Action     string // verb with a noun prefix: "feature.update", "layer.import", "report.status"
	ObjectType string // "feature", "layer", "report", "user", …
	ObjectID   string
	Before     any // marshalled to JSON; nil for none
	After      any
	Detail     string

	ActorID int64
	Actor   string
	IP      string
}

// Audit records e. Call it inside the transaction of the write it describes, so the write and
// its record commit or roll back together:
//
//	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
//		// … the write …
//		return accounts.Audit(ctx, tx, accounts.Entry{Action: "feature.update", ObjectType: "feature",
//			ObjectID: id, Before: old, After: new})
//	})
func Audit(ctx context.Context, db Execer, e Entry) error {
	if e.Action == "" {
		return fmt.Errorf("audit: entry without an action")
	}
	a := ActorFrom(ctx)
	if e.Actor == "" && e.ActorID == 0 {
		e.ActorID, e.Actor = a.UserID, a.Label
	}
	if e.IP == "" {
		e.IP = a.IP
	}
	before, err := jsonOrNil(e.Before)
	if err != nil {
		return fmt.Errorf("audit %s: before: %w", e.Action, err)
	}
	after, err := jsonOrNil(e.After)
	if err != nil {
		return fmt.Errorf("audit %s: after: %w", e.Action, err)
	}
	var actorID *int64
	if e.ActorID != 0 {
		actorID = &e.ActorID
	}
	_, err = db.Exec(ctx, `INSERT INTO auth.audit_log (actor_id, actor, action, object_type, object_id, before, after, ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		actorID, truncate(e.Actor, 300), e.Action, e.ObjectType, truncate(e.ObjectID, 300), before, after, truncate(e.IP, 64),
		truncate(e.Detail, 1000))
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

func jsonOrNil(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if len(x) == 0 {
			return nil, nil
		}
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil, err
	}
	return b, nil
}

// AuditRecord is a stored audit entry.
type AuditRecord struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    *int64          `json:"actor_id"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	IP         string          `json:"ip"`
	Detail     string          `json:"detail"`
}

// AuditFilter selects audit records. Empty fields select everything. An Action ending in "*"
// matches by prefix ("login.*"). Records come newest first; BeforeID pages on.
type AuditFilter struct {
	Actor      string // actor label or the acting user's email
	Action     string
	ObjectType string
	ObjectID   string
	Since      time.Time
	Until      time.Time
	BeforeID   int64
	Limit      int // default 100, at most 1000
}

// AuditLog returns the records matching f, newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Actor != "" {
		add(`(a.actor = $? OR u.email = lower($?))`, f.Actor)
	}
	if f.Action != "" {
		if p, ok := strings.CutSuffix(f.Action, "*"); ok {
			add(`starts_with(a.action, $?)`, p)
		} else {
			add(`a.action = $?`, f.Action)
		}
	}
	if f.ObjectType != "" {
		add(`a.object_type = $?`, f.ObjectType)
	}
	if f.ObjectID != "" {
		add(`a.object_id = $?`, f.ObjectID)
	}
	if !f.Since.IsZero() {
		add(`a.at >= $?`, f.Since)
	}
	if !f.Until.IsZero() {
		add(`a.at < $?`, f.Until)
	}
	if f.BeforeID > 0 {
		add(`a.id < $?`, f.BeforeID)
	}
	switch {
	case f.Limit <= 0:
		f.Limit = 100
	case f.Limit > 1000:
		return nil, geoportal.Errorf(geoportal.EINVALID, "limit %d is above the maximum of 1000", f.Limit)
	}
	q := `SELECT a.id, a.at, a.actor_id, a.actor, a.action, a.object_type, a.object_id, a.before, a.after, a.ip, a.detail
		FROM auth.audit_log a LEFT JOIN auth.users u ON u.id = a.actor_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY a.id DESC LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		var x AuditRecord
		err := r.Scan(&x.ID, &x.At, &x.ActorID, &x.Actor, &x.Action, &x.ObjectType, &x.ObjectID, &x.Before, &x.After, &x.IP, &x.Detail)
		return x, err
	})
}
