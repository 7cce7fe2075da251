package coverage

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestLocalMatchesGeodesic(t *testing.T) {
	p := NewLocal(57.17, 50.28)
	for _, tc := range []struct {
		name string
		a, b orb.Point
		want float64 // metres, from PostGIS ST_Distance on geography (WGS 84 ellipsoid)
		tol  float64 // relative
	}{
		{"north 1 km", orb.Point{57.17, 50.28}, orb.Point{57.17, 50.289}, 1001.11088342, 0.0005},
		{"east 5 km", orb.Point{57.17, 50.28}, orb.Point{57.24, 50.28}, 4989.49442134, 0.0005},
		{"diagonal across the city", orb.Point{56.97, 50.21}, orb.Point{57.34, 50.35}, 30627.55215648, 0.003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dist(p.Forward(tc.a), p.Forward(tc.b))
			if math.Abs(got-tc.want)/tc.want > tc.tol {
				t.Errorf("distance %.2f m, geodesic %.2f m", got, tc.want)
			}
			back := p.Inverse(p.Forward(tc.b))
			if !near(back[0], tc.b[0], 1e-12) || !near(back[1], tc.b[1], 1e-12) {
				t.Errorf("round trip %v -> %v", tc.b, back)
			}
		})
	}
}

func TestGridWithinMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]orb.Point, 500)
	for i := range pts {
		pts[i] = orb.Point{rng.Float64() * 2000, rng.Float64() * 1000}
	}
	for _, cell := range []float64{7, 100, 3000} {
		g := NewGrid(pts, cell)
		for q := 0; q < 200; q++ {
			p := orb.Point{rng.Float64()*2400 - 200, rng.Float64()*1400 - 200}
			r := rng.Float64() * 300
			want := map[int]bool{}
			nearest, nd := -1, math.Inf(1)
			for i, x := range pts {
				if dist(p, x) <= r {
					want[i] = true
				}
				if d := dist(p, x); d < nd {
					nearest, nd = i, d
				}
			}
			got := map[int]bool{}
			g.Within(p, r, func(id int, _ float64) bool { got[id] = true; return true })
			if len(got) != len(want) {
				t.Fatalf("cell %v: %d points within %.0f of %v, want %d", cell, len(got), r, p, len(want))
			}
			if g.Any(p, r) != (len(want) > 0) {
				t.Fatalf("cell %v: Any disagrees", cell)
			}
			if id, d := g.Nearest(p, math.Inf(1)); id != nearest || !near(d, nd, 1e-9) {
				t.Fatalf("cell %v: nearest %d at %.3f, want %d at %.3f", cell, id, d, nearest, nd)
			}
		}
	}
	if id, _ := NewGrid(nil, 10).Nearest(orb.Point{}, math.Inf(1)); id != -1 {
		t.Fatalf("empty grid nearest = %d", id)
	}
}

func TestAggregate(t *testing.T) {
	a := orb.Point{57.17, 50.28}
	b := orb.Point{57.1701, 50.2801} // ~13 m away: same res-9 cell
	far := orb.Point{57.2, 50.3}
	rs := []Resident{
		{Point: a, Residents: 30, District: 0},
		{Point: b, Residents: 10, District: 0},
		{Point: b, Residents: 5, District: 1}, // same cell, other district
		{Point: far, Residents: 7, District: -1},
		{Point: far, Residents: 0, District: -1}, // nobody lives here
	}
	cells := CellsOf(rs, 9)
	if cells[0] != cells[1] {
		t.Fatalf("test points are not in one res-9 cell")
	}
	got, err := Aggregate(rs, cells)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d pieces, want 3: %+v", len(got), got)
	}
	var sum float64
	for _, pc := range got {
		sum += pc.Residents
		if pc.Cell == cells[0] && pc.District == 0 {
			if pc.Residents != 40 {
				t.Errorf("cell residents %v, want 40", pc.Residents)
			}
			// weighted centroid: 3/4 of the way to a
			want := orb.Point{(30*a[0] + 10*b[0]) / 40, (30*a[1] + 10*b[1]) / 40}
			if !near(pc.Point[0], want[0], 1e-12) || !near(pc.Point[1], want[1], 1e-12) {
				t.Errorf("centroid %v, want %v", pc.Point, want)
			}
		}
	}
	if sum != 52 {
		t.Errorf("total %v, want 52", sum)
	}
	if _, err := Aggregate(rs, cells[:2]); err == nil {
		t.Error("mismatched cells accepted")
	}
	poly := HexPolygon(cells[0])
	if len(poly[0]) != 7 || poly[0][0] != poly[0][6] {
		t.Errorf("hexagon ring %v", poly[0])
	}
	sums := SumByCell(cells, []float64{30, 10, 5, 7, 0})
	if len(sums) != 2 || sums[0].Value != 45 || sums[1].Value != 7 {
		t.Errorf("SumByCell = %+v", sums)
	}
}

