package modules_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/jackc/pgx/v5/pgxpool"
)

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// square is a WKT polygon of the box [x0,x1]×[y0,y1].
func square(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf("SRID=4326;POLYGON((%[1]g %[2]g,%[3]g %[2]g,%[3]g %[4]g,%[1]g %[4]g,%[1]g %[2]g))", x0, y0, x1, y1)
}

func pt(x, y float64) string { return fmt.Sprintf("SRID=4326;POINT(%g %g)", x, y) }

// twoDistricts: A is 57.0–57.1 E, B is 57.1–57.2 E, both 50.0–50.1 N.
func twoDistricts(t *testing.T, pool *pgxpool.Pool) (a, b int64) {
	t.Helper()
	ctx := context.Background()
	for i, d := range []struct {
		x0, name, ru, kk, en string
	}{{"57.0", "Astana", "Астанинский", "Астана", "Astana"}, {"57.1", "Almaty", "Алматинский", "Алматы", "Almaty"}} {
		var id int64
		x0 := map[string]float64{"57.0": 57.0, "57.1": 57.1}[d.x0]
		if err := pool.QueryRow(ctx, `INSERT INTO layer.districts (geom, name, name_ru, name_kk, name_en)
			VALUES (ST_Multi($1::geometry), $2, $3, $4, $5) RETURNING id`,
			square(x0, 50.0, x0+0.1, 50.1), d.name, d.ru, d.kk, d.en).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			a = id
		} else {
			b = id
		}
	}
	return a, b
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// The audit on a hand-checked set of lamps (numbers worked out by hand in the comments).
func TestLightingAudit(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	da, db := twoDistricts(t, pool)
	for _, l := range []struct {
		x     float64
		typ   any
		power any
		hours any
	}{
		{57.01, "HPS", 250, 4000}, // 1000 kWh; LED 100 W → 400; saving 600
		{57.02, "HPS", 250, 4000}, // the same
		{57.03, "LED", 100, 4000}, // 400 kWh, no saving
		{57.11, "MH", 150, 3000},  // 450 kWh; LED 60 W → 180; saving 270
		{57.12, "hps", 175, 4000}, // 700 kWh; not in the table: LED 40 % = 70 W → 280; saving 420
		{58.50, "XYZ", 100, 1000}, // outside the districts; unknown type: 100 kWh, no saving
		{57.04, "HPS", nil, 4000}, // no power: left out
	} {
		exec(t, pool, `INSERT INTO layer.street_lights (geom, lamp_type, power_w, hours_per_year) VALUES ($1, $2, $3, $4)`,
			pt(l.x, 50.05), l.typ, l.power, l.hours)
	}
	m := modules.NewStore(pool, nil, nil)
	a, err := m.LightingAudit(ctx, 25)
	if err != nil {
		t.Fatal(err)
	}
	tot := a.Total
	// kWh 2000+400+450+700+100 = 3650; LED 800+400+180+280+100 = 1760; saving 1890.
	if tot.Lamps != 6 || !near(tot.KWhYear, 3650) || !near(tot.LEDKWhYear, 1760) || !near(tot.SavingKWh, 1890) ||
		!near(tot.CostKZT, 91250) || !near(tot.SavingKZT, 47250) || !near(tot.PowerKW, 1.025) {
		t.Errorf("total = %+v", tot)
	}
	if a.LampsWithoutData != 1 {
		t.Errorf("lamps without data = %d, want 1", a.LampsWithoutData)
	}
	if len(a.Districts) != 3 {
		t.Fatalf("districts = %+v", a.Districts)
	}
	want := []struct {
		key       string
		ru        string
		kwh, save float64
	}{{fmt.Sprint(da), "Астанинский", 2400, 1200}, {fmt.Sprint(db), "Алматинский", 1150, 690}, {"outside", "Вне районов", 100, 0}}
	for i, w := range want {
		d := a.Districts[i]
		if d.Key != w.key || d.Names.RU != w.ru || !near(d.KWhYear, w.kwh) || !near(d.SavingKWh, w.save) ||
			!near(d.CostKZT, w.kwh*25) || !near(d.SavingKZT, w.save*25) {
			t.Errorf("district %d = %+v, want %+v", i, d, w)
		}
	}
	types := map[string]modules.LightingRow{}
	for _, r := range a.LampTypes {
		types[r.Key] = r
	}
	if h := types["HPS"]; h.Lamps != 3 || !near(h.KWhYear, 2700) || !near(h.SavingKWh, 1620) || !near(h.SavingShare, 0.6) {
		t.Errorf("HPS = %+v", h)
	}
	if l := types["LED"]; l.Lamps != 1 || !near(l.SavingKWh, 0) {
		t.Errorf("LED = %+v", l)
	}
	if a.LampTypes[0].Key != "HPS" {
		t.Errorf("types not ordered by consumption: %+v", a.LampTypes)
	}
	if len(a.UnknownTypes) != 1 || a.UnknownTypes[0] != "XYZ" {
		t.Errorf("unknown types = %v", a.UnknownTypes)
	}
	// The biggest replacement: HPS 250 W → LED 100 W on two lamps, 1200 kWh.
	if r := a.Replacements[0]; r.LampType != "HPS" || r.PowerW != 250 || r.LEDPowerW != 100 || r.Lamps != 2 || !near(r.SavingKWh, 1200) {
		t.Errorf("replacements = %+v", a.Replacements)
	}
}

