package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrBadLogin is the one answer to every failed login, whatever failed: unknown email, wrong
// password or disabled account. It never tells which.
var ErrBadLogin = geoportal.Errorf(geoportal.EUNAUTHORIZED, "wrong email or password")

// Store keeps accounts in PostgreSQL. Set its fields before first use.
type Store struct {
	pool *pgxpool.Pool

	// Params is the argon2id cost of new password hashes.
	Params HashParams
	// SessionTTL is a session's absolute lifetime, SessionIdle how long it lives unused.
	SessionTTL  time.Duration
	SessionIdle time.Duration

	dummyOnce sync.Once
	dummy     string
}

// NewStore returns a store over pool with the default cost and session lifetimes (12 h, 2 h idle).
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Params: DefaultHashParams, SessionTTL: 12 * time.Hour, SessionIdle: 2 * time.Hour}
}

// dummyHash is verified against for unknown users, so their login costs as much as a real one.
func (s *Store) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = HashPassword(GeneratePassword(), s.Params) })
	return s.dummy
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email      string
	Name       string
	Role       Role
	Department string
	Password   string
}

// NormalizeEmail lowercases and checks an e-mail address.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", geoportal.Errorf(geoportal.EINVALID, "email is required")
	}
	if len(e) > 254 || !utf8.ValidString(e) {
		return "", geoportal.Errorf(geoportal.EINVALID, "email is too long or not UTF-8")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", geoportal.Errorf(geoportal.EINVALID, "email %q is not an address like name@example.kz", truncate(s, 80))
	}
	return e, nil
}

// cleanText trims s and checks its length and that it holds no control characters.
func cleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s must have at most %d characters", field, max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s must not contain control characters", field)
	}
	return s, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func checkDepartment(role Role, dept string) (string, error) {
	dept, err := cleanText("department", dept, 100)
	if err != nil {
		return "", err
	}
	if role == DepartmentStaff && dept == "" {
		return "", geoportal.Errorf(geoportal.EINVALID, "role department_staff needs a department")
	}
	if role != DepartmentStaff && dept != "" {
		return "", geoportal.Errorf(geoportal.EINVALID, "only role department_staff has a department")
	}
	return dept, nil
}

const userColumns = `u.id, u.email, u.name, u.role, u.department, u.disabled, u.created_at, u.updated_at, u.password_changed_at`

func scanUser(row pgx.Row, extra ...any) (*User, error) {
	u := &User{}
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.Department, &u.Disabled, &u.CreatedAt, &u.UpdatedAt,
		&u.PasswordChangedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return u, nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// CreateUser validates and adds an account, and records it in the audit log.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	email, err := NormalizeEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	name, err := cleanText("name", nu.Name, 200)
	if err != nil {
		return nil, err
	}
	role, err := ParseRole(string(nu.Role))
	if err != nil {
		return nil, err
	}
	dept, err := checkDepartment(role, nu.Department)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(nu.Password); err != nil {
		return nil, err
	}
	hash := HashPassword(nu.Password, s.Params)
	var u *User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `INSERT INTO auth.users AS u (email, name, role, department, password_hash)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+userColumns, email, name, role, dept, hash))
		if isUniqueViolation(err) {
			return geoportal.Errorf(geoportal.ECONFLICT, "a user with email %s already exists", email)
		} else if err != nil {
			return fmt.Errorf("create user %s: %w", email, err)
		}
		return Audit(ctx, tx, Entry{Action: "user.create", ObjectType: "user", ObjectID: fmt.Sprint(u.ID), After: u})
	})
	return u, err
}

// Users returns every account, ordered by email.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM auth.users u ORDER BY u.email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// User returns the account with id.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM auth.users u WHERE u.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "no user with id %d", id)
	}
	return u, err
}

// UserByEmail returns the account with email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM auth.users u WHERE u.email = $1`, e))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "no user with email %s", e)
	}
	return u, err
}

