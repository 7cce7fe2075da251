package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

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

// StatusOf returns the HTTP status for err, as every error writer answers it (see classify).
func StatusOf(err error) int { return statusOf(geoportal.ErrorCode(classify(err))) }

// errDatabaseUnavailable is the answer when the database cannot be reached or a connection broke
// while a statement ran (a restart, pg_terminate_backend): a client may retry shortly.
var errDatabaseUnavailable = geoportal.Errorf(geoportal.EUNAVAILABLE, "database unavailable, retry shortly")

// classify returns err as a client is answered: a body past its limit is ETOOLARGE and a
// database that is down or dropped the connection is EUNAVAILABLE (the original error stays in
// the chain for the log). The one place, used by every error writer (JSON API, OGC, Open311,
// pages through StatusOf).
func classify(err error) error {
	if geoportal.ErrorCode(err) != geoportal.EINTERNAL {
		return err
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return errTooLarge(mbe.Limit) // a body past the limit set by s.limitBody / s.maxBody
	}
	if dbUnavailable(err) {
		return fmt.Errorf("%w: %w", errDatabaseUnavailable, err)
	}
	return err
}

// dbUnavailable reports whether err says the database was unreachable or the connection broke
// (as opposed to a statement the database refused).
func dbUnavailable(err error) bool {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now
			"53300",                                     // too_many_connections
			"08000", "08001", "08003", "08004", "08006": // connection exceptions
			return true
		}
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var opErr *net.OpError
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &opErr) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "closed pool")
}

// failed prepares an error answer for any face: it classifies err, gives a 503 a Retry-After
// (unless the handler set one), closes the connection right after the answer when the request
// body was not read to its end (so a client trickling a refused body does not keep it: net/http
// would wait to drain it until the read timeout), and logs.
// It returns the status, the domain code and the classified error.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error) (int, string, error) {
	err = classify(err)
	code := geoportal.ErrorCode(err)
	status := statusOf(code)
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "2")
	}
	if status >= 400 && bodyUnread(r) {
		// Connection: close alone is not enough: after the handler net/http still reads up to
		// 256 KiB of an unread body. A read deadline of now makes that read fail at once, so the
		// answer is sent and the connection closed (the handler reads nothing more).
		w.Header().Set("Connection", "close")
		http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	if status >= 500 {
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	} else {
		s.Logger.Debug("request refused", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	return status, code, err
}

// Error writes err as a JSON error body {"error": {"code", "message"}}. Internal errors are
// logged and shown as "internal error"; a client that went away is not an error.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	status, code, err := s.failed(w, r, err)
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
