package wialon

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// Sample packets as real trackers and third-party Wialon clients send them; their checksums were
// computed by those clients, so they check CRC16 byte for byte.
var (
	sampleLogin     = "#L#2.0;355217044956192;NA;E335\r\n"
	sampleLogin2    = "#L#2.0;860000000000000;NA;46D4\r\n"
	sampleData      = "#D#010125;112233;5128.199596;N;00000.122544;E;0;0;0;0;0;0;NA;;NA;example1:1:0,example2:2:0.12,example3:1:123;72D3\r\n"
	sampleBlackBox1 = "#B#231117;214323;5730.9016;N;05306.8536;E;0;174;182;18;NA;NA;NA;;NA;tamper_1:1:0|B16A\r\n"
)

func TestCRC16(t *testing.T) {
	for _, tc := range []struct {
		body string
		want uint16
	}{
		{"2.0;355217044956192;NA;", 0xE335},
		{"2.0;860000000000000;NA;", 0x46D4},
		{"2.0;868204002602414;NA;", 0x8E08},
		{"2.0;12345;NA;", 0x5FEC},
		{"123456789", 0xBB3D}, // the CRC-16/ARC check value
	} {
		if got := CRC16([]byte(tc.body)); got != tc.want {
			t.Errorf("CRC16(%q) = %04X, want %04X", tc.body, got, tc.want)
		}
	}
}

func TestDecodeLogin(t *testing.T) {
	for _, s := range []string{sampleLogin, sampleLogin2} {
		p, err := Decode([]byte(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if p.Type != TypeLogin || p.Login.Version != "2.0" || p.Login.Password != "NA" {
			t.Errorf("%q: %+v", s, p)
		}
		if got := string(p.Ack(0)); got != "#AL#1\r\n" {
			t.Errorf("ack %q", got)
		}
	}
	p, _ := Decode([]byte(sampleLogin))
	if p.Login.IMEI != "355217044956192" {
		t.Errorf("imei %q", p.Login.IMEI)
	}
	// Our encoder produces the same bytes as the tracker.
	if got := string(EncodeLogin("355217044956192", "")); got != sampleLogin {
		t.Errorf("EncodeLogin = %q, want %q", got, sampleLogin)
	}
}

func TestDecodeData(t *testing.T) {
	p, err := Decode([]byte(sampleData))
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != TypeData || len(p.Fixes) != 1 {
		t.Fatalf("%+v", p)
	}
	f := p.Fixes[0]
	if want := time.Date(2025, 1, 1, 11, 22, 33, 0, time.UTC); !f.Time.Equal(want) {
		t.Errorf("time %v, want %v", f.Time, want)
	}
	if math.Abs(f.Lat-(51+28.199596/60)) > 1e-9 || math.Abs(f.Lon-0.122544/60) > 1e-9 || !f.HasPos {
		t.Errorf("position %v %v", f.Lat, f.Lon)
	}
	if f.Speed != 0 || f.Sats != 0 || f.HDOP != 0 || f.Inputs != 0 || f.Outputs != -1 {
		t.Errorf("fields %+v", f)
	}
	if len(f.Params) != 3 || f.Params[0] != (Param{"example1", int64(0)}) || f.Params[1] != (Param{"example2", 0.12}) ||
		f.Params[2] != (Param{"example3", int64(123)}) {
		t.Errorf("params %+v", f.Params)
	}
	if got := string(p.Ack(1)); got != "#AD#1\r\n" {
		t.Errorf("ack %q", got)
	}
}

func TestDecodeBlackBox(t *testing.T) {
	p, err := Decode([]byte(sampleBlackBox1))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Fixes) != 1 || p.Rejected != 0 {
		t.Fatalf("%+v", p)
	}
	f := p.Fixes[0]
	if want := time.Date(2017, 11, 23, 21, 43, 23, 0, time.UTC); !f.Time.Equal(want) { // DDMMYY
		t.Errorf("time %v", f.Time)
	}
	if math.Abs(f.Lat-(57+30.9016/60)) > 1e-9 || math.Abs(f.Lon-(53+6.8536/60)) > 1e-9 || f.Course != 174 || f.Alt != 182 || f.Sats != 18 {
		t.Errorf("fix %+v", f)
	}
	if got := string(p.Ack(len(p.Fixes))); got != "#AB#1\r\n" {
		t.Errorf("ack %q", got)
	}

	// A mixed black box: short and extended messages, one broken message that is not acknowledged.
	body := "251126;101500;5017.0000;N;05710.0000;E;20;90;200;9|" +
		"251126;101501;5017.0010;N;05710.0100;E;21;91;200;9;1.2;NA;NA;;NA;|" +
		"251126;101502;BAD|"
	pkt := "#B#" + body + hex4(CRC16([]byte(body))) + "\r\n"
	p, err = Decode([]byte(pkt))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Fixes) != 2 || p.Rejected != 1 || p.Fixes[0].Extended || !p.Fixes[1].Extended {
		t.Fatalf("%+v", p)
	}
	if got := string(p.Ack(2)); got != "#AB#2\r\n" {
		t.Errorf("ack %q", got)
	}
}

