package glyphs

import (
	"errors"
	"fmt"
	"image"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
	"google.golang.org/protobuf/encoding/protowire"
)

// The glyph metrics MapLibre expects of a server font: glyphs drawn at 24 px, with a 3-pixel
// border of distance field around each, 8 pixels of distance across the field's range and its
// edge at 192 of 255 (the shaders' text threshold is 0.75).
const (
	fontSize = 24
	border   = 3
	sdfRange = 8.0
	sdfEdge  = 192.0
	// oversample is how many raster pixels one glyph pixel is cut into before the distance
	// transform: the edge is then placed to a quarter of a glyph pixel.
	oversample = 4
	// topOffset moves "top" to MapLibre's origin for server glyphs, which lies above the em box
	// (its shaping then adds -17): with it, a line of text sits centred on its anchor.
	topOffset = 26
)

// glyph is one glyph of a range as the PBF carries it.
type glyph struct {
	id            rune
	bitmap        []byte
	width, height int
	left, top     int
	advance       int
}

// encodeRange makes the PBF of the glyph range of font starting at start: a glyphs message with
// one fontstack holding a glyph for every code point of the range the font has.
func encodeRange(f *sfnt.Font, stack string, start int) ([]byte, error) {
	var buf sfnt.Buffer
	var stackMsg []byte
	stackMsg = protowire.AppendTag(stackMsg, 1, protowire.BytesType)
	stackMsg = protowire.AppendString(stackMsg, stack)
	stackMsg = protowire.AppendTag(stackMsg, 2, protowire.BytesType)
	stackMsg = protowire.AppendString(stackMsg, fmt.Sprintf("%d-%d", start, start+RangeSize-1))
	for cp := rune(start); cp < rune(start+RangeSize); cp++ {
		g, err := drawGlyph(f, &buf, cp)
		if errors.Is(err, errNoGlyph) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("glyphs: %s U+%04X: %w", stack, cp, err)
		}
		stackMsg = protowire.AppendTag(stackMsg, 3, protowire.BytesType)
		stackMsg = protowire.AppendBytes(stackMsg, g.marshal())
	}
	var out []byte
	out = protowire.AppendTag(out, 1, protowire.BytesType)
	out = protowire.AppendBytes(out, stackMsg)
	return out, nil
}

func (g *glyph) marshal() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(g.id))
	if len(g.bitmap) > 0 {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, g.bitmap)
	}
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(g.width))
	b = protowire.AppendTag(b, 4, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(g.height))
	b = protowire.AppendTag(b, 5, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(g.left)))
	b = protowire.AppendTag(b, 6, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(g.top)))
	b = protowire.AppendTag(b, 7, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(g.advance))
	return b
}

var errNoGlyph = errors.New("not in the font")

