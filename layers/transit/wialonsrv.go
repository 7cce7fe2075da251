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

// WialonIdleTimeout closes a tracker connection that sent nothing (not even a ping) for this long.
const WialonIdleTimeout = 5 * time.Minute

// ServeWialon accepts Wialon IPS 2.0 trackers on ln until ctx ends. Each data packet is
// acknowledged only after its positions are committed; a packet that fails to store gets no
// answer and the connection is closed, so the tracker keeps it in its black box and resends.
func (s *Service) ServeWialon(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for c := range conns {
			// Let in-flight writes finish; a blocked read ends now.
			c.SetReadDeadline(time.Now())
		}
		mu.Unlock()
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
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			defer func() {
				if r := recover(); r != nil {
					s.Logger.Error("wialon connection panicked", "remote", c.RemoteAddr().String(), "panic", fmt.Sprint(r))
				}
			}()
			s.serveWialonConn(ctx, c)
		}()
	}
}

func (s *Service) serveWialonConn(ctx context.Context, c net.Conn) {
	log := s.Logger.With("remote", c.RemoteAddr().String())
	r := wialon.NewReader(c)
	var v *Vehicle
	write := func(b []byte) bool {
		if b == nil {
			return true
		}
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.Write(b)
		return err == nil
	}
	for {
		c.SetReadDeadline(time.Now().Add(WialonIdleTimeout))
		line, err := r.Next()
		if err != nil {
			if errors.Is(err, wialon.ErrTooLong) {
				log.Warn("wialon: packet too long, closing")
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
			nv, err := s.CheckWialonLogin(ctx, p.Login.IMEI, p.Login.Password)
			switch geoportal.ErrorCode(err) {
			case "":
				v = nv
				if !write(p.Ack(0)) {
					return
				}
				continue
			case geoportal.EUNAUTHORIZED:
				log.Info("wialon: wrong password", "unit", p.Login.IMEI)
				write(wialon.Reply("AL", wialon.LoginBadPassword))
			case geoportal.ENOTFOUND:
				log.Info("wialon: unknown unit refused", "unit", p.Login.IMEI)
				write(wialon.Reply("AL", wialon.LoginRefused))
			default:
				log.Error("wialon: login failed", "unit", p.Login.IMEI, "error", err)
			}
			return
		}
		if v == nil {
			// Data before a login: refuse and hang up.
			log.Debug("wialon: data before login")
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