func TestLightingAuditBadTariff(t *testing.T) {
	for _, in := range []string{"abc", "-5", "0", "NaN", "1e9", "30abc"} {
		if _, err := modules.ParseTariff(in); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("ParseTariff(%q) = %v, want EINVALID", in, err)
		}
	}
	if v, err := modules.ParseTariff(""); err != nil || v != modules.DefaultTariff {
		t.Errorf("default tariff = %v, %v", v, err)
	}
	if v, err := modules.ParseTariff(" 27.5 "); err != nil || v != 27.5 {
		t.Errorf("tariff 27.5 = %v, %v", v, err)
	}
}

func TestLEDPower(t *testing.T) {
	for _, tc := range []struct {
		typ   string
		power int
		led   int
		known bool
	}{{"HPS", 250, 100, true}, {"hps", 150, 60, true}, {"MH", 400, 150, true}, {"LED", 90, 90, true},
		{"HPS", 175, 70, true}, {"MV", 250, 80, true}, {"neon", 50, 50, false}} {
		if led, known := modules.LEDPower(tc.typ, tc.power); led != tc.led || known != tc.known {
			t.Errorf("LEDPower(%s, %d) = %d, %v; want %d, %v", tc.typ, tc.power, led, known, tc.led, tc.known)
		}
	}
}

