package importers

// OpenGeoJSON is defined in geojson.go.
func OpenGeoJSON(p string, opt Options) (Source, error) {
	return nil, unsupported(p, "GeoJSON: not built yet")
}
func OpenCSV(p string, opt Options) (Source, error) { return nil, unsupported(p, "CSV: not built yet") }
func OpenKML(p string, opt Options) (Source, error) { return nil, unsupported(p, "KML: not built yet") }
func OpenGeoPackage(p string, opt Options) (Source, error) {
	return nil, unsupported(p, "GeoPackage: not built yet")
}
