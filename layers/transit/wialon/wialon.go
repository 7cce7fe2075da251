// Package wialon decodes and answers the Wialon IPS 2.0 protocol spoken by GPS trackers over TCP:
// login (#L#), short and extended data (#SD#, #D#), black-box batches (#B#) and pings (#P#), each
// checked with its CRC16. It is pure: no network, no database.
//
//	p, err := wialon.Decode([]byte("#L#2.0;860000000000000;NA;46D4"))
//	if err != nil { conn.Write(wialon.ErrorReply(err)) }
package wialon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Packet types sent by trackers.
const (
	TypeLogin    = "L"
	TypeShort    = "SD"
	TypeData     = "D"
	TypeBlackBox = "B"
	TypePing     = "P"
)

// Answer codes of the login reply #AL#.
const (
	LoginOK            = "1"
	LoginRefused       = "0"
	LoginBadPassword   = "01"
	LoginChecksumError = "10"
)

// Answer codes of the data replies #ASD# and #AD#.
const (
	DataStructureError = "-1"
	DataTimeError      = "0"
	DataOK             = "1"
	DataCoordError     = "10"
	DataMotionError    = "11" // speed, course or altitude
	DataSatsError      = "12" // satellites (and HDOP in #D#)
	DataIOError        = "13" // inputs or outputs (#D# only)
	DataADCError       = "14" // #D# only
	DataParamsError    = "15" // #D# only
	// The checksum error is 13 for #SD# and 16 for #D#.
	ShortChecksumError = "13"
	DataChecksumError  = "16"
)

// MaxPacket is the longest packet Reader accepts; a black box of a few hundred extended messages fits.
const MaxPacket = 1 << 20

// MaxLoginPacket is the longest packet Reader accepts before a login (see Reader.SetMax): a
// login packet "#L#2.0;IMEI;PASSWORD;CRC" is well under it.
const MaxLoginPacket = 1 << 10

// ErrTooLong is returned by Reader for a packet longer than its limit (MaxPacket by default).
var ErrTooLong = errors.New("wialon: packet too long")

// Login is the content of a #L# packet.
type Login struct {
	Version  string // "2.0"
	IMEI     string // unit id: IMEI, serial number or any id set in the tracker
	Password string // "NA" when the tracker has none
}

// Fix is one position message (#SD#, #D# or one message of a #B#).
type Fix struct {
	// Time is UTC; zero when the tracker sent NA (the server then uses its own clock).
	Time     time.Time
	Lat, Lon float64
	HasPos   bool    // false when coordinates were NA
	Speed    float64 // km/h; NaN when NA
	Course   float64 // degrees; NaN when NA
	Alt      float64 // metres; NaN when NA
	Sats     int     // -1 when NA
	HDOP     float64 // NaN when NA or a short message
	Inputs   int64   // -1 when NA
	Outputs  int64   // -1 when NA
	ADC      []float64
	IButton  string
	Params   []Param
	Extended bool // decoded from the extended (#D#) layout
}

// Param is an additional parameter NAME:TYPE:VALUE of an extended message; Value is int64,
// float64 or string according to the type 1, 2 or 3.
type Param struct {
	Name  string
	Value any
}

// Packet is one decoded tracker packet.
type Packet struct {
	Type  string
	Login Login // TypeLogin
	Fixes []Fix // TypeShort and TypeData: one; TypeBlackBox: the messages that decoded
	// Rejected counts black-box messages that did not decode (they are not acknowledged).
	Rejected int
}

// Error is a packet the server must refuse; Reply is the protocol's answer to send back.
type Error struct {
	Type   string // packet type as sent ("" when even the frame is broken)
	Code   string // answer code
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("wialon: #%s# packet: %s", e.Type, e.Reason) }

// Reply is the answer packet for the refused packet.
func (e *Error) Reply() []byte {
	switch e.Type {
	case TypeLogin:
		return Reply("AL", e.Code)
	case TypeShort:
		return Reply("ASD", e.Code)
	case TypeData:
		return Reply("AD", e.Code)
	case TypeBlackBox:
		// A black box whose checksum fails is answered with an empty count.
		return Reply("AB", e.Code)
	}
	return nil
}

// ErrorReply returns the answer to send for a Decode error, or nil when the protocol has none
// (an unknown packet type or a broken frame: the server stays silent).
func ErrorReply(err error) []byte {
	var e *Error
	if errors.As(err, &e) {
		return e.Reply()
	}
	return nil
}

// Reply formats a server answer "#TYPE#code\r\n".
func Reply(typ, code string) []byte {
	return []byte("#" + typ + "#" + code + "\r\n")
}

