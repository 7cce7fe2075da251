package web

import (
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/web/live"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/paulmach/orb"
)

// The dispatchers' page: the on-line control's alerts (off route, bunching, scheduled trips
// without a vehicle) with links to the vehicle on the public map, and a vehicle's track drawn on
// a schematic map with a playback, server-rendered in kk/ru/en (no script).

//go:embed dispatchpages
var dispatchPagesFS embed.FS

var dispatchTemplates = template.Must(template.Must(template.New("").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return t.In(almaty).Format("15:04:05") },
	"time":  func(t time.Time) string { return t.In(almaty).Format("2006-01-02 15:04:05") },
	"num": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return strconv.FormatFloat(math.Round(*p), 'f', 0, 64)
	},
	"m": func(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', 0, 64) },
}).ParseFS(authPagesFS, "authpages/head.html")).ParseFS(dispatchPagesFS, "dispatchpages/*.html"))

var dispatchText = map[string]map[string]string{
	"en": {"title": "Dispatcher: on-line control", "as_of": "As of", "route": "Route", "all_routes": "all routes",
		"show": "Show", "refresh": "Refresh", "off_route": "Vehicles off their route", "bunching": "Bunching",
		"no_vehicle": "Scheduled trips without a vehicle", "vehicle": "Vehicle", "distance": "From the route, m",
		"gap": "Gap to the vehicle ahead, m", "last_fix": "Last fix", "trip": "Trip", "trips": "Trips", "count": "Without a vehicle",
		"on_map": "On the map", "track": "Track", "none": "None.", "live_now": "Vehicles live now",
		"alerts": "Alerts", "more": "and %d more", "open_track": "Open a vehicle's track", "vehicle_id": "Vehicle number",
		"track_title": "Track of vehicle", "from": "From", "to": "To", "fixes": "Fixes", "time": "Time",
		"speed": "Speed, km/h", "heading": "Heading, °", "flags": "Flags", "no_fixes": "No fixes in this time range.",
		"geojson": "Download as GeoJSON", "back": "Back to the alerts", "playback": "Track on a schematic map",
		"map_desc": "Route line in grey, the track in blue from the green start to the dark end, flagged fixes as red crosses; a dot replays the trip.",
		"listed":   "The last %d of %d fixes are listed.", "plate": "Plate", "kind": "Kind", "low_floor": "Low floor",
		"yes": "yes", "no": "no", "department": "Department", "time_hint": "city time (UTC+5)",
		"flag_1": "impossible coordinates", "flag_2": "time in the future", "flag_4": "teleport", "flag_8": "older than the latest fix",
		"gone": "not seen in the last 15 minutes", "sum_off": "off route", "sum_bunch": "bunching", "sum_none": "trips without a vehicle",
		"kind_bus": "bus", "kind_trolleybus": "trolleybus", "kind_minibus": "minibus", "kind_tram": "tram", "kind_municipal": "municipal vehicle",
		"kind_snowplough": "snowplough", "kind_sweeper": "street sweeper", "kind_garbage": "garbage truck", "kind_ambulance": "ambulance", "kind_service": "service vehicle"},
	"ru": {"title": "Диспетчер: онлайн-контроль", "as_of": "По состоянию на", "route": "Маршрут", "all_routes": "все маршруты",
		"show": "Показать", "refresh": "Обновить", "off_route": "Сход с маршрута", "bunching": "Сближение на линии",
		"no_vehicle": "Рейсы по расписанию без транспорта", "vehicle": "Транспорт", "distance": "От маршрута, м",
		"gap": "До впереди идущего, м", "last_fix": "Последняя отметка", "trip": "Рейс", "trips": "Рейсы", "count": "Без транспорта",
		"on_map": "На карте", "track": "Трек", "none": "Нет.", "live_now": "Транспорта на линии сейчас",
		"alerts": "Тревоги", "more": "и ещё %d", "open_track": "Открыть трек транспорта", "vehicle_id": "Номер транспорта",
		"track_title": "Трек транспорта", "from": "С", "to": "По", "fixes": "Отметки", "time": "Время",
		"speed": "Скорость, км/ч", "heading": "Курс, °", "flags": "Признаки", "no_fixes": "За это время отметок нет.",
		"geojson": "Скачать в GeoJSON", "back": "К тревогам", "playback": "Трек на схеме",
		"map_desc": "Линия маршрута серым, трек синим от зелёного начала до тёмного конца, отбракованные отметки красными крестиками; точка повторяет поездку.",
		"listed":   "Показаны последние %d из %d отметок.", "plate": "Госномер", "kind": "Тип", "low_floor": "Низкопольный",
		"yes": "да", "no": "нет", "department": "Владелец", "time_hint": "время города (UTC+5)",
		"flag_1": "невозможные координаты", "flag_2": "время в будущем", "flag_4": "скачок", "flag_8": "старее последней отметки",
		"gone": "не выходил на связь 15 минут", "sum_off": "сход с маршрута", "sum_bunch": "сближение", "sum_none": "рейсов без транспорта",
		"kind_bus": "автобус", "kind_trolleybus": "троллейбус", "kind_minibus": "микроавтобус", "kind_tram": "трамвай", "kind_municipal": "коммунальная техника",
		"kind_snowplough": "снегоуборочная машина", "kind_sweeper": "подметальная машина", "kind_garbage": "мусоровоз", "kind_ambulance": "скорая помощь", "kind_service": "служебный транспорт"},
	"kk": {"title": "Диспетчер: онлайн бақылау", "as_of": "Жағдай", "route": "Бағыт", "all_routes": "барлық бағыттар",
		"show": "Көрсету", "refresh": "Жаңарту", "off_route": "Бағыттан ауытқу", "bunching": "Желіде жақындасу",
		"no_vehicle": "Көлігі жоқ кестедегі рейстер", "vehicle": "Көлік", "distance": "Бағыттан, м",
		"gap": "Алдындағы көлікке дейін, м", "last_fix": "Соңғы белгі", "trip": "Рейс", "trips": "Рейстер", "count": "Көлігі жоқ",
		"on_map": "Картада", "track": "Трек", "none": "Жоқ.", "live_now": "Қазір желідегі көлік",
		"alerts": "Дабылдар", "more": "және тағы %d", "open_track": "Көліктің трегін ашу", "vehicle_id": "Көлік нөмірі",
		"track_title": "Көлік трегі", "from": "Бастап", "to": "Дейін", "fixes": "Белгілер", "time": "Уақыт",
		"speed": "Жылдамдық, км/сағ", "heading": "Бағыт, °", "flags": "Белгілер сипаты", "no_fixes": "Бұл уақытта белгі жоқ.",
		"geojson": "GeoJSON түрінде жүктеу", "back": "Дабылдарға оралу", "playback": "Сызбадағы трек",
		"map_desc": "Бағыт сызығы сұр, трек жасыл басынан қою соңына дейін көк, жарамсыз белгілер қызыл айқыш; нүкте сапарды қайталайды.",
		"listed":   "Соңғы %d белгі көрсетілген (барлығы %d).", "plate": "Мемлекеттік нөмірі", "kind": "Түрі", "low_floor": "Аласа еденді",
		"yes": "иә", "no": "жоқ", "department": "Иесі", "time_hint": "қала уақыты (UTC+5)",
		"flag_1": "мүмкін емес координаттар", "flag_2": "болашақ уақыт", "flag_4": "секіріс", "flag_8": "соңғы белгіден ескі",
		"gone": "15 минут бойы байланысқа шықпаған", "sum_off": "бағыттан ауытқу", "sum_bunch": "жақындасу", "sum_none": "көлігі жоқ рейстер",
		"kind_bus": "автобус", "kind_trolleybus": "троллейбус", "kind_minibus": "шағын автобус", "kind_tram": "трамвай", "kind_municipal": "коммуналдық көлік",
		"kind_snowplough": "қар тазалағыш", "kind_sweeper": "көше сыпырғыш", "kind_garbage": "қоқыс таситын көлік", "kind_ambulance": "жедел жәрдем", "kind_service": "қызметтік көлік"},
}