func TestCoveredStraight(t *testing.T) {
	fac := []orb.Point{{0, 0}, {5000, 5000}}
	demand := []orb.Point{{300, 400}, {300, 400.01}, {-500, 0}, {5000, 5499}, {2500, 2500}}
	got, err := CoveredStraight(context.Background(), demand, fac, 500)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, true, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("demand %v: covered %v, want %v", demand[i], got[i], want[i])
		}
	}
	total, cov := Share([]float64{10, 20, 30, 40, 50}, got)
	if total != 150 || cov != 80 {
		t.Errorf("share %v of %v, want 80 of 150", cov, total)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CoveredStraight(ctx, demand, fac, 500); err == nil {
		t.Error("canceled context ignored")
	}
}

// The hand graph:
//
//	D(0,100) ---- C(100,100) ---- E(400,100)
//	   |              |
//	A(0,0) ------ B(100,0)
//
// with the B–C line digitised 0.5 m short of C.
func handNetwork(tol float64) *Network {
	return NewNetwork([][]orb.Point{
		{{0, 0}, {100, 0}},                // 0 A-B
		{{100, 0}, {100, 99.5}},           // 1 B-C (gap)
		{{0, 0}, {0, 100}},                // 2 A-D
		{{0, 100}, {50, 100}, {100, 100}}, // 3 D-C, with an interior vertex
		{{100, 100}, {400, 100}},          // 4 C-E
	}, tol)
}

func TestNetworkDijkstra(t *testing.T) {
	ctx := context.Background()
	n := handNetwork(1)
	if len(n.Nodes) != 5 {
		t.Fatalf("%d nodes, want 5 (the gap should snap)", len(n.Nodes))
	}
	if got := len(n.Intersections()); got != 1 { // C has degree 3
		t.Errorf("%d intersections, want 1", got)
	}
	// A facility 10 m south of A's corner of the A-B street, 20 m along it.
	fac := n.Snap(orb.Point{20, -10}, 100)
	if fac.Edge != 0 || !near(fac.At, 20, 1e-9) || !near(fac.Offset, 10, 1e-9) {
		t.Fatalf("snap %+v", fac)
	}
	d, err := n.Distances(ctx, []Snap{fac}, math.Inf(1))
	if err != nil {
		t.Fatal(err)
	}
	node := func(p orb.Point) int {
		for i, q := range n.Nodes {
			if dist(p, q) < 1 {
				return i
			}
		}
		t.Fatalf("no node at %v", p)
		return -1
	}
	for _, tc := range []struct {
		at   orb.Point
		want float64
	}{
		{orb.Point{0, 0}, 30},        // 10 + 20
		{orb.Point{100, 0}, 90},      // 10 + 80
		{orb.Point{100, 100}, 189.5}, // via B and the 99.5 m line
		{orb.Point{0, 100}, 130},
		{orb.Point{400, 100}, 489.5},
	} {
		if got := d[node(tc.at)]; !near(got, tc.want, 1e-9) {
			t.Errorf("distance to %v = %v, want %v", tc.at, got, tc.want)
		}
	}
	on := OnEdge([]Snap{fac})
	// A house 5 m north of the A-B street at x=60: 40 m along the same street + 10 + 5.
	house := n.Snap(orb.Point{60, 5}, 100)
	if got := n.DistanceTo(d, on, house); !near(got, 55, 1e-9) {
		t.Errorf("same-edge distance %v, want 55", got)
	}
	// A house 3 m off the C-E street, 50 m from C: 189.5 + 50 + 3.
	house2 := n.Snap(orb.Point{150, 103}, 100)
	if got := n.DistanceTo(d, on, house2); !near(got, 242.5, 1e-9) {
		t.Errorf("distance %v, want 242.5", got)
	}
	cov, err := CoveredNetwork(ctx, n, []Snap{house, house2}, []Snap{fac}, 200)
	if err != nil || !cov[0] || cov[1] {
		t.Errorf("covered %v, %v; want [true false]", cov, err)
	}
	// A limit stops the search: nodes beyond it stay unreached.
	d, _ = n.Distances(ctx, []Snap{fac}, 100)
	if !math.IsInf(d[node(orb.Point{100, 100})], 1) || d[node(orb.Point{100, 0})] != 90 {
		t.Errorf("limited distances %v", d)
	}
	// Without snapping the gap, C is only reached the long way round, via D.
	n2 := handNetwork(0.1)
	if len(n2.Nodes) != 6 {
		t.Fatalf("%d nodes without snapping, want 6", len(n2.Nodes))
	}
	d2, _ := n2.Distances(ctx, []Snap{n2.Snap(orb.Point{20, -10}, 100)}, math.Inf(1))
	for i, p := range n2.Nodes {
		if p == (orb.Point{100, 100}) && !near(d2[i], 230, 1e-9) {
			t.Errorf("unsnapped distance to C = %v, want 230", d2[i])
		}
	}
	if s := n.Snap(orb.Point{1000, 1000}, 50); s.Edge != -1 {
		t.Errorf("snap beyond the radius: %+v", s)
	}
	mids := n.Midpoints()
	if mids[3] != (orb.Point{50, 100}) || mids[4] != (orb.Point{250, 100}) {
		t.Errorf("midpoints %v", mids)
	}
}

