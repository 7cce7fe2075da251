package osm

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// nodeStore keeps the location of every node of an extract in 16 bytes: the ids in sorted
// blocks, the coordinates as 32-bit fixed point (1e-7 degrees, OSM's own precision) beside
// them. Blocks of a fixed size grow the store without the doubling (and copying) of one
// big slice, so memory is 16 bytes a node plus a little, whatever the file's size; a lookup
// is two binary searches.
type nodeStore struct {
	blocks []nodeBlock
	first  []int64 // first id of each block
	sorted bool
	n      int
}

type nodeBlock struct {
	ids      []int64
	lon, lat []int32
}

const (
	fixed     = 1e7
	blockSize = 1 << 16
)

func newNodeStore() *nodeStore { return &nodeStore{sorted: true} }

func (s *nodeStore) add(id int64, lon, lat float64) {
	nb := len(s.blocks)
	if nb == 0 || len(s.blocks[nb-1].ids) == blockSize {
		s.blocks = append(s.blocks, nodeBlock{ids: make([]int64, 0, blockSize),
			lon: make([]int32, 0, blockSize), lat: make([]int32, 0, blockSize)})
		s.first = append(s.first, id)
		nb++
	}
	b := &s.blocks[nb-1]
	if s.n > 0 && id <= s.last() {
		s.sorted = false
	}
	b.ids = append(b.ids, id)
	b.lon = append(b.lon, int32(math.Round(lon*fixed)))
	b.lat = append(b.lat, int32(math.Round(lat*fixed)))
	s.n++
}

func (s *nodeStore) last() int64 {
	b := s.blocks[len(s.blocks)-1]
	if len(b.ids) == 0 {
		b = s.blocks[len(s.blocks)-2]
	}
	return b.ids[len(b.ids)-1]
}

// seal sorts the store when the file's nodes were not in id order (PBF and XML extracts
// normally are: then it does nothing).
func (s *nodeStore) seal() {
	if s.sorted {
		return
	}
	all := nodeBlock{}
	for _, b := range s.blocks {
		all.ids = append(all.ids, b.ids...)
		all.lon = append(all.lon, b.lon...)
		all.lat = append(all.lat, b.lat...)
	}
	sort.Sort(byID{&all})
	s.blocks, s.first = nil, nil
	for i := 0; i < len(all.ids); i += blockSize {
		j := min(i+blockSize, len(all.ids))
		s.blocks = append(s.blocks, nodeBlock{ids: all.ids[i:j:j], lon: all.lon[i:j:j], lat: all.lat[i:j:j]})
		s.first = append(s.first, all.ids[i])
	}
	s.sorted = true
}

func (s *nodeStore) get(id int64) (orb.Point, bool) {
	k := sort.Search(len(s.first), func(i int) bool { return s.first[i] > id }) - 1
	if k < 0 {
		return orb.Point{}, false
	}
	b := &s.blocks[k]
	i := sort.Search(len(b.ids), func(i int) bool { return b.ids[i] >= id })
	if i == len(b.ids) || b.ids[i] != id {
		return orb.Point{}, false
	}
	return orb.Point{float64(b.lon[i]) / fixed, float64(b.lat[i]) / fixed}, true
}

// bytes is the memory the store holds.
func (s *nodeStore) bytes() int {
	n := cap(s.first) * 8
	for _, b := range s.blocks {
		n += cap(b.ids)*8 + cap(b.lon)*4 + cap(b.lat)*4
	}
	return n
}

type byID struct{ b *nodeBlock }

func (x byID) Len() int           { return len(x.b.ids) }
func (x byID) Less(i, j int) bool { return x.b.ids[i] < x.b.ids[j] }
func (x byID) Swap(i, j int) {
	b := x.b
	b.ids[i], b.ids[j] = b.ids[j], b.ids[i]
	b.lon[i], b.lon[j] = b.lon[j], b.lon[i]
	b.lat[i], b.lat[j] = b.lat[j], b.lat[i]
}