func hex4(v uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

func TestDecodeShortAndPing(t *testing.T) {
	body := "251126;080000;5017.1234;N;05710.5678;E;35;180;210;11;"
	p, err := Decode([]byte("#SD#" + body + hex4(CRC16([]byte(body)))))
	if err != nil {
		t.Fatal(err)
	}
	f := p.Fixes[0]
	if f.Speed != 35 || f.Course != 180 || f.Sats != 11 || !math.IsNaN(f.HDOP) || math.Abs(f.Lat-(50+17.1234/60)) > 1e-9 {
		t.Errorf("%+v", f)
	}
	if got := string(p.Ack(1)); got != "#ASD#1\r\n" {
		t.Errorf("ack %q", got)
	}
	p, err = Decode([]byte("#P#\r\n"))
	if err != nil || string(p.Ack(0)) != "#AP#\r\n" {
		t.Errorf("ping: %v %q", err, p.Ack(0))
	}
	// NA time and position are allowed.
	body = "NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;"
	p, err = Decode([]byte("#SD#" + body + hex4(CRC16([]byte(body)))))
	if err != nil || !p.Fixes[0].Time.IsZero() || p.Fixes[0].HasPos {
		t.Errorf("NA: %v %+v", err, p)
	}
}

func TestBadPackets(t *testing.T) {
	sd := func(body string) string { return "#SD#" + body + hex4(CRC16([]byte(body))) }
	d := func(body string) string { return "#D#" + body + hex4(CRC16([]byte(body))) }
	for _, tc := range []struct {
		name, pkt, reply string
	}{
		{"login crc", "#L#2.0;355217044956192;NA;E336", "#AL#10\r\n"},
		{"login no crc", "#L#2.0;355217044956192;NA;", "#AL#10\r\n"},
		{"login v1.1", "#L#355217044956192;NA", "#AL#0\r\n"},
		{"login version", "#L#" + "3.0;1;NA;" + hex4(CRC16([]byte("3.0;1;NA;"))), "#AL#0\r\n"},
		{"data crc", strings.Replace(sampleData, "72D3", "72D4", 1), "#AD#16\r\n"},
		{"short crc", "#SD#251126;080000;5017.1234;N;05710.5678;E;35;180;210;11;0000", "#ASD#13\r\n"},
		{"short structure", sd("251126;080000;5017.1234;N;"), "#ASD#-1\r\n"},
		{"short time", sd("321326;080000;5017.1234;N;05710.5678;E;35;180;210;11;"), "#ASD#0\r\n"},
		{"short lat", sd("251126;080000;9917.1234;N;05710.5678;E;35;180;210;11;"), "#ASD#10\r\n"},
		{"short hemisphere", sd("251126;080000;5017.1234;Q;05710.5678;E;35;180;210;11;"), "#ASD#10\r\n"},
		{"short speed", sd("251126;080000;5017.1234;N;05710.5678;E;fast;180;210;11;"), "#ASD#11\r\n"},
		{"short sats", sd("251126;080000;5017.1234;N;05710.5678;E;35;180;210;-2;"), "#ASD#12\r\n"},
		{"data hdop", d("251126;080000;5017.1234;N;05710.5678;E;35;180;210;11;x;NA;NA;;NA;;"), "#AD#12\r\n"},
		{"data inputs", d("251126;080000;5017.1234;N;05710.5678;E;35;180;210;11;1;x;NA;;NA;;"), "#AD#13\r\n"},
		{"data adc", d("251126;080000;5017.1234;N;05710.5678;E;35;180;210;11;1;NA;NA;1.5,zz;NA;;"), "#AD#14\r\n"},
		{"data params", d("251126;080000;5017.1234;N;05710.5678;E;35;180;210;11;1;NA;NA;;NA;fuel:9:1;"), "#AD#15\r\n"},
		{"blackbox crc", strings.Replace(sampleBlackBox1, "B16A", "B16B", 1), "#AB#\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.pkt))
			if err == nil {
				t.Fatalf("decoded %q", tc.pkt)
			}
			if got := string(ErrorReply(err)); got != tc.reply {
				t.Errorf("reply %q, want %q (%v)", got, tc.reply, err)
			}
		})
	}
	for _, s := range []string{"", "garbage", "#", "#XYZ#1;2", "#L", "#Q#\r\n"} {
		if _, err := Decode([]byte(s)); err == nil || ErrorReply(err) != nil {
			t.Errorf("%q: err %v reply %q, want an error without reply", s, err, ErrorReply(err))
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	f := Fix{Time: time.Date(2026, 11, 25, 9, 30, 15, 0, time.UTC), Lat: 50.2839999999, Lon: 57.1669999, HasPos: true,
		Speed: 32, Course: 270, Alt: 215, Sats: 12, HDOP: 0.9, Params: []Param{{"trip", "T1"}}}
	for _, pkt := range [][]byte{EncodeData(f), EncodeShort(f), EncodeBlackBox([]Fix{f, f})} {
		p, err := Decode(pkt)
		if err != nil {
			t.Fatalf("%q: %v", pkt, err)
		}
		g := p.Fixes[0]
		if !g.Time.Equal(f.Time) || math.Abs(g.Lat-f.Lat) > 1e-6 || math.Abs(g.Lon-f.Lon) > 1e-6 || g.Speed != 32 || g.Course != 270 {
			t.Errorf("%q: %+v", pkt, g)
		}
	}
	// Minutes that round up carry into the degrees.
	g, err := Decode(EncodeData(Fix{Lat: 49.99999999, Lon: 57.99999999, HasPos: true, Speed: math.NaN(), Course: math.NaN(), Alt: math.NaN(), HDOP: math.NaN(), Sats: -1}))
	if err != nil || math.Abs(g.Fixes[0].Lat-50) > 1e-6 {
		t.Errorf("rounding: %v %+v", err, g)
	}
}

func TestReader(t *testing.T) {
	stream := sampleLogin + "#P#\r\n" + sampleData + "#P#"
	r := NewReader(strings.NewReader(stream))
	for _, want := range []string{sampleLogin, "#P#\r\n", sampleData} {
		got, err := r.Next()
		if err != nil || string(got) != strings.TrimSuffix(want, "\r\n") {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated packet: %v", err)
	}
	r = NewReader(bytes.NewReader(append(bytes.Repeat([]byte("x"), MaxPacket+10), '\n')))
	if _, err := r.Next(); !errors.Is(err, ErrTooLong) {
		t.Errorf("long packet: %v", err)
	}
}

func FuzzWialonPacket(f *testing.F) {
	for _, s := range []string{sampleLogin, sampleLogin2, sampleData, sampleBlackBox1, "#P#\r\n", "#SD#NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;0000",
		// A real device's packet with its checksum written 0x9b0 (Traccar's WialonProtocolDecoderTest).
		"#D#NA;NA;5429.681944502211763;N;02654.60403650999069;E;NA;NA;NA;NA;NA;NA;NA;1.0;NA;m1:1:9196679,d1:1:15397,t1:1:20,b1:1:162,fuel1:2:21588.0,pv1:2:35.98,finish:1:1;0x9b0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			if p != nil {
				t.Fatal("packet and error")
			}
			ErrorReply(err)
			return
		}
		for _, fx := range p.Fixes {
			if fx.HasPos && (math.Abs(fx.Lat) > 90 || math.Abs(fx.Lon) > 180) {
				t.Fatalf("coordinates out of range: %+v", fx)
			}
			// What decodes re-encodes to something that decodes to the same position.
			if fx.HasPos && !fx.Time.IsZero() {
				q, err := Decode(EncodeData(fx))
				if err != nil {
					t.Fatalf("re-encode of %+v: %v", fx, err)
				}
				if math.Abs(q.Fixes[0].Lat-fx.Lat) > 1e-5 || math.Abs(q.Fixes[0].Lon-fx.Lon) > 1e-5 {
					t.Fatalf("round trip %+v -> %+v", fx, q.Fixes[0])
				}
			}
		}
		p.Ack(len(p.Fixes))
	})
}
