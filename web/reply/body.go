package reply

import (
	"context"
	"net/http"
)

// Body is a request body that knows whether it was read to its end (guard.LimitBody puts one in
// every request's context with WithBody).
type Body interface {
	Drained() bool
}

type bodyKey struct{}

// WithBody records the request's body, for BodyUnread.
func WithBody(ctx context.Context, b Body) context.Context {
	return context.WithValue(ctx, bodyKey{}, b)
}

// BodyUnread reports whether r has a body that was not read to its end. An error answer to such
// a request closes the connection: otherwise net/http would read the rest of the body to keep
// the connection, and a client trickling it (a refused device key, say) would hold it.
func BodyUnread(r *http.Request) bool {
	b, ok := r.Context().Value(bodyKey{}).(Body)
	return ok && !b.Drained()
}
