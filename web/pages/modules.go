package pages

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// The city modules' pages (docs/modules.md): the printable street-lighting audit, and the staff
// page with plain forms for outages, clinic areas and school catchments, and best-yard seasons.

type lightingPage struct {
	page
	Audit  *modules.LightingAudit
	Tariff string
}

// Name is a row's name in the page language.
func (p lightingPage) Name(n modules.Names) string { return n.In(p.Lang) }

// LED names a replacement's LED luminaire, or says the lamp type has none.
func (p lightingPage) LED(x modules.LEDReplacement) string {
	if _, known := modules.LEDPower(x.LampType, x.PowerW); !known {
		return p.T("lighting.no_led")
	}
	return fmt.Sprintf("LED %d %s", x.LEDPowerW, p.T("lighting.w"))
}

// UnknownTypes lists the lamp types without an LED equivalent, for the method note.
func (p lightingPage) UnknownTypes() string { return strings.Join(p.Audit.UnknownTypes, ", ") }

// Lighting is the printable audit (GET /lighting/audit?tariff=; public: the audit is public
// information). A bad tariff shows its error over the audit at the default tariff.
func (ps *Pages) Lighting(w http.ResponseWriter, r *http.Request) {
	p := lightingPage{page: ps.newPage(r)}
	m := ps.Modules
	status := http.StatusOK
	var a *modules.LightingAudit
	tariff, err := modules.ParseTariff(r.URL.Query().Get("tariff"))
	if err == nil {
		a, err = m.LightingAudit(r.Context(), tariff)
	}
	if err != nil && reply.Status(err) < 500 {
		p.Error, status = geoportal.ErrorMessage(err), reply.Status(err)
		a, err = m.LightingAudit(r.Context(), modules.DefaultTariff)
	}
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	p.Audit = a
	p.Tariff = strconv.FormatFloat(a.Tariff, 'f', -1, 64)
	ps.render(w, status, p.Lang, "lighting.html", p)
}

type modulesStaffPage struct {
	page
	CanOutages, CanAreas, CanContest bool
	Outages                          []modules.Outage
	Networks                         []string
	Season                           *modules.Season
	Ranking                          *modules.Ranking
	// LastClosed is the latest closed season with its published winners.
	LastClosed *modules.Ranking
	Year       int
	// Edit is the outage whose area is being redrawn (?edit=ID); NewGeometry keeps a drawn
	// area over a refused form.
	Edit        *modules.Outage
	NewGeometry string
}

// drawArea is what the "drawarea" template needs: the geometry field's id and the map bundle.
type drawArea struct{ Input, Script string }

// Draw is the drawing map for the geometry field input.
func (p modulesStaffPage) Draw(input string) drawArea {
	return drawArea{Input: input, Script: p.StaffMap.Script}
}

// Name picks the page language's text.
func (p modulesStaffPage) Name(n modules.Names) string { return n.In(p.Lang) }

// ModulesStaff shows the modules' staff tools the visitor's role allows (GET /staff/modules).
func (ps *Pages) ModulesStaff(w http.ResponseWriter, r *http.Request) {
	ps.showModulesStaff(w, r, http.StatusOK, "")
}

func (ps *Pages) showModulesStaff(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	p := modulesStaffPage{page: ps.newPage(r), Networks: modules.Networks, Year: time.Now().In(cityClock).Year()}
	u, ok := ps.Guard.CurrentUser(r)
	if !ok || p.User == nil {
		signIn(w, r, p.Lang)
		return
	}
	p.CanOutages, p.CanAreas, p.CanContest = u.HasRole(ps.Roles.Outage...), u.HasRole(ps.Roles.Area...), u.HasRole(ps.Roles.Contest...)
	if !p.CanOutages && !p.CanAreas && !p.CanContest {
		ps.forbidden(w, r, "the modules' staff page needs a role that draws outages, recomputes areas or runs the contest")
		return
	}
	ctx := r.Context()
	m := ps.Modules
	var err error
	if p.CanOutages {
		if p.Outages, err = m.Outages(ctx); err != nil {
			ps.fail(w, r, err)
			return
		}
		edit := r.URL.Query().Get("edit")
		if r.Method == http.MethodPost {
			if strings.HasSuffix(r.URL.Path, "/area") {
				edit = chi.URLParam(r, "id")
			} else if strings.HasSuffix(r.URL.Path, "/outages") {
				p.NewGeometry = r.PostForm.Get("geometry")
			}
		}
		for i := range p.Outages {
			if edit != "" && strconv.FormatInt(p.Outages[i].ID, 10) == edit {
				p.Edit = &p.Outages[i]
			}
		}
	}
	if p.CanContest {
		season, err := m.CurrentSeason(ctx)
		switch {
		case err == nil:
			p.Season = &season
			if p.Ranking, err = m.Ranking(ctx, season.Season); err != nil {
				ps.fail(w, r, err)
				return
			}
		case geoportal.ErrorCode(err) != geoportal.ENOTFOUND:
			ps.fail(w, r, err)
			return
		}
		last, err := lastClosedRanking(r, m)
		switch {
		case err == nil:
			p.LastClosed = last
			// The year's season is over: offer the next one.
			p.Year = max(p.Year, last.Season.Season+1)
		case geoportal.ErrorCode(err) != geoportal.ENOTFOUND:
			ps.fail(w, r, err)
			return
		}
	}
	p.Error = errMsg
	if msg := r.URL.Query().Get("msg"); msg == "saved" {
		p.Flash = p.T("modules.saved")
	}
	ps.render(w, status, p.Lang, "modules_staff.html", p)
}