// Ack is the success answer to p: #AL#1, #ASD#1, #AD#1, #AB#n (n messages stored) or #AP#.
func (p *Packet) Ack(stored int) []byte {
	switch p.Type {
	case TypeLogin:
		return Reply("AL", LoginOK)
	case TypeShort:
		return Reply("ASD", DataOK)
	case TypeData:
		return Reply("AD", DataOK)
	case TypeBlackBox:
		return Reply("AB", strconv.Itoa(stored))
	case TypePing:
		return Reply("AP", "")
	}
	return nil
}

// CRC16 is the protocol's checksum: CRC-16/ARC (polynomial 0x8005 reflected, initial value 0).
func CRC16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c ^= uint16(x)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
	}
	return c
}

// Reader splits a TCP stream into packets ending in \r\n. It holds a 4 KiB buffer; a longer
// packet is assembled in a buffer of its own that the caller owns once Next returns, so nothing
// larger than the 4 KiB is held between packets.
type Reader struct {
	r   *bufio.Reader
	max int
}

// NewReader reads packets of at most MaxPacket bytes from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 4<<10), max: MaxPacket} }

// SetMax sets the longest packet Next accepts (at most MaxPacket), e.g. MaxLoginPacket until
// the tracker has logged in.
func (r *Reader) SetMax(n int) {
	if n <= 0 || n > MaxPacket {
		n = MaxPacket
	}
	r.max = n
}

// Wait blocks until the first byte of the next packet is there (or the read fails), so the
// caller can give the packet itself a deadline of its own.
func (r *Reader) Wait() error {
	_, err := r.r.Peek(1)
	return err
}

// Next returns the next packet without its \r\n. A packet longer than the limit returns
// ErrTooLong as soon as that many bytes arrived without a \n (the stream cannot be
// resynchronised reliably; close the connection).
func (r *Reader) Next() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		if len(buf)+len(chunk) > r.max {
			return nil, ErrTooLong
		}
		if err == bufio.ErrBufferFull {
			buf = append(buf, chunk...)
			continue
		}
		if err != nil {
			if err == io.EOF && len(buf)+len(chunk) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if buf != nil {
			buf = append(buf, chunk...)
		} else {
			buf = append([]byte(nil), chunk...)
		}
		buf = bytes.TrimRight(buf, "\r\n")
		return buf, nil
	}
}

// Decode parses one packet (with or without the trailing \r\n). A packet the server must
// refuse returns an *Error whose Reply is the protocol's answer.
func Decode(b []byte) (*Packet, error) {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) < 3 || b[0] != '#' {
		return nil, &Error{Reason: "a packet starts with #TYPE#"}
	}
	end := bytes.IndexByte(b[1:], '#')
	if end < 0 {
		return nil, &Error{Reason: "no # after the packet type"}
	}
	typ := string(b[1 : 1+end])
	msg := b[2+end:]
	switch typ {
	case TypePing:
		return &Packet{Type: TypePing}, nil
	case TypeLogin:
		return decodeLogin(msg)
	case TypeShort, TypeData:
		return decodeData(typ, msg)
	case TypeBlackBox:
		return decodeBlackBox(msg)
	}
	if len(typ) > 8 {
		typ = typ[:8]
	}
	return nil, &Error{Type: typ, Reason: "unsupported packet type"}
}

// splitCRC checks that msg ends in ";XXXX" or "|XXXX" (hex CRC16 over everything before XXXX,
// separator included) and returns the body before the separator. The checksum is 1 to 4 hex
// digits in either case, optionally after "0x": the protocol document writes 4 upper-case
// digits, but real trackers also send "0x9b0" (Traccar's WialonProtocolDecoderTest has one).
func splitCRC(msg []byte, sep byte) ([]byte, bool, error) {
	i := bytes.LastIndexByte(msg, sep)
	if i < 0 {
		return nil, false, errors.New("no checksum field")
	}
	digits := msg[i+1:]
	if len(digits) > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') {
		digits = digits[2:]
	}
	if len(digits) == 0 || len(digits) > 4 || !isHex(digits) {
		return nil, false, fmt.Errorf("checksum %q is not 1 to 4 hex digits", clip(msg[i+1:]))
	}
	sum, _ := strconv.ParseUint(string(digits), 16, 16)
	return msg[:i], CRC16(msg[:i+1]) == uint16(sum), nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func clip(b []byte) string {
	if len(b) > 16 {
		return string(b[:16]) + "…"
	}
	return string(b)
}

