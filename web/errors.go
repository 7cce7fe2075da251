package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5/pgconn"
)

var errPendingMigrations = geoportal.Errorf(geoportal.EUNAVAILABLE, "database has pending migrations")

// statusOf maps the domain error codes to HTTP statuses; the one place this mapping lives.
func statusOf(code string) int {
	switch code {
	case geoportal.EINVALID:
		return http.StatusBadRequest
	case geoportal.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case geoportal.EFORBIDDEN:
		return http.StatusForbidden
	case geoportal.ENOTFOUND:
		return http.StatusNotFound
	case geoportal.ECONFLICT:
		return http.StatusConflict
	case geoportal.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case geoportal.ERATELIMIT:
		return http.StatusTooManyRequests
	case geoportal.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// StatusOf returns the HTTP status for err.
func StatusOf(err error) int { return statusOf(geoportal.ErrorCode(err)) }

// Error writes err as a JSON error body {"error": {"code", "message"}}. Internal errors are
// logged and shown as "internal error"; a client that went away is not an error.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) && geoportal.ErrorCode(err) == geoportal.EINTERNAL {
		err = errTooLarge(mbe.Limit) // a body past the limit set by s.limitBody / s.maxBody
	}
	code := geoportal.ErrorCode(err)
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		// The database is restarting or down: a client may retry shortly.
		code, err = geoportal.EUNAVAILABLE, fmt.Errorf("%w: %w", geoportal.Errorf(geoportal.EUNAVAILABLE, "database unavailable, retry shortly"), err)
		w.Header().Set("Retry-After", "2")
	}
	status := statusOf(code)
	if status >= 500 {
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	} else {
		s.Logger.Debug("request refused", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{
		"code": code, "message": geoportal.ErrorMessage(err),
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}
