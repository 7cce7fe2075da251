package geoportal

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorfCutsLongValues(t *testing.T) {
	long := strings.Repeat("я", 10000) // 20,000 bytes, two per character
	args := []any{long, 7}
	e := Errorf(EINVALID, "bad value %q in field %d", args...)
	if len(e.Message) > 2*MaxEcho+50 {
		t.Errorf("message of %d bytes", len(e.Message))
	}
	if !strings.Contains(e.Message, "(20000 bytes)") || !strings.Contains(e.Message, "field 7") || !utf8.ValidString(e.Message) {
		t.Errorf("message %q", e.Message)
	}
	if args[0] != long {
		t.Error("the caller's arguments were changed")
	}
	if got := Errorf(EINVALID, "bad value %q", "short").Message; got != `bad value "short"` {
		t.Errorf("short value: %q", got)
	}
	if got := Errorf(EINVALID, "bad bytes %s", []byte(strings.Repeat("b", 500))).Message; !strings.Contains(got, "(500 bytes)") {
		t.Errorf("bytes: %q", got)
	}
}

func TestErrorMessageBounded(t *testing.T) {
	e := &Error{Code: EINVALID, Message: "invalid input syntax for type integer: \"" + strings.Repeat("9x", 10000) + "\""}
	want := fmt.Sprintf("(%d bytes)", len(e.Message))
	if got := ErrorMessage(e); len(got) > maxMessage+40 || !strings.HasSuffix(got, want) || !utf8.ValidString(got) {
		t.Errorf("message of %d bytes: %.80q…", len(got), got)
	}
}
