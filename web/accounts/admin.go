package accounts

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// parseTime reads a time given as RFC 3339 or as a date (YYYY-MM-DD, midnight UTC).
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a time like 2026-01-31 or 2026-01-31T08:00:00Z", field, v)
}

// AuditFilter reads the audit log's filters from a query: ?actor=&action=&object_type=&object_id=&since=&until=&before_id=&limit=.
func AuditFilter(q url.Values) (accounts.AuditFilter, error) {
	f := accounts.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id")}
	var err error
	if f.Since, err = parseTime("since", q.Get("since")); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("until", q.Get("until")); err != nil {
		return f, err
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"before_id", &f.BeforeID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return f, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a positive integer", p.name, v)
			}
			*p.dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return f, geoportal.Errorf(geoportal.EINVALID, "limit %q is not a positive integer", v)
		}
		f.Limit = n
	}
	return f, nil
}

func (as *API) Audit(w http.ResponseWriter, r *http.Request) {
	f, err := AuditFilter(r.URL.Query())
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	recs, err := as.Accounts.AuditLog(r.Context(), f)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if recs == nil {
		recs = []accounts.AuditRecord{}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"records": recs})
}

func (as *API) Users(w http.ResponseWriter, r *http.Request) {
	us, err := as.Accounts.Users(r.Context())
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if us == nil {
		us = []accounts.User{}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"users": us})
}

