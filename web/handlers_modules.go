package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/internal/csvsafe"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// The city modules (layers/modules) as JSON APIs under /api/modules, and the printable
// street-lighting audit page. See docs/modules.md.

// outageRoles may draw and close utility outages.
var outageRoles = []accounts.Role{accounts.GISStaff, accounts.Dispatcher, accounts.Admin}

// areaRoles may recompute clinic attachment areas and school catchments.
var areaRoles = []accounts.Role{accounts.GISStaff, accounts.Planner, accounts.Admin}

// contestRoles open and close best-yard seasons.
var contestRoles = []accounts.Role{accounts.DepartmentStaff, accounts.GISStaff, accounts.Admin}

// voterRoles may nominate yards and vote: every signed-in account.
var voterRoles = append([]accounts.Role{accounts.Citizen}, accounts.StaffRoles...)

// maxNominationBody bounds a nomination upload (three photos and the form).
const maxNominationBody = reports.MaxPhotos*reports.MaxPhotoBytes + 1<<20

// modulePoint reads lon/lat, or resolves address through the search.
func (s *Server) modulePoint(r *http.Request) (float64, float64, string, error) {
	q := r.URL.Query()
	if addr := q.Get("address"); addr != "" && q.Get("lon") == "" && q.Get("lat") == "" {
		lon, lat, err := s.Modules.Locate(r.Context(), addr, pageLang(r))
		return lon, lat, addr, err
	}
	lon, lat, err := modules.ParsePoint(q.Get("lon"), q.Get("lat"))
	return lon, lat, "", err
}

// --- street lighting ---

func (s *Server) lightingAudit(r *http.Request) (*modules.LightingAudit, error) {
	tariff, err := modules.ParseTariff(r.URL.Query().Get("tariff"))
	if err != nil {
		return nil, err
	}
	return s.Modules.LightingAudit(r.Context(), tariff)
}

func (s *Server) handleLightingAudit(w http.ResponseWriter, r *http.Request) {
	a, err := s.lightingAudit(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, a)
}