// modulesForm runs a staff form: back to the page with "saved", or the page with the error.
func (ps *Pages) modulesForm(action func(r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			ps.fail(w, r, guard.BodyError(err))
			return
		}
		if err := action(r); err != nil {
			if reply.Status(err) >= 500 {
				ps.fail(w, r, err)
				return
			}
			ps.showModulesStaff(w, r, reply.Status(err), geoportal.ErrorMessage(err))
			return
		}
		http.Redirect(w, r, "/staff/modules?msg=saved&lang="+Lang(r), http.StatusSeeOther)
	}
}

// The staff page's forms, each at its POST /staff/modules/… route.
func (ps *Pages) OutageCreateForm() http.HandlerFunc { return ps.modulesForm(ps.formOutageCreate) }
func (ps *Pages) OutageCloseForm() http.HandlerFunc  { return ps.modulesForm(ps.formOutageClose) }
func (ps *Pages) OutageAreaForm() http.HandlerFunc   { return ps.modulesForm(ps.formOutageArea) }
func (ps *Pages) ClinicAreasForm() http.HandlerFunc {
	return ps.modulesForm(func(r *http.Request) error {
		_, err := ps.Modules.RecomputeAreas(r.Context(), modules.ClinicAreas)
		return err
	})
}
func (ps *Pages) SchoolCatchmentsForm() http.HandlerFunc {
	return ps.modulesForm(func(r *http.Request) error {
		_, err := ps.Modules.RecomputeAreas(r.Context(), modules.SchoolCatchments)
		return err
	})
}
func (ps *Pages) SeasonOpenForm() http.HandlerFunc  { return ps.modulesForm(ps.formSeasonOpen) }
func (ps *Pages) SeasonCloseForm() http.HandlerFunc { return ps.modulesForm(ps.formSeasonClose) }
func (ps *Pages) YardHideForm() http.HandlerFunc    { return ps.modulesForm(ps.formYardHide) }

// formTime reads a datetime-local field in the city's clock; empty is nil.
func formTime(r *http.Request, name string) (*time.Time, error) {
	v := strings.TrimSpace(r.PostForm.Get(name))
	if v == "" {
		return nil, nil
	}
	t, err := cityTime(name, v)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (ps *Pages) formOutageCreate(r *http.Request) error {
	n := modules.NewOutage{Network: r.PostForm.Get("network"), Geometry: json.RawMessage(strings.TrimSpace(r.PostForm.Get("geometry"))),
		Description: modules.Names{KK: r.PostForm.Get("description_kk"), RU: r.PostForm.Get("description_ru"), EN: r.PostForm.Get("description_en")}}
	var err error
	if n.StartsAt, err = formTime(r, "starts_at"); err != nil {
		return err
	}
	if n.ExpectedEnd, err = formTime(r, "expected_end"); err != nil {
		return err
	}
	_, err = ps.Modules.CreateOutage(r.Context(), n)
	return err
}

func (ps *Pages) formOutageClose(r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	_, err = ps.Modules.CloseOutage(r.Context(), id)
	return err
}

// formOutageArea redraws an outage's area (the page's edit form).
func (ps *Pages) formOutageArea(r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	_, err = ps.Modules.SetOutageArea(r.Context(), id, json.RawMessage(strings.TrimSpace(r.PostForm.Get("geometry"))))
	return err
}

func (ps *Pages) formSeasonOpen(r *http.Request) error {
	v := r.PostForm.Get("season")
	season, err := strconv.Atoi(v)
	if err != nil {
		return geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v)
	}
	_, err = ps.Modules.OpenSeason(r.Context(), season)
	return err
}

func (ps *Pages) formSeasonClose(r *http.Request) error {
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
	_, err = ps.Modules.CloseSeason(r.Context(), season, winners)
	return err
}

// formYardHide is the staff page's moderation form: take a nomination out of the contest.
func (ps *Pages) formYardHide(r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	return ps.Modules.HideNomination(r.Context(), id, r.PostForm.Get("reason"))
}

// lastClosedRanking is the ranking of the latest closed season, for the staff page after a
// season is closed; ENOTFOUND when no season has been closed yet.
func lastClosedRanking(r *http.Request, m *modules.Store) (*modules.Ranking, error) {
	seasons, err := m.Seasons(r.Context())
	if err != nil {
		return nil, err
	}
	for _, x := range seasons {
		if x.Status == "closed" {
			return m.Ranking(r.Context(), x.Season)
		}
	}
	return nil, geoportal.Errorf(geoportal.ENOTFOUND, "no best-yard season has been closed yet")
}
