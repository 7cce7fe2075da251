package transit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/transit/wialon"
)

// WialonIdleTimeout closes a logged-in tracker's connection that sent nothing (not even a ping)
// for this long. Before login the deadline is WialonLimits.LoginTimeout from connect.
const WialonIdleTimeout = 5 * time.Minute

// wialonGuard is the listener's bookkeeping for its limits.
type wialonGuard struct {
	lim      WialonLimits
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	perAddr  map[string]int
	addrFail *failures
	unitFail *failures
}

// admit records a new connection, or reports why it must be refused ("" when admitted).
func (g *wialonGuard) admit(c net.Conn, addr string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lim.MaxConns > 0 && len(g.conns) >= g.lim.MaxConns {
		return RefusedTooManyConns
	}
	if g.lim.MaxConnsPerAddr > 0 && g.perAddr[addr] >= g.lim.MaxConnsPerAddr {
		return RefusedTooManyFromAddr
	}
	g.conns[c] = struct{}{}
	g.perAddr[addr]++
	return ""
}

func (g *wialonGuard) leave(c net.Conn, addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.conns, c)
	if g.perAddr[addr]--; g.perAddr[addr] <= 0 {
		delete(g.perAddr, addr)
	}
}

// ServeWialon accepts Wialon IPS 2.0 trackers on ln until ctx ends, within s.Wialon's limits.
// Each data packet is acknowledged only after its positions are committed; a packet that fails
// to store gets no answer and the connection is closed, so the tracker keeps it in its black box
// and resends.
func (s *Service) ServeWialon(ctx context.Context, ln net.Listener) error {
	lim := s.Wialon
	if lim.LoginTimeout <= 0 {
		lim.LoginTimeout = DefaultWialonLimits().LoginTimeout
	}
	if lim.PacketTimeout <= 0 {
		lim.PacketTimeout = DefaultWialonLimits().PacketTimeout
	}
	g := &wialonGuard{lim: lim, conns: map[net.Conn]struct{}{}, perAddr: map[string]int{},
		addrFail: newFailures(lim.FailuresPerAddr), unitFail: newFailures(lim.FailuresPerUnit)}
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		ln.Close()
		g.mu.Lock()
		for c := range g.conns {
			// Let in-flight writes finish; a blocked read ends now.
			c.SetReadDeadline(time.Now())
		}
		g.mu.Unlock()
	}()
	delay := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				wg.Wait()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscallEMFILE) {
				time.Sleep(delay)
				delay = min(delay*2, time.Second)
				continue
			}
			wg.Wait()
			return fmt.Errorf("wialon listener: %w", err)
		}
		delay = 5 * time.Millisecond
		addr := AddrKey(c.RemoteAddr().String())
		if reason := g.admit(c, addr); reason != "" {
			s.metrics.wialonRefused.WithLabelValues(reason).Inc()
			s.Logger.Debug("wialon: connection refused", "remote", c.RemoteAddr().String(), "reason", reason)
			c.Close()
			continue
		}
		s.metrics.wialonConns.Inc()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				g.leave(c, addr)
				s.metrics.wialonConns.Dec()
				c.Close()
			}()
			defer func() {
				if r := recover(); r != nil {
					s.Logger.Error("wialon connection panicked", "remote", c.RemoteAddr().String(), "panic", fmt.Sprint(r))
				}
			}()
			s.serveWialonConn(ctx, c, g, addr)
		}()
	}
}