func auditCount(t *testing.T, pool *pgxpool.Pool, action string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM auth.audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func geojson(s string) json.RawMessage { return json.RawMessage(s) }

func TestOutages(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	// A building 57.100–57.102 × 50.100–50.102; the outage covers its east edge only.
	exec(t, pool, `INSERT INTO layer.buildings (geom, address, residents) VALUES ($1, 'Abai 1', 60)`, square(57.100, 50.100, 57.102, 50.102))
	start := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	end := start.Add(6 * time.Hour)
	o, err := m.CreateOutage(ctx, modules.NewOutage{Network: "Heating", StartsAt: &start, ExpectedEnd: &end,
		Geometry:    geojson(`{"type":"Polygon","coordinates":[[[57.1015,50.099],[57.11,50.099],[57.11,50.11],[57.1015,50.11],[57.1015,50.099]]]}`),
		Description: modules.Names{RU: "Ремонт теплотрассы", KK: "Жылу трассасын жөндеу"}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Network != "heating" || !o.StartsAt.Equal(start) {
		t.Errorf("outage = %+v", o)
	}
	// A point in the west of the building, outside the outage polygon: the building is affected.
	a, err := m.AffectedAt(ctx, 57.1005, 50.101)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Affected || a.Building == nil || a.Building.Address != "Abai 1" || len(a.Outages) != 1 || a.Outages[0].ID != o.ID {
		t.Errorf("affected = %+v", a)
	}
	// The same building by its id, as clicked on the map: the point is on the building.
	byID, err := m.AffectedBuilding(ctx, a.Building.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !byID.Affected || byID.Building.Address != "Abai 1" || len(byID.Outages) != 1 || byID.Outages[0].Network != "heating" ||
		byID.Lon < 57.100 || byID.Lon > 57.102 || byID.Lat < 50.100 || byID.Lat > 50.102 {
		t.Errorf("affected by building id = %+v", byID)
	}
	if _, err := m.AffectedBuilding(ctx, a.Building.ID+1000); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("unknown building: %v", err)
	}
	// A second building west of the outage is not affected.
	exec(t, pool, `INSERT INTO layer.buildings (geom, address, residents) VALUES ($1, 'Abai 3', 30)`, square(57.090, 50.100, 57.092, 50.102))
	var west int64
	if err := pool.QueryRow(ctx, `SELECT id FROM layer.buildings WHERE address = 'Abai 3'`).Scan(&west); err != nil {
		t.Fatal(err)
	}
	if w, err := m.AffectedBuilding(ctx, west); err != nil || w.Affected || len(w.Outages) != 0 {
		t.Errorf("west building = %+v, %v", w, err)
	}
	// Open ground far away: not affected, no building.
	if a, err := m.AffectedAt(ctx, 57.2, 50.2); err != nil || a.Affected || a.Building != nil || len(a.Outages) != 0 {
		t.Errorf("far away = %+v, %v", a, err)
	}
	if list, err := m.Outages(ctx); err != nil || len(list) != 1 {
		t.Errorf("outages = %+v, %v", list, err)
	}
	closed, err := m.CloseOutage(ctx, o.ID)
	if err != nil || closed.ClosedAt == nil || closed.Description.RU != "Ремонт теплотрассы" {
		t.Fatalf("close = %+v, %v", closed, err)
	}
	if a, err := m.AffectedAt(ctx, 57.1005, 50.101); err != nil || a.Affected {
		t.Errorf("after closing = %+v, %v", a, err)
	}
	if _, err := m.CloseOutage(ctx, o.ID); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("closing twice: %v", err)
	}
	if auditCount(t, pool, "outage.create") != 1 || auditCount(t, pool, "outage.close") != 1 {
		t.Error("outage writes are not audited")
	}
}

func TestOutageBadInput(t *testing.T) {
	pool := dbtest.New(t)
	m := modules.NewStore(pool, nil, nil)
	square := `{"type":"Polygon","coordinates":[[[57,50],[57.1,50],[57.1,50.1],[57,50.1],[57,50]]]}`
	start := time.Now()
	before := start.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		o    modules.NewOutage
	}{
		{"network", modules.NewOutage{Network: "internet", Geometry: geojson(square), Description: modules.Names{EN: "x"}}},
		{"no geometry", modules.NewOutage{Network: "water", Description: modules.Names{EN: "x"}}},
		{"point", modules.NewOutage{Network: "water", Geometry: geojson(`{"type":"Point","coordinates":[57,50]}`), Description: modules.Names{EN: "x"}}},
		{"bow tie", modules.NewOutage{Network: "water", Description: modules.Names{EN: "x"},
			Geometry: geojson(`{"type":"Polygon","coordinates":[[[57,50],[57.1,50.1],[57.1,50],[57,50.1],[57,50]]]}`)}},
		{"broken", modules.NewOutage{Network: "water", Description: modules.Names{EN: "x"},
			Geometry: geojson(`{"type":"Polygon","coordinates":[[[57,50],[57.1]]]}`)}},
		{"not degrees", modules.NewOutage{Network: "water", Description: modules.Names{EN: "x"},
			Geometry: geojson(`{"type":"Polygon","coordinates":[[[570000,5500000],[571000,5500000],[571000,5501000],[570000,5500000]]]}`)}},
		{"end before start", modules.NewOutage{Network: "gas", Geometry: geojson(square), StartsAt: &start, ExpectedEnd: &before,
			Description: modules.Names{EN: "x"}}},
		{"no description", modules.NewOutage{Network: "gas", Geometry: geojson(square)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.CreateOutage(context.Background(), tc.o); geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Errorf("err = %v, want EINVALID", err)
			}
		})
	}
	if n := auditCount(t, pool, "outage.create"); n != 0 {
		t.Errorf("refused outages left %d audit entries", n)
	}
}

