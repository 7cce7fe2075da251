package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// kerb is a point beside a street and the street's bearing, degrees clockwise from north.
type kerb struct {
	at      orb.Point
	street  streetProps
	bearing float64
}

// ofClass lists the street segments of the given classes, or all of them in a city too small
// to have one.
func (g *generator) ofClass(classes ...string) []int {
	var on []int
	for i, s := range g.segments {
		if slices.Contains(classes, s.props.Class) {
			on = append(on, i)
		}
	}
	if len(on) == 0 {
		for i := range g.segments {
			on = append(on, i)
		}
	}
	return on
}

// beside draws a point offset metres to one side of a street of on, at least 20 m inside the city.
func (g *generator) beside(r *rand.Rand, on []int, offset float64) kerb {
	for {
		s := g.segments[pick(r, on)]
		a, b := s.line[0], s.line[len(s.line)-1]
		t := between(r, 0.15, 0.85)
		ex, ey := b[0]-a[0], b[1]-a[1]
		across := offset / math.Hypot(ex, ey) // offset metres as a share of the segment's length
		if chance(r, 0.5) {
			across = -across
		}
		p := orb.Point{a[0] + ex*t - ey*across, a[1] + ey*t + ex*across}
		if g.f.inside(p, 20) {
			return kerb{p, s.props, math.Mod(math.Atan2(ex, ey)*180/math.Pi+360, 360)}
		}
	}
}

// near draws a point around a district that people live in, at least 100 m inside the city.
func (g *generator) near(r *rand.Rand) (orb.Point, district) {
	for {
		d := districts[r.IntN(len(districts))]
		if d.kind == industry {
			continue
		}
		centre := g.f.metres(d.centre)
		p := orb.Point{centre[0] + r.NormFloat64()*d.spreadX*1.2, centre[1] + r.NormFloat64()*d.spreadY*1.2}
		if g.f.inside(p, 100) {
			return p, d
		}
	}
}

type busStopProps struct {
	Name       string `json:"name"`
	NameKK     string `json:"name_kk"`
	Routes     string `json:"routes"`
	NRoutes    int    `json:"n_routes"`
	Shelter    bool   `json:"shelter"`
	Bench      bool   `json:"bench"`
	Accessible bool   `json:"accessible"`
}

func (g *generator) busStops(n int) []geojson.FeatureOf[busStopProps] {
	r := g.rng("bus_stops")
	on := g.ofClass("primary", "secondary", "tertiary")
	out := make([]geojson.FeatureOf[busStopProps], n)
	for k := range out {
		at := g.beside(r, on, 10)
		called := name{at.street.Name, at.street.NameKK}
		if chance(r, 0.3) {
			called = pick(r, landmarks)
		}
		routes := r.Perm(119)[:1+r.IntN(6)]
		slices.Sort(routes)
		numbers := make([]string, len(routes))
		for i, route := range routes {
			numbers[i] = strconv.Itoa(route + 1)
		}
		out[k] = feature(k+1, g.f.lonLat(at.at), busStopProps{
			Name: "ост. " + called.ru, NameKK: called.kk + " аялдамасы",
			Routes: strings.Join(numbers, ","), NRoutes: len(routes),
			Shelter: chance(r, 0.6), Bench: chance(r, 0.7), Accessible: chance(r, 0.4),
		})
	}
	return out
}

// cameraProps: a planned camera has no installed_on, an installed one no planned_year.
type cameraProps struct {
	Status      string  `json:"status"`
	CameraType  string  `json:"camera_type"`
	Heading     int     `json:"heading"`
	FovDeg      int     `json:"fov_deg"`
	RangeM      int     `json:"range_m"`
	Address     string  `json:"address"`
	InstalledOn *string `json:"installed_on"`
	PlannedYear *int    `json:"planned_year"`
	Program     string  `json:"program"`
}

