// Package glyphs makes the signed-distance-field glyph ranges MapLibre GL JS draws map labels
// with (the style's "glyphs" URL, /fonts/{fontstack}/{range}.pbf) from TrueType fonts on this
// machine, so that labels need no outside host. A range is made on first use and kept in memory.
//
//	fonts := glyphs.New(glyphs.DefaultDir)
//	pbf, err := fonts.Range("DejaVu Sans Book", 1024) // U+0400–U+04FF: Cyrillic, Kazakh included
package glyphs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/sync/singleflight"
)

// DefaultDir is where Debian's fonts-dejavu-core package puts the DejaVu fonts.
const DefaultDir = "/usr/share/fonts/truetype/dejavu"

// Stacks are the font stacks served, by the name a style's text-font uses, and their files.
var Stacks = map[string]string{
	"DejaVu Sans Book": "DejaVuSans.ttf",
	"DejaVu Sans Bold": "DejaVuSans-Bold.ttf",
}

// RangeSize is how many code points one glyph range holds (MapLibre asks for 0-255, 256-511, …).
const RangeSize = 256

// lastRangeStart is the start of the last range of the Basic Multilingual Plane, the only plane
// MapLibre asks glyph ranges for.
const lastRangeStart = 0xFF00

var (
	// ErrUnknownFontstack is returned for a font stack none of whose fonts is served.
	ErrUnknownFontstack = errors.New("glyphs: unknown fontstack")
	// ErrBadRange is returned for a range that is not START-END with START a multiple of 256
	// and END = START+255.
	ErrBadRange = errors.New("glyphs: bad range")
)

// Range is one made glyph range: the PBF, the same gzipped and an ETag of it.
type Range struct {
	PBF  []byte
	Gzip []byte
	ETag string
}

// Fonts makes and keeps the glyph ranges of the Stacks from the font files in one folder.
type Fonts struct {
	dir string

	mu     sync.Mutex
	fonts  map[string]*sfnt.Font // by file
	ranges map[string]*Range     // by stack + "/" + start
	build  singleflight.Group
}

// New returns Fonts reading the font files from dir. Nothing is read until a range is asked for.
func New(dir string) *Fonts {
	return &Fonts{dir: dir, fonts: map[string]*sfnt.Font{}, ranges: map[string]*Range{}}
}

// Check opens every stack's font file, so that a missing font is said when the server starts.
func (f *Fonts) Check() error {
	for name := range Stacks {
		if _, err := f.font(name); err != nil {
			return err
		}
	}
	return nil
}

// Warm makes the ranges most labels need (Basic Latin and Latin-1, Cyrillic with the Kazakh
// letters, punctuation such as dashes, letterlike symbols such as №) of every stack, so that the
// first visitors do not wait for them (the large ones take about 150 ms each).
func (f *Fonts) Warm() error {
	for _, name := range stackNames() {
		for _, start := range []int{0, 1024, 8192, 8448} {
			if _, err := f.Range(name, start); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseRange reads a range such as "1024-1279" and returns its start.
func ParseRange(s string) (int, error) {
	a, b, ok := strings.Cut(s, "-")
	start, err1 := strconv.Atoi(a)
	end, err2 := strconv.Atoi(b)
	switch {
	case !ok || err1 != nil || err2 != nil || len(a) > 5 || len(b) > 5:
		return 0, fmt.Errorf("%w %q: want START-END, e.g. 0-255", ErrBadRange, s)
	case start < 0 || start%RangeSize != 0 || start > lastRangeStart:
		return 0, fmt.Errorf("%w %q: START must be a multiple of %d from 0 to %d", ErrBadRange, s, RangeSize, lastRangeStart)
	case end != start+RangeSize-1:
		return 0, fmt.Errorf("%w %q: END must be START+%d (%d)", ErrBadRange, s, RangeSize-1, start+RangeSize-1)
	}
	return start, nil
}

// Stack picks the served stack a fontstack names: the first of its comma-separated fonts that
// is served ("DejaVu Sans Bold,Noto Sans Bold" is served as "DejaVu Sans Bold").
func Stack(fontstack string) (string, error) {
	for _, name := range strings.Split(fontstack, ",") {
		name = strings.TrimSpace(name)
		if _, ok := Stacks[name]; ok {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w %q: served are %s", ErrUnknownFontstack, fontstack, strings.Join(stackNames(), ", "))
}

func stackNames() []string { return slices.Sorted(maps.Keys(Stacks)) }

// Range returns the glyph range of stack (a name of Stacks) starting at start (a multiple of
// RangeSize), made on first use.
func (f *Fonts) Range(stack string, start int) (*Range, error) {
	if _, ok := Stacks[stack]; !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownFontstack, stack)
	}
	if start < 0 || start%RangeSize != 0 || start > lastRangeStart {
		return nil, fmt.Errorf("%w: start %d", ErrBadRange, start)
	}
	key := stack + "/" + strconv.Itoa(start)
	f.mu.Lock()
	r := f.ranges[key]
	f.mu.Unlock()
	if r != nil {
		return r, nil
	}
	v, err, _ := f.build.Do(key, func() (any, error) {
		font, err := f.font(stack)
		if err != nil {
			return nil, err
		}
		pbf, err := encodeRange(font, stack, start)
		if err != nil {
			return nil, err
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(pbf)
		zw.Close()
		sum := sha256.Sum256(pbf)
		r := &Range{PBF: pbf, Gzip: gz.Bytes(), ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		f.mu.Lock()
		f.ranges[key] = r
		f.mu.Unlock()
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Range), nil
}

// font opens (once) the font file of stack.
func (f *Fonts) font(stack string) (*sfnt.Font, error) {
	file := Stacks[stack]
	f.mu.Lock()
	defer f.mu.Unlock()
	if font := f.fonts[file]; font != nil {
		return font, nil
	}
	path := filepath.Join(f.dir, file)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("glyphs: font of %q: %w (Debian's fonts-dejavu-core provides it; -font-dir names another folder)", stack, err)
	}
	font, err := sfnt.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("glyphs: font %s: %w", path, err)
	}
	f.fonts[file] = font
	return font, nil
}