func (s *Server) handleLightingAuditCSV(w http.ResponseWriter, r *http.Request) {
	a, err := s.lightingAudit(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	lang := pageLang(r)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="street-lighting-audit.csv"`)
	// A byte-order mark, so that spreadsheet programs read the Kazakh and Russian names as UTF-8.
	io.WriteString(w, "\ufeff")
	cw := csvsafe.NewWriter(w) // spreadsheet formulas defused in every cell
	cw.Write([]string{"section", "key", "name", "lamps", "power_kw", "kwh_year", "cost_kzt", "led_kwh_year",
		"saving_kwh_year", "saving_kzt", "saving_share", "tariff_kzt_per_kwh"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	row := func(section string, x modules.LightingRow) {
		cw.Write([]string{section, x.Key, x.Names.In(lang), strconv.Itoa(x.Lamps), f(x.PowerKW), f(x.KWhYear),
			f(x.CostKZT), f(x.LEDKWhYear), f(x.SavingKWh), f(x.SavingKZT), f(x.SavingShare), f(a.Tariff)})
	}
	for _, d := range a.Districts {
		row("district", d)
	}
	for _, t := range a.LampTypes {
		row("lamp_type", t)
	}
	row("total", a.Total)
	// The LED replacements: lamps of one type and power, the LED power and the saving.
	watt := lightingText[lang]["w"]
	for _, x := range a.Replacements {
		name := fmt.Sprintf("%s %d %s → LED %d %s", x.LampType, x.PowerW, watt, x.LEDPowerW, watt)
		if _, known := modules.LEDPower(x.LampType, x.PowerW); !known {
			name = fmt.Sprintf("%s %d %s: %s", x.LampType, x.PowerW, watt, lightingText[lang]["no_led"])
		}
		cw.Write([]string{"led_replacement", fmt.Sprintf("%s %d", x.LampType, x.PowerW), name, strconv.Itoa(x.Lamps),
			f(float64(x.Lamps*x.PowerW) / 1000), "", "", "", f(x.SavingKWh), f(x.SavingKZT), "", f(a.Tariff)})
	}
	if a.LampsWithoutData > 0 {
		cw.Write([]string{"without_data", "", lightingText[lang]["without_data"], strconv.Itoa(a.LampsWithoutData),
			"", "", "", "", "", "", "", f(a.Tariff)})
	}
	cw.Flush()
}

//go:embed modulepages
var modulePagesFS embed.FS

var moduleTemplates = template.Must(template.Must(template.New("").Funcs(template.FuncMap{
	"num":  func(v float64) string { return groupDigits(strconv.FormatFloat(v, 'f', 0, 64)) },
	"pct":  func(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + " %" },
	"time": func(t time.Time) string { return t.In(almaty).Format("2006-01-02 15:04") },
	"ptime": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.In(almaty).Format("2006-01-02 15:04")
	},
}).ParseFS(authPagesFS, "authpages/head.html")).ParseFS(modulePagesFS, "modulepages/*.html"))

// groupDigits puts thin spaces between thousands: 1234567 → 1 234 567.
func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

var lightingText = map[string]map[string]string{
	"en": {"title": "Street-lighting energy audit", "tariff": "Tariff, KZT/kWh", "recalc": "Recalculate",
		"by_district": "By district", "by_type": "By lamp type", "replacements": "Replacing with LED",
		"district": "District", "type": "Lamp type", "lamps": "Lamps", "power": "Power, kW", "kwh": "kWh a year",
		"cost": "Cost, KZT a year", "led_kwh": "With LED, kWh", "saving": "Saving, kWh", "saving_kzt": "Saving, KZT",
		"share": "Saving", "lamp": "Lamp", "led": "LED equivalent", "total": "Total", "csv": "Download CSV",
		"no_led": "no LED equivalent", "print": "Print", "without_data": "Lamps without power or burning hours (left out)", "notes": "Method", "w": "W"},
	"ru": {"title": "Энергоаудит уличного освещения", "tariff": "Тариф, тенге/кВт·ч", "recalc": "Пересчитать",
		"by_district": "По районам", "by_type": "По типам ламп", "replacements": "Замена на светодиодные",
		"district": "Район", "type": "Тип лампы", "lamps": "Светильников", "power": "Мощность, кВт", "kwh": "кВт·ч в год",
		"cost": "Стоимость, тенге в год", "led_kwh": "После замены, кВт·ч", "saving": "Экономия, кВт·ч", "saving_kzt": "Экономия, тенге",
		"share": "Экономия", "lamp": "Лампа", "led": "Светодиодный аналог", "total": "Итого", "csv": "Скачать CSV",
		"no_led": "нет светодиодного аналога", "print": "Печать", "without_data": "Светильники без мощности или часов горения (не учтены)", "notes": "Методика", "w": "Вт"},
	"kk": {"title": "Көше жарығының энергоаудиті", "tariff": "Тариф, теңге/кВт·сағ", "recalc": "Қайта есептеу",
		"by_district": "Аудандар бойынша", "by_type": "Шам түрлері бойынша", "replacements": "Жарықдиодтыға ауыстыру",
		"district": "Аудан", "type": "Шам түрі", "lamps": "Шамдар", "power": "Қуаты, кВт", "kwh": "Жылына кВт·сағ",
		"cost": "Құны, жылына теңге", "led_kwh": "Ауыстырғаннан кейін, кВт·сағ", "saving": "Үнемдеу, кВт·сағ", "saving_kzt": "Үнемдеу, теңге",
		"share": "Үнемдеу", "lamp": "Шам", "led": "Жарықдиодты баламасы", "total": "Барлығы", "csv": "CSV жүктеу",
		"no_led": "жарықдиодты баламасы жоқ", "print": "Басып шығару", "without_data": "Қуаты немесе жану сағаты жоқ шамдар (есептелмеді)", "notes": "Әдістеме", "w": "Вт"},
}

type lightingPage struct {
	pageData
	S      map[string]string
	Audit  *modules.LightingAudit
	Tariff string
}

// Name is a row's name in the page language.
func (p lightingPage) Name(n modules.Names) string { return n.In(p.Lang) }

// LED names a replacement's LED luminaire, or says the lamp type has none.
func (p lightingPage) LED(x modules.LEDReplacement) string {
	if _, known := modules.LEDPower(x.LampType, x.PowerW); !known {
		return p.S["no_led"]
	}
	return fmt.Sprintf("LED %d %s", x.LEDPowerW, p.S["w"])
}

// handleLightingPage is the printable audit (public: the audit is public information).
func (s *Server) handleLightingPage(w http.ResponseWriter, r *http.Request) {
	p := lightingPage{pageData: s.newPage(r)}
	p.S = lightingText[p.Lang]
	a, err := s.lightingAudit(r)
	status := http.StatusOK
	if err != nil {
		if reply.Status(err) >= 500 {
			s.reply.Error(w, r, err)
			return
		}
		p.Error, status = geoportal.ErrorMessage(err), reply.Status(err)
		a, err = s.Modules.LightingAudit(r.Context(), modules.DefaultTariff)
		if err != nil {
			s.reply.Error(w, r, err)
			return
		}
	}
	p.Audit = a
	p.Tariff = strconv.FormatFloat(a.Tariff, 'f', -1, 64)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := moduleTemplates.ExecuteTemplate(w, "lighting.html", p); err != nil {
		s.Logger.Error("render page", "page", "lighting.html", "error", err)
	}
}

// --- utility outages ---

func (s *Server) handleOutages(w http.ResponseWriter, r *http.Request) {
	list, err := s.Modules.Outages(r.Context())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	fc := map[string]any{"type": "FeatureCollection", "features": []any{}}
	feats := []any{}
	for _, o := range list {
		g := o.Geometry
		o.Geometry = nil
		feats = append(feats, map[string]any{"type": "Feature", "id": o.ID, "geometry": g, "properties": o})
	}
	fc["features"] = feats
	reply.JSON(w, http.StatusOK, fc)
}

func (s *Server) handleOutageAffected(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("building"); v != "" {
		// A building clicked on the map (its feature id in layer buildings).
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "building %q is not a positive integer (a feature id of layer buildings)", v))
			return
		}
		a, err := s.Modules.AffectedBuilding(r.Context(), id)
		if err != nil {
			s.reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, a)
		return
	}
	lon, lat, addr, err := s.modulePoint(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	a, err := s.Modules.AffectedAt(r.Context(), lon, lat)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	a.Address = addr
	reply.JSON(w, http.StatusOK, a)
}

func (s *Server) handleOutageCreate(w http.ResponseWriter, r *http.Request) {
	var n modules.NewOutage
	if err := decodeJSON(r, &n); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	o, err := s.Modules.CreateOutage(r.Context(), n)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, o)
}

func (s *Server) handleOutageClose(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	o, err := s.Modules.CloseOutage(r.Context(), id)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, o)
}

// --- clinics and schools ---

func (s *Server) handleMine(kind string) http.HandlerFunc {
	k := modules.ClinicAreas
	if kind == "school" {
		k = modules.SchoolCatchments
	}
	return func(w http.ResponseWriter, r *http.Request) {
		lon, lat, addr, err := s.modulePoint(r)
		if err != nil {
			s.reply.Error(w, r, err)
			return
		}
		f, err := s.Modules.Mine(r.Context(), k, lon, lat)
		if err != nil {
			s.reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, map[string]any{"lon": lon, "lat": lat, "address": addr, kind: f})
	}
}

func (s *Server) handleRecomputeAreas(kind string) http.HandlerFunc {
	k := modules.ClinicAreas
	if kind == "school" {
		k = modules.SchoolCatchments
	}
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := s.Modules.RecomputeAreas(r.Context(), k)
		if err != nil {
			s.reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, map[string]any{"areas": n})
	}
}

func (s *Server) handleClinicPlanning(w http.ResponseWriter, r *http.Request) {
	d, err := api.QueryFloat(r.URL.Query(), "distance", 1000)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	p, err := s.Modules.ClinicPlanning(r.Context(), d, s.guard.IsStaff(r))
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, p)
}

func (s *Server) handleSchoolSafety(w http.ResponseWriter, r *http.Request) {
	radius, err := api.QueryFloat(r.URL.Query(), "radius", 300)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	rep, err := s.Modules.SchoolSafety(r.Context(), radius)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rep)
}

// handleSchoolCameras answers a school's popup: the cameras within radius (default 300 m).
func (s *Server) handleSchoolCameras(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	radius, err := api.QueryFloat(r.URL.Query(), "radius", 300)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	rep, err := s.Modules.SchoolCameras(r.Context(), id, radius)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rep)
}

// --- barrier-free city ---

func (s *Server) handleAccessibility(w http.ResponseWriter, r *http.Request) {
	d, err := api.QueryFloat(r.URL.Query(), "distance", 300)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	limit, err := api.QueryInt(r.URL.Query(), "limit", 50)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	rep, err := s.Modules.Accessibility(r.Context(), d, limit)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rep)
}

// --- best-yard contest ---

func (s *Server) handleYardSeason(w http.ResponseWriter, r *http.Request) {
	season, err := s.Modules.CurrentSeason(r.Context())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, season)
}

func (s *Server) handleYardRanking(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("season")
	var season int
	if v == "" {
		cur, err := s.Modules.CurrentSeason(r.Context())
		if err != nil {
			s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season is required (no season is open)"))
			return
		}
		season = cur.Season
	} else {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v))
			return
		}
		season = n
	}
	rk, err := s.Modules.Ranking(r.Context(), season)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rk)
}

// handleYardNominate takes a nomination as multipart/form-data (title, description, geometry as
// GeoJSON text, up to three files "photo") or as JSON {title, description, geometry}.
func (s *Server) handleYardNominate(w http.ResponseWriter, r *http.Request) {
	u, ok := s.guard.CurrentUser(r)
	if !ok {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to nominate a yard"))
		return
	}
	var n modules.NewNomination
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(4 << 20); err != nil {
			s.reply.Error(w, r, guard.BodyError(err))
			return
		}
		n.Title, n.Description = r.FormValue("title"), r.FormValue("description")
		if g := r.FormValue("geometry"); g != "" {
			n.Geometry = json.RawMessage(g)
		}
		files := r.MultipartForm.File["photo"]
		if len(files) > reports.MaxPhotos {
			s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "at most %d photos", reports.MaxPhotos))
			return
		}
		for _, fh := range files {
			f, err := fh.Open()
			if err != nil {
				s.reply.Error(w, r, guard.BodyError(err))
				return
			}
			b, err := io.ReadAll(io.LimitReader(f, reports.MaxPhotoBytes+1))
			f.Close()
			if err != nil {
				s.reply.Error(w, r, guard.BodyError(err))
				return
			}
			p, err := reports.ProcessPhoto(fh.Filename, b)
			if err != nil {
				s.reply.Error(w, r, err)
				return
			}
			n.Photos = append(n.Photos, p)
		}
	default:
		var body struct {
			Title       string          `json:"title"`
			Description string          `json:"description"`
			Geometry    json.RawMessage `json:"geometry"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.reply.Error(w, r, err)
			return
		}
		n.Title, n.Description, n.Geometry = body.Title, body.Description, body.Geometry
	}
	nom, err := s.Modules.Nominate(r.Context(), u.ID, n)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, nom)
}

