package csvsafe_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/internal/csvsafe"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`=HYPERLINK("http://evil.example")`, `'=HYPERLINK("http://evil.example")`},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"-", "'-"},
		{"-.", "'-."},
		{"-1e", "'-1e"},
		{"-1e5x", "'-1e5x"},
		{"--1", "'--1"},
		// plain numbers stay numbers
		{"-12.5", "-12.5"},
		{"+3", "+3"},
		{"-0.000001", "-0.000001"},
		{"-1.5e-7", "-1.5e-7"},
		{"-.5", "-.5"},
		// everything else is left alone
		{"", ""},
		{"12.5", "12.5"},
		{"Маресьева 3", "Маресьева 3"},
		{"a=b", "a=b"},
		{"'=already", "'=already"},
		{"POINT (57.1 50.2)", "POINT (57.1 50.2)"},
	} {
		if got := csvsafe.Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := csvsafe.NewWriter(&b)
	rec := []string{"7", "-12.5", `=HYPERLINK("http://evil.example")`, "a, \"b\"\nc"}
	w.Write([]string{"id", "value", "description", "note"})
	w.Write(rec)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if rec[2] != `=HYPERLINK("http://evil.example")` {
		t.Errorf("Write changed its argument: %q", rec[2])
	}
	if !strings.HasSuffix(b.String(), "\r\n") {
		t.Errorf("lines do not end in CRLF: %q", b.String())
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"7", "-12.5", `'=HYPERLINK("http://evil.example")`, "a, \"b\"\nc"}
	if len(rows) != 2 || strings.Join(rows[1], "|") != strings.Join(want, "|") {
		t.Errorf("read back %q, want %q", rows, want)
	}
}
