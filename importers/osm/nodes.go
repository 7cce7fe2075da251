package osm

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// nodeStore keeps the location of every node of an extract in 16 bytes: the id in one sorted
// array, the coordinates as 32-bit fixed point (1e-7 degrees, OSM's own precision) in two
// others. Memory is proportional to the number of nodes, whatever the file's size; a lookup is
// a binary search.
type nodeStore struct {
	ids      []int64
	lon, lat []int32
	sorted   bool
}

func newNodeStore() *nodeStore { return &nodeStore{sorted: true} }

const fixed = 1e7

func (s *nodeStore) add(id int64, lon, lat float64) {
	if n := len(s.ids); n > 0 && id <= s.ids[n-1] {
		s.sorted = false
	}
	s.ids = append(s.ids, id)
	s.lon = append(s.lon, int32(math.Round(lon*fixed)))
	s.lat = append(s.lat, int32(math.Round(lat*fixed)))
}

// seal sorts the store when the file's nodes were not in id order (PBF and XML extracts
// normally are), and gives back the arrays' spare capacity.
func (s *nodeStore) seal() {
	if !s.sorted {
		sort.Sort(byID{s})
		s.sorted = true
	}
	s.ids = append([]int64(nil), s.ids...)
	s.lon = append([]int32(nil), s.lon...)
	s.lat = append([]int32(nil), s.lat...)
}

func (s *nodeStore) get(id int64) (orb.Point, bool) {
	i := sort.Search(len(s.ids), func(i int) bool { return s.ids[i] >= id })
	if i == len(s.ids) || s.ids[i] != id {
		return orb.Point{}, false
	}
	return orb.Point{float64(s.lon[i]) / fixed, float64(s.lat[i]) / fixed}, true
}

// bytes is the memory the store holds.
func (s *nodeStore) bytes() int { return cap(s.ids)*8 + cap(s.lon)*4 + cap(s.lat)*4 }

type byID struct{ s *nodeStore }

func (b byID) Len() int           { return len(b.s.ids) }
func (b byID) Less(i, j int) bool { return b.s.ids[i] < b.s.ids[j] }
func (b byID) Swap(i, j int) {
	s := b.s
	s.ids[i], s.ids[j] = s.ids[j], s.ids[i]
	s.lon[i], s.lon[j] = s.lon[j], s.lon[i]
	s.lat[i], s.lat[j] = s.lat[j], s.lat[i]
}