// drawGlyph draws code point cp of f at fontSize as a signed distance field.
func drawGlyph(f *sfnt.Font, buf *sfnt.Buffer, cp rune) (*glyph, error) {
	idx, err := f.GlyphIndex(buf, cp)
	if err != nil {
		return nil, err
	}
	if idx == 0 {
		return nil, errNoGlyph
	}
	ppem := fixed.I(fontSize)
	adv, err := f.GlyphAdvance(buf, idx, ppem, font.HintingNone)
	if err != nil {
		return nil, err
	}
	segs, err := f.LoadGlyph(buf, idx, ppem, nil)
	if err != nil {
		return nil, err
	}
	g := &glyph{id: cp, advance: int(math.Round(float64(adv) / 64))}
	if len(segs) == 0 {
		return g, nil // a space: an advance, nothing to draw
	}
	// Bounds in pixels, y growing downwards from the baseline (as sfnt gives them).
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range segs {
		for _, p := range s.Args[:argCount(s.Op)] {
			x, y := float64(p.X)/64, float64(p.Y)/64
			minX, maxX = math.Min(minX, x), math.Max(maxX, x)
			minY, maxY = math.Min(minY, y), math.Max(maxY, y)
		}
	}
	left, top := int(math.Floor(minX)), int(math.Floor(minY))
	g.width, g.height = int(math.Ceil(maxX))-left, int(math.Ceil(maxY))-top
	if g.width <= 0 || g.height <= 0 {
		g.width, g.height = 0, 0
		return g, nil
	}
	g.left, g.top = left, -top-topOffset

	// Raster of the glyph with its border, oversampled.
	w, h := g.width+2*border, g.height+2*border
	rw, rh := w*oversample, h*oversample
	ras := vector.NewRasterizer(rw, rh)
	tr := func(p fixed.Point26_6) (float32, float32) {
		return float32((float64(p.X)/64 - float64(left) + border) * oversample),
			float32((float64(p.Y)/64 - float64(top) + border) * oversample)
	}
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			ras.MoveTo(tr(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			ras.LineTo(tr(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			x1, y1 := tr(s.Args[0])
			x2, y2 := tr(s.Args[1])
			ras.QuadTo(x1, y1, x2, y2)
		case sfnt.SegmentOpCubeTo:
			x1, y1 := tr(s.Args[0])
			x2, y2 := tr(s.Args[1])
			x3, y3 := tr(s.Args[2])
			ras.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	ras.ClosePath()
	img := image.NewAlpha(image.Rect(0, 0, rw, rh))
	ras.Draw(img, img.Bounds(), image.Opaque, image.Point{})
	cover := make([]float32, rw*rh)
	for i, a := range img.Pix {
		cover[i] = float32(a) / 255
	}
	dist := signedDistance(cover, rw, rh)
	g.bitmap = make([]byte, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var sum float64
			for dy := 0; dy < oversample; dy++ {
				row := (y*oversample + dy) * rw
				for dx := 0; dx < oversample; dx++ {
					sum += dist[row+x*oversample+dx]
				}
			}
			d := sum / (oversample * oversample) / oversample // in glyph pixels, > 0 outside
			v := sdfEdge - d*256/sdfRange
			g.bitmap[y*w+x] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	return g, nil
}

func argCount(op sfnt.SegmentOp) int {
	switch op {
	case sfnt.SegmentOpQuadTo:
		return 2
	case sfnt.SegmentOpCubeTo:
		return 3
	}
	return 1
}

// signedDistance returns, for every pixel of a w×h coverage raster, its distance in pixels to
// the outline: positive outside the glyph, negative inside. Both sides come from an exact
// Euclidean distance transform of the raster cut at half coverage.
func signedDistance(cover []float32, w, h int) []float64 {
	inside := make([]float64, w*h)  // squared distance to the nearest inside pixel
	outside := make([]float64, w*h) // squared distance to the nearest outside pixel
	for i, c := range cover {
		if c >= 0.5 {
			outside[i] = math.Inf(1)
		} else {
			inside[i] = math.Inf(1)
		}
	}
	edt(inside, w, h)
	edt(outside, w, h)
	out := make([]float64, w*h)
	for i := range out {
		// Distances run between pixel centres; the outline lies half a pixel from both.
		if cover[i] >= 0.5 {
			out[i] = -(math.Sqrt(outside[i]) - 0.5)
		} else {
			out[i] = math.Sqrt(inside[i]) - 0.5
		}
	}
	return out
}

// edt replaces each value of grid (0 at seeds, +Inf elsewhere) by the squared Euclidean distance
// to the nearest seed: the separable transform of Felzenszwalb and Huttenlocher, columns then rows.
func edt(grid []float64, w, h int) {
	n := max(w, h)
	f := make([]float64, n)
	d := make([]float64, n)
	v := make([]int, n)
	z := make([]float64, n+1)
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			f[y] = grid[y*w+x]
		}
		edt1(f[:h], d[:h], v, z)
		for y := 0; y < h; y++ {
			grid[y*w+x] = d[y]
		}
	}
	for y := 0; y < h; y++ {
		copy(f[:w], grid[y*w:(y+1)*w])
		edt1(f[:w], d[:w], v, z)
		copy(grid[y*w:(y+1)*w], d[:w])
	}
}

// edt1 is the one-dimensional transform: d[q] = min over p of (q-p)² + f[p], by the lower
// envelope of the parabolas rooted at each p.
func edt1(f, d []float64, v []int, z []float64) {
	n := len(f)
	k := -1
	for q := 0; q < n; q++ {
		if math.IsInf(f[q], 1) {
			continue
		}
		for k >= 0 {
			p := v[k]
			s := ((f[q] + float64(q*q)) - (f[p] + float64(p*p))) / float64(2*(q-p))
			if s > z[k] {
				break
			}
			k--
		}
		k++
		v[k] = q
		if k == 0 {
			z[k] = math.Inf(-1)
		} else {
			p := v[k-1]
			z[k] = ((f[q] + float64(q*q)) - (f[p] + float64(p*p))) / float64(2*(q-p))
		}
		z[k+1] = math.Inf(1)
	}
	if k < 0 { // no seed on this line
		for q := range d {
			d[q] = math.Inf(1)
		}
		return
	}
	j := 0
	for q := 0; q < n; q++ {
		for z[j+1] < float64(q) {
			j++
		}
		dq := float64(q - v[j])
		d[q] = dq*dq + f[v[j]]
	}
}
