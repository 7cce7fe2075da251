package demo

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestScratchStats(t *testing.T) {
	t0 := time.Now()
	c, err := Generate(Options{Seed: DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generate %v residents %d", time.Since(t0), c.Residents)
	for _, l := range c.Layers {
		t.Logf("%-18s %6d", l.Slug, len(l.Rows))
	}
	uses := map[string]int{}
	res := map[string]int{}
	for _, r := range c.Layer("buildings").Rows {
		uses[r.Values[1].(string)]++
		if n, ok := r.Values[3].(int); ok {
			res[r.Values[1].(string)] += n
		}
	}
	t.Logf("uses %v residents %v", uses, res)
	for _, spec := range []struct {
		name           string
		w, s, e, n     float64
		px             int
	}{{"city", 57.04, 50.21, 57.31, 50.36, 2400}, {"zoom", 57.15, 50.27, 57.19, 50.29, 2000}} {
		img := image.NewRGBA(image.Rect(0, 0, spec.px, int(float64(spec.px)*(spec.n-spec.s)/(spec.e-spec.w)*1.56)))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		H := img.Bounds().Dy()
		tr := func(p orb.Point) (int, int) {
			return int((p[0] - spec.w) / (spec.e - spec.w) * float64(spec.px)), H - int((p[1]-spec.s)/(spec.n-spec.s)*float64(H))
		}
		line := func(a, b orb.Point, col color.RGBA) {
			x0, y0 := tr(a)
			x1, y1 := tr(b)
			n := max(abs(x1-x0), abs(y1-y0)) + 1
			for k := 0; k <= n; k++ {
				img.Set(x0+(x1-x0)*k/n, y0+(y1-y0)*k/n, col)
			}
		}
		var draw func(g orb.Geometry, col color.RGBA)
		draw = func(g orb.Geometry, col color.RGBA) {
			switch g := g.(type) {
			case orb.Point:
				x, y := tr(g)
				for dx := -1; dx <= 1; dx++ {
					for dy := -1; dy <= 1; dy++ {
						img.Set(x+dx, y+dy, col)
					}
				}
			case orb.LineString:
				for i := 1; i < len(g); i++ {
					line(g[i-1], g[i], col)
				}
			case orb.Ring:
				draw(orb.LineString(g), col)
			case orb.Polygon:
				for _, r := range g {
					draw(r, col)
				}
			case orb.MultiPolygon:
				for _, p := range g {
					draw(p, col)
				}
			case orb.MultiLineString:
				for _, l := range g {
					draw(l, col)
				}
			}
		}
		colors := map[string]color.RGBA{"city_boundary": {100, 0, 150, 255}, "districts": {150, 120, 200, 255}, "parks": {60, 180, 60, 255},
			"yards": {250, 200, 120, 255}, "streets": {120, 120, 120, 255}, "buildings": {200, 150, 100, 255},
			"utility_networks": {200, 200, 255, 255}, "street_lights": {250, 220, 0, 255}, "bus_routes": {0, 160, 0, 255},
			"bus_stops": {0, 100, 0, 255}, "cameras": {220, 0, 0, 255}, "schools": {0, 0, 220, 255}, "clinics": {220, 0, 150, 255}}
		for _, slug := range []string{"city_boundary", "districts", "utility_networks", "parks", "yards", "streets", "buildings", "bus_routes", "street_lights", "bus_stops", "cameras", "schools", "clinics"} {
			if spec.name == "city" && (slug == "utility_networks" || slug == "street_lights") {
				continue
			}
			for _, r := range c.Layer(slug).Rows {
				draw(r.Geom, colors[slug])
			}
		}
		f, _ := os.Create("/tmp/demostat/" + spec.name + ".png")
		png.Encode(f, img)
		f.Close()
	}
}