func (s *Service) serveWialonConn(ctx context.Context, c net.Conn, g *wialonGuard, addr string) {
	log := s.Logger.With("remote", c.RemoteAddr().String())
	r := wialon.NewReader(c)
	var v *Vehicle
	loginBy := time.Now().Add(g.lim.LoginTimeout)
	write := func(b []byte) bool {
		if b == nil {
			return true
		}
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.Write(b)
		return err == nil
	}
	refuse := func(reason string) { s.metrics.wialonRefused.WithLabelValues(reason).Inc() }
	for {
		if v == nil {
			// Nothing (pings, bad packets) keeps a connection open past the login deadline, and
			// no packet before the login is longer than a login packet.
			c.SetReadDeadline(loginBy)
			r.SetMax(wialon.MaxLoginPacket)
		} else {
			c.SetReadDeadline(time.Now().Add(WialonIdleTimeout))
			r.SetMax(wialon.MaxPacket)
		}
		err := r.Wait()
		started := err == nil
		if started && v != nil {
			// The idle timeout is for the gap between packets; a packet, once begun, must end
			// within PacketTimeout (a trickled, unterminated packet must not hold its buffer).
			c.SetReadDeadline(time.Now().Add(g.lim.PacketTimeout))
		}
		var line []byte
		if err == nil {
			line, err = r.Next()
		}
		if err != nil {
			var ne net.Error
			timeout := ctx.Err() == nil && errors.As(err, &ne) && ne.Timeout()
			switch {
			case errors.Is(err, wialon.ErrTooLong):
				log.Warn("wialon: packet too long, closing", "logged_in", v != nil)
				refuse(RefusedPacketTooLong)
			case timeout && v == nil:
				log.Debug("wialon: no login in time, closing")
				refuse(RefusedLoginTimeout)
			case timeout && started:
				log.Info("wialon: packet not completed in time, closing", "unit", v.DeviceID, "timeout", g.lim.PacketTimeout.String())
				refuse(RefusedPacketTimeout)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		p, err := wialon.Decode(line)
		if err != nil {
			log.Debug("wialon: bad packet", "error", err)
			if !write(wialon.ErrorReply(err)) {
				return
			}
			var we *wialon.Error
			if errors.As(err, &we) && we.Type == wialon.TypeLogin && we.Code == wialon.LoginRefused {
				return
			}
			continue
		}
		switch p.Type {
		case wialon.TypePing:
			if !write(p.Ack(0)) {
				return
			}
			continue
		case wialon.TypeLogin:
			unit := p.Login.IMEI
			// Every refusal gets the same answer, whether the unit is unknown, has another password
			// or is throttled: the answer must not tell which unit ids exist.
			denied := wialon.Reply("AL", wialon.LoginBadPassword)
			if !g.addrFail.take(addr) {
				log.Info("wialon: login refused, too many failed logins from this address", "unit", unit)
				refuse(RefusedThrottledAddr)
				write(denied)
				return
			}
			if !g.unitFail.take(unit) {
				g.addrFail.refund(addr)
				log.Info("wialon: login refused, too many failed logins for this unit", "unit", unit)
				refuse(RefusedThrottledUnit)
				write(denied)
				return
			}
			nv, err := s.CheckWialonLogin(ctx, unit, p.Login.Password)
			switch geoportal.ErrorCode(err) {
			case "":
				g.addrFail.refund(addr)
				g.unitFail.refund(unit)
				v = nv
				if !write(p.Ack(0)) {
					return
				}
				continue
			case geoportal.EUNAUTHORIZED:
				log.Info("wialon: login refused", "unit", unit, "error", geoportal.ErrorMessage(err))
				refuse(RefusedBadCredentials)
				write(denied)
			default:
				// Not the caller's fault (the database is down): the tokens go back.
				g.addrFail.refund(addr)
				g.unitFail.refund(unit)
				if ctx.Err() == nil {
					log.Error("wialon: login failed", "unit", unit, "error", err)
				}
			}
			return
		}
		if v == nil {
			// Data before a login: refuse and hang up.
			log.Debug("wialon: data before login")
			refuse(RefusedDataBeforeLogin)
			write((&wialon.Error{Type: p.Type, Code: wialon.DataStructureError}).Reply())
			return
		}
		now := time.Now()
		ps := make([]Position, 0, len(p.Fixes))
		for _, f := range p.Fixes {
			pos := Position{VehicleID: v.ID, At: f.Time, Lon: f.Lon, Lat: f.Lat, SpeedKmh: f.Speed, Heading: f.Course,
				AltM: f.Alt, Sats: f.Sats, Source: SourceWialon}
			if pos.At.IsZero() {
				pos.At = now.Truncate(time.Second)
			}
			if !f.HasPos {
				pos.Lon, pos.Lat = math.NaN(), math.NaN() // stored flagged
			}
			ps = append(ps, pos)
		}
		res, err := s.Ingest(ctx, ps)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("wialon: storing positions failed; no acknowledgement", "unit", v.DeviceID, "error", err)
			}
			return
		}
		if !write(p.Ack(res.Stored + res.Duplicates)) {
			return
		}
	}
}