func TestSectorGeometry(t *testing.T) {
	east := Camera{Pos: orb.Point{0, 0}, Heading: 90, FOV: 90, Range: 50}
	north := Camera{Pos: orb.Point{0, 0}, Heading: 350, FOV: 40, Range: 100}
	dome := Camera{Pos: orb.Point{10, 10}, FOV: 360, Range: 20}
	for _, tc := range []struct {
		name string
		c    Camera
		p    orb.Point
		want bool
	}{
		{"ahead", east, orb.Point{30, 0}, true},
		{"just inside the edge", east, orb.Point{30, 29}, true},
		{"just outside the edge", east, orb.Point{30, 31}, false},
		{"on the edge", east, orb.Point{30, 30}, true},
		{"behind", east, orb.Point{-30, 0}, false},
		{"beyond range", east, orb.Point{50.01, 0}, false},
		{"at range", east, orb.Point{50, 0}, true},
		{"across north", north, orb.Point{-5, 30}, true},
		{"across north, other side", north, orb.Point{5, 30}, true}, // bearing 9.5°, 19.5° off
		{"outside the narrow view", north, orb.Point{20, 30}, false},
		{"dome", dome, orb.Point{10, -9}, true},
		{"dome beyond range", dome, orb.Point{10, -11}, false},
	} {
		if got := tc.c.Sees(tc.p); got != tc.want {
			t.Errorf("%s: Sees(%v) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
	ring := east.Sector()
	if ring[0] != east.Pos || ring[0] != ring[len(ring)-1] {
		t.Errorf("sector ring not closed at the apex: %v", ring)
	}
	area := 0.0
	for i := 1; i < len(ring); i++ {
		area += ring[i-1][0]*ring[i][1] - ring[i][0]*ring[i-1][1]
	}
	area = math.Abs(area) / 2
	if math.Abs(area-math.Pi*50*50/4)/area > 0.01 {
		t.Errorf("sector area %v, want about %v", area, math.Pi*50*50/4)
	}
}

func TestStreetVisibility(t *testing.T) {
	ctx := context.Background()
	street := [][]orb.Point{{{-100, 0}, {100, 0}}, {{0, 60}, {0, 200}}}
	samples := SampleLines(street, 1)
	if len(samples) != 340 {
		t.Fatalf("%d samples, want 340", len(samples))
	}
	pts := make([]orb.Point, len(samples))
	for i, s := range samples {
		pts[i] = s.Mid
	}
	cam := Camera{Pos: orb.Point{0, 0}, Heading: 90, FOV: 90, Range: 50}
	seenLen := func(obs *Obstacles) (float64, []Piece) {
		seen, err := NewViewshed([]Camera{cam}, obs).SeenAll(ctx, pts)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for i, ok := range seen {
			if ok {
				s += samples[i].Length
			}
		}
		return s, Unseen(samples, seen)
	}
	got, unseen := seenLen(nil)
	if !near(got, 50, 1e-9) {
		t.Errorf("seen %v m, want 50", got)
	}
	want := []Piece{{0, 0, 100}, {0, 150, 200}, {1, 0, 140}}
	if len(unseen) != len(want) {
		t.Fatalf("unseen %+v, want %+v", unseen, want)
	}
	for i := range want {
		if unseen[i].Line != want[i].Line || !near(unseen[i].From, want[i].From, 1e-9) || !near(unseen[i].To, want[i].To, 1e-9) {
			t.Errorf("unseen[%d] = %+v, want %+v", i, unseen[i], want[i])
		}
	}
	// A building from x=20 to x=30 across the street hides everything behind its west wall.
	house := [][]orb.Point{{{20, -5}, {30, -5}, {30, 5}, {20, 5}, {20, -5}}}
	if got, _ := seenLen(NewObstacles(house)); !near(got, 20, 1e-9) {
		t.Errorf("seen past a building %v m, want 20", got)
	}
	// A building off to the side hides nothing.
	side := [][]orb.Point{{{20, 10}, {30, 10}, {30, 20}, {20, 20}, {20, 10}}}
	if got, _ := seenLen(NewObstacles(side)); !near(got, 50, 1e-9) {
		t.Errorf("seen beside a building %v m, want 50", got)
	}
	cut := Cut(street[0], 100, 150)
	if len(cut) != 2 || cut[0] != (orb.Point{0, 0}) || cut[1] != (orb.Point{50, 0}) {
		t.Errorf("cut %v", cut)
	}
	bent := Cut([]orb.Point{{0, 0}, {10, 0}, {10, 10}}, 5, 15)
	if len(bent) != 3 || bent[1] != (orb.Point{10, 0}) || bent[2] != (orb.Point{10, 5}) {
		t.Errorf("cut around a corner %v", bent)
	}
}

// plainGreedy is the textbook greedy without lazy evaluation, to check the lazy one against.
func plainGreedy(p Siting, n int) []float64 {
	covered := make([]bool, len(p.Weights))
	if p.Covered != nil {
		copy(covered, p.Covered)
	}
	var gains []float64
	for k := 0; k < n; k++ {
		best, bestG := -1, 0.0
		for j, c := range p.Covers {
			g := 0.0
			for _, i := range c {
				if !covered[i] {
					g += p.Weights[i]
				}
			}
			if g > bestG {
				best, bestG = j, g
			}
		}
		if best < 0 {
			break
		}
		for _, i := range p.Covers[best] {
			covered[i] = true
		}
		gains = append(gains, bestG)
	}
	return gains
}

// bruteForce returns the most weight any n candidates add.
func bruteForce(p Siting, n int) float64 {
	best := 0.0
	var rec func(start int, chosen []int)
	rec = func(start int, chosen []int) {
		if len(chosen) == n {
			covered := make([]bool, len(p.Weights))
			if p.Covered != nil {
				copy(covered, p.Covered)
			}
			s := 0.0
			for _, j := range chosen {
				for _, i := range p.Covers[j] {
					if !covered[i] {
						covered[i] = true
						s += p.Weights[i]
					}
				}
			}
			best = max(best, s)
			return
		}
		for j := start; j < len(p.Covers); j++ {
			rec(j+1, append(chosen, j))
		}
	}
	rec(0, nil)
	return best
}

func TestGreedyHandCase(t *testing.T) {
	// The classic trap: the greedy takes the big middle set, the optimum the two halves.
	p := Siting{
		Weights: []float64{1, 1, 1, 1, 1, 1, 5},
		Covers: [][]int32{
			{0, 1, 2, 3, 4}, // 5
			{0, 1, 2, 6},    // 8
			{3, 4, 5, 6},    // 8
			{5},             // 1
		},
		Covered: []bool{false, false, false, false, false, false, false},
	}
	res, err := Greedy(context.Background(), p, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Picks) != 2 || res.Picks[0].Candidate != 1 || res.Picks[0].Gain != 8 || res.Picks[1].Candidate != 2 || res.Picks[1].Gain != 3 {
		t.Errorf("picks %+v", res.Picks)
	}
	if res.Total != 11 || res.Added != 11 || res.Existing != 0 || res.Picks[1].Covered != 11 {
		t.Errorf("result %+v", res)
	}
	// With point 6 covered already, the halves win: 3 + 3 (index 0's 5 first, then 5 alone).
	p.Covered[6] = true
	res, _ = Greedy(context.Background(), p, 2)
	if res.Existing != 5 || res.Picks[0].Candidate != 0 || res.Picks[0].Gain != 5 || res.Picks[1].Gain != 1 {
		t.Errorf("with existing cover: %+v", res)
	}
	// Asking for more than can add anything stops early, and the bound is then exact.
	res, _ = Greedy(context.Background(), p, 4)
	if !res.Exhausted || len(res.Picks) != 2 || res.Upper != res.Added {
		t.Errorf("exhausted: %+v", res)
	}
	if _, err := Greedy(context.Background(), p, 5); err != ErrTooManySites {
		t.Errorf("n > candidates: %v", err)
	}
}

func TestGreedyBoundAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 300; trial++ {
		nd, nc := 4+rng.IntN(10), 3+rng.IntN(7)
		p := Siting{Weights: make([]float64, nd), Covers: make([][]int32, nc), Covered: make([]bool, nd)}
		for i := range p.Weights {
			p.Weights[i] = float64(1 + rng.IntN(20))
			p.Covered[i] = rng.IntN(6) == 0
		}
		for j := range p.Covers {
			for i := 0; i < nd; i++ {
				if rng.IntN(3) == 0 {
					p.Covers[j] = append(p.Covers[j], int32(i))
				}
			}
		}
		n := 1 + rng.IntN(min(nc, 4))
		res, err := Greedy(context.Background(), p, n)
		if err != nil {
			t.Fatal(err)
		}
		opt := bruteForce(p, n)
		if res.Added < GreedyBound*opt-1e-9 {
			t.Fatalf("trial %d: greedy adds %v, below (1-1/e)·%v", trial, res.Added, opt)
		}
		if res.Upper < opt-1e-9 {
			t.Fatalf("trial %d: upper bound %v below the optimum %v", trial, res.Upper, opt)
		}
		if res.Added > opt+1e-9 {
			t.Fatalf("trial %d: greedy %v beats the optimum %v", trial, res.Added, opt)
		}
		plain := plainGreedy(p, n)
		if len(plain) != len(res.Picks) {
			t.Fatalf("trial %d: lazy picked %d, plain %d", trial, len(res.Picks), len(plain))
		}
		for k, g := range plain {
			if res.Picks[k].Gain != g {
				t.Fatalf("trial %d: pick %d gains %v, plain greedy %v", trial, k, res.Picks[k].Gain, g)
			}
		}
	}
}

func TestCoverSets(t *testing.T) {
	demand := []orb.Point{{0, 0}, {100, 0}, {200, 0}}
	got, err := CoverSets(context.Background(), demand, []orb.Point{{50, 0}, {500, 0}, {200, 0}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int32{{0, 1}, nil, {1, 2}}
	for j := range want {
		if len(got[j]) != len(want[j]) {
			t.Fatalf("candidate %d covers %v, want %v", j, got[j], want[j])
		}
		for k := range want[j] {
			if got[j][k] != want[j][k] {
				t.Fatalf("candidate %d covers %v, want %v", j, got[j], want[j])
			}
		}
	}
}

func TestTwoStepFCA(t *testing.T) {
	// Two residential points and two clinics on a line:
	//   P1 (0) pop 100, F1 (0) 10 places, P2 (600) pop 300, F2 (900) 30 places; catchment 700 m.
	// F1 reaches P1 and P2: R1 = 10/400; F2 reaches only P2: R2 = 30/300.
	// A1 = R1 = 0.025; A2 = R1 + R2 = 0.125.
	demand := []orb.Point{{0, 0}, {600, 0}}
	fac := []orb.Point{{0, 0}, {900, 0}}
	a, err := TwoStepFCA(context.Background(), demand, []float64{100, 300}, fac, []float64{10, 30}, 700)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"R1", a.Ratio[0], 0.025}, {"R2", a.Ratio[1], 0.1},
		{"D1", a.Demand[0], 400}, {"D2", a.Demand[1], 300},
		{"A1", a.Index[0], 0.025}, {"A2", a.Index[1], 0.125},
		// 2SFCA conserves supply when every facility reaches someone.
		{"supply", a.Index[0]*100 + a.Index[1]*300, 40},
	} {
		if !near(c.got, c.want, 1e-12) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// A clinic nobody reaches has no ratio and adds nothing.
	a, _ = TwoStepFCA(context.Background(), demand, []float64{100, 300}, []orb.Point{{5000, 0}}, []float64{10}, 700)
	if a.Ratio[0] != 0 || a.Index[0] != 0 || a.Index[1] != 0 {
		t.Errorf("unreachable clinic: %+v", a)
	}
}
