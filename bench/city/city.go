// Package city is what the benchmark tools agree on about the synthetic city: where it lies.
// bench/gencity writes every feature inside Bound; bench/tileurls lists the tiles that cover it.
package city

import "github.com/paulmach/orb"

// Bound is the city's extent in degrees (EPSG:4326): Aktobe with its outskirts, about 28.5 km
// east to west and 17.8 km south to north.
var Bound = orb.Bound{Min: orb.Point{56.95, 50.20}, Max: orb.Point{57.35, 50.36}}