// mapLayers is what the public map shows when a dispatcher follows a vehicle there.
const dispatchMapLayers = "city_boundary,districts,streets,buildings,bus_routes,bus_stops,vehicles"

// vehicleMapURL links to the public map centred on a vehicle, its popup open (src/ext/live.js).
func vehicleMapURL(id int64, lon, lat float64, lang string) string {
	return fmt.Sprintf("/#map=16.00/%.5f/%.5f&layers=%s&lang=%s&vehicle=%d", lat, lon, dispatchMapLayers, lang, id)
}

type dispatchAlert struct {
	transit.Alert
	Label    string
	MapURL   string
	TrackURL string
}

type noVehicleRoute struct {
	Route string
	Trips []string
	More  int
}

// Total is how many trips of the route run without a vehicle.
func (g noVehicleRoute) Total() int { return len(g.Trips) + g.More }

type dispatchPage struct {
	pageData
	S         map[string]string
	Route     string
	At        time.Time
	Live      int
	OffRoute  []dispatchAlert
	Bunching  []dispatchAlert
	NoVehicle []noVehicleRoute
	NoTrips   int
}

// More formats "and N more" in the page's language.
func (p dispatchPage) More(n int) string { return fmt.Sprintf(p.S["more"], n) }

// dispatchUser sends the anonymous to the sign-in page and refuses other roles; ok is false when
// the answer was written.
func (s *Server) dispatchUser(w http.ResponseWriter, r *http.Request, p pageData) bool {
	u, ok := s.guard.CurrentUser(r)
	if !ok || p.User == nil {
		http.Redirect(w, r, "/login?lang="+p.Lang+"&next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return false
	}
	if !u.HasRole(live.DispatchRoles...) {
		p.Error = p.T["forbidden"]
		s.render(w, r, http.StatusForbidden, "error.html", p)
		return false
	}
	return true
}

func (s *Server) renderDispatch(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := dispatchTemplates.ExecuteTemplate(w, name, data); err != nil {
		s.Logger.Error("render page", "page", name, "error", err)
	}
}

// handleDispatchPage lists the on-line control's alerts, optionally for one ?route=.
func (s *Server) handleDispatchPage(w http.ResponseWriter, r *http.Request) {
	p := dispatchPage{pageData: s.newPage(r), At: time.Now()}
	p.S = dispatchText[p.Lang]
	if !s.dispatchUser(w, r, p.pageData) {
		return
	}
	ctx := r.Context()
	p.Route = strings.TrimSpace(r.URL.Query().Get("route"))
	if len(p.Route) > 40 {
		p.Error = geoportal.ErrorMessage(geoportal.Errorf(geoportal.EINVALID, "route %q is longer than 40 characters", p.Route[:40]))
		p.Route = ""
	}
	alerts, err := s.Transit.Alerts(ctx, p.At)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	live, err := s.Transit.Hub().Live(ctx)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	p.Live = len(live)
	pos := make(map[int64]transit.LiveVehicle, len(live))
	for _, v := range live {
		pos[v.ID] = v
	}
	byRoute := map[string]*noVehicleRoute{}
	for _, a := range alerts {
		if p.Route != "" && a.Route != p.Route {
			continue
		}
		switch a.Kind {
		case "no_vehicle":
			g := byRoute[a.Route]
			if g == nil {
				g = &noVehicleRoute{Route: a.Route}
				byRoute[a.Route] = g
			}
			if len(g.Trips) < 6 {
				g.Trips = append(g.Trips, a.TripID)
			} else {
				g.More++
			}
			p.NoTrips++
		case "off_route", "bunching":
			da := dispatchAlert{Alert: a, Label: a.Plate}
			if da.Label == "" {
				da.Label = fmt.Sprintf("#%d", a.VehicleID)
			}
			if v, ok := pos[a.VehicleID]; ok {
				da.MapURL = vehicleMapURL(a.VehicleID, v.Lon, v.Lat, p.Lang)
			}
			da.TrackURL = fmt.Sprintf("/staff/dispatch/track?vehicle=%d&lang=%s", a.VehicleID, p.Lang)
			if a.Kind == "off_route" {
				p.OffRoute = append(p.OffRoute, da)
			} else {
				p.Bunching = append(p.Bunching, da)
			}
		}
	}
	for _, g := range byRoute {
		p.NoVehicle = append(p.NoVehicle, *g)
	}
	sort.Slice(p.NoVehicle, func(i, j int) bool { return routeLess(p.NoVehicle[i].Route, p.NoVehicle[j].Route) })
	s.renderDispatch(w, http.StatusOK, "dispatch.html", p)
}

// routeLess orders route numbers as people read them: 2 before 10, then by text.
func routeLess(a, b string) bool {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	if ea == nil && eb == nil {
		return na < nb
	}
	if (ea == nil) != (eb == nil) {
		return ea == nil
	}
	return a < b
}

// --- the track page ---

type svgPoint struct{ X, Y float64 }

type trackFix struct {
	transit.TrackPoint
	Flags []string
}

type trackPage struct {
	pageData
	S          map[string]string
	Vehicle    *transit.Vehicle
	VehicleID  string
	From, To   string
	Total      int
	Fixes      []trackFix // the newest listed, oldest first
	Drawn      int
	TrackPath  string
	RoutePaths []string
	Flagged    []svgPoint
	Start, End *svgPoint
	Playback   string // the replay's duration, "12s"
	GeoJSON    string
	MapURL     string
	Gone       bool
}

// Kind names a vehicle kind in the page's language.
func (p trackPage) Kind(k string) string {
	if s, ok := p.S["kind_"+k]; ok {
		return s
	}
	return k
}

// Listed formats "the last N of M fixes are listed".
func (p trackPage) Listed() string { return fmt.Sprintf(p.S["listed"], len(p.Fixes), p.Total) }

const (
	trackSVGWidth  = 640.0
	trackSVGHeight = 420.0
	trackListed    = 300
)

// dispatchLocal reads a datetime-local value in the city's clock (or RFC 3339).
func dispatchLocal(name, v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, almaty); err == nil {
			return t, nil
		}
	}
	return time.Time{}, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a date and time (YYYY-MM-DDTHH:MM)", name, v)
}

