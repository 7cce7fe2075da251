package glyphs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/glyphs"
	"google.golang.org/protobuf/encoding/protowire"
)

// decoded is a glyph range as read back from its PBF.
type decoded struct {
	name, rng string
	glyphs    map[rune]decodedGlyph
}

type decodedGlyph struct {
	bitmap                 []byte
	width, height, advance uint64
	left, top              int64
}

// fields splits one protobuf message into its fields, failing the test on bad wire data.
func fields(t *testing.T, b []byte, each func(num protowire.Number, typ protowire.Type, v uint64, bytes []byte)) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				t.Fatalf("field %d: bad varint", num)
			}
			each(num, typ, v, nil)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatalf("field %d: bad bytes", num)
			}
			each(num, typ, 0, v)
			b = b[n:]
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
	}
}

func decode(t *testing.T, pbf []byte) decoded {
	t.Helper()
	var out decoded
	stacks := 0
	fields(t, pbf, func(num protowire.Number, _ protowire.Type, _ uint64, stack []byte) {
		if num != 1 {
			t.Fatalf("glyphs message: unexpected field %d", num)
		}
		stacks++
		out.glyphs = map[rune]decodedGlyph{}
		fields(t, stack, func(num protowire.Number, _ protowire.Type, _ uint64, b []byte) {
			switch num {
			case 1:
				out.name = string(b)
			case 2:
				out.rng = string(b)
			case 3:
				var g decodedGlyph
				var id uint64
				fields(t, b, func(num protowire.Number, _ protowire.Type, v uint64, b []byte) {
					switch num {
					case 1:
						id = v
					case 2:
						g.bitmap = b
					case 3:
						g.width = v
					case 4:
						g.height = v
					case 5:
						g.left = protowire.DecodeZigZag(v)
					case 6:
						g.top = protowire.DecodeZigZag(v)
					case 7:
						g.advance = v
					default:
						t.Fatalf("glyph: unexpected field %d", num)
					}
				})
				out.glyphs[rune(id)] = g
			}
		})
	})
	if stacks != 1 {
		t.Fatalf("%d fontstacks in the range, want 1", stacks)
	}
	return out
}

func TestRangeIsValidPBF(t *testing.T) {
	fonts := glyphs.New(glyphs.DefaultDir)
	if err := fonts.Check(); err != nil {
		t.Fatalf("the fonts must be installed (scripts/deps.sh installs fonts-dejavu-core): %v", err)
	}
	for _, tc := range []struct {
		name  string
		stack string
		start int
		want  string // letters that must be drawn, with ink
	}{
		{"Latin", "DejaVu Sans Book", 0, "AZaz09"},
		{"Cyrillic and Kazakh", "DejaVu Sans Book", 1024, "АЯаяЁёӘәҒғҚқҢңӨөҰұҮүҺһІі"},
		{"Kazakh bold", "DejaVu Sans Bold", 1024, "ӘәӨөҮүҚқ"},
		{"Latin-1 and Turkish letters of Latin Kazakh", "DejaVu Sans Book", 256, "ĞğŞşİı"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := fonts.Range(tc.stack, tc.start)
			if err != nil {
				t.Fatal(err)
			}
			got := decode(t, r.PBF)
			if got.name != tc.stack {
				t.Errorf("fontstack name %q, want %q", got.name, tc.stack)
			}
			if want := fmt.Sprintf("%d-%d", tc.start, tc.start+255); got.rng != want {
				t.Errorf("range %q, want %q", got.rng, want)
			}
			for id := range got.glyphs {
				if id < rune(tc.start) || id > rune(tc.start+255) {
					t.Errorf("glyph U+%04X outside the range", id)
				}
			}
			for _, c := range tc.want {
				g, ok := got.glyphs[c]
				if !ok {
					t.Errorf("%c (U+%04X) missing", c, c)
					continue
				}
				if g.width == 0 || g.height == 0 || g.advance == 0 {
					t.Errorf("%c: %dx%d advance %d, want a drawn glyph", c, g.width, g.height, g.advance)
				}
				if n := int((g.width + 6) * (g.height + 6)); len(g.bitmap) != n {
					t.Errorf("%c: bitmap of %d bytes, want (width+6)*(height+6) = %d", c, len(g.bitmap), n)
				}
				var ink, edge, far int
				for _, v := range g.bitmap {
					switch {
					case v > 192:
						ink++
					case v > 0:
						edge++
					default:
						far++
					}
				}
				if ink == 0 || edge == 0 {
					t.Errorf("%c: %d pixels inside the outline, %d on the field's slope: not a distance field", c, ink, edge)
				}
				// The corners of the 3-pixel border are outside the glyph, well past its edge.
				if g.bitmap[0] > 192 {
					t.Errorf("%c: corner pixel %d, want outside (< 192)", c, g.bitmap[0])
				}
			}
			if tc.start == 0 {
				sp, ok := got.glyphs[' ']
				if !ok || sp.advance == 0 || len(sp.bitmap) != 0 {
					t.Errorf("space: %+v present=%v, want an advance and no bitmap", sp, ok)
				}
			}
		})
	}
}

