// Package geoportal holds the domain error type shared by every package of the Aktobe geoportal:
// one error with a code, mapped to an HTTP status in exactly one place (web.Error).
package geoportal

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error codes.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	ERATELIMIT    = "rate_limited"
	EUNAVAILABLE  = "unavailable"
)

// Error is an error a user may see: Message must be safe to show and name what is wrong.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message. A text argument longer
// than MaxEcho bytes is cut there (and its length said): a message names what is wrong, it does
// not echo a 20 KB bad value back to the client and into the log.
func Errorf(code, format string, args ...any) *Error {
	copied := false
	for i, a := range args {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		default:
			continue
		}
		if len(s) <= MaxEcho {
			continue
		}
		if !copied {
			args, copied = append([]any(nil), args...), true
		}
		args[i] = cutText(s)
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// MaxEcho is how many bytes of one value an error message repeats.
const MaxEcho = 200

// cutText is the first MaxEcho bytes of s (not splitting a character) and its length.
func cutText(s string) string {
	n := MaxEcho
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:n], len(s))
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for other errors,
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		if len(e.Message) > maxMessage {
			// Made outside Errorf (a database's text, say): bounded as a whole.
			n := maxMessage
			for n > 0 && !utf8.RuneStart(e.Message[n]) {
				n--
			}
			return fmt.Sprintf("%s… (%d bytes)", e.Message[:n], len(e.Message))
		}
		return e.Message
	}
	return "internal error"
}

// maxMessage bounds the whole message ErrorMessage returns.
const maxMessage = 1024