// updateUser locks the user, applies change and audits the before and after.
func (s *Store) updateUser(ctx context.Context, id int64, action string, change func(tx pgx.Tx) error) (*User, error) {
	var after *User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM auth.users u WHERE u.id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "no user with id %d", id)
		} else if err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		if err := change(tx); err != nil {
			return err
		}
		if after, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM auth.users u WHERE u.id = $1`, id)); err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		return Audit(ctx, tx, Entry{Action: action, ObjectType: "user", ObjectID: fmt.Sprint(id), Before: before, After: after})
	})
	return after, err
}

// SetRole changes a user's role and department.
func (s *Store) SetRole(ctx context.Context, id int64, role Role, department string) (*User, error) {
	role, err := ParseRole(string(role))
	if err != nil {
		return nil, err
	}
	dept, err := checkDepartment(role, department)
	if err != nil {
		return nil, err
	}
	return s.updateUser(ctx, id, "user.role", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE auth.users SET role = $2, department = $3, updated_at = now() WHERE id = $1`, id, role, dept)
		return err
	})
}

// SetName changes a user's display name.
func (s *Store) SetName(ctx context.Context, id int64, name string) (*User, error) {
	name, err := cleanText("name", name, 200)
	if err != nil {
		return nil, err
	}
	return s.updateUser(ctx, id, "user.name", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE auth.users SET name = $2, updated_at = now() WHERE id = $1`, id, name)
		return err
	})
}

// SetDisabled disables or enables an account; disabling ends its sessions. A disabled
// account's API keys stop working too.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) (*User, error) {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	return s.updateUser(ctx, id, action, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE auth.users SET disabled = $2, updated_at = now() WHERE id = $1`, id, disabled); err != nil {
			return err
		}
		if disabled {
			_, err := tx.Exec(ctx, `UPDATE auth.sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id)
			return err
		}
		return nil
	})
}

// SetPassword sets a new password and revokes every session of the user.
func (s *Store) SetPassword(ctx context.Context, id int64, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash := HashPassword(password, s.Params)
	_, err := s.updateUser(ctx, id, "user.password", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE auth.users SET password_hash = $2, password_changed_at = now(), updated_at = now()
			WHERE id = $1`, id, hash); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE auth.sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id)
		return err
	})
	return err
}

// ChangePassword checks the current password before setting a new one (self-service).
func (s *Store) ChangePassword(ctx context.Context, id int64, current, next string) error {
	var hash string
	if err := s.pool.QueryRow(ctx, `SELECT password_hash FROM auth.users WHERE id = $1`, id).Scan(&hash); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "no user with id %d", id)
		}
		return fmt.Errorf("change password: %w", err)
	}
	ok, err := VerifyPassword(current, hash)
	if err != nil {
		return fmt.Errorf("change password of user %d: %w", id, err)
	}
	if !ok {
		return geoportal.Errorf(geoportal.EFORBIDDEN, "the current password is wrong")
	}
	return s.SetPassword(ctx, id, next)
}

// Authenticate checks an email and password and records the attempt in the audit log. Every
// failure returns ErrBadLogin after the same amount of hashing work.
func (s *Store) Authenticate(ctx context.Context, email, password, ip string) (*User, error) {
	var (
		u    *User
		hash string
	)
	e, emailErr := NormalizeEmail(email)
	if emailErr == nil {
		var err error
		u, err = scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM auth.users u WHERE u.email = $1`, e), &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			u = nil
		} else if err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	ok := false
	if u == nil || len(password) > 4*MaxPasswordLen {
		VerifyPassword(password, s.dummyHash())
	} else {
		var err error
		if ok, err = VerifyPassword(password, hash); err != nil {
			return nil, fmt.Errorf("login %s: %w", e, err)
		}
	}
	entry := Entry{Action: "login.ok", ObjectType: "user", IP: ip, Actor: truncate(strings.TrimSpace(email), 254)}
	if u != nil {
		entry.ActorID, entry.Actor, entry.ObjectID = u.ID, u.Email, fmt.Sprint(u.ID)
	}
	if !ok || u.Disabled {
		entry.Action = "login.failed"
		switch {
		case u == nil:
			entry.Detail = "unknown email"
		case !ok:
			entry.Detail = "wrong password"
		default:
			entry.Detail = "account disabled"
		}
		if err := Audit(ctx, s.pool, entry); err != nil {
			return nil, err
		}
		return nil, ErrBadLogin
	}
	if err := Audit(ctx, s.pool, entry); err != nil {
		return nil, err
	}
	return u, nil
}
