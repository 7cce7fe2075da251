package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// An SMS gateway that is not built in is refused before anything starts.
func TestServeRefusesUnknownSMSGateway(t *testing.T) {
	err := run(context.Background(), []string{"serve", "-sms", "fax"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `-sms "fax"`) {
		t.Fatalf("serve -sms fax = %v", err)
	}
}

// Bad Wialon and live-stream limits are refused before anything starts, naming the flag.
func TestServeRefusesBadTransitLimits(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-wialon-login-failures-per-addr", "lots"}, nil, "-wialon-login-failures-per-addr"},
		{[]string{"-wialon-login-timeout", "10ms"}, nil, "-wialon-login-timeout"},
		{nil, map[string]string{"GEOPORTAL_WIALON_MAX_CONNS_PER_ADDR": "many"}, "GEOPORTAL_WIALON_MAX_CONNS_PER_ADDR"},
		{[]string{"-live-max-per-client", "-1"}, nil, "limits must be 0"},
	} {
		err := run(context.Background(), append([]string{"serve"}, tc.args...), func(k string) string { return tc.env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %v %v = %v, want an error naming %s", tc.args, tc.env, err, tc.want)
		}
	}
}