// cameras writes the installed cameras first, then the planned ones.
func (g *generator) cameras(installed, planned int) []geojson.FeatureOf[cameraProps] {
	r := g.rng("cameras")
	on := g.ofClass("primary", "secondary", "tertiary", "residential")
	out := make([]geojson.FeatureOf[cameraProps], installed+planned)
	for k := range out {
		at := g.beside(r, on, 12)
		p := cameraProps{
			Status:     "planned",
			CameraType: pick(r, []string{"fixed", "fixed", "fixed", "PTZ", "ANPR"}),
			// along the street or across it, give or take 20°
			Heading: int(math.Round(at.bearing+90*float64(r.IntN(4))+between(r, -20, 20))+720) % 360,
			FovDeg:  pick(r, []int{60, 75, 90, 110}),
			RangeM:  pick(r, []int{30, 50, 80, 100, 150}),
			Address: at.street.Name + " / " + at.street.NameKK,
			Program: pick(r, []string{"Сергек", "Безопасный город", "Қауіпсіз қала"}),
		}
		if p.CameraType == "PTZ" {
			p.FovDeg = 360
		}
		if k < installed {
			p.Status = "installed"
			date := fmt.Sprintf("%d-%02d-%02d", 2019+r.IntN(7), 1+r.IntN(12), 1+r.IntN(28))
			p.InstalledOn = &date
		} else {
			year := 2026 + r.IntN(3)
			p.PlannedYear = &year
		}
		out[k] = feature(k+1, g.f.lonLat(at.at), p)
	}
	return out
}

type schoolProps struct {
	Name     string `json:"name"`
	NameKK   string `json:"name_kk"`
	Number   int    `json:"number"`
	Language string `json:"language"`
	Capacity int    `json:"capacity"`
	Students int    `json:"students"`
	District string `json:"district"`
	Shifts   int    `json:"shifts"`
}

func (g *generator) schools(n int) []geojson.FeatureOf[schoolProps] {
	r := g.rng("schools")
	out := make([]geojson.FeatureOf[schoolProps], n)
	for k := range out {
		at, d := g.near(r)
		no := k + 1
		var ru, kk string
		switch u := r.Float64(); {
		case u < 0.4:
			ru, kk = "Школа-гимназия №%d", "№%d мектеп-гимназия"
		case u < 0.7:
			ru, kk = "Средняя школа №%d", "№%d орта мектеп"
		case u < 0.85:
			ru, kk = "Школа-лицей №%d", "№%d мектеп-лицей"
		default:
			ru, kk = "Специализированная школа №%d", "№%d мамандандырылған мектеп"
		}
		capacity := pick(r, []int{600, 900, 1200, 1500, 2000})
		out[k] = feature(k+1, g.f.lonLat(at), schoolProps{
			Name: fmt.Sprintf(ru, no), NameKK: fmt.Sprintf(kk, no), Number: no,
			Language: pick(r, []string{"kk", "kk", "ru", "kk/ru"}),
			Capacity: capacity, Students: int(float64(capacity) * between(r, 0.7, 1.5)),
			District: d.ru, Shifts: pick(r, []int{1, 2, 2, 3}),
		})
	}
	return out
}

type clinicProps struct {
	Name           string `json:"name"`
	NameKK         string `json:"name_kk"`
	Type           string `json:"type"`
	Beds           int    `json:"beds"`
	VisitsPerShift int    `json:"visits_per_shift"`
	District       string `json:"district"`
}

func (g *generator) clinics(n int) []geojson.FeatureOf[clinicProps] {
	r := g.rng("clinics")
	out := make([]geojson.FeatureOf[clinicProps], n)
	for k := range out {
		at, d := g.near(r)
		no := k + 1
		p := clinicProps{VisitsPerShift: pick(r, []int{150, 250, 400, 600, 1000}), District: d.ru}
		switch u := r.Float64(); {
		case u < 0.5:
			p.Name, p.NameKK, p.Type = fmt.Sprintf("Городская поликлиника №%d", no), fmt.Sprintf("№%d қалалық емхана", no), "polyclinic"
		case u < 0.7:
			p.Name, p.NameKK, p.Type = fmt.Sprintf("Детская поликлиника №%d", no), fmt.Sprintf("№%d балалар емханасы", no), "children"
		case u < 0.85:
			p.Name, p.NameKK, p.Type = fmt.Sprintf("Больница №%d", no), fmt.Sprintf("№%d аурухана", no), "hospital"
			p.Beds = 50 + r.IntN(551)
		default:
			p.Name, p.NameKK, p.Type = "Врачебная амбулатория «"+d.ru+"»", "«"+d.kk+"» дәрігерлік амбулаториясы", "ambulatory"
		}
		out[k] = feature(k+1, g.f.lonLat(at), p)
	}
	return out
}

