package modules

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/aktobe/geoportal/internal/csvsafe"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/web/pages"
	"github.com/aktobe/geoportal/web/reply"
)

func (ms *API) lightingAudit(r *http.Request) (*modules.LightingAudit, error) {
	tariff, err := modules.ParseTariff(r.URL.Query().Get("tariff"))
	if err != nil {
		return nil, err
	}
	return ms.Modules.LightingAudit(r.Context(), tariff)
}

func (ms *API) LightingAudit(w http.ResponseWriter, r *http.Request) {
	a, err := ms.lightingAudit(r)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, a)
}

func (ms *API) LightingAuditCSV(w http.ResponseWriter, r *http.Request) {
	a, err := ms.lightingAudit(r)
	if err != nil {
		ms.Reply.Error(w, r, err)
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
