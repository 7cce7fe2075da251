package web

import (
	"errors"

	"net/http"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

// loginAccountKey is an account's key in the per-account login limiter.
func loginAccountKey(email string) string {
	key := strings.ToLower(strings.TrimSpace(email))
	if len(key) > 254 {
		key = key[:254]
	}
	return "account:" + key
}

// login applies the per-account rate limit, checks the password and starts a session, ending
// the session the request came with (no session fixation).
func (s *Server) login(r *http.Request, email, password string) (*accounts.User, string, *accounts.Session, error) {
	key := loginAccountKey(email)
	if ok, wait := s.guard.Limiter(guard.LimitLoginAccount).Allow(key); !ok {
		s.Logger.Warn("login rate limited", "account", key, "ip", s.guard.ClientIP(r))
		return nil, "", nil, geoportal.Errorf(geoportal.ERATELIMIT, "too many login attempts for this account; try again in %d s",
			int(wait.Seconds())+1)
	}
	ip := s.guard.ClientIP(r)
	u, err := s.Accounts.Authenticate(r.Context(), email, password, ip)
	if err != nil {
		if errors.Is(err, accounts.ErrBadLogin) {
			s.Logger.Warn("login failed", "ip", ip)
		}
		return nil, "", nil, err
	}
	if old := guard.SessionToken(r); old != "" {
		if err := s.Accounts.RevokeSession(r.Context(), old); err != nil {
			return nil, "", nil, err
		}
	}
	token, sess, err := s.Accounts.CreateSession(r.Context(), u.ID, ip, r.UserAgent())
	if err != nil {
		return nil, "", nil, err
	}
	s.Logger.Info("signed in", "user", u.Email, "role", u.Role, "ip", ip)
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

func (s *Server) handleAPILogin(w http.ResponseWriter, r *http.Request) {
	req, err := parseLoginJSON(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	u, token, sess, err := s.login(r, req.Email, req.Password)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	s.guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	reply.JSON(w, http.StatusOK, meResponse{User: u, CSRFToken: accounts.CSRFToken(token), ExpiresAt: &sess.ExpiresAt, Via: "session"})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if tok := guard.SessionToken(r); tok != "" {
		if err := s.Accounts.RevokeSession(r.Context(), tok); err != nil {
			return err
		}
	}
	s.guard.ClearCookie(w, r, guard.SessionCookie)
	return nil
}

func (s *Server) handleAPILogout(w http.ResponseWriter, r *http.Request) {
	if err := s.logout(w, r); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]string{"status": "signed_out"})
}

// handleMe answers who the caller is; {"user": null} for anonymous callers.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	u, err := s.guard.AuthUser(r)
	if err != nil {
		s.reply.Error(w, r, err)
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

// handleChangePassword lets a signed-in user change their own password: every session ends and
// this browser gets a new one. Checking the current password is a guess like a login: the route
// has the per-address login limit, and the account shares its login budget (guard.LimitLoginAccount),
// so a stolen session cannot try passwords faster than the sign-in form.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	u, ok := s.guard.CurrentUser(r)
	if !ok || u.Session == nil {
		s.guard.Refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in (with a session, not an API key) to change your password"))
		return
	}
	key := loginAccountKey(u.Email)
	if ok, wait := s.guard.Limiter(guard.LimitLoginAccount).Allow(key); !ok {
		s.guard.RefuseRateLimited(w, r, guard.LimitLoginAccount, key, wait)
		return
	}
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := guard.DecodeJSON(r, &req); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	if err := s.Accounts.ChangePassword(r.Context(), u.ID, req.Current, req.New); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	token, sess, err := s.Accounts.CreateSession(r.Context(), u.ID, s.guard.ClientIP(r), r.UserAgent())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	s.guard.SetSessionCookie(w, r, token, sess.ExpiresAt)
	reply.JSON(w, http.StatusOK, meResponse{User: u, CSRFToken: accounts.CSRFToken(token), ExpiresAt: &sess.ExpiresAt, Via: "session"})
}