func decodeLogin(msg []byte) (*Packet, error) {
	f := strings.Split(string(msg), ";")
	if len(f) != 4 {
		// Version 1.1 logins (#L#imei;password) carry no checksum and are not accepted.
		return nil, &Error{Type: TypeLogin, Code: LoginRefused, Reason: fmt.Sprintf("want 2.0;imei;password;crc16, got %d fields", len(f))}
	}
	body, ok, err := splitCRC(msg, ';')
	if err != nil {
		return nil, &Error{Type: TypeLogin, Code: LoginChecksumError, Reason: err.Error()}
	}
	if !ok {
		return nil, &Error{Type: TypeLogin, Code: LoginChecksumError, Reason: "checksum mismatch"}
	}
	f = strings.Split(string(body), ";")
	if f[0] != "2.0" {
		return nil, &Error{Type: TypeLogin, Code: LoginRefused, Reason: fmt.Sprintf("protocol version %q is not 2.0", clip([]byte(f[0])))}
	}
	if f[1] == "" || len(f[1]) > 64 {
		return nil, &Error{Type: TypeLogin, Code: LoginRefused, Reason: "unit id must have 1 to 64 characters"}
	}
	return &Packet{Type: TypeLogin, Login: Login{Version: f[0], IMEI: f[1], Password: f[2]}}, nil
}

func decodeData(typ string, msg []byte) (*Packet, error) {
	crcCode := ShortChecksumError
	if typ == TypeData {
		crcCode = DataChecksumError
	}
	body, ok, err := splitCRC(msg, ';')
	if err != nil {
		return nil, &Error{Type: typ, Code: DataStructureError, Reason: err.Error()}
	}
	if !ok {
		return nil, &Error{Type: typ, Code: crcCode, Reason: "checksum mismatch"}
	}
	fix, code, err := decodeFix(strings.Split(string(body), ";"), typ == TypeData)
	if err != nil {
		return nil, &Error{Type: typ, Code: code, Reason: err.Error()}
	}
	return &Packet{Type: typ, Fixes: []Fix{fix}}, nil
}

func decodeBlackBox(msg []byte) (*Packet, error) {
	body, ok, err := splitCRC(msg, '|')
	if err != nil || !ok {
		reason := "checksum mismatch"
		if err != nil {
			reason = err.Error()
		}
		return nil, &Error{Type: TypeBlackBox, Code: "", Reason: reason}
	}
	p := &Packet{Type: TypeBlackBox}
	for _, m := range strings.Split(string(body), "|") {
		f := strings.Split(m, ";")
		var fix Fix
		switch len(f) {
		case 10:
			fix, _, err = decodeFix(f, false)
		case 16:
			fix, _, err = decodeFix(f, true)
		default:
			err = errors.New("structure")
		}
		if err != nil {
			p.Rejected++
			continue
		}
		p.Fixes = append(p.Fixes, fix)
	}
	return p, nil
}

const na = "NA"

