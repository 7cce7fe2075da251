package coverage

import (
	"context"

	"github.com/paulmach/orb"
)

// Access is the two-step floating catchment area (2SFCA) answer of Luo & Wang (2003).
type Access struct {
	// Ratio[j] is facility j's supply per resident within its catchment (step 1):
	// R_j = S_j / Σ_{k: d_kj ≤ d0} P_k; 0 when nobody lives within reach.
	Ratio []float64
	// Demand[j] is the population within facility j's catchment.
	Demand []float64
	// Index[i] is demand point i's accessibility (step 2): A_i = Σ_{j: d_ij ≤ d0} R_j, the supply
	// per resident available to it.
	Index []float64
}

// TwoStepFCA computes 2SFCA with a binary catchment of d0 metres (straight line, metres):
// population pop at demand points, supply at facilities.
func TwoStepFCA(ctx context.Context, demand []orb.Point, pop []float64, facilities []orb.Point, supply []float64, d0 float64) (Access, error) {
	a := Access{Ratio: make([]float64, len(facilities)), Demand: make([]float64, len(facilities)),
		Index: make([]float64, len(demand))}
	g := NewGrid(demand, max(d0, 1))
	reach := make([][]int32, len(facilities))
	for j, f := range facilities {
		if err := canceled(ctx, j); err != nil {
			return a, err
		}
		g.Within(f, d0, func(id int, _ float64) bool {
			reach[j] = append(reach[j], int32(id))
			a.Demand[j] += pop[id]
			return true
		})
		if a.Demand[j] > 0 {
			a.Ratio[j] = supply[j] / a.Demand[j]
		}
	}
	for j, ids := range reach {
		for _, i := range ids {
			a.Index[i] += a.Ratio[j]
		}
	}
	return a, nil
}
