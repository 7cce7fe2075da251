package modules

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
)

// DefaultTariff is the electricity tariff (KZT per kWh, VAT included) used when none is given.
// It is an assumption for the budget-funded street-lighting contract; pass the current tariff.
const DefaultTariff = 30.0

// MaxTariff bounds the tariff a caller may ask for (KZT per kWh).
const MaxTariff = 10000.0

// LEDEquivalents maps a lamp type and its nominal power (W) to the power of the LED luminaire
// that replaces it with about the same light on the street. The figures are the usual
// replacement pairs of street-lighting retrofit programmes (an LED luminaire of 40–45 % of the
// discharge lamp's nominal power, e.g. HPS 250 W → LED 100 W, HPS 150 W → LED 60 W; see the US
// DOE Municipal Solid-State Street Lighting Consortium's retrofit guidance and the Kazakh
// energy-saving programme's pilot figures). They are assumptions of this audit, not measurements:
// ballast losses of discharge lamps (another 8–15 %) are left out, so the savings are conservative.
var LEDEquivalents = map[string]map[int]int{
	// high-pressure sodium
	"HPS": {50: 20, 70: 30, 100: 40, 150: 60, 250: 100, 400: 150, 600: 240},
	// metal halide
	"MH": {70: 30, 100: 40, 150: 60, 250: 100, 400: 150},
	// mercury vapour (DRL)
	"MV": {80: 25, 125: 40, 250: 80, 400: 120},
	// compact fluorescent
	"CFL": {23: 12, 36: 18, 45: 20, 85: 40},
	// incandescent
	"INC": {100: 12, 150: 18, 200: 25},
}

// ledRatio is the LED power as a share of the lamp's power for a power not in LEDEquivalents
// (the ratio of the table's middle pair for that type).
var ledRatio = map[string]float64{"HPS": 0.4, "MH": 0.4, "MV": 0.32, "CFL": 0.5, "INC": 0.125}

// LEDPower returns the power of the LED equivalent of a lamp, and whether the lamp type is one the
// audit knows (LED lamps are their own equivalent; unknown types get no saving).
func LEDPower(lampType string, powerW int) (int, bool) {
	t := strings.ToUpper(strings.TrimSpace(lampType))
	if t == "LED" {
		return powerW, true
	}
	if m, ok := LEDEquivalents[t]; ok {
		if led, ok := m[powerW]; ok {
			return led, true
		}
		return int(math.Round(float64(powerW) * ledRatio[t])), true
	}
	return powerW, false
}

// LightingRow is one line of the audit: a district or a lamp type.
type LightingRow struct {
	Key   string `json:"key"` // district id, or lamp type
	Names Names  `json:"names"`
	Lamps int    `json:"lamps"`
	// PowerKW is the installed power; KWhYear = Σ power_w × hours_per_year / 1000.
	PowerKW    float64 `json:"power_kw"`
	KWhYear    float64 `json:"kwh_year"`
	CostKZT    float64 `json:"cost_kzt"`
	LEDKWhYear float64 `json:"led_kwh_year"`
	SavingKWh  float64 `json:"saving_kwh_year"`
	SavingKZT  float64 `json:"saving_kzt"`
	// SavingShare is the saving as a share of today's consumption (0..1).
	SavingShare float64 `json:"saving_share"`
}

// LightingAudit is the street-lighting energy audit.
type LightingAudit struct {
	Tariff    float64       `json:"tariff_kzt_per_kwh"`
	Total     LightingRow   `json:"total"`
	Districts []LightingRow `json:"districts"`
	LampTypes []LightingRow `json:"lamp_types"`
	// Replacements lists each lamp type and power with its LED equivalent and the saving.
	Replacements []LEDReplacement `json:"replacements"`
	// LampsWithoutData counts lamps with no power or burning hours: left out of every number.
	LampsWithoutData int      `json:"lamps_without_data"`
	UnknownTypes     []string `json:"unknown_lamp_types"`
	Notes            []string `json:"notes"`
}

// LEDReplacement is the saving from replacing the lamps of one type and power.
type LEDReplacement struct {
	LampType  string  `json:"lamp_type"`
	PowerW    int     `json:"power_w"`
	LEDPowerW int     `json:"led_power_w"`
	Lamps     int     `json:"lamps"`
	SavingKWh float64 `json:"saving_kwh_year"`
	SavingKZT float64 `json:"saving_kzt"`
}

