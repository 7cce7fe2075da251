package importers

// OpenKML is not built yet: KML files are refused with a clear message.
func OpenKML(p string, opt Options) (Source, error) {
	return nil, invalid("%s: KML import is not available yet: convert it to GeoJSON (ogr2ogr -f GeoJSON out.geojson %s)", BaseName(p)+".kml", BaseName(p)+".kml")
}

// OpenGeoPackage is not built yet: GeoPackage files are refused with a clear message.
func OpenGeoPackage(p string, opt Options) (Source, error) {
	return nil, invalid("%s: GeoPackage import is not available yet: convert it to a shapefile or GeoJSON with ogr2ogr", BaseName(p)+".gpkg")
}
