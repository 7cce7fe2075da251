package transit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/wialon"
)

// Before: an unterminated packet just under 1 MiB was held per connection until the 5-minute
// idle timeout (before login: until the login timeout), in a 64 KiB bufio plus the packet
// buffer; 300 such connections took the server from 448 to 760 MB. Now a packet before login
// may be at most wialon.MaxLoginPacket bytes, and after login a begun packet must end within
// PacketTimeout; either way the connection is closed.
func TestAttackWialonUnterminatedPacket(t *testing.T) {
	s, _ := newService(t)
	s.Wialon.PacketTimeout = time.Second
	addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000321", WialonPassword: "bus-321-secret"})
	addr := wialonServer(t, s)

	// Before login: 30 connections each send 8 KiB of a packet that never ends (the login
	// timeout of 30 s is longer than the test's socket deadline of 15 s).
	junk := "#L#" + strings.Repeat("9", 8<<10)
	var pre []*tracker
	for range 30 {
		tr := dialFrom(t, addr, "")
		if _, err := tr.c.Write([]byte(junk)); err != nil {
			t.Fatal(err)
		}
		pre = append(pre, tr)
	}
	for i, tr := range pre {
		if !tr.closed() {
			t.Fatalf("connection %d: an 8 KiB unterminated packet before login is held open", i)
		}
	}

	// After login: 10 connections begin a data packet and trickle nothing more; the idle timeout
	// (5 min) must not be what closes them.
	var post []*tracker
	for i := range 10 {
		tr := dialFrom(t, addr, "")
		if got, err := tr.say(string(wialon.EncodeLogin("860000000000321", "bus-321-secret"))); err != nil || got != "#AL#1\r\n" {
			t.Fatalf("login %d: %q %v", i, got, err)
		}
		if _, err := tr.c.Write([]byte("#D#" + strings.Repeat("1", 2000))); err != nil {
			t.Fatal(err)
		}
		post = append(post, tr)
	}
	for i, tr := range post {
		if !tr.closed() {
			t.Fatalf("logged-in connection %d: an unterminated packet is held open past the packet timeout", i)
		}
	}
	got := refusals(t, s)
	if got[transit.RefusedPacketTooLong] != 30 || got[transit.RefusedPacketTimeout] != 10 {
		t.Errorf("refusals = %v, want 30 %s and 10 %s", got, transit.RefusedPacketTooLong, transit.RefusedPacketTimeout)
	}
	// A logged-in tracker still sends its packets, pings and a long black box.
	tr := dialFrom(t, addr, "")
	if got, err := tr.say(string(wialon.EncodeLogin("860000000000321", "bus-321-secret"))); err != nil || got != "#AL#1\r\n" {
		t.Fatalf("login: %q %v", got, err)
	}
	var fixes []wialon.Fix
	for i := range 200 {
		fixes = append(fixes, wialon.Fix{Time: time.Now().Add(-time.Duration(i+1) * time.Second).Truncate(time.Second).UTC(),
			Lat: 50.28, Lon: 57.17, HasPos: true, Speed: 20, Alt: 200, Sats: 9, HDOP: 1})
	}
	if got, err := tr.say(string(wialon.EncodeBlackBox(fixes))); err != nil || got != "#AB#200\r\n" {
		t.Errorf("black box of 200 messages: %q %v", got, err)
	}
}
