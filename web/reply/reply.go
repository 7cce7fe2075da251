// Package reply is how every face of the web server answers: the one mapping of an error to an
// HTTP status (Classify), the preparation every error answer goes through (Writer.Fail), the
// JSON API's error body and JSON encoding. A face writes its own error shape (OGC exception,
// Open311 errors, an HTML page) after Writer.Fail.
package reply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5/pgconn"
)

// Failure is an error as a client is answered.
type Failure struct {
	// Status is the HTTP status; Code the domain error code (geoportal.EINVALID, …).
	Status int
	Code   string
	// Err is the classified error: its geoportal.ErrorMessage is what the client reads, and the
	// original error stays in its chain for the log.
	Err error
	// RetryAfter is set for a 503: the database is down or restarting, a client may retry shortly.
	RetryAfter bool
	// Log says the failure is ours (a 5xx) and is logged as an error; refusals (4xx) are logged at
	// debug level.
	Log bool
	// Canceled says the client went away: nothing is answered and nothing logged.
	Canceled bool
}

// Classify turns err, met while answering a request whose context is ctx, into its answer. It is
// the one place where errors map to HTTP statuses: a body past its limit is 413, a database that
// is down or dropped the connection 503 with Retry-After, a canceled request nothing at all.
func Classify(ctx context.Context, err error) Failure {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return Failure{Status: 499, Code: geoportal.EINTERNAL, Err: err, Canceled: true}
	}
	err = classify(err)
	code := geoportal.ErrorCode(err)
	status := statusOf(code)
	return Failure{Status: status, Code: code, Err: err,
		RetryAfter: status == http.StatusServiceUnavailable, Log: status >= 500}
}

// Status returns the HTTP status err is answered with (Classify's, for a request not canceled).
func Status(err error) int { return Classify(context.Background(), err).Status }

// statusOf maps the domain error codes to HTTP statuses.
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

// ErrDatabaseUnavailable is the answer when the database cannot be reached or a connection broke
// while a statement ran (a restart, pg_terminate_backend): a client may retry shortly.
var ErrDatabaseUnavailable = geoportal.Errorf(geoportal.EUNAVAILABLE, "database unavailable, retry shortly")

// ErrTooLarge is the answer to a request body past limit bytes.
func ErrTooLarge(limit int64) error {
	return geoportal.Errorf(geoportal.ETOOLARGE, "request body is above the limit of %d bytes", limit)
}

// classify gives an internal error the code a client is answered with: a body past its limit is
// ETOOLARGE and a database that is down or dropped the connection is EUNAVAILABLE.
func classify(err error) error {
	if geoportal.ErrorCode(err) != geoportal.EINTERNAL {
		return err
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return ErrTooLarge(mbe.Limit)
	}
	if DatabaseUnavailable(err) {
		return fmt.Errorf("%w: %w", ErrDatabaseUnavailable, err)
	}
	return err
}

// DatabaseUnavailable reports whether err says the database was unreachable or the connection
// broke (as opposed to a statement the database refused).
func DatabaseUnavailable(err error) bool {
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

// Writer writes error answers and logs them. Its zero value logs nowhere.
type Writer struct {
	Logger *slog.Logger
}

// Fail prepares the error answer to r for any face: it classifies err, gives a 503 a
// Retry-After (unless the handler set one), closes the connection right after the answer when
// the request body was not read to its end (so a client trickling a refused body does not keep
// it: net/http would wait to drain it until the read timeout), and logs. The face then writes its
// body with the Failure's status; ok is false when the client went away and nothing is to be
// written.
func (rw Writer) Fail(w http.ResponseWriter, r *http.Request, err error) (f Failure, ok bool) {
	f = Classify(r.Context(), err)
	if f.Canceled {
		return f, false
	}
	if f.RetryAfter && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "2")
	}
	if BodyUnread(r) {
		// Connection: close alone is not enough: after the handler net/http still reads up to
		// 256 KiB of an unread body. A read deadline of now makes that read fail at once, so the
		// answer is sent and the connection closed (the handler reads nothing more).
		w.Header().Set("Connection", "close")
		http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	if logger := rw.Logger; logger != nil {
		if f.Log {
			logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", f.Err)
		} else {
			logger.Debug("request refused", "method", r.Method, "path", r.URL.Path, "error", f.Err)
		}
	}
	return f, true
}

// Error writes err as the JSON API's error body {"error": {"code", "message"}}. Internal errors
// are logged and shown as "internal error"; a client that went away is not answered.
func (rw Writer) Error(w http.ResponseWriter, r *http.Request, err error) {
	f, ok := rw.Fail(w, r, err)
	if !ok {
		return
	}
	JSON(w, f.Status, map[string]any{"error": map[string]string{
		"code": f.Code, "message": geoportal.ErrorMessage(f.Err),
	}})
}

// JSON writes v as a JSON answer with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// ETagMatches implements If-None-Match's weak comparison against etag.
func ETagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.TrimPrefix(c, "W/") == want {
			return true
		}
	}
	return false
}
