// Package csvsafe writes CSV that a spreadsheet program opens without running anything: RFC 4180
// through encoding/csv, plus the guard against CSV (formula) injection that OWASP recommends.
// Every CSV the geoportal writes goes through its Writer.
//
//	w := csvsafe.NewWriter(out)
//	w.Write([]string{"id", "description"})
//	w.Write([]string{"7", `=HYPERLINK("http://evil.example")`}) // written as '=HYPERLINK(...)
//	err := w.Flush()
package csvsafe

import (
	"encoding/csv"
	"io"
)

// Writer is a CSV writer whose cells are guarded with Cell. Lines end in CRLF (RFC 4180).
type Writer struct {
	cw  *csv.Writer
	buf []string
}

// NewWriter returns a Writer on w. Call Flush when done.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Writer{cw: cw}
}

// Write writes one record, each cell guarded with Cell (rec itself is not changed).
func (w *Writer) Write(rec []string) error {
	w.buf = w.buf[:0]
	for _, c := range rec {
		w.buf = append(w.buf, Cell(c))
	}
	return w.cw.Write(w.buf)
}

// Flush writes buffered records out and returns the first error of any Write or of the flush.
func (w *Writer) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
}

// Cell returns v as it is safe to put in a spreadsheet cell: a value starting with =, +, -, @, a
// tab or a carriage return (which spreadsheet programs read as the start of a formula) gets a
// leading apostrophe, unless it is a plain number such as -12.5 or +3 or 1e-5, which a
// spreadsheet reads as that number and never as a formula. So numbers stay numbers whoever wrote
// them, and callers need not tell text columns from numeric ones.
func Cell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !plainNumber(v) {
			return "'" + v
		}
	}
	return v
}

// plainNumber reports whether s is a decimal number: an optional sign, digits with at most one
// point (at least one digit), and an optional exponent.
func plainNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, point := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point:
			point = true
		default:
			goto exponent
		}
	}
exponent:
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	exp := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		exp++
	}
	return exp > 0 && i == len(s)
}