type createUserRequest struct {
	Email      string `json:"email"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	Department string `json:"department"`
	Password   string `json:"password"`
}

// AddUser adds a user; with no password given it generates one and returns it.
func (as *API) AddUser(r *http.Request, n accounts.NewUser) (*accounts.User, string, error) {
	generated := ""
	if n.Password == "" {
		n.Password = accounts.GeneratePassword()
		generated = n.Password
	}
	u, err := as.Accounts.CreateUser(r.Context(), n)
	return u, generated, err
}

func (as *API) CreateUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if err := guard.DecodeJSON(r, &req); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	u, generated, err := as.AddUser(r, accounts.NewUser{Email: req.Email, Name: req.Name,
		Role: accounts.Role(req.Role), Department: req.Department, Password: req.Password})
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	resp := map[string]any{"user": u}
	if generated != "" {
		resp["password"] = generated
	}
	reply.JSON(w, http.StatusCreated, resp)
}

// CheckNotSelfDemotion keeps an admin from locking themselves out.
func (as *API) CheckNotSelfDemotion(r *http.Request, id int64, role accounts.Role, disabled bool) error {
	if me, ok := as.Guard.CurrentUser(r); ok && me.ID == id && (role != accounts.Admin || disabled) {
		return geoportal.Errorf(geoportal.EINVALID, "you cannot remove your own admin role or disable yourself; ask another admin")
	}
	return nil
}

func (as *API) UpdateUser(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	var req struct {
		Name       *string `json:"name"`
		Role       *string `json:"role"`
		Department *string `json:"department"`
		Disabled   *bool   `json:"disabled"`
	}
	if err := guard.DecodeJSON(r, &req); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	u, err := as.Accounts.User(r.Context(), id)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	role, dept, disabled := u.Role, u.Department, u.Disabled
	if req.Role != nil {
		role = accounts.Role(*req.Role)
		if role != accounts.DepartmentStaff && req.Department == nil {
			dept = ""
		}
	}
	if req.Department != nil {
		dept = *req.Department
	}
	if req.Disabled != nil {
		disabled = *req.Disabled
	}
	if err := as.CheckNotSelfDemotion(r, id, role, disabled); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if req.Name != nil {
		if u, err = as.Accounts.SetName(r.Context(), id, *req.Name); err != nil {
			as.Reply.Error(w, r, err)
			return
		}
	}
	if req.Role != nil || req.Department != nil {
		if u, err = as.Accounts.SetRole(r.Context(), id, role, dept); err != nil {
			as.Reply.Error(w, r, err)
			return
		}
	}
	if req.Disabled != nil {
		if u, err = as.Accounts.SetDisabled(r.Context(), id, disabled); err != nil {
			as.Reply.Error(w, r, err)
			return
		}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"user": u})
}

func (as *API) SetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	var req struct {
		Password string `json:"password"`
	}
	if err := guard.DecodeJSON(r, &req); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	generated := ""
	if req.Password == "" {
		req.Password = accounts.GeneratePassword()
		generated = req.Password
	}
	if err := as.Accounts.SetPassword(r.Context(), id, req.Password); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	resp := map[string]any{"status": "password_set", "sessions_revoked": true}
	if generated != "" {
		resp["password"] = generated
	}
	reply.JSON(w, http.StatusOK, resp)
}

func (as *API) RevokeSessions(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if _, err := as.Accounts.User(r.Context(), id); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	n, err := as.Accounts.RevokeUserSessions(r.Context(), id)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"revoked": n})
}

func (as *API) UserSessions(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	ss, err := as.Accounts.Sessions(r.Context(), id)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if ss == nil {
		ss = []accounts.Session{}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"sessions": ss})
}

func (as *API) Keys(w http.ResponseWriter, r *http.Request) {
	ks, err := as.Accounts.Keys(r.Context())
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if ks == nil {
		ks = []accounts.APIKey{}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"keys": ks})
}

// AddKey makes an API key; expires is a date or RFC 3339 time, empty for never.
func (as *API) AddKey(r *http.Request, userID int64, name string, scopes []string, expires string) (string, *accounts.APIKey, error) {
	sc, err := accounts.ParseScopes(strings.Join(scopes, ","))
	if err != nil {
		return "", nil, err
	}
	var exp *time.Time
	if expires != "" {
		t, err := parseTime("expires_at", expires)
		if err != nil {
			return "", nil, err
		}
		exp = &t
	}
	return as.Accounts.CreateKey(r.Context(), userID, name, sc, exp)
}

func (as *API) CreateKey(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID    int64    `json:"user_id"`
		Name      string   `json:"name"`
		Scopes    []string `json:"scopes"`
		ExpiresAt string   `json:"expires_at"`
	}
	if err := guard.DecodeJSON(r, &req); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	key, k, err := as.AddKey(r, req.UserID, req.Name, req.Scopes, req.ExpiresAt)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, map[string]any{"key": key, "api_key": k})
}

func (as *API) RevokeKey(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if err := as.Accounts.RevokeKey(r.Context(), id); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]string{"status": "revoked"})
}

func (as *API) Trackers(w http.ResponseWriter, r *http.Request) {
	ts, err := as.Accounts.Trackers(r.Context())
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if ts == nil {
		ts = []accounts.Tracker{}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"trackers": ts})
}

// SetTracker sets a tracker login's password, or with "open": true (and no password)
// marks the unit open: it then logs in with any password.
func (as *API) SetTracker(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
		Note     string `json:"note"`
		Open     bool   `json:"open"`
	}
	if err := guard.DecodeJSON(r, &req); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if err := as.SaveTracker(r, req.Login, req.Password, req.Note, req.Open); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"status": "saved", "login": req.Login, "open": req.Open})
}

// SaveTracker sets a tracker's password, or marks it open (then without a password).
func (as *API) SaveTracker(r *http.Request, login, password, note string, open bool) error {
	if !open {
		return as.Accounts.SetTrackerPassword(r.Context(), login, password, note)
	}
	if password != "" {
		return geoportal.Errorf(geoportal.EINVALID, "an open tracker has no password: send either a password or open")
	}
	return as.Accounts.SetTrackerOpen(r.Context(), login, note)
}

func (as *API) DeleteTracker(w http.ResponseWriter, r *http.Request) {
	if err := as.Accounts.DeleteTracker(r.Context(), chi.URLParam(r, "login")); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]string{"status": "deleted"})
}
