// Package geo is the geoportal's pure spatial code: tile math, projections, validation and the
// coverage algorithms. It touches neither the database nor HTTP.
package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// MaxZoom is the deepest zoom level the tile server answers.
const MaxZoom = 22

// MercatorHalfWorld is half the width of the Web Mercator (EPSG:3857) world, in metres.
const MercatorHalfWorld = 20037508.342789244

// maxLat is the latitude where the square Web Mercator world ends.
const maxLat = 85.0511287798066

// ParseTile checks z/x/y and returns the tile; the error names the part that is wrong.
func ParseTile(z, x, y int) (maptile.Tile, error) {
	if z < 0 || z > MaxZoom {
		return maptile.Tile{}, fmt.Errorf("zoom %d is out of range 0..%d", z, MaxZoom)
	}
	n := 1 << uint(z)
	if x < 0 || x >= n {
		return maptile.Tile{}, fmt.Errorf("x %d is out of range 0..%d at zoom %d", x, n-1, z)
	}
	if y < 0 || y >= n {
		return maptile.Tile{}, fmt.Errorf("y %d is out of range 0..%d at zoom %d", y, n-1, z)
	}
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z)), nil
}

// TileSizeMercator is the width of a tile at zoom z in Web Mercator metres.
func TileSizeMercator(z maptile.Zoom) float64 {
	return 2 * MercatorHalfWorld / float64(uint64(1)<<uint(z))
}

// MercatorBound is the tile's extent in Web Mercator metres, grown on every side by buffer
// (a fraction of the tile's width, e.g. 256.0/4096).
func MercatorBound(t maptile.Tile, buffer float64) orb.Bound {
	size := TileSizeMercator(t.Z)
	minX := -MercatorHalfWorld + float64(t.X)*size
	maxY := MercatorHalfWorld - float64(t.Y)*size
	b := buffer * size
	return orb.Bound{
		Min: orb.Point{minX - b, maxY - size - b},
		Max: orb.Point{minX + size + b, maxY + b},
	}
}

// LonLatBound is the tile's extent in degrees (EPSG:4326), grown on every side by buffer (a
// fraction of the tile's width) and clamped to the world.
func LonLatBound(t maptile.Tile, buffer float64) orb.Bound {
	m := MercatorBound(t, buffer)
	minLon, minLat := MercatorToLonLat(m.Min[0], m.Min[1])
	maxLon, maxLat := MercatorToLonLat(m.Max[0], m.Max[1])
	return orb.Bound{
		Min: orb.Point{math.Max(minLon, -180), math.Max(minLat, -90)},
		Max: orb.Point{math.Min(maxLon, 180), math.Min(maxLat, 90)},
	}
}

// MercatorToLonLat converts Web Mercator metres to degrees.
func MercatorToLonLat(x, y float64) (lon, lat float64) {
	lon = x / MercatorHalfWorld * 180
	lat = math.Atan(math.Sinh(y/MercatorHalfWorld*math.Pi)) * 180 / math.Pi
	return lon, lat
}

// TileFraction is where (lon, lat) falls in the tile grid at zoom z, in tile units (x grows east,
// y grows south). Latitudes beyond the Mercator world are clamped to its edge.
func TileFraction(lon, lat float64, z maptile.Zoom) (fx, fy float64) {
	lat = math.Max(-maxLat, math.Min(maxLat, lat))
	n := float64(uint64(1) << uint(z))
	fx = (lon + 180) / 360 * n
	s := math.Sin(lat * math.Pi / 180)
	fy = (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n
	return fx, fy
}

// TileRange is the inclusive range of tiles at zoom z whose extent, grown by margin (a fraction
// of the tile's width), touches the lon/lat box b.
type TileRange struct {
	Z                      maptile.Zoom
	MinX, MinY, MaxX, MaxY uint32
}

// Contains reports whether t lies in the range.
func (r TileRange) Contains(t maptile.Tile) bool {
	return t.Z == r.Z && t.X >= r.MinX && t.X <= r.MaxX && t.Y >= r.MinY && t.Y <= r.MaxY
}

// Count is the number of tiles in the range.
func (r TileRange) Count() uint64 {
	return uint64(r.MaxX-r.MinX+1) * uint64(r.MaxY-r.MinY+1)
}

// TilesCovering returns the tiles at zoom z that a change inside b can show up in when each
// tile also draws margin (a fraction of its width) around itself.
func TilesCovering(b orb.Bound, z maptile.Zoom, margin float64) TileRange {
	x0, y0 := TileFraction(b.Min[0], b.Max[1], z) // north-west corner
	x1, y1 := TileFraction(b.Max[0], b.Min[1], z) // south-east corner
	n := float64(uint64(1) << uint(z))
	clamp := func(v float64) uint32 {
		return uint32(math.Max(0, math.Min(n-1, math.Floor(v))))
	}
	return TileRange{
		Z:    z,
		MinX: clamp(x0 - margin), MinY: clamp(y0 - margin),
		MaxX: clamp(x1 + margin), MaxY: clamp(y1 + margin),
	}
}