// decodeFix decodes the 10 fields of a short message or the 16 of an extended one.
func decodeFix(f []string, extended bool) (Fix, string, error) {
	want := 10
	if extended {
		want = 16
	}
	if len(f) != want {
		return Fix{}, DataStructureError, fmt.Errorf("want %d fields, got %d", want, len(f))
	}
	fix := Fix{Speed: math.NaN(), Course: math.NaN(), Alt: math.NaN(), HDOP: math.NaN(), Sats: -1,
		Inputs: -1, Outputs: -1, Extended: extended}
	if f[0] != na || f[1] != na {
		t, err := parseTime(f[0], f[1])
		if err != nil {
			return Fix{}, DataTimeError, err
		}
		fix.Time = t
	}
	if f[2] != na || f[4] != na {
		lat, err := parseCoord(f[2], f[3], 2, "N", "S", 90)
		if err != nil {
			return Fix{}, DataCoordError, fmt.Errorf("latitude: %w", err)
		}
		lon, err := parseCoord(f[4], f[5], 3, "E", "W", 180)
		if err != nil {
			return Fix{}, DataCoordError, fmt.Errorf("longitude: %w", err)
		}
		fix.Lat, fix.Lon, fix.HasPos = lat, lon, true
	}
	var err error
	if fix.Speed, err = parseNum(f[6], 0, 2000); err != nil {
		return Fix{}, DataMotionError, fmt.Errorf("speed: %w", err)
	}
	if fix.Course, err = parseNum(f[7], 0, 360); err != nil {
		return Fix{}, DataMotionError, fmt.Errorf("course: %w", err)
	}
	if fix.Alt, err = parseNum(f[8], -1000, 100000); err != nil {
		return Fix{}, DataMotionError, fmt.Errorf("altitude: %w", err)
	}
	if f[9] != na {
		n, err := strconv.Atoi(f[9])
		if err != nil || n < 0 || n > 1000 {
			return Fix{}, DataSatsError, fmt.Errorf("satellites %q is not a count", clip([]byte(f[9])))
		}
		fix.Sats = n
	}
	if !extended {
		return fix, DataOK, nil
	}
	if fix.HDOP, err = parseNum(f[10], 0, 1000); err != nil {
		return Fix{}, DataSatsError, fmt.Errorf("hdop: %w", err)
	}
	for i, dst := range []*int64{&fix.Inputs, &fix.Outputs} {
		if f[11+i] == na {
			continue
		}
		n, err := strconv.ParseInt(f[11+i], 10, 64)
		if err != nil || n < 0 {
			return Fix{}, DataIOError, fmt.Errorf("inputs/outputs %q is not a bit mask", clip([]byte(f[11+i])))
		}
		*dst = n
	}
	if f[13] != "" && f[13] != na {
		for _, a := range strings.Split(f[13], ",") {
			v, err := strconv.ParseFloat(a, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return Fix{}, DataADCError, fmt.Errorf("adc %q is not a number", clip([]byte(a)))
			}
			fix.ADC = append(fix.ADC, v)
		}
	}
	if f[14] != na {
		fix.IButton = f[14]
	}
	if f[15] != "" && f[15] != na {
		for _, p := range strings.Split(f[15], ",") {
			name, rest, ok1 := strings.Cut(p, ":")
			typ, val, ok2 := strings.Cut(rest, ":")
			if !ok1 || !ok2 || name == "" {
				return Fix{}, DataParamsError, fmt.Errorf("parameter %q is not NAME:TYPE:VALUE", clip([]byte(p)))
			}
			var v any
			var err error
			switch typ {
			case "1":
				v, err = strconv.ParseInt(val, 10, 64)
			case "2":
				var x float64
				x, err = strconv.ParseFloat(val, 64)
				v = x
			case "3":
				v = val
			default:
				err = errors.New("type")
			}
			if err != nil {
				return Fix{}, DataParamsError, fmt.Errorf("parameter %q has a bad type or value", clip([]byte(name)))
			}
			fix.Params = append(fix.Params, Param{Name: name, Value: v})
		}
	}
	return fix, DataOK, nil
}

func parseTime(d, t string) (time.Time, error) {
	if len(d) != 6 || len(t) < 6 {
		return time.Time{}, fmt.Errorf("date %q time %q are not DDMMYY and HHMMSS", clip([]byte(d)), clip([]byte(t)))
	}
	var n [6]int
	for i := range 3 {
		a, err1 := strconv.Atoi(d[2*i : 2*i+2])
		b, err2 := strconv.Atoi(t[2*i : 2*i+2])
		if err1 != nil || err2 != nil || a < 0 || b < 0 {
			return time.Time{}, fmt.Errorf("date %q time %q are not DDMMYY and HHMMSS", clip([]byte(d)), clip([]byte(t)))
		}
		n[i], n[3+i] = a, b
	}
	var nsec int
	if len(t) > 6 {
		// Version 2.1 allows HHMMSS.nnnnnnnnn.
		if t[6] != '.' || len(t) > 16 {
			return time.Time{}, fmt.Errorf("time %q is not HHMMSS", clip([]byte(t)))
		}
		frac := t[7:] + strings.Repeat("0", 9-len(t[7:]))
		v, err := strconv.Atoi(frac)
		if err != nil || v < 0 {
			return time.Time{}, fmt.Errorf("time %q is not HHMMSS", clip([]byte(t)))
		}
		nsec = v
	}
	day, mon, yr, hh, mm, ss := n[0], n[1], 2000+n[2], n[3], n[4], n[5]
	if mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, fmt.Errorf("date %q time %q out of range", d, t)
	}
	tm := time.Date(yr, time.Month(mon), day, hh, mm, ss, nsec, time.UTC)
	if tm.Day() != day {
		return time.Time{}, fmt.Errorf("date %q does not exist", d)
	}
	return tm, nil
}

