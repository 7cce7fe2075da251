package reports_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/reports"
)

// pngHeader is a little PNG of img whose header claims w × h pixels (checksum fixed, so that
// image.DecodeConfig believes it).
func pngHeader(t *testing.T, img image.Image, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// CheckPhoto bounds what a photo would take once decoded from its header alone: pixels, and
// bytes per pixel of its colour model.
func TestCheckPhotoBoundsDecodedMemory(t *testing.T) {
	r := image.Rect(0, 0, 4, 4)
	for _, tc := range []struct {
		name string
		b    []byte
		says string // "" = accepted
	}{
		{"8-bit RGBA, 25 Mpx", pngHeader(t, image.NewNRGBA(r), 5000, 5000), ""},
		{"16-bit RGBA, 25 Mpx", pngHeader(t, image.NewNRGBA64(r), 5000, 5000), "MB decoded"},
		{"gray, 60000 x 60000", pngHeader(t, image.NewGray(r), 60000, 60000), "megapixels"},
		{"zero width", pngHeader(t, image.NewGray(r), 0, 10), "not a JPEG, PNG or WebP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reports.CheckPhoto("p.png", tc.b)
			if tc.says == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)) {
				t.Fatalf("got %v, want an error saying %q", err, tc.says)
			}
		})
	}
}