func TestClinicAreasAndSchoolCatchments(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	if _, err := m.RecomputeAreas(ctx, modules.ClinicAreas); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("no clinics: %v", err)
	}
	exec(t, pool, `INSERT INTO layer.clinics (geom, name, address, capacity) VALUES ($1, 'Polyclinic 1', 'Abai 10', 100), ($2, 'Polyclinic 2', 'Abai 20', 300)`,
		pt(57.05, 50.05), pt(57.15, 50.05))
	if _, err := m.RecomputeAreas(ctx, modules.ClinicAreas); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("no boundary: %v", err)
	}
	exec(t, pool, `INSERT INTO layer.city_boundary (geom, name) VALUES (ST_Multi($1::geometry), 'Aktobe')`, square(57.0, 50.0, 57.2, 50.1))
	n, err := m.RecomputeAreas(ctx, modules.ClinicAreas)
	if err != nil || n != 2 {
		t.Fatalf("recompute = %d, %v", n, err)
	}
	// Recomputing replaces the areas, it does not add to them.
	if n, err := m.RecomputeAreas(ctx, modules.ClinicAreas); err != nil || n != 2 {
		t.Fatalf("recompute again = %d, %v", n, err)
	}
	var areas int
	var cover float64
	if err := pool.QueryRow(ctx, `SELECT count(*), ST_Area(ST_Union(a.geom)) / (SELECT ST_Area(ST_Union(geom)) FROM layer.city_boundary)
		FROM layer.clinic_areas a`).Scan(&areas, &cover); err != nil {
		t.Fatal(err)
	}
	if areas != 2 || math.Abs(cover-1) > 1e-6 {
		t.Errorf("areas = %d covering %.8f of the city", areas, cover)
	}
	for _, tc := range []struct {
		lon  float64
		want string
	}{{57.01, "Polyclinic 1"}, {57.09, "Polyclinic 1"}, {57.11, "Polyclinic 2"}, {57.199, "Polyclinic 2"}} {
		f, err := m.Mine(ctx, modules.ClinicAreas, tc.lon, 50.05)
		if err != nil || f.Name != tc.want {
			t.Errorf("clinic at %g = %+v, %v; want %s", tc.lon, f, err, tc.want)
		}
	}
	f, _ := m.Mine(ctx, modules.ClinicAreas, 57.06, 50.05)
	// 0.01° of longitude at 50.05° N is about 715 m.
	if f.DistanceM < 700 || f.DistanceM > 730 {
		t.Errorf("distance = %g m, want about 715", f.DistanceM)
	}
	// The answer carries the area holding the point: it covers the point and not the other clinic.
	var holds, other bool
	if err := pool.QueryRow(ctx, `SELECT ST_Covers(g, ST_SetSRID(ST_MakePoint(57.06, 50.05), 4326)),
		ST_Covers(g, ST_SetSRID(ST_MakePoint(57.15, 50.05), 4326))
		FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) g) x`, string(f.Area)).Scan(&holds, &other); err != nil {
		t.Fatalf("area %.200s: %v", f.Area, err)
	}
	if !holds || other || f.AreaID == 0 {
		t.Errorf("area %d holds the point: %v, holds the other clinic: %v", f.AreaID, holds, other)
	}
	if _, err := m.Mine(ctx, modules.ClinicAreas, 58, 50.05); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("outside the city: %v", err)
	}
	if auditCount(t, pool, "clinic_areas.recompute") != 2 {
		t.Error("recomputation is not audited")
	}

	// Schools: three in a row; the middle one owns the middle of the city.
	exec(t, pool, `INSERT INTO layer.schools (geom, name) VALUES ($1, 'School 1'), ($2, 'School 2'), ($3, 'School 3')`,
		pt(57.02, 50.05), pt(57.10, 50.05), pt(57.18, 50.05))
	if n, err := m.RecomputeAreas(ctx, modules.SchoolCatchments); err != nil || n != 3 {
		t.Fatalf("catchments = %d, %v", n, err)
	}
	if f, err := m.Mine(ctx, modules.SchoolCatchments, 57.12, 50.01); err != nil || f.Name != "School 2" {
		t.Errorf("school = %+v, %v", f, err)
	}
	if f, err := m.Mine(ctx, modules.SchoolCatchments, 57.15, 50.09); err != nil || f.Name != "School 3" {
		t.Errorf("school = %+v, %v", f, err)
	}
}