// ParseTariff reads the tariff parameter; "" is DefaultTariff.
func ParseTariff(s string) (float64, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultTariff, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, geoportal.Errorf(geoportal.EINVALID, "tariff %q is not a number (KZT per kWh)", s)
	}
	if v <= 0 || v > MaxTariff {
		return 0, geoportal.Errorf(geoportal.EINVALID, "tariff %g is out of range: give KZT per kWh, above 0 and at most %g", v, MaxTariff)
	}
	return v, nil
}

func (r *LightingRow) add(lamps, powerW, ledW int, hours float64) {
	kwh := float64(powerW) * hours / 1000
	led := float64(ledW) * hours / 1000
	r.Lamps += lamps
	r.PowerKW += float64(lamps*powerW) / 1000
	r.KWhYear += kwh
	r.LEDKWhYear += led
}

func (r *LightingRow) finish(tariff float64) {
	r.SavingKWh = r.KWhYear - r.LEDKWhYear
	r.CostKZT = round(r.KWhYear*tariff, 2)
	r.SavingKZT = round(r.SavingKWh*tariff, 2)
	if r.KWhYear > 0 {
		r.SavingShare = round(r.SavingKWh/r.KWhYear, 4)
	}
	r.PowerKW = round(r.PowerKW, 3)
	r.KWhYear = round(r.KWhYear, 3)
	r.LEDKWhYear = round(r.LEDKWhYear, 3)
	r.SavingKWh = round(r.SavingKWh, 3)
}

