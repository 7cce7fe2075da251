package guard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/web/reply"
)

// limitedBody is a request body that fails after limit bytes; the limit can be raised by a
// route (MaxBody) before the body is read.
type limitedBody struct {
	rc    io.ReadCloser
	w     http.ResponseWriter
	limit int64
	read  int64
	err   error
	eof   bool // the body was read to its end
}

func (b *limitedBody) Drained() bool { return b.eof }

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	remaining := b.limit - b.read
	if int64(len(p)) > remaining+1 {
		p = p[:remaining+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= remaining {
		b.read += int64(n)
		b.eof = b.eof || err == io.EOF
		return n, err
	}
	b.read = b.limit
	b.err = &http.MaxBytesError{Limit: b.limit}
	b.w.Header().Set("Connection", "close")
	return int(remaining), b.err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

type bodyLimitKey struct{}

// LimitBody bounds every request body to Config.MaxBodyBytes (default 1 MiB). Reading past the
// limit fails with *http.MaxBytesError, which every error writer answers with 413.
func (g *Guard) LimitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := g.config.MaxBodyBytes
		if limit <= 0 {
			limit = 1 << 20
		}
		if r.Body != nil && r.Body != http.NoBody {
			lb := &limitedBody{rc: r.Body, w: w, limit: limit}
			r.Body = lb
			ctx := reply.WithBody(r.Context(), lb)
			r = r.WithContext(context.WithValue(ctx, bodyLimitKey{}, lb))
		}
		next.ServeHTTP(w, r)
	})
}

// MaxBody raises (or lowers) the body limit of a route, e.g. r.With(g.MaxBody(200<<20)).Post(…)
// for uploads, and gives a raised limit the time to upload it. A declared Content-Length above
// the limit is refused at once.
func (g *Guard) MaxBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if lb, ok := r.Context().Value(bodyLimitKey{}).(*limitedBody); ok && lb.read == 0 {
				lb.limit = n
			}
			if g.upload != nil {
				g.upload(w, n)
			}
			if r.ContentLength > n {
				g.fail(w, r, geoportal.Errorf(geoportal.ETOOLARGE, "request body of %d bytes is above the limit of %d bytes", r.ContentLength, n))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// BodyError turns a body-reading error into the domain error to answer with.
func BodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return reply.ErrTooLarge(mbe.Limit)
	}
	return geoportal.Errorf(geoportal.EINVALID, "cannot read the request body: %v", err)
}

// DecodeJSON reads one JSON object from a request with Content-Type application/json into v,
// refusing unknown fields. Other content types are refused: a cross-site form cannot send them.
func DecodeJSON(r *http.Request, v any) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		return geoportal.Errorf(geoportal.EINVALID, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return reply.ErrTooLarge(mbe.Limit)
		}
		return geoportal.Errorf(geoportal.EINVALID, "request body is not the expected JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return geoportal.Errorf(geoportal.EINVALID, "request body has data after the JSON object")
	}
	return nil
}