func TestSchoolSafety(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	exec(t, pool, `INSERT INTO layer.schools (geom, name) VALUES ($1, 'School 1'), ($2, 'School 2')`, pt(57.05, 50.05), pt(57.15, 50.05))
	// At 50.05° N a degree of longitude is 71.6 km: 0.0028° ≈ 200 m, 0.0035° ≈ 250 m, 0.0056° ≈ 400 m.
	exec(t, pool, `INSERT INTO layer.cameras (geom, status) VALUES ($1, 'installed'), ($2, 'planned'), ($3, 'installed')`,
		pt(57.0528, 50.05), pt(57.05, 50.05225), pt(57.0556, 50.05))
	rep, err := m.SchoolSafety(ctx, 300)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SchoolsTotal != 2 || rep.SchoolsWithoutCamera != 1 || len(rep.Schools) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	if s := rep.Schools[0]; s.Name != "School 2" || s.CamerasInstalled != 0 || s.NearestCameraM != nil {
		t.Errorf("first school = %+v (schools without cameras come first)", s)
	}
	s := rep.Schools[1]
	if s.CamerasInstalled != 1 || s.CamerasPlanned != 1 || s.NearestCameraM == nil || math.Abs(*s.NearestCameraM-200) > 3 {
		t.Errorf("school 1 = %+v", s)
	}
	// With 500 m the far camera counts too.
	rep, _ = m.SchoolSafety(ctx, 500)
	if rep.Schools[1].CamerasInstalled != 2 {
		t.Errorf("500 m: %+v", rep.Schools[1])
	}
	for _, r := range []float64{0, -1, 1e6, math.NaN()} {
		if _, err := m.SchoolSafety(ctx, r); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("radius %g: %v", r, err)
		}
	}
	// One school's cameras, nearest first, with the same counts as the report.
	var s1 int64
	if err := pool.QueryRow(ctx, `SELECT id FROM layer.schools WHERE name = 'School 1'`).Scan(&s1); err != nil {
		t.Fatal(err)
	}
	one, err := m.SchoolCameras(ctx, s1, 300)
	if err != nil {
		t.Fatal(err)
	}
	if one.Name != "School 1" || one.CamerasInstalled != 1 || one.CamerasPlanned != 1 || len(one.Cameras) != 2 ||
		one.NearestCameraM == nil || math.Abs(*one.NearestCameraM-200) > 3 {
		t.Fatalf("school 1 cameras = %+v", one)
	}
	// 0.00225° of latitude ≈ 250 m: the planned camera is second.
	if c := one.Cameras; c[0].Status != "installed" || c[1].Status != "planned" || math.Abs(c[1].DistanceM-250) > 3 || c[0].DistanceM > c[1].DistanceM {
		t.Errorf("cameras = %+v", c)
	}
	if one, _ = m.SchoolCameras(ctx, s1, 500); len(one.Cameras) != 3 || one.CamerasInstalled != 2 {
		t.Errorf("500 m: %+v", one)
	}
	if _, err := m.SchoolCameras(ctx, s1+100, 300); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("unknown school: %v", err)
	}
	if _, err := m.SchoolCameras(ctx, s1, 5); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("radius 5: %v", err)
	}
}