// parseCoord parses DDMM.MMMM (latitude, degDigits 2) or DDDMM.MMMM (longitude, 3). The minutes
// are always the two digits before the dot; the degrees may come without their leading zeros
// ("3644.670410" for 36°44.67', as a real tracker in Traccar's WialonProtocolDecoderTest sends).
func parseCoord(v, hemi string, degDigits int, pos, neg string, limit float64) (float64, error) {
	dot := strings.IndexByte(v, '.')
	if dot < 0 {
		dot = len(v)
	}
	if dot < 3 || dot > degDigits+2 || strings.ContainsAny(v, "+-eE") {
		return 0, fmt.Errorf("%q is not in degrees and minutes", clip([]byte(v)))
	}
	deg, err1 := strconv.Atoi(v[:dot-2])
	min, err2 := strconv.ParseFloat(v[dot-2:], 64)
	if err1 != nil || err2 != nil || min >= 60 {
		return 0, fmt.Errorf("%q is not in degrees and minutes", clip([]byte(v)))
	}
	x := float64(deg) + min/60
	if x > limit {
		return 0, fmt.Errorf("%q is beyond %g degrees", v, limit)
	}
	switch hemi {
	case pos:
	case neg:
		x = -x
	default:
		return 0, fmt.Errorf("hemisphere %q is not %s or %s", clip([]byte(hemi)), pos, neg)
	}
	return x, nil
}

func parseNum(v string, lo, hi float64) (float64, error) {
	if v == na {
		return math.NaN(), nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || x < lo || x > hi {
		return 0, fmt.Errorf("%q is not a number in [%g, %g]", clip([]byte(v)), lo, hi)
	}
	return x, nil
}

// EncodeLogin builds a #L# packet (with \r\n) as a tracker sends it; used by simulators and tests.
func EncodeLogin(imei, password string) []byte {
	if password == "" {
		password = na
	}
	return withCRC("L", "2.0;"+imei+";"+password+";")
}

// EncodeData builds a #D# packet (extended message, no I/O) for fix; HasPos false sends NA.
func EncodeData(f Fix) []byte { return withCRC("D", formatFix(f, true)+";") }

// EncodeShort builds a #SD# packet for fix.
func EncodeShort(f Fix) []byte { return withCRC("SD", formatFix(f, false)+";") }

// EncodeBlackBox builds a #B# packet of extended messages.
func EncodeBlackBox(fixes []Fix) []byte {
	var sb strings.Builder
	for _, f := range fixes {
		sb.WriteString(formatFix(f, true))
		sb.WriteByte('|')
	}
	return withCRC("B", sb.String())
}

func withCRC(typ, body string) []byte {
	return []byte(fmt.Sprintf("#%s#%s%04X\r\n", typ, body, CRC16([]byte(body))))
}

func formatFix(f Fix, extended bool) string {
	num := func(x float64, prec int) string {
		if math.IsNaN(x) {
			return na
		}
		return strconv.FormatFloat(x, 'f', prec, 64)
	}
	var sb strings.Builder
	if f.Time.IsZero() {
		sb.WriteString("NA;NA;")
	} else {
		t := f.Time.UTC()
		sb.WriteString(t.Format("020106;150405;"))
	}
	if f.HasPos {
		lat, ns := f.Lat, "N"
		if lat < 0 {
			lat, ns = -lat, "S"
		}
		lon, ew := f.Lon, "E"
		if lon < 0 {
			lon, ew = -lon, "W"
		}
		// Round to whole 1/10000 minutes first so that 59.99999' never prints as 60.0000'.
		latm, lonm := math.Round(lat*600000), math.Round(lon*600000)
		fmt.Fprintf(&sb, "%02d%07.4f;%s;%03d%07.4f;%s;", int(latm/600000), math.Mod(latm, 600000)/10000, ns,
			int(lonm/600000), math.Mod(lonm, 600000)/10000, ew)
	} else {
		sb.WriteString("NA;NA;NA;NA;")
	}
	sats := na
	if f.Sats >= 0 {
		sats = strconv.Itoa(f.Sats)
	}
	sb.WriteString(num(f.Speed, 0) + ";" + num(f.Course, 0) + ";" + num(f.Alt, 0) + ";" + sats)
	if extended {
		sb.WriteString(";" + num(f.HDOP, 1) + ";NA;NA;;NA;")
		for i, p := range f.Params {
			if i > 0 {
				sb.WriteByte(',')
			}
			switch v := p.Value.(type) {
			case int64:
				fmt.Fprintf(&sb, "%s:1:%d", p.Name, v)
			case float64:
				fmt.Fprintf(&sb, "%s:2:%s", p.Name, strconv.FormatFloat(v, 'f', -1, 64))
			default:
				fmt.Fprintf(&sb, "%s:3:%v", p.Name, v)
			}
		}
	}
	return sb.String()
}
