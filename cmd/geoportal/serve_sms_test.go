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
