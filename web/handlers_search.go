package web

import (
	"net/http"

	"github.com/aktobe/geoportal/web/reply"
)

// MapConfig is what the web map needs to know about this installation.
type MapConfig struct {
	// BasemapURL is an optional external basemap drawn under the city's own layers: a raster
	// tile template with {z}/{x}/{y}, or the URL of a raster TileJSON. Empty: our own tiles only.
	BasemapURL string `json:"basemap_url"`
	// BasemapAttribution is shown on the map when the external basemap is on.
	BasemapAttribution string `json:"basemap_attribution,omitempty"`
}

func (s *Server) handleMapConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	reply.JSON(w, http.StatusOK, s.Map)
}
