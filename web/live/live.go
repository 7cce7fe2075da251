// Package live is the live face of the transit module (layers/transit): trackers' position
// uploads, the live vehicle stream (server-sent events), arrivals, the GTFS-realtime feeds,
// track playback and the dispatchers' alerts as JSON. The dispatchers' page is elsewhere (a
// server-rendered page set).
package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// API serves the live routes; its handlers are registered in web/routes.go.
type API struct {
	Transit *transit.Service
	// Guard says who is calling; Reply writes error answers.
	Guard *guard.Guard
	Reply reply.Writer
}

// DispatchRoles may see the on-line control and vehicles' tracks: dispatchers and administrators
// every vehicle's, department staff those of their department's vehicles (transitViewer).
var DispatchRoles = []accounts.Role{accounts.Dispatcher, accounts.DepartmentStaff, accounts.Admin}

// Viewer is the signed-in caller as the transit module sees them when they ask for a vehicle's
// history (the JSON API here and the dispatchers' page).
func Viewer(g *guard.Guard, r *http.Request) (transit.Viewer, error) {
	u, ok := g.CurrentUser(r)
	if !ok {
		return transit.Viewer{}, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in required")
	}
	switch u.Role {
	case accounts.Admin, accounts.Dispatcher:
		return transit.Viewer{AllDepartments: true}, nil
	case accounts.DepartmentStaff:
		return transit.Viewer{Department: u.Department}, nil
	}
	return transit.Viewer{}, geoportal.Errorf(geoportal.EFORBIDDEN, "role %s does not see vehicle tracks", u.Role)
}

// MaxPositionsBody bounds a tracker's batch upload.
const MaxPositionsBody = 4 << 20

// MaxHTTPPositions is the most positions one HTTP request may carry.
const MaxHTTPPositions = 5000

type positionIn struct {
	DeviceID string   `json:"device_id"`
	Time     string   `json:"time"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Speed    *float64 `json:"speed_kmh"`
	Heading  *float64 `json:"heading"`
	Alt      *float64 `json:"alt_m"`
	Sats     *int     `json:"sats"`
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// Positions takes a batch of fixes: {"positions": [{"time": RFC 3339, "lat", "lon",
// "speed_kmh", "heading", "alt_m", "sats"}]}. A tracker authenticates with its device key
// (X-Device-Key); a gateway with an API key of scope tracker names each fix's device_id. The
// answer comes only after the positions are committed.
func (lv *API) Positions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var dev *transit.Vehicle
	gateway := false
	if key := r.Header.Get("X-Device-Key"); key != "" {
		v, err := lv.Transit.VehicleByKey(ctx, key)
		if err != nil {
			lv.Reply.Error(w, r, err)
			return
		}
		dev = v
	} else if u, ok := lv.Guard.CurrentUser(r); ok && u.Key != nil && u.Key.HasScope(accounts.ScopeTracker) {
		gateway = true
	} else {
		lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "send the tracker's device key in X-Device-Key (or an API key of scope tracker)"))
		return
	}
	var body struct {
		Positions []positionIn `json:"positions"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.ETOOLARGE, "positions body above %d bytes", mbe.Limit))
			return
		}
		lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "positions body is not valid JSON: %v", err))
		return
	}
	if len(body.Positions) == 0 {
		lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "positions is empty"))
		return
	}
	if len(body.Positions) > MaxHTTPPositions {
		lv.Reply.Error(w, r, geoportal.Errorf(geoportal.ETOOLARGE, "at most %d positions per request, got %d", MaxHTTPPositions, len(body.Positions)))
		return
	}
	ps := make([]transit.Position, 0, len(body.Positions))
	for i, p := range body.Positions {
		v := dev
		if gateway {
			if p.DeviceID == "" {
				lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "positions[%d]: device_id is required with an API key", i))
				return
			}
			var err error
			if v, err = lv.Transit.VehicleByDevice(ctx, p.DeviceID); err != nil {
				lv.Reply.Error(w, r, fmt.Errorf("positions[%d]: %w", i, err))
				return
			}
		} else if p.DeviceID != "" && p.DeviceID != dev.DeviceID {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EFORBIDDEN, "positions[%d]: device key of %s cannot send for %s", i, dev.DeviceID, p.DeviceID))
			return
		}
		t, err := time.Parse(time.RFC3339Nano, p.Time)
		if err != nil {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "positions[%d]: time %q is not RFC 3339", i, p.Time))
			return
		}
		if p.Lat == nil || p.Lon == nil {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "positions[%d]: lat and lon are required", i))
			return
		}
		sats := -1
		if p.Sats != nil {
			sats = *p.Sats
		}
		ps = append(ps, transit.Position{VehicleID: v.ID, At: t, Lat: *p.Lat, Lon: *p.Lon, SpeedKmh: orNaN(p.Speed),
			Heading: orNaN(p.Heading), AltM: orNaN(p.Alt), Sats: sats, Source: transit.SourceHTTP})
	}
	res, err := lv.Transit.Ingest(ctx, ps)
	if err != nil {
		lv.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// Vehicles lists the vehicles live now (seen in the last 15 minutes).
func (lv *API) Vehicles(w http.ResponseWriter, r *http.Request) {
	vs, err := lv.Transit.Hub().Live(r.Context())
	if err != nil {
		lv.Reply.Error(w, r, err)
		return
	}
	if vs == nil {
		vs = []transit.LiveVehicle{}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"vehicles": vs})
}

