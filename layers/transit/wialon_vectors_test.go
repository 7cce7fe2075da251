package transit_test

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
)

// Packets of real devices, replayed over TCP against the listener with the answers the Wialon IPS
// 2.0 protocol document (Gurtam, "Wialon IPS v.2.0 communication protocol", 10/2014) gives for
// them: #AL#1 / #AL#10 (checksum), #AD#1 / #AD#16 (checksum) / #AD#-1 (structure), #ASD#1 /
// #ASD#13 (checksum), #AB#n, #AP#.
//
// Source of the lines marked [traccar]: traccar/traccar,
// src/test/java/org/traccar/protocol/WialonProtocolDecoderTest.java (Apache-2.0), lines its
// authors captured from trackers. Traccar does not verify checksums, so some of its lines carry
// none (protocol 1.1) or one that does not match; the answers below are what the 2.0 document
// prescribes for them. Lines marked [ours] are derived from a [traccar] line as noted.
func TestWialonDeviceVectors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, pool := newService(t)
	addVehicle(t, s, transit.NewVehicle{DeviceID: "42001300083"})
	// Traccar's login line sends no password: the unit is marked open, as an administrator would
	// for a tracker that cannot store one (a unit with no password and not open is refused).
	if err := accounts.NewStore(pool).SetTrackerOpen(ctx, "42001300083", "test vectors without a password"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeWialon(ctx, ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)

	// The packet: checksum "0x9b0" (hex with 0x, no leading zero), NA date, time, speed,
	// course, height, satellites, HDOP, inputs, outputs and iButton.
	const naPacket = "#D#NA;NA;5429.681944502211763;N;02654.60403650999069;E;NA;NA;NA;NA;NA;NA;NA;1.0;NA;" +
		"m1:1:9196679,d1:1:15397,t1:1:20,b1:1:162,fuel1:2:21588.0,pv1:2:35.98,finish:1:1;"
	for _, tc := range []struct{ name, pkt, want string }{
		{"[traccar] login whose checksum does not match", "#L#2.0;42001300083;;CE45", "#AL#10"},
		{"[ours] the same login with its CRC16 (DBEB)", "#L#2.0;42001300083;;DBEB", "#AL#1"},
		{"[traccar] checksum 0x9b0, NA fields", naPacket + "0x9b0", "#AD#1"},
		{"[ours] the same packet, checksum 09B0", naPacket + "09B0", "#AD#1"},
		{"[ours] the same packet, checksum 0X09B0", naPacket + "0X09B0", "#AD#1"},
		{"[ours] the same packet, wrong checksum 0x9b1", naPacket + "0x9b1", "#AD#16"},
		{"[ours] the same packet, checksum 0x (no digits)", naPacket + "0x", "#AD#-1"},
		{"[ours] the same packet, checksum 0x09B00 (five digits)", naPacket + "0x09B00", "#AD#-1"},
		{"[traccar] NA coordinates", "#D#120319;112003;NA;NA;NA;NA;0.000;NA;NA;0;NA;NA;NA;NA;NA;" +
			"101_521347:1:521246,101_158:1:510,101_521055:1:510,101_521055_2.9:1:509,101_521056:1:3;626B", "#AD#1"},
		{"[traccar] negative height, NA inputs", "#D#101118;061143;0756.0930;N;12338.6403;E;18.223;99.766;-4.000;10;0.800;NA;NA;NA;NA;" +
			"101_521347:1:521249,101_521126:1:6593598,101_521127:1:774780,101_521072_21.1:1:0,101_521072_21.2:1:71353;F24A", "#AD#1"},
		{"[traccar] empty ADC", "#D#220323;114150;2234.80479;N;11354.87786;E;0;NA;59;11;NA;NA;NA;;NA;d_battr:1:94,d_csq:1:21,di_light:1:1;E7C9", "#AD#1"},
		{"[traccar] short packet, longitude without its leading zero", "#SD#300924;154245;5554.350052;N;3644.670410;E;2.92;NA;NA;NA;7A01", "#ASD#1"},
		{"[traccar] protocol 1.1 short packet (no checksum)", "#SD#270413;205601;5544.6025;N;03739.6834;E;1;2;3;4", "#ASD#13"},
		{"[traccar] protocol 1.1 black box (no checksum)", "#B#110914;102132;5027.50728;N;03026.20369;E;1.979;288.170;NA;NA;NA;NA;NA;;NA;Батарея:3:100 %", "#AB#"},
		{"[traccar] ping", "#P#", "#AP#"},
	} {
		if _, err := c.Write([]byte(tc.pkt + "\r\n")); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil || got != tc.want+"\r\n" {
			t.Fatalf("%s: sent %q, got %q %v, want %q", tc.name, tc.pkt, got, err, tc.want)
		}
	}
	// What was acknowledged is stored, where the device said it was.
	for _, want := range []struct {
		at       string
		lat, lon float64
	}{
		{"2018-11-10T06:11:43Z", 7 + 56.0930/60, 123 + 38.6403/60},
		{"2023-03-22T11:41:50Z", 22 + 34.80479/60, 113 + 54.87786/60},
		{"2024-09-30T15:42:45Z", 55 + 54.350052/60, 36 + 44.670410/60},
	} {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM transit.positions p JOIN transit.vehicles v ON v.id = p.vehicle_id
			WHERE v.device_id = '42001300083' AND p.source = 'w' AND p.at = $1 AND abs(p.lat - $2) < 1e-6 AND abs(p.lon - $3) < 1e-6`,
			want.at, want.lat, want.lon).Scan(&n); err != nil || n != 1 {
			t.Errorf("fix at %s (%.5f, %.5f): %d stored %v, want 1", want.at, want.lat, want.lon, n, err)
		}
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM transit.positions p JOIN transit.vehicles v ON v.id = p.vehicle_id
		WHERE v.device_id = '42001300083' AND abs(p.lat - $1) < 1e-6 AND abs(p.lon - $2) < 1e-6`,
		54+29.681944502211763/60, 26+54.60403650999069/60).Scan(&n)
	if n < 1 {
		t.Error("the 0x9b0 packet (NA time: the server's clock) was acknowledged but not stored")
	}
	cancel()
	<-done
}
