package web

import (
	"encoding/json"
	"fmt"
	"github.com/aktobe/geoportal/web/pages"
	"io"
	"net/http"
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

// almaty is the city's clock (Aktobe keeps UTC+5 all year).
var almaty = time.FixedZone("UTC+5", 5*3600)

// modulePoint reads lon/lat, or resolves address through the search.
func (s *Server) modulePoint(r *http.Request) (float64, float64, string, error) {
	q := r.URL.Query()
	if addr := q.Get("address"); addr != "" && q.Get("lon") == "" && q.Get("lat") == "" {
		lon, lat, err := s.Modules.Locate(r.Context(), addr, pages.Lang(r))
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
	lang := pages.Lang(r)
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
	watt := pages.Text(lang, "lighting.w")
	for _, x := range a.Replacements {
		name := fmt.Sprintf("%s %d %s → LED %d %s", x.LampType, x.PowerW, watt, x.LEDPowerW, watt)
		if _, known := modules.LEDPower(x.LampType, x.PowerW); !known {
			name = fmt.Sprintf("%s %d %s: %s", x.LampType, x.PowerW, watt, pages.Text(lang, "lighting.no_led"))
		}
		cw.Write([]string{"led_replacement", fmt.Sprintf("%s %d", x.LampType, x.PowerW), name, strconv.Itoa(x.Lamps),
			f(float64(x.Lamps*x.PowerW) / 1000), "", "", "", f(x.SavingKWh), f(x.SavingKZT), "", f(a.Tariff)})
	}
	if a.LampsWithoutData > 0 {
		cw.Write([]string{"without_data", "", pages.Text(lang, "lighting.without_data"), strconv.Itoa(a.LampsWithoutData),
			"", "", "", "", "", "", "", f(a.Tariff)})
	}
	cw.Flush()
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
