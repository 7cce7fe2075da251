package coverage

import (
	"fmt"
	"sort"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// Resident is a place where people live: a building's centroid (lon/lat) with its resident
// estimate and the district it lies in (an index into the caller's district list, -1 for none).
type Resident struct {
	Point     orb.Point
	Residents float64
	District  int
}

// PopCell is the population of one H3 cell within one district. A hexagon that straddles a
// district border becomes one PopCell per district, so per-district sums stay exact.
type PopCell struct {
	Cell      h3.Cell
	District  int
	Point     orb.Point // residents-weighted centroid of the cell's buildings, lon/lat
	Residents float64
}

// ValidResolution reports whether res is a resolution the analyses accept (7 to 11: city blocks,
// not continents and not single rooms).
func ValidResolution(res int) bool { return res >= 7 && res <= 11 }

// CellOf returns the H3 cell at res holding the lon/lat point p.
func CellOf(p orb.Point, res int) h3.Cell {
	return h3.LatLngToCell(h3.LatLng{Lat: p[1], Lng: p[0]}, res)
}

// CellsOf returns the H3 cell at res of every resident.
func CellsOf(rs []Resident, res int) []h3.Cell {
	out := make([]h3.Cell, len(rs))
	for i, r := range rs {
		out[i] = CellOf(r.Point, res)
	}
	return out
}

// Aggregate sums residents into (cell, district) pieces. cells[i] is the cell of rs[i] (from
// CellsOf), so callers can compute them once and aggregate many times. Residents with no
// positive count are left out. The output is ordered by cell, then district.
func Aggregate(rs []Resident, cells []h3.Cell) ([]PopCell, error) {
	if len(cells) != len(rs) {
		return nil, fmt.Errorf("coverage: %d cells for %d residents", len(cells), len(rs))
	}
	type key struct {
		c h3.Cell
		d int
	}
	type acc struct{ sx, sy, w float64 }
	m := map[key]*acc{}
	for i, r := range rs {
		if !(r.Residents > 0) {
			continue
		}
		k := key{cells[i], r.District}
		a := m[k]
		if a == nil {
			a = &acc{}
			m[k] = a
		}
		a.sx += r.Point[0] * r.Residents
		a.sy += r.Point[1] * r.Residents
		a.w += r.Residents
	}
	out := make([]PopCell, 0, len(m))
	for k, a := range m {
		out = append(out, PopCell{Cell: k.c, District: k.d, Point: orb.Point{a.sx / a.w, a.sy / a.w}, Residents: a.w})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cell != out[j].Cell {
			return out[i].Cell < out[j].Cell
		}
		return out[i].District < out[j].District
	})
	return out, nil
}

// HexPolygon returns the cell's boundary as a closed lon/lat polygon.
func HexPolygon(c h3.Cell) orb.Polygon {
	b := h3.CellToBoundary(c)
	ring := make(orb.Ring, 0, len(b)+1)
	for _, ll := range b {
		ring = append(ring, orb.Point{ll.Lng, ll.Lat})
	}
	if len(ring) > 0 {
		ring = append(ring, ring[0])
	}
	return orb.Polygon{ring}
}

// CellSum is a value summed per H3 cell over all districts.
type CellSum struct {
	Cell  h3.Cell
	Value float64
}

// SumByCell adds values[i] for cells[i] and returns the cells with a positive sum, ordered by
// descending value then cell id.
func SumByCell(cells []h3.Cell, values []float64) []CellSum {
	m := map[h3.Cell]float64{}
	for i, c := range cells {
		if values[i] != 0 {
			m[c] += values[i]
		}
	}
	out := make([]CellSum, 0, len(m))
	for c, v := range m {
		if v > 0 {
			out = append(out, CellSum{c, v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Cell < out[j].Cell
	})
	return out
}