func (s *Server) handleYardVote(w http.ResponseWriter, r *http.Request) {
	u, ok := s.guard.CurrentUser(r)
	if !ok {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to vote"))
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	if err := s.Modules.Vote(r.Context(), u.ID, id); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, map[string]any{"voted": id})
}

func (s *Server) handleYardPhoto(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	file := chi.URLParam(r, "file")
	thumb := strings.HasSuffix(file, ".thumb.jpg")
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(file, ".thumb.jpg"), ".jpg"))
	if err != nil || !strings.HasSuffix(file, ".jpg") {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.ENOTFOUND, "no photo %q", file))
		return
	}
	b, err := s.Modules.YardPhoto(r.Context(), id, n, thumb)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

func (s *Server) handleYardSeasonOpen(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Season int `json:"season"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	if body.Season == 0 {
		body.Season = time.Now().In(almaty).Year()
	}
	season, err := s.Modules.OpenSeason(r.Context(), body.Season)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, season)
}

func (s *Server) handleYardSeasonClose(w http.ResponseWriter, r *http.Request) {
	v := chi.URLParam(r, "season")
	season, err := strconv.Atoi(v)
	if err != nil {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v))
		return
	}
	var body struct {
		Winners int `json:"winners"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	if body.Winners == 0 {
		body.Winners = 3
	}
	out, err := s.Modules.CloseSeason(r.Context(), season, body.Winners)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, out)
}

