package web

import (
	"net/http"
	"strconv"

	"github.com/aktobe/geoportal/layers/accounts"
	webaccounts "github.com/aktobe/geoportal/web/accounts"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/live"
	"github.com/aktobe/geoportal/web/modules"
	"github.com/aktobe/geoportal/web/ogc"
	"github.com/aktobe/geoportal/web/open311"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/aktobe/geoportal/web/reports"
	"github.com/aktobe/geoportal/web/tiles"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route of the service in one place.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(s.metrics.instrument)
	// Long answers move the write deadline as the client reads (web/reply), and text answers
	// travel compressed when the client accepts it (compress.go), above it.
	r.Use(reply.MoveWriteDeadline(s.Timeouts.Write), newCompressor())
	// Security headers, the 1 MiB body limit (routes raise it with guard.MaxBody), path and query
	// values that are not text refused (bytes that are not UTF-8, or a NUL: textcheck.go) before
	// anything hands them to PostgreSQL, and who is calling (session cookie + CSRF check on
	// writes, or API key): see web/guard.
	r.Use(s.securityHeaders, s.guard.LimitBody, s.checkText, s.guard.Authenticate)
	// Sign-in and administration's JSON API (web/accounts), whose actions the pages share; the
	// server-rendered pages (web/pages), built in pages.go.
	ac := &webaccounts.API{Accounts: s.Accounts, Guard: s.guard, Reply: s.reply, Logger: s.Logger}
	pg := s.pages(ac)
	s.pageFail = pg.Fail
	tl := &tiles.API{Tiles: s.Tiles, Guard: s.guard, Reply: s.reply, Fonts: s.Glyphs}

	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(prometheus.Gatherers{s.Registry, s.Transit.Metrics()}, promhttp.HandlerOpts{}))

	// The map's JSON API (web/api): layers, search, nearest, reverse geocoding and the planners' analyses.
	mapAPI := &api.Handlers{Store: s.Layers, Analysis: s.Analysis, Map: &s.Map, Guard: s.guard, Reply: s.reply}
	im := &api.Imports{Pool: s.Pool, Layers: s.Layers, Logger: s.Logger, Guard: s.guard, Reply: s.reply,
		MaxBytes: func() int64 { return s.ImportMaxBytes }}
	r.Route("/api", func(r chi.Router) {
		r.Get("/layers", mapAPI.Layers)
		r.Get("/layers/{slug}", mapAPI.Layer)
		// Imports and exports (web/api/imports.go): uploads need GIS staff or an admin.
		r.Get("/layers/{slug}/export.{format}", im.Export)
		r.With(s.guard.RequireRole(api.ImportRoles...), s.guard.RateLimit(guard.LimitUpload), im.Limit).Post("/import", im.Import)
		r.With(s.guard.RequireRole(api.ImportRoles...)).Get("/imports", im.History)
		r.Get("/config", mapAPI.Config)
		r.Get("/search", mapAPI.Search)
		r.Get("/nearest", mapAPI.Nearest)
		r.Get("/reverse", mapAPI.Reverse)
		r.Get("/labels/areas", mapAPI.AreaLabels)
		// Planner analyses (web/api): open to anyone over public layers; saved
		// scenarios need a planner.
		r.Route("/analysis", func(r chi.Router) {
			r.Get("/coverage", mapAPI.Coverage)
			r.Post("/siting", mapAPI.Siting)
			r.Get("/cameras", mapAPI.CameraCoverage)
			r.Get("/access", mapAPI.Access)
			r.Get("/population", mapAPI.Population)
			// Jobs are limited per client: a rate (planners per account only), and a few running
			// at once, with a slot kept for planners (layers/analysis/jobs.go).
			r.With(s.guard.RateLimit(guard.LimitAnalysis, api.PlannerRoles...)).Post("/jobs", mapAPI.StartJob)
			r.Get("/jobs/{id}", mapAPI.Job)
			r.Delete("/jobs/{id}", mapAPI.CancelJob)
			r.Group(func(r chi.Router) {
				r.Use(s.guard.RequireRole(api.PlannerRoles...))
				r.Get("/scenarios", mapAPI.Scenarios)
				r.Post("/scenarios", mapAPI.SaveScenario)
				r.Get("/scenarios/{id}", mapAPI.Scenario)
				r.Get("/compare", mapAPI.CompareScenarios)
			})
		})
	})

	// Citizen reports (web/reports): filing and following are open to residents (proof of work +
	// rate limits); the console needs department staff, a dispatcher or an admin.
	rp := &reports.API{Reports: s.Reports, Guard: s.guard, Reply: s.reply}
	r.Route("/api/reports", func(r chi.Router) {
		r.Get("/services", rp.Services)
		r.Get("/challenge", rp.Challenge)
		r.Get("/nearby", rp.Nearby)
		r.Get("/stats", rp.Stats)
		r.With(s.guard.RateLimit(guard.LimitSubmit), s.guard.MaxBody(reports.MaxReportBody)).Post("/", rp.Create)
		r.Get("/follow/{secret}", rp.Follow)
		// Contact confirmation: guessing a code is limited like a login, sending one like a report.
		r.With(s.guard.RateLimit(guard.LimitLogin)).Post("/confirm", rp.Confirm)
		r.With(s.guard.RateLimit(guard.LimitSubmit)).Post("/confirm/resend", rp.ConfirmResend)
		r.Get("/{id}", rp.Get)
		r.With(s.guard.RateLimit(guard.LimitSubmit)).Post("/{id}/support", rp.Support)
		r.Get("/{id}/photos/{file}", rp.Photo)
	})
	r.Route("/api/staff/reports", func(r chi.Router) {
		r.Use(s.guard.RequireRole(reports.StaffRoles...))
		r.Get("/", rp.StaffList)
		r.Get("/export.csv", rp.StaffCSV)
		r.Post("/bulk", rp.StaffBulk)
		r.Get("/{id}", rp.StaffOne)
		r.Post("/{id}/status", rp.StaffStatus)
		r.Post("/{id}/moderate", rp.StaffModerate)
	})
	// Live vehicles and transit (web/live): trackers post with their device key; tracks and the
	// on-line control are for dispatchers.
	lv := &live.API{Transit: s.Transit, Guard: s.guard, Reply: s.reply}
	r.With(s.guard.MaxBody(live.MaxPositionsBody)).Post("/api/vehicles/positions", lv.Positions)
	r.Get("/api/vehicles", lv.Vehicles)
	r.Get("/api/vehicles/live", lv.VehiclesLive)
	r.With(s.guard.RequireRole(live.DispatchRoles...)).Get("/api/vehicles/{id}/track", lv.Track)
	r.Get("/api/stops/{id}/arrivals", lv.Arrivals)
	r.Get("/api/transit/service", lv.Service)
	r.With(s.guard.RequireRole(live.DispatchRoles...)).Get("/api/dispatch/alerts", lv.DispatchAlerts)
	r.Get("/gtfs-rt/vehicle-positions.pb", lv.GTFSRT(live.VehiclePositions))
	r.Get("/gtfs-rt/trip-updates.pb", lv.GTFSRT(live.TripUpdates))
	// The dispatchers' page (web/pages): alerts, links to the map, track playback.
	r.Get("/staff/dispatch", pg.Dispatch)
	r.Get("/staff/dispatch/track", pg.Track)

	// City modules (web/modules, docs/modules.md): public answers for residents; staff draw
	// outages, recompute areas and run the best-yard seasons; any signed-in account may nominate
	// a yard and vote once a season.
	md := &modules.API{Modules: s.Modules, Guard: s.guard, Reply: s.reply}
	r.Route("/api/modules", func(r chi.Router) {
		r.Get("/lighting/audit", md.LightingAudit)
		r.Get("/lighting/audit.csv", md.LightingAuditCSV)
		r.Get("/outages", md.Outages)
		r.Get("/outages/affected", md.OutageAffected)
		r.With(s.guard.RequireRole(modules.OutageRoles...)).Post("/outages", md.OutageCreate)
		r.With(s.guard.RequireRole(modules.OutageRoles...)).Post("/outages/{id}/close", md.OutageClose)
		r.Get("/clinics/mine", md.Mine("clinic"))
		r.Get("/clinics/planning", md.ClinicPlanning)
		r.With(s.guard.RequireRole(modules.AreaRoles...)).Post("/clinics/areas", md.RecomputeAreas("clinic"))
		r.Get("/schools/mine", md.Mine("school"))
		r.Get("/schools/safety", md.SchoolSafety)
		r.Get("/schools/{id}/cameras", md.SchoolCameras)
		r.With(s.guard.RequireRole(modules.AreaRoles...)).Post("/schools/catchments", md.RecomputeAreas("school"))
		r.Get("/access", md.Accessibility)
		r.Get("/yards/season", md.YardSeason)
		r.Get("/yards/seasons", md.YardSeasons)
		r.Get("/yards/mine", md.YardMine)
		r.Get("/yards/ranking", md.YardRanking)
		r.Get("/yards/nominations/{id}/photos/{file}", md.YardPhoto)
		r.With(s.guard.RequireRole(modules.VoterRoles...), s.guard.RateLimit(guard.LimitSubmit), s.guard.MaxBody(modules.MaxNominationBody)).
			Post("/yards/nominations", md.YardNominate)
		r.With(s.guard.RequireRole(modules.VoterRoles...), s.guard.RateLimit(guard.LimitSubmit)).Post("/yards/nominations/{id}/vote", md.YardVote)
		r.With(s.guard.RequireRole(modules.ContestRoles...)).Post("/yards/seasons", md.YardSeasonOpen)
		r.With(s.guard.RequireRole(modules.ContestRoles...)).Post("/yards/nominations/{id}/hide", md.YardHide)
		r.With(s.guard.RequireRole(modules.ContestRoles...)).Post("/yards/seasons/{season}/close", md.YardSeasonClose)
		// Private cameras (Safe City): owners register and withdraw theirs; safe-city staff
		// (department safe_city or an admin, checked in the handlers) moderate and look up.
		r.With(s.guard.RateLimit(guard.LimitSubmit)).Post("/cameras", md.CameraRegister)
		r.Get("/cameras/mine", md.CameraMine)
		r.Put("/cameras/{id}", md.CameraUpdate)
		r.Post("/cameras/{id}/withdraw", md.CameraWithdraw)
		r.Get("/cameras/queue", md.CameraQueue)
		r.Post("/cameras/{id}/decision", md.CameraDecide)
		r.Get("/cameras/incident", md.CameraIncident)
	})
	// The printable street-lighting audit (public information).
	r.Get("/lighting/audit", pg.Lighting)
	// The modules' staff page (plain forms): outages, areas, best-yard seasons.
	r.Get("/staff/modules", pg.ModulesStaff)
	r.With(s.guard.RequireRole(modules.OutageRoles...)).Post("/staff/modules/outages", pg.OutageCreateForm())
	r.With(s.guard.RequireRole(modules.OutageRoles...)).Post("/staff/modules/outages/{id}/close", pg.OutageCloseForm())
	r.With(s.guard.RequireRole(modules.OutageRoles...)).Post("/staff/modules/outages/{id}/area", pg.OutageAreaForm())
	r.With(s.guard.RequireRole(modules.AreaRoles...)).Post("/staff/modules/clinics/areas", pg.ClinicAreasForm())
	r.With(s.guard.RequireRole(modules.AreaRoles...)).Post("/staff/modules/schools/catchments", pg.SchoolCatchmentsForm())
	r.With(s.guard.RequireRole(modules.ContestRoles...)).Post("/staff/modules/yards/seasons", pg.SeasonOpenForm())
	r.With(s.guard.RequireRole(modules.ContestRoles...)).Post("/staff/modules/yards/seasons/{season}/close", pg.SeasonCloseForm())
	r.With(s.guard.RequireRole(modules.ContestRoles...)).Post("/staff/modules/yards/nominations/{id}/hide", pg.YardHideForm())

	// Private cameras (Safe City): the owners' page and the staff's moderation and incident pages
	// (plain forms; the map is the bundle's cameras entry).
	r.Get("/cameras", pg.Cameras)
	r.With(s.guard.RateLimit(guard.LimitSubmit)).Post("/cameras", pg.CameraRegisterForm)
	r.Post("/cameras/{id}", pg.CameraUpdateForm)
	r.Post("/cameras/{id}/withdraw", pg.CameraWithdrawForm)
	r.Get("/staff/cameras", pg.CamerasStaff)
	r.With(s.guard.RequireRole(accounts.DepartmentStaff, accounts.Admin)).Post("/staff/cameras/{id}/decision", pg.CameraDecisionForm)
	r.Get("/staff/cameras/incident", pg.CameraIncident)

	// The pages' one stylesheet.
	r.Get("/pages/pages.css", pg.CSS)
	r.Get("/pages/nav.js", pg.NavJS)     // the staff navigation bar folds on a phone
	r.Get("/staff/nav.json", pg.NavJSON) // the same bar for the planner, which builds its own header
	// The reports console pages (web/pages): sign-in redirect, then role checks.
	r.Get("/reports/stats", pg.Stats) // public statistics with charts
	// The upload page for GIS staff (web/pages).
	r.Get("/staff/import", pg.Import)
	r.Get("/staff/import.js", pg.ImportJS)
	r.Get("/staff/reports", pg.Console)
	r.Get("/staff/reports/{id}", pg.Report)
	r.Group(func(r chi.Router) {
		r.Use(s.guard.RequireRole(reports.StaffRoles...))
		r.Post("/staff/reports/bulk", pg.BulkForm)
		r.Post("/staff/reports/{id}/status", pg.StatusForm)
		r.Post("/staff/reports/{id}/moderate", pg.ModerateForm)
	})
	// Layer management for GIS staff (web/pages/layers.go): titles, visibility, colour, deletion.
	r.Get("/staff/layers", pg.LayersPage)
	r.Get("/staff/layers/{slug}/delete", pg.LayerDeletePage)
	r.Group(func(r chi.Router) {
		r.Use(s.guard.RequireRole(api.ImportRoles...))
		r.Post("/staff/layers/{slug}/titles", pg.LayerTitlesForm())
		r.Post("/staff/layers/{slug}/visibility", pg.LayerVisibilityForm())
		r.Post("/staff/layers/{slug}/color", pg.LayerColorForm())
		r.Post("/staff/layers/{slug}/delete", pg.LayerDeleteForm)
	})
	// Open311 GeoReport v2 (web/open311): each resource as NAME.json or NAME.xml.
	o311 := &open311.API{Reports: s.Reports, Accounts: s.Accounts, Guard: s.guard, Reply: s.reply, Logger: s.Logger}
	r.Route("/open311/v2", func(r chi.Router) {
		r.Get("/{file:discovery\\.(json|xml)}", o311.Discovery)
		r.Get("/{file:services\\.(json|xml)}", o311.Services)
		r.Get("/services/{file}", o311.ServiceDefinition)
		r.Get("/{file:requests\\.(json|xml)}", o311.Requests)
		r.With(s.guard.RateLimit(guard.LimitSubmit)).Post("/{file:requests\\.(json|xml)}", o311.Post)
		r.Get("/requests/{file}", o311.Request)
		r.Get("/tokens/{file}", o311.Token)
	})

	// The web map (embedded Vite bundle).
	r.Get("/", s.handleIndex)
	r.Get("/planner", s.handlePlanner) // the planners' coverage page (second bundle entry)
	r.Method(http.MethodGet, "/assets/*", s.assetsHandler())
	r.Method(http.MethodHead, "/assets/*", s.assetsHandler())

	// Vector tiles (web/tiles): {layers} is one layer slug or several separated by commas.
	r.Get("/tiles", tl.Catalog)
	r.Get("/tiles/{layers}.json", tl.TileJSON)
	r.Get(tileRoute, tl.Tile)
	// Glyph ranges for the map's labels (web/tiles/glyphs.go, package glyphs).
	r.Get("/fonts/{fontstack}/{range}.pbf", tl.Glyphs)

	// OGC API – Features (parts 1–4, web/ogc); see OGCRoutes.
	r.Route("/ogc", func(r chi.Router) { s.OGCRoutes(r, s.guard.IsStaff, ogc.GISStaffEdit(s.guard)) })

	// Accounts: sign-in pages, the admin page (web/pages) and their JSON APIs (web/accounts).
	// Every admin action needs the admin role.
	r.Get("/login", pg.Login)
	r.With(s.guard.RateLimit(guard.LimitLogin)).Post("/login", pg.LoginForm)
	r.Post("/logout", pg.LogoutForm)
	r.Get("/admin", pg.Admin)
	r.Group(func(r chi.Router) {
		r.Use(s.guard.RequireRole(accounts.Admin))
		r.Post("/admin/users", pg.CreateUserForm())
		r.Post("/admin/users/{id}/role", pg.SetRoleForm())
		r.Post("/admin/users/{id}/password", pg.SetPasswordForm())
		r.Post("/admin/users/{id}/revoke-sessions", pg.RevokeSessionsForm())
		r.Post("/admin/users/{id}/disabled", pg.SetDisabledForm())
		r.Post("/admin/keys", pg.CreateKeyForm())
		r.Post("/admin/keys/{id}/revoke", pg.RevokeKeyForm())
		r.Post("/admin/trackers", pg.SetTrackerForm())
		r.Post("/admin/trackers/delete", pg.DeleteTrackerForm())
	})
	r.Route("/api/auth", func(r chi.Router) {
		r.With(s.guard.RateLimit(guard.LimitLogin)).Post("/login", ac.Login)
		r.Post("/logout", ac.Logout)
		r.Get("/me", ac.Me)
		r.With(s.guard.RateLimit(guard.LimitLogin)).Post("/password", ac.ChangePassword)
	})
	r.Route("/api/admin", func(r chi.Router) {
		r.Use(s.guard.RequireRole(accounts.Admin))
		r.Get("/users", ac.Users)
		r.Post("/users", ac.CreateUser)
		r.Patch("/users/{id}", ac.UpdateUser)
		r.Post("/users/{id}/password", ac.SetPassword)
		r.Post("/users/{id}/revoke-sessions", ac.RevokeSessions)
		r.Get("/users/{id}/sessions", ac.UserSessions)
		r.Get("/keys", ac.Keys)
		r.Post("/keys", ac.CreateKey)
		r.Delete("/keys/{id}", ac.RevokeKey)
		r.Get("/trackers", ac.Trackers)
		r.Post("/trackers", ac.SetTracker)
		r.Delete("/trackers/{login}", ac.DeleteTracker)
		r.Get("/audit", ac.Audit)
	})

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		reply.JSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
			"code": "not_found", "message": "no such path: " + r.URL.Path}})
	})
	// Cached tiles of public layers are answered before the middleware (web/tiles), counted in
	// the same HTTP metrics under the tile route.
	return tl.Lean(r, tiles.LeanMetrics{
		SecurityHeaders: s.securityHeaders,
		Requests: func(status int) prometheus.Counter {
			return s.metrics.requests.WithLabelValues(tileRoute, strconv.Itoa(status))
		},
		Duration: func() prometheus.Observer { return s.metrics.duration.WithLabelValues(tileRoute) },
	})
}

