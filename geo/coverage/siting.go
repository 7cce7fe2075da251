package coverage

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// Siting is a maximal covering location problem: demand points with weights, candidate sites
// each covering a set of demand points, and demand already covered by the existing facilities.
type Siting struct {
	Weights []float64 // per demand point
	Covers  [][]int32 // per candidate: the demand points it would cover
	Covered []bool    // per demand point: covered already (nil: nothing is)
}

// Pick is one chosen site.
type Pick struct {
	Candidate int     `json:"candidate"`
	Gain      float64 `json:"gain"`       // newly covered weight
	Covered   float64 `json:"cumulative"` // covered weight after this pick, existing included
}

// SitingResult is the greedy answer and what is known about the optimum.
type SitingResult struct {
	Picks    []Pick
	Total    float64 // all demand weight
	Existing float64 // weight covered before any pick
	Added    float64 // weight the picks add
	// Upper is an upper bound on the weight the best possible choice of the same number of sites
	// could add: the smallest of Added/(1-1/e) (Nemhauser–Wolsey–Fisher) and the data-dependent
	// bounds f(S) + the n largest marginal gains over S (Minoux), taken before the first pick and
	// after the last.
	Upper float64
	// Exhausted is true when the greedy stopped early because no candidate adds anything.
	Exhausted bool
	// Evaluations counts marginal-gain computations, to show what lazy evaluation saves.
	Evaluations int
}

// GreedyBound is the guarantee of the greedy for maximal covering: at least 1-1/e of the optimum.
var GreedyBound = 1 - 1/math.E

// ErrTooManySites is returned when more sites are asked for than there are candidates.
var ErrTooManySites = errors.New("coverage: more sites asked for than candidates")

// CoverSets lists, for every candidate, the demand points within d metres of it (metres).
func CoverSets(ctx context.Context, demand, candidates []orb.Point, d float64) ([][]int32, error) {
	g := NewGrid(demand, max(d, 1))
	out := make([][]int32, len(candidates))
	for j, c := range candidates {
		if err := canceled(ctx, j); err != nil {
			return nil, err
		}
		var ids []int32
		g.Within(c, d, func(id int, _ float64) bool { ids = append(ids, int32(id)); return true })
		sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
		out[j] = ids
	}
	return out, nil
}

// Greedy picks n sites one at a time, each the candidate adding the most uncovered weight.
// Marginal gains only shrink as sites are added (coverage is submodular), so
// a stale gain is an upper bound: candidates wait in a max-heap keyed by their last gain and only
// the top is recomputed; when its fresh gain still beats the next bound, it is the best.
func Greedy(ctx context.Context, p Siting, n int) (SitingResult, error) {
	var res SitingResult
	if n > len(p.Covers) {
		return res, ErrTooManySites
	}
	covered := make([]bool, len(p.Weights))
	if p.Covered != nil {
		copy(covered, p.Covered)
	}
	for i, w := range p.Weights {
		res.Total += w
		if covered[i] {
			res.Existing += w
		}
	}
	gain := func(j int) float64 {
		res.Evaluations++
		g := 0.0
		for _, i := range p.Covers[j] {
			if !covered[i] {
				g += p.Weights[i]
			}
		}
		return g
	}
	h := make(gainHeap, 0, len(p.Covers))
	for j := range p.Covers {
		if err := canceled(ctx, j); err != nil {
			return res, err
		}
		h = append(h, gainItem{j, gain(j), 0})
	}
	// The n best gains before any pick bound what any n sites can add.
	initial := make([]float64, len(h))
	for k, it := range h {
		initial[k] = it.gain
	}
	startBound := sumTop(initial, n)
	heap.Init(&h)
	chosen := make([]bool, len(p.Covers))
	cum := res.Existing
	for round := 1; len(res.Picks) < n && h.Len() > 0; round++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for {
			top := h[0]
			if top.round == round {
				break // fresh this round: it beats every stale upper bound below it
			}
			h[0].gain = gain(top.cand)
			h[0].round = round
			heap.Fix(&h, 0)
		}
		best := heap.Pop(&h).(gainItem)
		if best.gain <= 0 {
			res.Exhausted = true
			break
		}
		chosen[best.cand] = true
		for _, i := range p.Covers[best.cand] {
			covered[i] = true
		}
		cum += best.gain
		res.Added += best.gain
		res.Picks = append(res.Picks, Pick{Candidate: best.cand, Gain: best.gain, Covered: cum})
	}
	res.Upper = res.Added / GreedyBound
	if res.Exhausted {
		// Nothing left adds weight: no choice of sites covers more of what can be covered at all.
		res.Upper = res.Added
	} else {
		res.Upper = min(res.Upper, startBound, res.Added+topGains(p, covered, chosen, n))
	}
	return res, nil
}

// sumTop sums the n largest values (reordering gs).
func sumTop(gs []float64, n int) float64 {
	sort.Sort(sort.Reverse(sort.Float64Slice(gs)))
	s := 0.0
	for k := 0; k < n && k < len(gs); k++ {
		s += gs[k]
	}
	return s
}

// topGains sums the n largest marginal gains with respect to the covered set. For a submodular
// function, OPT ≤ f(S) + Σ of the n best marginal gains over S.
func topGains(p Siting, covered, chosen []bool, n int) float64 {
	gs := make([]float64, 0, len(p.Covers))
	for j, c := range p.Covers {
		if chosen[j] {
			continue
		}
		g := 0.0
		for _, i := range c {
			if !covered[i] {
				g += p.Weights[i]
			}
		}
		gs = append(gs, g)
	}
	return sumTop(gs, n)
}

type gainItem struct {
	cand  int
	gain  float64
	round int
}

type gainHeap []gainItem

func (h gainHeap) Len() int { return len(h) }
func (h gainHeap) Less(i, j int) bool {
	if h[i].gain != h[j].gain {
		return h[i].gain > h[j].gain
	}
	return h[i].cand < h[j].cand
}
func (h gainHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *gainHeap) Push(x any)   { *h = append(*h, x.(gainItem)) }
func (h *gainHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