func (s *Server) handleModulesCSS(w http.ResponseWriter, r *http.Request) {
	b, err := modulePagesFS.ReadFile("modulepages/modules.css")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// --- the staff page: outages, areas and the contest, with plain forms ---

var modulesStaffText = map[string]map[string]string{
	"en": {"hide": "Take out of the contest", "reason": "Reason", "hidden_note": "Hidden nominations lose their votes.", "closed_season": "Season %d is closed. Winners:", "no_winners": "No nominations, no winners.", "photos": "Photos", "on_map": "See on the map", "winner": "Winner", "title": "City modules", "outages": "Utility outages", "network": "Network", "starts": "Since",
		"expected_end": "Expected end", "description": "Description", "close": "Close", "no_outages": "No outages now.",
		"new_outage": "New outage", "geometry": "Area (GeoJSON polygon)", "create": "Draw on the map",
		"areas": "Clinic areas and school catchments", "recompute_clinics": "Recompute clinic areas",
		"recompute_schools": "Recompute school catchments", "best_yard": "Best-yard contest", "season": "Season",
		"open": "open for nominations and votes", "winners": "Winners", "close_season": "Close the season and publish winners",
		"ranking": "Ranking", "yard": "Yard", "votes": "Votes", "no_season": "No season is open.", "open_season": "Open a season",
		"lighting": "Street-lighting energy audit", "saved": "Saved.",
		"net_heating": "Heating", "net_water": "Water", "net_sewer": "Sewer", "net_power": "Power", "net_gas": "Gas"},
	"ru": {"hide": "Снять с конкурса", "reason": "Причина", "hidden_note": "Голоса за снятые заявки не считаются.", "closed_season": "Сезон %d закрыт. Победители:", "no_winners": "Заявок не было, победителей нет.", "photos": "Фото", "on_map": "Посмотреть на карте", "winner": "Победитель", "title": "Городские модули", "outages": "Отключения коммунальных услуг", "network": "Сеть", "starts": "С",
		"expected_end": "Ожидаемое включение", "description": "Описание", "close": "Закрыть", "no_outages": "Отключений нет.",
		"new_outage": "Новое отключение", "geometry": "Зона (полигон GeoJSON)", "create": "Нанести на карту",
		"areas": "Участки поликлиник и микроучастки школ", "recompute_clinics": "Пересчитать участки поликлиник",
		"recompute_schools": "Пересчитать микроучастки школ", "best_yard": "Конкурс «Лучший двор»", "season": "Сезон",
		"open": "открыт для заявок и голосования", "winners": "Победителей", "close_season": "Закрыть сезон и объявить победителей",
		"ranking": "Рейтинг", "yard": "Двор", "votes": "Голоса", "no_season": "Открытого сезона нет.", "open_season": "Открыть сезон",
		"lighting": "Энергоаудит уличного освещения", "saved": "Сохранено.",
		"net_heating": "Отопление", "net_water": "Вода", "net_sewer": "Канализация", "net_power": "Электричество", "net_gas": "Газ"},
	"kk": {"hide": "Байқаудан алу", "reason": "Себебі", "hidden_note": "Алынған ұсыныстардың дауыстары есептелмейді.", "closed_season": "%d маусымы жабылды. Жеңімпаздар:", "no_winners": "Ұсыныстар болмады, жеңімпаздар жоқ.", "photos": "Фото", "on_map": "Картадан көру", "winner": "Жеңімпаз", "title": "Қала модульдері", "outages": "Коммуналдық қызметтердің өшірілуі", "network": "Желі", "starts": "Басталуы",
		"expected_end": "Күтілетін қосылу", "description": "Сипаттама", "close": "Жабу", "no_outages": "Өшірілу жоқ.",
		"new_outage": "Жаңа өшірілу", "geometry": "Аумақ (GeoJSON полигоны)", "create": "Картаға түсіру",
		"areas": "Емхана аумақтары және мектеп учаскелері", "recompute_clinics": "Емхана аумақтарын қайта есептеу",
		"recompute_schools": "Мектеп учаскелерін қайта есептеу", "best_yard": "Үздік аула байқауы", "season": "Маусым",
		"open": "ұсыныстар мен дауыс беру ашық", "winners": "Жеңімпаздар саны", "close_season": "Маусымды жабу және жеңімпаздарды жариялау",
		"ranking": "Рейтинг", "yard": "Аула", "votes": "Дауыстар", "no_season": "Ашық маусым жоқ.", "open_season": "Маусымды ашу",
		"lighting": "Көше жарығының энергоаудиті", "saved": "Сақталды.",
		"net_heating": "Жылу", "net_water": "Су", "net_sewer": "Кәріз", "net_power": "Электр", "net_gas": "Газ"},
}

type modulesStaffPage struct {
	pageData
	S                                map[string]string
	CanOutages, CanAreas, CanContest bool
	Outages                          []modules.Outage
	Networks                         []string
	Season                           *modules.Season
	Ranking                          *modules.Ranking
	// LastClosed is the latest closed season with its published winners.
	LastClosed *modules.Ranking
	Year       int
}

// Name picks the page language's text.
func (p modulesStaffPage) Name(n modules.Names) string { return n.In(p.Lang) }

// handleModulesStaffPage shows the modules' staff tools the visitor's role allows.
func (s *Server) handleModulesStaffPage(w http.ResponseWriter, r *http.Request) {
	s.showModulesStaffPage(w, r, http.StatusOK, "")
}

func (s *Server) showModulesStaffPage(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	p := modulesStaffPage{pageData: s.newPage(r), Networks: modules.Networks, Year: time.Now().In(almaty).Year()}
	p.S = modulesStaffText[p.Lang]
	u, ok := s.guard.CurrentUser(r)
	if !ok || p.User == nil {
		http.Redirect(w, r, "/login?lang="+p.Lang+"&next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	p.CanOutages, p.CanAreas, p.CanContest = u.HasRole(outageRoles...), u.HasRole(areaRoles...), u.HasRole(contestRoles...)
	if !p.CanOutages && !p.CanAreas && !p.CanContest {
		p.Error = p.T["forbidden"]
		s.render(w, r, http.StatusForbidden, "error.html", p.pageData)
		return
	}
	ctx := r.Context()
	m := s.Modules
	var err error
	if p.CanOutages {
		if p.Outages, err = m.Outages(ctx); err != nil {
			s.reply.Error(w, r, err)
			return
		}
	}
	if p.CanContest {
		season, err := m.CurrentSeason(ctx)
		switch {
		case err == nil:
			p.Season = &season
			if p.Ranking, err = m.Ranking(ctx, season.Season); err != nil {
				s.reply.Error(w, r, err)
				return
			}
		case geoportal.ErrorCode(err) != geoportal.ENOTFOUND:
			s.reply.Error(w, r, err)
			return
		}
		last, err := lastClosedRanking(r, m)
		switch {
		case err == nil:
			p.LastClosed = last
			// The year's season is over: offer the next one.
			p.Year = max(p.Year, last.Season.Season+1)
		case geoportal.ErrorCode(err) != geoportal.ENOTFOUND:
			s.reply.Error(w, r, err)
			return
		}
	}
	p.Error = errMsg
	if msg := r.URL.Query().Get("msg"); msg == "saved" {
		p.Flash = p.S["saved"]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := moduleTemplates.ExecuteTemplate(w, "modules_staff.html", p); err != nil {
		s.Logger.Error("render page", "page", "modules_staff.html", "error", err)
	}
}

// modulesForm runs a staff form: back to the page with "saved", or the page with the error.
func (s *Server) modulesForm(action func(r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.reply.Error(w, r, guard.BodyError(err))
			return
		}
		if err := action(r); err != nil {
			if reply.Status(err) >= 500 {
				s.reply.Error(w, r, err)
				return
			}
			s.showModulesStaffPage(w, r, reply.Status(err), geoportal.ErrorMessage(err))
			return
		}
		http.Redirect(w, r, "/staff/modules?msg=saved&lang="+pageLang(r), http.StatusSeeOther)
	}
}

// formTime reads a datetime-local field in the city's clock; empty is nil.
func formTime(r *http.Request, name string) (*time.Time, error) {
	v := strings.TrimSpace(r.PostForm.Get(name))
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, almaty); err == nil {
			return &t, nil
		}
	}
	return nil, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a date and time (YYYY-MM-DDTHH:MM)", name, v)
}

func (s *Server) formOutageCreate(r *http.Request) error {
	n := modules.NewOutage{Network: r.PostForm.Get("network"), Geometry: json.RawMessage(strings.TrimSpace(r.PostForm.Get("geometry"))),
		Description: modules.Names{KK: r.PostForm.Get("description_kk"), RU: r.PostForm.Get("description_ru"), EN: r.PostForm.Get("description_en")}}
	var err error
	if n.StartsAt, err = formTime(r, "starts_at"); err != nil {
		return err
	}
	if n.ExpectedEnd, err = formTime(r, "expected_end"); err != nil {
		return err
	}
	_, err = s.Modules.CreateOutage(r.Context(), n)
	return err
}

func (s *Server) formOutageClose(r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	_, err = s.Modules.CloseOutage(r.Context(), id)
	return err
}

func (s *Server) formRecompute(k string) func(r *http.Request) error {
	return func(r *http.Request) error {
		kind := modules.ClinicAreas
		if k == "school" {
			kind = modules.SchoolCatchments
		}
		_, err := s.Modules.RecomputeAreas(r.Context(), kind)
		return err
	}
}

func (s *Server) formSeasonOpen(r *http.Request) error {
	v := r.PostForm.Get("season")
	season, err := strconv.Atoi(v)
	if err != nil {
		return geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v)
	}
	_, err = s.Modules.OpenSeason(r.Context(), season)
	return err
}

func (s *Server) formSeasonClose(r *http.Request) error {
	v := chi.URLParam(r, "season")
	season, err := strconv.Atoi(v)
	if err != nil {
		return geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v)
	}
	w := r.PostForm.Get("winners")
	winners, err := strconv.Atoi(w)
	if err != nil {
		return geoportal.Errorf(geoportal.EINVALID, "winners %q is not a whole number", w)
	}
	_, err = s.Modules.CloseSeason(r.Context(), season, winners)
	return err
}

func (s *Server) handleYardHide(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	if err := s.Modules.HideNomination(r.Context(), id, body.Reason); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"hidden": id})
}