// tileRoute is the route of tiles, the label of their HTTP metrics.
const tileRoute = "/tiles/{layers}/{z}/{x}/{y}.mvt"

// OGCRoutes lists the OGC API – Features routes under /ogc (web/ogc). canView decides who sees
// staff-only layers, canEdit who may create, replace, update and delete features (nil error =
// allowed); the served handler passes the guard's decisions, tests may fix them.
func (s *Server) OGCRoutes(r chi.Router, canView func(*http.Request) bool, canEdit func(*http.Request) error) {
	o := &ogc.API{Layers: s.Layers, Reply: s.reply, LinkBase: s.guard.RequestBase, CanView: canView, CanEdit: canEdit}
	r.Get("/", o.Landing)
	r.Get("/api", o.OpenAPI)
	r.Get("/ogc.css", o.CSS)
	r.Get("/conformance", o.Conformance)
	r.Get("/collections", o.Collections)
	r.Get("/collections/{collectionId}", o.Collection)
	r.Get("/collections/{collectionId}/queryables", o.Queryables)
	r.Get("/collections/{collectionId}/items", o.Items)
	r.Get("/collections/{collectionId}/items/{featureId}", o.Item)
	r.With(s.guard.MaxBody(ogc.MaxFeatureBody)).Post("/collections/{collectionId}/items", o.CreateItem)
	r.With(s.guard.MaxBody(ogc.MaxFeatureBody)).Put("/collections/{collectionId}/items/{featureId}", o.ReplaceItem)
	r.With(s.guard.MaxBody(ogc.MaxFeatureBody)).Patch("/collections/{collectionId}/items/{featureId}", o.PatchItem)
	r.Delete("/collections/{collectionId}/items/{featureId}", o.DeleteItem)
}