// handleDispatchTrackPage draws a vehicle's track for ?vehicle=&from=&to= (city time; default
// the last hour) on a schematic map with its route's line, a replay and the list of fixes.
func (s *Server) handleDispatchTrackPage(w http.ResponseWriter, r *http.Request) {
	p := trackPage{pageData: s.newPage(r)}
	p.S = dispatchText[p.Lang]
	if !s.dispatchUser(w, r, p.pageData) {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	to := time.Now()
	from := to.Add(-time.Hour)
	fail := func(err error) {
		status := reply.Status(err)
		if status >= 500 {
			s.reply.Error(w, r, err)
			return
		}
		p.Error = geoportal.ErrorMessage(err)
		s.renderDispatch(w, status, "track.html", p)
	}
	p.VehicleID = strings.TrimSpace(q.Get("vehicle"))
	p.From, p.To = from.In(almaty).Format("2006-01-02T15:04"), to.In(almaty).Format("2006-01-02T15:04")
	id, err := strconv.ParseInt(p.VehicleID, 10, 64)
	if err != nil || id < 1 {
		fail(geoportal.Errorf(geoportal.EINVALID, "vehicle %q is not a vehicle number", p.VehicleID))
		return
	}
	if v := q.Get("from"); v != "" {
		if from, err = dispatchLocal("from", v); err != nil {
			fail(err)
			return
		}
		p.From = v
	}
	if v := q.Get("to"); v != "" {
		if to, err = dispatchLocal("to", v); err != nil {
			fail(err)
			return
		}
		p.To = v
	}
	who, err := live.Viewer(s.guard, r)
	if err != nil {
		fail(err)
		return
	}
	veh, err := s.Transit.VehicleFor(ctx, who, id)
	if err != nil {
		fail(err)
		return
	}
	p.Vehicle = veh
	pts, err := s.Transit.Track(ctx, who, id, from, to, 50000)
	if err != nil {
		fail(err)
		return
	}
	p.Total = len(pts)
	p.GeoJSON = fmt.Sprintf("/api/vehicles/%d/track?from=%s&to=%s", id, url.QueryEscape(from.UTC().Format(time.RFC3339)),
		url.QueryEscape(to.UTC().Format(time.RFC3339)))
	listed := pts
	if len(listed) > trackListed {
		listed = listed[len(listed)-trackListed:]
	}
	for _, pt := range listed {
		f := trackFix{TrackPoint: pt}
		for _, bit := range []int16{1, 2, 4, 8} {
			if pt.Flags&bit != 0 {
				f.Flags = append(f.Flags, p.S[fmt.Sprintf("flag_%d", bit)])
			}
		}
		p.Fixes = append(p.Fixes, f)
	}
	var shapes []orb.LineString
	if net, err := s.Transit.Network(ctx); err == nil && veh.Route != "" {
		shapes = net.RouteShapes(veh.Route)
	}
	p.drawTrack(pts, shapes)
	live, err := s.Transit.Hub().Live(ctx)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	p.Gone = true
	for _, v := range live {
		if v.ID == id {
			p.MapURL, p.Gone = vehicleMapURL(id, v.Lon, v.Lat, p.Lang), false
		}
	}
	s.renderDispatch(w, http.StatusOK, "track.html", p)
}

// drawTrack projects the track (fixes without flags) and the route's shapes to the SVG's box.
func (p *trackPage) drawTrack(pts []transit.TrackPoint, shapes []orb.LineString) {
	merc := func(lon, lat float64) (float64, float64) {
		return lon * math.Pi / 180, math.Log(math.Tan(math.Pi/4 + lat*math.Pi/360))
	}
	var good []orb.Point
	var bad []orb.Point
	for _, pt := range pts {
		if pt.Flags&1 != 0 || math.Abs(pt.Lat) > 85 || math.Abs(pt.Lon) > 180 {
			continue
		}
		if pt.Flags != 0 {
			bad = append(bad, orb.Point{pt.Lon, pt.Lat})
		} else {
			good = append(good, orb.Point{pt.Lon, pt.Lat})
		}
	}
	if len(good)+len(bad) == 0 {
		return
	}
	// The box: the track, at least ~600 m across, with a margin.
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range append(append([]orb.Point{}, good...), bad...) {
		x, y := merc(q[0], q[1])
		minX, minY, maxX, maxY = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x), math.Max(maxY, y)
	}
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	minSpan := 600 / 6371008.8 / math.Cos(latOf(cy))
	span := math.Max(math.Max(maxX-minX, (maxY-minY)*trackSVGWidth/trackSVGHeight), minSpan) * 1.15
	scale := trackSVGWidth / span
	pr := func(q orb.Point) svgPoint {
		x, y := merc(q[0], q[1])
		return svgPoint{math.Round((trackSVGWidth/2+(x-cx)*scale)*10) / 10, math.Round((trackSVGHeight/2-(y-cy)*scale)*10) / 10}
	}
	line := func(ls []orb.Point) string {
		var b strings.Builder
		for i, q := range ls {
			s := pr(q)
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			fmt.Fprintf(&b, "%g %g", s.X, s.Y)
		}
		return b.String()
	}
	for _, sh := range shapes {
		p.RoutePaths = append(p.RoutePaths, line(sh))
	}
	if len(good) > 0 {
		p.Drawn = len(good)
		if len(good) == 1 {
			good = append(good, good[0])
		}
		p.TrackPath = line(good)
		a, b := pr(good[0]), pr(good[len(good)-1])
		p.Start, p.End = &a, &b
		// A replay of about a second per 30 fixes, between 4 and 30 seconds.
		p.Playback = fmt.Sprintf("%ds", min(30, max(4, len(good)/30)))
	}
	for _, q := range bad {
		p.Flagged = append(p.Flagged, pr(q))
	}
}

// latOf inverts the Mercator y (radians) to a latitude in radians.
func latOf(y float64) float64 { return 2*math.Atan(math.Exp(y)) - math.Pi/2 }

func (s *Server) handleDispatchCSS(w http.ResponseWriter, r *http.Request) {
	b, err := dispatchPagesFS.ReadFile("dispatchpages/dispatch.css")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}
