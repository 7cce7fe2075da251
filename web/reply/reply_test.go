package reply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/aktobe/geoportal"
)

func TestClassify(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name       string
		ctx        context.Context
		err        error
		status     int
		retryAfter bool
		log        bool
		gone       bool
	}{
		{"database down", context.Background(), fmt.Errorf("layers: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), 503, true, true, false},
		{"body too large", context.Background(), fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, false, false, false},
		{"not found", context.Background(), geoportal.Errorf(geoportal.ENOTFOUND, "no layer x"), 404, false, false, false},
		{"forbidden", context.Background(), geoportal.Errorf(geoportal.EFORBIDDEN, "staff only"), 403, false, false, false},
		{"canceled by the client", canceled, fmt.Errorf("query: %w", context.Canceled), 499, false, false, true},
		{"canceled, client still there", context.Background(), context.Canceled, 500, false, true, false},
		{"internal", context.Background(), errors.New("boom"), 500, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Classify(tc.ctx, tc.err)
			if f.Status != tc.status || f.RetryAfter != tc.retryAfter || f.Log != tc.log || f.Canceled != tc.gone {
				t.Errorf("Classify = %+v; want status %d, Retry-After %v, log %v, canceled %v", f, tc.status, tc.retryAfter, tc.log, tc.gone)
			}
		})
	}
}
