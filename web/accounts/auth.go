// Package accounts is the JSON API of sign-in and administration: /api/auth (sign in and out,
// who am I, change my password) and /api/admin (users, sessions, API keys, trackers, the audit
// log). The sign-in and admin pages (web/pages) do the same through the exported actions.
package accounts

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

// API serves the /api/auth and /api/admin routes; they are registered in web/routes.go.
type API struct {
	Accounts *accounts.Store
	// Guard says who is calling and holds the login limits; Reply writes error answers.
	Guard  *guard.Guard
	Reply  reply.Writer
	Logger *slog.Logger
}

// loginAccountKey is an account's key in the per-account login limiter.
func loginAccountKey(email string) string {
	key := strings.ToLower(strings.TrimSpace(email))
	if len(key) > 254 {
		key = key[:254]
	}
	return "account:" + key
}

// StartSession applies the per-account rate limit, checks the password and starts a session, ending
// the session the request came with (no session fixation).
func (as *API) StartSession(r *http.Request, email, password string) (*accounts.User, string, *accounts.Session, error) {
	key := loginAccountKey(email)
	if ok, wait := as.Guard.Limiter(guard.LimitLoginAccount).Allow(key); !ok {
		as.Logger.Warn("login rate limited", "account", key, "ip", as.Guard.ClientIP(r))
		return nil, "", nil, geoportal.Errorf(geoportal.ERATELIMIT, "too many login attempts for this account; try again in %d s",
			int(wait.Seconds())+1)
	}
	ip := as.Guard.ClientIP(r)
	u, err := as.Accounts.Authenticate(r.Context(), email, password, ip)
	if err != nil {
		if errors.Is(err, accounts.ErrBadLogin) {
			as.Logger.Warn("login failed", "ip", ip)
		}
		return nil, "", nil, err
	}
	if old := guard.SessionToken(r); old != "" {
		if err := as.Accounts.RevokeSession(r.Context(), old); err != nil {
			return nil, "", nil, err
		}
	}
	token, sess, err := as.Accounts.CreateSession(r.Context(), u.ID, ip, r.UserAgent())
	if err != nil {
		return nil, "", nil, err
	}
	as.Logger.Info("signed in", "user", u.Email, "role", u.Role, "ip", ip)
	return u, token, sess, nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// parseLoginJSON reads the body of POST /api/auth/login.
func parseLoginJSON(r *http.Request) (loginRequest, error) {
	var req loginRequest
	if err := guard.DecodeJSON(r, &req); err != nil {
		return req, err
	}
	if req.Email == "" || req.Password == "" {
		return req, geoportal.Errorf(geoportal.EINVALID, "email and password are required")
	}
	return req, nil
}

type meResponse struct {
	User      *accounts.User `json:"user"`
	CSRFToken string         `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time     `json:"expires_at,omitempty"`
	Via       string         `json:"via,omitempty"`
}

func (as *API) Login(w http.ResponseWriter, r *http.Request) {
	req, err := parseLoginJSON(r)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	u, token, sess, err := as.StartSession(r, req.Email, req.Password)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	as.Guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	reply.JSON(w, http.StatusOK, meResponse{User: u, CSRFToken: accounts.CSRFToken(token), ExpiresAt: &sess.ExpiresAt, Via: "session"})
}

// EndSession ends the request's session and clears its cookie.
func (as *API) EndSession(w http.ResponseWriter, r *http.Request) error {
	if tok := guard.SessionToken(r); tok != "" {
		if err := as.Accounts.RevokeSession(r.Context(), tok); err != nil {
			return err
		}
	}
	as.Guard.ClearCookie(w, r, guard.SessionCookie)
	return nil
}

func (as *API) Logout(w http.ResponseWriter, r *http.Request) {
	if err := as.EndSession(w, r); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]string{"status": "signed_out"})
}

// Me answers who the caller is; {"user": null} for anonymous callers.
func (as *API) Me(w http.ResponseWriter, r *http.Request) {
	u, err := as.Guard.AuthUser(r)
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	resp := meResponse{User: u}
	if u != nil && u.Session != nil {
		resp.CSRFToken = accounts.CSRFToken(guard.SessionToken(r))
		resp.ExpiresAt = &u.Session.ExpiresAt
		resp.Via = "session"
	} else if u != nil {
		resp.Via = "api_key"
	}
	reply.JSON(w, http.StatusOK, resp)
}

// ChangePassword lets a signed-in user change their own password: every session ends and
// this browser gets a new one. Checking the current password is a guess like a login: the route
// has the per-address login limit, and the account shares its login budget (guard.LimitLoginAccount),
// so a stolen session cannot try passwords faster than the sign-in form.
func (as *API) ChangePassword(w http.ResponseWriter, r *http.Request) {
	u, ok := as.Guard.CurrentUser(r)
	if !ok || u.Session == nil {
		as.Guard.Refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in (with a session, not an API key) to change your password"))
		return
	}
	key := loginAccountKey(u.Email)
	if ok, wait := as.Guard.Limiter(guard.LimitLoginAccount).Allow(key); !ok {
		as.Guard.RefuseRateLimited(w, r, guard.LimitLoginAccount, key, wait)
		return
	}
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := guard.DecodeJSON(r, &req); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	if err := as.Accounts.ChangePassword(r.Context(), u.ID, req.Current, req.New); err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	token, sess, err := as.Accounts.CreateSession(r.Context(), u.ID, as.Guard.ClientIP(r), r.UserAgent())
	if err != nil {
		as.Reply.Error(w, r, err)
		return
	}
	as.Guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	reply.JSON(w, http.StatusOK, meResponse{User: u, CSRFToken: accounts.CSRFToken(token), ExpiresAt: &sess.ExpiresAt, Via: "session"})
}