// LightingAudit computes kWh a year and its cost at tariff (KZT/kWh) per district and per lamp
// type, with the saving from replacing every lamp by its LED equivalent. A lamp belongs to the
// district whose polygon covers it (the first by id if districts overlap).
func (s *Store) LightingAudit(ctx context.Context, tariff float64) (*LightingAudit, error) {
	if tariff <= 0 || tariff > MaxTariff || math.IsNaN(tariff) {
		return nil, geoportal.Errorf(geoportal.EINVALID, "tariff %g is out of range (0, %g] KZT per kWh", tariff, MaxTariff)
	}
	tx, err := s.beginReport(ctx)
	if err != nil {
		return nil, fmt.Errorf("lighting audit: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, `
		SELECT d.id, coalesce(d.name, ''), coalesce(d.name_kk, ''), coalesce(d.name_ru, ''), coalesce(d.name_en, ''),
		       coalesce(upper(btrim(l.lamp_type)), ''), l.power_w, count(*)::int, sum(l.hours_per_year)::float8,
		       bool_or(l.power_w IS NULL OR l.hours_per_year IS NULL OR l.power_w < 0 OR l.hours_per_year < 0)
		FROM layer.street_lights l
		LEFT JOIN LATERAL (SELECT id, name, name_kk, name_ru, name_en FROM layer.districts d
		                   WHERE ST_Covers(d.geom, l.geom) ORDER BY id LIMIT 1) d ON true
		GROUP BY 1, 2, 3, 4, 5, 6, 7, (l.power_w IS NULL OR l.hours_per_year IS NULL OR l.power_w < 0 OR l.hours_per_year < 0)
		ORDER BY 1, 6, 7`)
	if err != nil {
		return nil, fmt.Errorf("lighting audit: %w", err)
	}
	defer rows.Close()
	a := &LightingAudit{Tariff: tariff, Districts: []LightingRow{}, LampTypes: []LightingRow{}, Replacements: []LEDReplacement{},
		UnknownTypes: []string{}}
	a.Total.Key, a.Total.Names = "total", Names{KK: "Барлығы", RU: "Итого", EN: "Total"}
	districts := map[string]*LightingRow{}
	var dOrder []string
	types := map[string]*LightingRow{}
	repl := map[[2]int]*LEDReplacement{}
	typeIdx := map[string]int{}
	unknown := map[string]bool{}
	for rows.Next() {
		var did *int64
		var name, kk, ru, en, lamp string
		var power *int
		var n int
		var hours *float64
		var bad bool
		if err := rows.Scan(&did, &name, &kk, &ru, &en, &lamp, &power, &n, &hours, &bad); err != nil {
			return nil, fmt.Errorf("lighting audit: %w", err)
		}
		if bad || power == nil || hours == nil {
			a.LampsWithoutData += n
			continue
		}
		if lamp == "" {
			lamp = "UNKNOWN"
		}
		led, known := LEDPower(lamp, *power)
		if !known {
			unknown[lamp] = true
		}
		key := "outside"
		names := Names{KK: "Аудандардан тыс", RU: "Вне районов", EN: "Outside districts"}
		if did != nil {
			key = fmt.Sprint(*did)
			names = Names{KK: firstOf(kk, name), RU: firstOf(ru, name), EN: firstOf(en, name)}
		}
		d := districts[key]
		if d == nil {
			d = &LightingRow{Key: key, Names: names}
			districts[key] = d
			dOrder = append(dOrder, key)
		}
		t := types[lamp]
		if t == nil {
			t = &LightingRow{Key: lamp, Names: lampTypeNames(lamp)}
			types[lamp] = t
		}
		for _, r := range []*LightingRow{&a.Total, d, t} {
			r.add(n, *power, led, *hours)
		}
		if _, ok := typeIdx[lamp]; !ok {
			typeIdx[lamp] = len(typeIdx)
		}
		rk := [2]int{typeIdx[lamp], *power}
		rp := repl[rk]
		if rp == nil {
			rp = &LEDReplacement{LampType: lamp, PowerW: *power, LEDPowerW: led}
			repl[rk] = rp
		}
		rp.Lamps += n
		rp.SavingKWh += float64(*power-led) * *hours / 1000
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lighting audit: %w", err)
	}
	a.Total.finish(tariff)
	// Districts in id order with "outside" last; types by consumption, largest first.
	sort.SliceStable(dOrder, func(i, j int) bool { return dOrder[i] != "outside" && dOrder[j] == "outside" })
	for _, k := range dOrder {
		districts[k].finish(tariff)
		a.Districts = append(a.Districts, *districts[k])
	}
	for _, t := range types {
		t.finish(tariff)
		a.LampTypes = append(a.LampTypes, *t)
	}
	sort.Slice(a.LampTypes, func(i, j int) bool {
		if a.LampTypes[i].KWhYear != a.LampTypes[j].KWhYear {
			return a.LampTypes[i].KWhYear > a.LampTypes[j].KWhYear
		}
		return a.LampTypes[i].Key < a.LampTypes[j].Key
	})
	for _, rp := range repl {
		rp.SavingKWh = round(rp.SavingKWh, 3)
		rp.SavingKZT = round(rp.SavingKWh*tariff, 2)
		a.Replacements = append(a.Replacements, *rp)
	}
	sort.Slice(a.Replacements, func(i, j int) bool {
		x, y := a.Replacements[i], a.Replacements[j]
		if x.SavingKWh != y.SavingKWh {
			return x.SavingKWh > y.SavingKWh
		}
		if x.LampType != y.LampType {
			return x.LampType < y.LampType
		}
		return x.PowerW < y.PowerW
	})
	for t := range unknown {
		a.UnknownTypes = append(a.UnknownTypes, t)
	}
	sort.Strings(a.UnknownTypes)
	a.Notes = []string{
		"kWh/year = power_w × hours_per_year / 1000 per lamp; cost = kWh × tariff",
		"LED equivalents: an LED luminaire of about 40 % of a discharge lamp's nominal power (HPS 250 W → LED 100 W, HPS 150 W → LED 60 W, MH likewise, mercury 250 W → LED 80 W); ballast losses are left out, so savings are conservative",
	}
	if len(a.UnknownTypes) > 0 {
		a.Notes = append(a.Notes, "lamp types without an LED equivalent (no saving counted): "+strings.Join(a.UnknownTypes, ", "))
	}
	return a, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func lampTypeNames(t string) Names {
	switch t {
	case "LED":
		return Names{KK: "Жарықдиодты (LED)", RU: "Светодиодные (LED)", EN: "LED"}
	case "HPS":
		return Names{KK: "Натрий шамдары (ДНаТ)", RU: "Натриевые (ДНаТ)", EN: "High-pressure sodium"}
	case "MH":
		return Names{KK: "Металлогалоген шамдары", RU: "Металлогалогенные (ДРИ)", EN: "Metal halide"}
	case "MV":
		return Names{KK: "Сынап шамдары (ДРЛ)", RU: "Ртутные (ДРЛ)", EN: "Mercury vapour"}
	case "CFL":
		return Names{KK: "Ықшам люминесцентті", RU: "Компактные люминесцентные", EN: "Compact fluorescent"}
	case "INC":
		return Names{KK: "Қыздыру шамдары", RU: "Лампы накаливания", EN: "Incandescent"}
	}
	return Names{KK: t, RU: t, EN: t}
}
