package reply

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"time"
)

// deadlineWriter is every answer's writer under the compressor (MoveWriteDeadline). Once the
// handler has called KeepWriting, each write moves the write deadline to the write timeout from
// now: a long answer (an export, a big page of features) goes on as long as the client keeps
// reading, and a client that stops reading is cut off after the timeout. It sits below the
// compressor, so the compressor's last writes, after the handler has returned, move the deadline
// too.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	on      bool
	moved   time.Time
}

type deadlineKey struct{}

// MoveWriteDeadline puts a deadlineWriter under every answer (when there is a write timeout).
func MoveWriteDeadline(timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if timeout <= 0 {
				next.ServeHTTP(w, r)
				return
			}
			dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout}
			next.ServeHTTP(dw, r.WithContext(context.WithValue(r.Context(), deadlineKey{}, dw)))
		})
	}
}

// KeepWriting lets the answer to r outlast the write timeout while the client keeps reading.
func KeepWriting(r *http.Request) {
	if dw, ok := r.Context().Value(deadlineKey{}).(*deadlineWriter); ok {
		dw.on = true
	}
}

func (dw *deadlineWriter) Write(p []byte) (int, error) {
	// Moved at most every second (a quarter of the timeout when that is shorter).
	if now := time.Now(); dw.on && now.Sub(dw.moved) > min(time.Second, dw.timeout/4) {
		dw.moved = now
		dw.rc.SetWriteDeadline(now.Add(dw.timeout)) // an error: the writer has no deadline to move
	}
	return dw.ResponseWriter.Write(p)
}

func (dw *deadlineWriter) Flush() { dw.rc.Flush() }

func (dw *deadlineWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return dw.rc.Hijack() }

func (dw *deadlineWriter) Unwrap() http.ResponseWriter { return dw.ResponseWriter }
