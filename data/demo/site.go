package demo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

// moveTo carries the generated city to another place: every demo layer's geometry is shifted
// from Aktobe's centre to centre, east-west distances kept in metres, and the reference layers
// (Aktobe's boundary and settlements) are left out, since they belong to Aktobe only.
func (c *City) moveTo(centre orb.Point) {
	scale := math.Cos(centreLat*math.Pi/180) / math.Cos(centre[1]*math.Pi/180)
	move := func(p orb.Point) orb.Point {
		return orb.Point{round7(centre[0] + (p[0]-centreLon)*scale), round7(centre[1] + p[1] - centreLat)}
	}
	kept := c.Layers[:0]
	for _, l := range c.Layers {
		if !l.Demo {
			continue
		}
		for i := range l.Rows {
			// a copy: rows may share their points' slices
			l.Rows[i].Geom = project.Geometry(orb.Clone(l.Rows[i].Geom), move)
		}
		kept = append(kept, l)
	}
	c.Layers = kept
}