// VehiclesLive streams vehicle moves as Server-Sent Events: first an event "snapshot" with
// every live vehicle, then an event "vehicles" per committed batch with the vehicles that moved,
// and a comment every 15 s to keep proxies from closing the stream. Streams are limited in total
// (503) and per client address (429), both with Retry-After (transit.LiveLimits).
func (lv *API) VehiclesLive(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EUNAVAILABLE, "streaming not supported"))
		return
	}
	snap, ch, cancel, err := lv.Transit.Hub().Stream(r.Context(), lv.Guard.ClientIP(r))
	if err != nil {
		switch geoportal.ErrorCode(err) {
		case geoportal.EUNAVAILABLE, geoportal.ERATELIMIT:
			w.Header().Set("Retry-After", "30")
		}
		lv.Reply.Error(w, r, err)
		return
	}
	defer cancel()
	// The stream outlives the server's write timeout.
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if snap == nil {
		snap = []transit.LiveVehicle{}
	}
	if err := writeEvent(w, "snapshot", snap); err != nil {
		return
	}
	fl.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case vs, ok := <-ch:
			if !ok {
				// Fell behind or shutting down: the browser's EventSource reconnects.
				return
			}
			if err := writeEvent(w, "vehicles", vs); err != nil {
				return
			}
		}
		fl.Flush()
	}
}

func writeEvent(w io.Writer, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
	return err
}

// Track returns a vehicle's stored fixes for ?from=&to= (RFC 3339; default the last hour)
// as a GeoJSON FeatureCollection of points, oldest first. Staff only: tracks are personal data
// of drivers, and department staff see only their department's vehicles.
func (lv *API) Track(w http.ResponseWriter, r *http.Request) {
	who, err := Viewer(lv.Guard, r)
	if err != nil {
		lv.Reply.Error(w, r, err)
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "vehicle id %q is not a number", chi.URLParam(r, "id")))
		return
	}
	to := time.Now()
	from := to.Add(-time.Hour)
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "from %q is not RFC 3339", v))
			return
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "to %q is not RFC 3339", v))
			return
		}
	}
	pts, err := lv.Transit.Track(r.Context(), who, id, from, to, 50000)
	if err != nil {
		lv.Reply.Error(w, r, err)
		return
	}
	features := make([]map[string]any, len(pts))
	for i, p := range pts {
		features[i] = map[string]any{"type": "Feature",
			"geometry":   map[string]any{"type": "Point", "coordinates": []float64{p.Lon, p.Lat}},
			"properties": map[string]any{"at": p.At, "speed_kmh": p.SpeedKmh, "heading": p.Heading, "flags": p.Flags}}
	}
	reply.JSON(w, http.StatusOK, map[string]any{"type": "FeatureCollection", "vehicle_id": id,
		"from": from, "to": to, "features": features})
}

// Arrivals predicts the next arrivals at a stop (GTFS stop_id or stop code), up to ?per_route=
// (default 3) per route.
func (lv *API) Arrivals(w http.ResponseWriter, r *http.Request) {
	per := 3
	if v := r.URL.Query().Get("per_route"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "per_route %q is not a number from 1 to 20", v))
			return
		}
		per = n
	}
	a, err := lv.Transit.Arrivals(r.Context(), chi.URLParam(r, "id"), time.Now(), per)
	if err != nil {
		lv.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	reply.JSON(w, http.StatusOK, a)
}

// Service answers GET /api/transit/service[?limit=n]: the network's service hours by the
// timetable (the day's first and last trip start, the next one), whether now lies within them,
// and the next n (default 6) trip starts — what the live map says when no bus is live.
func (lv *API) Service(w http.ResponseWriter, r *http.Request) {
	limit := 6
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			lv.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "limit %q is not a number from 1 to 50", v))
			return
		}
		limit = n
	}
	sv, err := lv.Transit.Service(r.Context(), time.Now(), limit)
	if err != nil {
		lv.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	reply.JSON(w, http.StatusOK, sv)
}

// GTFSRT serves a GTFS-realtime feed (protobuf) with Last-Modified from its newest fix.
func (lv *API) GTFSRT(build func(*transit.Service, *http.Request) ([]byte, time.Time, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, last, err := build(lv.Transit, r)
		if err != nil {
			lv.Reply.Error(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		if !last.IsZero() {
			last = last.Truncate(time.Second)
			h.Set("Last-Modified", last.UTC().Format(http.TimeFormat))
			if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !last.After(ims) {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		h.Set("Content-Type", "application/x-protobuf")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(b)
		}
	}
}

func VehiclePositions(t *transit.Service, r *http.Request) ([]byte, time.Time, error) {
	return t.VehiclePositionsFeed(r.Context(), time.Now())
}

func TripUpdates(t *transit.Service, r *http.Request) ([]byte, time.Time, error) {
	return t.TripUpdatesFeed(r.Context(), time.Now())
}

// DispatchAlerts lists the on-line control's alerts (off route, no vehicle, bunching),
// optionally for one ?route=.
func (lv *API) DispatchAlerts(w http.ResponseWriter, r *http.Request) {
	alerts, err := lv.Transit.Alerts(r.Context(), time.Now())
	if err != nil {
		lv.Reply.Error(w, r, err)
		return
	}
	if route := strings.TrimSpace(r.URL.Query().Get("route")); route != "" {
		kept := alerts[:0]
		for _, a := range alerts {
			if a.Route == route {
				kept = append(kept, a)
			}
		}
		alerts = kept
	}
	reply.JSON(w, http.StatusOK, map[string]any{"alerts": alerts, "at": time.Now()})
}
