// Package accounts is who may do what in the geoportal: users and their roles, login sessions,
// API keys for machines, Wialon tracker passwords and the audit log of every write, all kept in
// PostgreSQL (schema auth).
//
//	store := accounts.NewStore(pool)
//	u, err := store.Authenticate(ctx, email, password, ip)
package accounts

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
)

// Role is what a user may do. Anonymous is never stored: it is the role of a request without a user.
type Role string

// Roles, from least to most powerful (department staff are scoped to their department).
const (
	Anonymous       Role = "anonymous"
	Citizen         Role = "citizen"
	GISStaff        Role = "gis_staff"
	Planner         Role = "planner"
	DepartmentStaff Role = "department_staff"
	Dispatcher      Role = "dispatcher"
	Admin           Role = "admin"
)

// Roles lists the roles an account can have.
var Roles = []Role{Citizen, GISStaff, Planner, DepartmentStaff, Dispatcher, Admin}

// StaffRoles are the roles of city staff: they see staff-only layers.
var StaffRoles = []Role{GISStaff, Planner, DepartmentStaff, Dispatcher, Admin}

// ParseRole returns the role named s, or an EINVALID error naming the allowed roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", geoportal.Errorf(geoportal.EINVALID, "role %q is not one of %s", s, joinRoles(Roles))
}

func joinRoles(rs []Role) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(r))
	}
	return b.String()
}

// IsStaff reports whether the role belongs to city staff.
func (r Role) IsStaff() bool { return slices.Contains(StaffRoles, r) }

// Scope is what an API key may reach.
type Scope string

// Scopes of API keys.
const (
	ScopeOpen311       Scope = "open311"        // Open311 GeoReport clients: submit and read requests
	ScopeTracker       Scope = "tracker"        // tracker HTTP ingest of vehicle positions
	ScopeImport        Scope = "import"         // file imports into layers
	ScopeFeaturesWrite Scope = "features:write" // create, change and delete features
	ScopeReports       Scope = "reports"        // work on citizen reports (department integrations)
	ScopeRead          Scope = "read"           // read anything the owner may read (GET and HEAD)
	ScopeAdmin         Scope = "admin"          // the admin API
)

// Scopes lists every API key scope.
var Scopes = []Scope{ScopeOpen311, ScopeTracker, ScopeImport, ScopeFeaturesWrite, ScopeReports, ScopeRead, ScopeAdmin}

// ParseScopes parses a comma- or space-separated list of scopes.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		sc := Scope(strings.ToLower(f))
		if !slices.Contains(Scopes, sc) {
			var names []string
			for _, x := range Scopes {
				names = append(names, string(x))
			}
			return nil, geoportal.Errorf(geoportal.EINVALID, "scope %q is not one of %s", f, strings.Join(names, ", "))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "an API key needs at least one scope")
	}
	return out, nil
}

// User is an account. When the request was authenticated by an API key, Key is set and the
// user is the key's owner, limited to the key's scopes.
type User struct {
	ID                int64     `json:"id"`
	Email             string    `json:"email"`
	Name              string    `json:"name"`
	Role              Role      `json:"role"`
	Department        string    `json:"department,omitempty"`
	Disabled          bool      `json:"disabled"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	PasswordChangedAt time.Time `json:"password_changed_at"`

	Key     *APIKey  `json:"-"`
	Session *Session `json:"-"`
}

// HasRole reports whether the user has one of roles.
func (u *User) HasRole(roles ...Role) bool { return u != nil && slices.Contains(roles, u.Role) }

// IsStaff reports whether the user is city staff.
func (u *User) IsStaff() bool { return u != nil && u.Role.IsStaff() }

// Label names the user in logs and the audit trail.
func (u *User) Label() string {
	if u == nil {
		return string(Anonymous)
	}
	if u.Key != nil {
		return u.Email + " (key " + u.Key.Prefix + ")"
	}
	return u.Email
}

// Session is a login. Its token is known only to the browser holding the cookie.
type Session struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
}

// APIKey is a machine credential; only its SHA-256 is stored, Prefix identifies it to people.
type APIKey struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	UserEmail  string     `json:"user_email"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []Scope    `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// HasScope reports whether the key carries scope sc.
func (k *APIKey) HasScope(sc Scope) bool { return k != nil && slices.Contains(k.Scopes, sc) }

// Actor is who is acting in a request: set by the web layer, read by Audit.
type Actor struct {
	UserID int64 // 0: anonymous
	Label  string
	IP     string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; anonymous when none was set.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Label: string(Anonymous)}
}
