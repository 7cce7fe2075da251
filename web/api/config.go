package api

import (
	"net/http"

	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web/reply"
)

// MapConfig is what the web map needs to know about this installation.
type MapConfig struct {
	// BasemapURL is an optional external basemap drawn under the city's own layers: a raster
	// tile template with {z}/{x}/{y}, or the URL of a raster TileJSON. Empty: our own tiles only.
	BasemapURL string `json:"basemap_url"`
	// BasemapAttribution is shown on the map when the external basemap is on.
	BasemapAttribution string `json:"basemap_attribution,omitempty"`
	// City is the city as configured (serve's -city-* flags); what it leaves out is taken from
	// the data on each request (layers.Store.City), so a city imported after start is found.
	City layers.City `json:"city"`
}

// Config serves /api/config: the installation's MapConfig, with the city completed from the
// data.
func (hs *Handlers) Config(w http.ResponseWriter, r *http.Request) {
	cfg := *hs.Map
	city, err := hs.Store.City(r.Context(), cfg.City)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	cfg.City = city
	w.Header().Set("Cache-Control", "no-cache")
	reply.JSON(w, http.StatusOK, cfg)
}