type sportsGroundProps struct {
	Name      string  `json:"name"`
	Sport     string  `json:"sport"`
	Surface   string  `json:"surface"`
	Lit       bool    `json:"lit"`
	Fenced    bool    `json:"fenced"`
	AreaM2    float64 `json:"area_m2"`
	YearBuilt int     `json:"year_built"`
}

// pitches are the sports of the grounds and their usual size in metres.
var pitches = []struct {
	sport string
	w, l  float64
}{
	{"футбол", 30, 50}, {"баскетбол", 15, 28}, {"workout", 12, 16},
	{"универсальная", 20, 40}, {"хоккейная коробка", 26, 56}, {"волейбол", 12, 22},
}

func (g *generator) sportsGrounds(n int) []geojson.FeatureOf[sportsGroundProps] {
	r := g.rng("sports_grounds")
	out := make([]geojson.FeatureOf[sportsGroundProps], n)
	for k := range out {
		at, d := g.near(r)
		pitch := pick(r, pitches)
		w, l := pitch.w*between(r, 0.9, 1.4), pitch.l*between(r, 0.9, 1.4)
		ring := footprint(r, rectangle, at, w, l, between(r, -0.4, 0.4))
		title := "Спортплощадка «" + d.ru + "»"
		if chance(r, 0.5) {
			title = "«" + d.kk + "» спорт алаңы"
		}
		out[k] = feature(k+1, g.f.polygon(ring), sportsGroundProps{
			Name: title, Sport: pitch.sport,
			Surface: pick(r, []string{"резина", "искусственный газон", "асфальт", "грунт"}),
			Lit:     chance(r, 0.5), Fenced: chance(r, 0.7),
			AreaM2: round(w*l, 1), YearBuilt: 2005 + r.IntN(21),
		})
	}
	return out
}

type bioToiletProps struct {
	Status     string `json:"status"`
	Accessible bool   `json:"accessible"`
	Operator   string `json:"operator"`
	Address    string `json:"address"`
	Seasonal   bool   `json:"seasonal"`
}

func (g *generator) bioToilets(n int) []geojson.FeatureOf[bioToiletProps] {
	r := g.rng("biotoilets")
	on := g.ofClass("primary", "secondary")
	out := make([]geojson.FeatureOf[bioToiletProps], n)
	for k := range out {
		at := g.beside(r, on, 15)
		out[k] = feature(k+1, g.f.lonLat(at.at), bioToiletProps{
			Status:     pick(r, []string{"работает", "работает", "работает", "не работает", "на обслуживании"}),
			Accessible: chance(r, 0.35),
			Operator:   pick(r, []string{"ТОО «Таза қала»", "ГКП «Ақтөбе жылу»", "ИП Сейткали"}),
			Address:    at.street.Name,
			Seasonal:   chance(r, 0.4),
		})
	}
	return out
}

// rampProps: slope_pct is known for ramps proper only, not for lowered kerbs and lifts.
type rampProps struct {
	Type      string   `json:"type"`
	Condition string   `json:"condition"`
	SlopePct  *float64 `json:"slope_pct"`
	WidthM    float64  `json:"width_m"`
	Handrails bool     `json:"handrails"`
	Address   string   `json:"address"`
}

func (g *generator) ramps(n int) []geojson.FeatureOf[rampProps] {
	r := g.rng("ramps")
	on := g.ofClass("primary", "secondary", "tertiary", "residential")
	out := make([]geojson.FeatureOf[rampProps], n)
	for k := range out {
		at := g.beside(r, on, 6)
		p := rampProps{
			Type:      pick(r, []string{"пандус", "пандус", "понижение бордюра", "подъёмник"}),
			Condition: pick(r, []string{"хорошее", "хорошее", "удовлетворительное", "требует ремонта"}),
			WidthM:    round(between(r, 0.9, 2.5), 2),
			Handrails: chance(r, 0.5),
			Address:   at.street.Name + " (" + at.street.NameKK + ")",
		}
		if p.Type == "пандус" {
			slope := round(between(r, 4, 14), 1)
			p.SlopePct = &slope
		}
		out[k] = feature(k+1, g.f.lonLat(at.at), p)
	}
	return out
}
