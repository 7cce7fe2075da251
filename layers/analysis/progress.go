package analysis

import (
	"context"
	"sync"
)

// Progress receives how far a running analysis has got: the stage it is in (one of the Stage
// constants) and the share of the whole work done, from 0 to 1. It is called from the
// analysis's goroutine and must return quickly.
type Progress func(stage string, done float64)

// Stages of an analysis, in the order they run. Not every analysis passes every stage.
const (
	StageLayers     = "layers"     // reading the facility layer
	StageResidents  = "residents"  // loading residents and districts (once per layer version)
	StageStreets    = "streets"    // loading the street graph (once per layer version)
	StageSnapping   = "snapping"   // placing buildings on the street graph (once per version)
	StageDistances  = "distances"  // measuring distances to the facilities
	StageCandidates = "candidates" // listing what each candidate site would cover
	StageGreedy     = "greedy"     // choosing the sites
	StageSummary    = "summary"    // districts, hexagons and the answer
)

type progressKey struct{}

// WithProgress returns a context whose analyses report their progress to fn.
func WithProgress(ctx context.Context, fn Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, &progress{fn: fn})
}

// progress maps each stage's own 0..1 onto the span of the whole analysis it covers, and never
// lets the reported share go backwards (a cached stage is skipped, not rewound).
type progress struct {
	fn       Progress
	mu       sync.Mutex
	from, to float64
	stage    string
	last     float64
}

func progressOf(ctx context.Context) *progress {
	p, _ := ctx.Value(progressKey{}).(*progress)
	return p
}

// stage starts a stage spanning the shares from..to of the whole analysis.
func stage(ctx context.Context, name string, from, to float64) {
	p := progressOf(ctx)
	if p == nil {
		return
	}
	p.mu.Lock()
	p.stage, p.from, p.to = name, from, to
	p.mu.Unlock()
	p.report(0)
}

// step reports that done of total units of the current stage are finished. Callers in loops
// call it every few thousand units.
func step(ctx context.Context, done, total int) {
	p := progressOf(ctx)
	if p == nil || total <= 0 {
		return
	}
	p.report(float64(done) / float64(total))
}

func (p *progress) report(frac float64) {
	p.mu.Lock()
	v := p.from + (p.to-p.from)*min(max(frac, 0), 1)
	if v < p.last {
		v = p.last
	}
	p.last = v
	name := p.stage
	p.mu.Unlock()
	p.fn(name, v)
}

// substage starts a stage over the part from..to (0..1) of the current stage's span.
func substage(ctx context.Context, name string, from, to float64) {
	p := progressOf(ctx)
	if p == nil {
		return
	}
	p.mu.Lock()
	a, b := p.from, p.to
	p.mu.Unlock()
	stage(ctx, name, a+(b-a)*from, a+(b-a)*to)
}