func TestAccessibility(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	da, _ := twoDistricts(t, pool)
	// b1 (100 residents) at 57.05: a ramp 72 m east, a low-floor stop 111 m north, only an
	// inaccessible toilet. b2 (300 residents) at 57.08: an accessible toilet 143 m east, a stop of
	// a route without low-floor buses.
	var b1, b2 int64
	pool.QueryRow(ctx, `INSERT INTO layer.buildings (geom, address, residents) VALUES ($1, 'b1', 100) RETURNING id`,
		square(57.0499, 50.0499, 57.0501, 50.0501)).Scan(&b1)
	pool.QueryRow(ctx, `INSERT INTO layer.buildings (geom, address, residents) VALUES ($1, 'b2', 300) RETURNING id`,
		square(57.0799, 50.0499, 57.0801, 50.0501)).Scan(&b2)
	exec(t, pool, `INSERT INTO layer.buildings (geom, address, residents) VALUES ($1, 'empty', 0)`, square(57.06, 50.06, 57.0601, 50.0601))
	exec(t, pool, `INSERT INTO layer.ramps (geom, condition) VALUES ($1, 'good')`, pt(57.051, 50.05))
	// Beside b2, ramps that do not count: 11.6 % is steeper than 1:12 (8 %) even in good
	// condition; a 5 % ramp in poor condition.
	exec(t, pool, `INSERT INTO layer.ramps (geom, slope_pct, condition) VALUES ($1, 11.6, 'good'), ($2, 5, 'poor')`,
		pt(57.0805, 50.05), pt(57.0795, 50.05))
	exec(t, pool, `INSERT INTO layer.bus_routes (geom, ref, low_floor_share) VALUES
		(ST_Multi('SRID=4326;LINESTRING(57 50.06, 57.2 50.06)'::geometry), '5', 50),
		(ST_Multi('SRID=4326;LINESTRING(57 50.04, 57.2 50.04)'::geometry), '7', 0)`)
	exec(t, pool, `INSERT INTO layer.bus_stops (geom, name, routes) VALUES ($1, 'S1', '1, 5'), ($2, 'S2', '7')`,
		pt(57.05, 50.051), pt(57.08, 50.051))
	exec(t, pool, `INSERT INTO layer.biotoilets (geom, accessible) VALUES ($1, false), ($2, true)`, pt(57.05, 50.0505), pt(57.082, 50.05))
	rep, err := m.Accessibility(ctx, 300, 10)
	if err != nil {
		t.Fatal(err)
	}
	// ramp 100/400, low-floor stop 100/400, toilet 300/400; score (0.25+0.25+0.75)/3 = 41.7.
	if rep.Residents != 400 || !near(rep.Shares[modules.NeedRamp], 0.25) || !near(rep.Shares[modules.NeedLowFloor], 0.25) ||
		!near(rep.Shares[modules.NeedToilet], 0.75) || rep.Score != 41.7 {
		t.Errorf("city = %+v", rep)
	}
	if len(rep.Districts) != 1 || *rep.Districts[0].ID != da || rep.Districts[0].Score != 41.7 || rep.Districts[0].Names.EN != "Astana" {
		t.Errorf("districts = %+v", rep.Districts)
	}
	if len(rep.Gaps) != 2 || rep.Gaps[0].BuildingID != b2 || len(rep.Gaps[0].Missing) != 2 ||
		rep.Gaps[1].BuildingID != b1 || rep.Gaps[1].Missing[0] != modules.NeedToilet {
		t.Errorf("gaps = %+v", rep.Gaps)
	}
	// An 8 % ramp (the limit) beside b2 counts: the ramp share becomes 400/400.
	exec(t, pool, `INSERT INTO layer.ramps (geom, slope_pct, condition) VALUES ($1, 8, 'fair')`, pt(57.0802, 50.05))
	if rep, err := m.Accessibility(ctx, 300, 10); err != nil || !near(rep.Shares[modules.NeedRamp], 1) {
		t.Errorf("with an 8 %% ramp beside b2: %+v %v", rep, err)
	}
	exec(t, pool, `DELETE FROM layer.ramps WHERE slope_pct = 8`)
	// Within 50 m nothing is reached.
	if rep, _ := m.Accessibility(ctx, 50, 10); rep.Score != 0 || len(rep.Gaps) != 2 {
		t.Errorf("50 m: %+v", rep)
	}
	if _, err := m.Accessibility(ctx, 1, 10); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("distance 1: %v", err)
	}
	if _, err := m.Accessibility(ctx, 300, 0); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("limit 0: %v", err)
	}
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := 0; x < 16; x++ {
		img.Set(x, x%12, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBestYardContest(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	acc := accounts.NewStore(pool)
	var users []int64
	for i := range 4 {
		u, err := acc.CreateUser(ctx, accounts.NewUser{Email: fmt.Sprintf("resident%d@example.kz", i), Role: accounts.Citizen,
			Password: "a long enough password 3"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	yard := modules.NewNomination{Title: "Двор на Абая", Geometry: geojson(`{"type":"Point","coordinates":[57.17,50.28]}`)}
	if _, err := m.Nominate(ctx, users[0], yard); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("nominating with no open season: %v", err)
	}
	if _, err := m.OpenSeason(ctx, 2026); err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenSeason(ctx, 2026); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Errorf("opening twice: %v", err)
	}
	photo, err := reports.ProcessPhoto("yard.png", pngBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	yard.Photos = []reports.Photo{photo}
	a, err := m.Nominate(ctx, users[0], yard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Nominate(ctx, users[1], modules.NewNomination{Title: "Green yard",
		Geometry: geojson(`{"type":"Polygon","coordinates":[[[57.1,50.2],[57.101,50.2],[57.101,50.201],[57.1,50.201],[57.1,50.2]]]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if jpg, err := m.YardPhoto(ctx, a.ID, 1, false); err != nil || len(jpg) < 3 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		t.Errorf("photo: %v", err)
	}
	if _, err := m.YardPhoto(ctx, a.ID, 2, false); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("missing photo: %v", err)
	}
	for _, v := range []struct{ user, nom int64 }{{users[0], a.ID}, {users[1], a.ID}, {users[2], b.ID}} {
		if err := m.Vote(ctx, v.user, v.nom); err != nil {
			t.Fatal(err)
		}
	}
	// A second vote in the season is refused, for the same or another yard.
	for _, nom := range []int64{a.ID, b.ID} {
		if err := m.Vote(ctx, users[0], nom); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
			t.Errorf("double vote for %d: %v", nom, err)
		}
	}
	if err := m.Vote(ctx, users[3], 999999); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("vote for no nomination: %v", err)
	}
	r, err := m.Ranking(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Nominations) != 2 || r.Nominations[0].ID != a.ID || r.Nominations[0].Votes != 2 || r.Nominations[0].Rank != 1 ||
		r.Nominations[0].Photos != 1 || r.Nominations[1].Votes != 1 || r.Nominations[1].Rank != 2 || r.Season.Status != "open" {
		t.Errorf("ranking = %+v", r)
	}
	// A third nomination, hidden by a moderator: out of the ranking, no votes.
	c, err := m.Nominate(ctx, users[2], modules.NewNomination{Title: "spam", Geometry: geojson(`{"type":"Point","coordinates":[57.2,50.3]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.HideNomination(ctx, c.ID, ""); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("hide without a reason: %v", err)
	}
	if err := m.HideNomination(ctx, c.ID, "advertising"); err != nil {
		t.Fatal(err)
	}
	if err := m.Vote(ctx, users[3], c.ID); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("vote for a hidden nomination: %v", err)
	}
	if r, _ := m.Ranking(ctx, 2026); len(r.Nominations) != 2 {
		t.Errorf("hidden nomination still ranked: %+v", r.Nominations)
	}
	if _, err := m.CloseSeason(ctx, 2026, 0); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("0 winners: %v", err)
	}
	s, err := m.CloseSeason(ctx, 2026, 1)
	if err != nil || s.Status != "closed" || len(s.Winners) != 1 || s.Winners[0] != a.ID {
		t.Fatalf("close = %+v, %v", s, err)
	}
	// A closed season takes no votes and no nominations.
	if err := m.Vote(ctx, users[3], b.ID); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Errorf("vote in a closed season: %v", err)
	}
	if _, err := m.Nominate(ctx, users[3], yard); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("nominate in a closed season: %v", err)
	}
	if _, err := m.CloseSeason(ctx, 2026, 1); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Errorf("closing twice: %v", err)
	}
	r, _ = m.Ranking(ctx, 2026)
	if !r.Nominations[0].Winner || r.Nominations[1].Winner || r.Nominations[1].Votes != 1 {
		t.Errorf("published ranking = %+v", r.Nominations)
	}
	if _, err := m.Ranking(ctx, 1999); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("unknown season: %v", err)
	}
	if auditCount(t, pool, "yard.vote") != 3 || auditCount(t, pool, "yard.nominate") != 3 || auditCount(t, pool, "yard_season.close") != 1 ||
		auditCount(t, pool, "yard.hide") != 1 {
		t.Error("contest writes are not audited")
	}
}

func TestYardNominationBadInput(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	u, err := accounts.NewStore(pool).CreateUser(ctx, accounts.NewUser{Email: "r@example.kz", Role: accounts.Citizen, Password: "a long enough password 3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenSeason(ctx, 2026); err != nil {
		t.Fatal(err)
	}
	pointJSON := geojson(`{"type":"Point","coordinates":[57.17,50.28]}`)
	for _, tc := range []struct {
		name string
		n    modules.NewNomination
	}{
		{"no title", modules.NewNomination{Geometry: pointJSON}},
		{"line", modules.NewNomination{Title: "x", Geometry: geojson(`{"type":"LineString","coordinates":[[57,50],[57.1,50]]}`)}},
		{"no geometry", modules.NewNomination{Title: "x"}},
		{"bow tie", modules.NewNomination{Title: "x", Geometry: geojson(`{"type":"Polygon","coordinates":[[[57,50],[57.1,50.1],[57.1,50],[57,50.1],[57,50]]]}`)}},
		{"four photos", modules.NewNomination{Title: "x", Geometry: pointJSON, Photos: make([]reports.Photo, 4)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Nominate(ctx, u.ID, tc.n); geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Errorf("err = %v, want EINVALID", err)
			}
		})
	}
	for i := range modules.MaxNominationsPerAccount {
		if _, err := m.Nominate(ctx, u.ID, modules.NewNomination{Title: fmt.Sprint("yard ", i), Geometry: pointJSON}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Nominate(ctx, u.ID, modules.NewNomination{Title: "one too many", Geometry: pointJSON}); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Errorf("fourth nomination: %v", err)
	}
}

// The lighting map sizes lights by power and colours them by lamp type (migration 0101).
func TestStreetLightsStyledByPower(t *testing.T) {
	pool := dbtest.New(t)
	var style string
	if err := pool.QueryRow(context.Background(), `SELECT style::text FROM geoportal.layers WHERE slug = 'street_lights'`).Scan(&style); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Type  string                     `json:"type"`
		Paint map[string]json.RawMessage `json:"paint"`
	}
	if err := json.Unmarshal([]byte(style), &s); err != nil || s.Type != "circle" {
		t.Fatalf("style %s: %v", style, err)
	}
	if !bytes.Contains(s.Paint["circle-radius"], []byte(`"power_w"`)) || !bytes.Contains(s.Paint["circle-color"], []byte(`"lamp_type"`)) {
		t.Errorf("street lights are not styled by power and lamp type: %s", style)
	}
}