func TestRangeIsKept(t *testing.T) {
	fonts := glyphs.New(glyphs.DefaultDir)
	a, err := fonts.Range("DejaVu Sans Book", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fonts.Range("DejaVu Sans Book", 0)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a.ETag == "" || len(a.Gzip) == 0 || len(a.Gzip) >= len(a.PBF) {
		t.Errorf("second call: same=%v etag %q gzip %d of %d bytes", a == b, a.ETag, len(a.Gzip), len(a.PBF))
	}
}

func TestParseRangeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0-256", "END must be START+255"},
		{"1-256", "multiple of 256"},
		{"65536-65791", "from 0 to 65280"},
		{"a-b", "want START-END"},
		{"0", "want START-END"},
		{"-256-0", "want START-END"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := glyphs.ParseRange(tc.in)
			if !errors.Is(err, glyphs.ErrBadRange) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseRange(%q) = %v, want ErrBadRange saying %q", tc.in, err, tc.want)
			}
		})
	}
	if start, err := glyphs.ParseRange("1024-1279"); err != nil || start != 1024 {
		t.Errorf("ParseRange(1024-1279) = %d, %v", start, err)
	}
}

func TestStack(t *testing.T) {
	if got, err := glyphs.Stack("Noto Sans Bold,DejaVu Sans Bold"); err != nil || got != "DejaVu Sans Bold" {
		t.Errorf("Stack = %q, %v; want the first served font", got, err)
	}
	if _, err := glyphs.Stack("Comic Sans"); !errors.Is(err, glyphs.ErrUnknownFontstack) || !strings.Contains(err.Error(), "DejaVu Sans Book") {
		t.Errorf("Stack(Comic Sans) = %v, want ErrUnknownFontstack listing the served stacks", err)
	}
}

func TestMissingFontDir(t *testing.T) {
	fonts := glyphs.New(t.TempDir())
	_, err := fonts.Range("DejaVu Sans Book", 0)
	if err == nil || !strings.Contains(err.Error(), "fonts-dejavu-core") {
		t.Errorf("Range with no font file = %v, want an error naming the package", err)
	}
}

// BenchmarkRange makes the Cyrillic range (Kazakh letters included) afresh each time: the cost of
// a range's first request (later ones are served from memory).
func BenchmarkRange(b *testing.B) {
	for b.Loop() {
		fonts := glyphs.New(glyphs.DefaultDir)
		if _, err := fonts.Range("DejaVu Sans Book", 1024); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWarm(t *testing.T) {
	fonts := glyphs.New(glyphs.DefaultDir)
	if err := fonts.Warm(); err != nil {
		t.Fatal(err)
	}
	if err := glyphs.New(t.TempDir()).Warm(); err == nil {
		t.Error("Warm with no font files: no error")
	}
}
