package reports

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // residents' phones send PNG screenshots too
	"math"
	"sync"
	"sync/atomic"

	"github.com/aktobe/geoportal"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// Limits on photos.
const (
	MaxPhotos     = 3
	MaxPhotoBytes = 8 << 20
	// MaxPhotoPixels refuses decompression bombs: a small file that would decode to a huge image.
	MaxPhotoPixels = 40_000_000
	// MaxPhotoDecodedBytes bounds the memory one decoded photo may take (pixels × bytes per
	// pixel of its colour model): 40 megapixels of 8-bit RGBA, or 20 of 16-bit.
	MaxPhotoDecodedBytes = 160_000_000
	// photoDecodeSlots is how many photos a store decodes at once; the others wait their turn,
	// so that concurrent uploads take at most this many times MaxPhotoDecodedBytes (plus the
	// scaled copies).
	photoDecodeSlots = 2
	maxStoredSide    = 2048
	thumbSide        = 320
)

// Photo is a processed photo: re-encoded (which drops EXIF and every other metadata block),
// scaled to at most 2048 px, with a thumbnail, and the GPS position its EXIF held, if any.
type Photo struct {
	JPEG, Thumb      []byte
	Width, Height    int
	ExifLon, ExifLat *float64
}

// CheckPhoto reads only the header of b (image.DecodeConfig) and refuses what is not a JPEG, PNG
// or WebP image, or would take more than MaxPhotoPixels or MaxPhotoDecodedBytes once decoded.
func CheckPhoto(name string, b []byte) (format string, err error) {
	if len(b) > MaxPhotoBytes {
		return "", geoportal.Errorf(geoportal.ETOOLARGE, "photo %s is larger than %d MiB", name, MaxPhotoBytes>>20)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", geoportal.Errorf(geoportal.EINVALID, "photo %s is not a JPEG, PNG or WebP image", name)
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if cfg.Width <= 0 || cfg.Height <= 0 || pixels > MaxPhotoPixels {
		return "", geoportal.Errorf(geoportal.EINVALID, "photo %s is %dx%d pixels; at most %d megapixels are accepted",
			name, cfg.Width, cfg.Height, MaxPhotoPixels/1_000_000)
	}
	if pixels*bytesPerPixel(cfg.ColorModel) > MaxPhotoDecodedBytes {
		return "", geoportal.Errorf(geoportal.EINVALID, "photo %s is %dx%d pixels of %d bytes each; at most %d MB decoded are accepted (save it as an 8-bit JPEG)",
			name, cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel), MaxPhotoDecodedBytes/1_000_000)
	}
	return format, nil
}

// bytesPerPixel is what a decoded image of model takes per pixel (YCbCr at its 4:4:4 worst).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4 // RGBA, NRGBA, CMYK, NYCbCrA and anything else
}

// ProcessPhoto checks that b is a JPEG, PNG or WebP image of sane size (CheckPhoto, before any
// decoding) and returns it cleaned.
func ProcessPhoto(name string, b []byte) (Photo, error) {
	format, err := CheckPhoto(name, b)
	if err != nil {
		return Photo{}, err
	}
	return decodePhoto(name, format, b)
}

func decodePhoto(name, format string, b []byte) (Photo, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return Photo{}, geoportal.Errorf(geoportal.EINVALID, "photo %s: broken %s image", name, format)
	}
	var p Photo
	if format == "jpeg" {
		p.ExifLon, p.ExifLat = exifGPS(b)
	}
	full := scale(img, maxStoredSide)
	p.Width, p.Height = full.Bounds().Dx(), full.Bounds().Dy()
	if p.JPEG, err = encodeJPEG(full, 85); err != nil {
		return Photo{}, err
	}
	if p.Thumb, err = encodeJPEG(scale(img, thumbSide), 75); err != nil {
		return Photo{}, err
	}
	return p, nil
}

func scale(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	if w >= h {
		h, w = max(1, h*side/w), side
	} else {
		w, h = max(1, w*side/h), side
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

func encodeJPEG(img image.Image, q int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// exifGPS reads GPSLatitude/GPSLongitude from a JPEG's EXIF (APP1) block. Any malformation gives
// no position rather than an error: the position is a hint, the photo is what matters.
func exifGPS(b []byte) (lon, lat *float64) {
	defer func() { recover() }() // a lying offset must not take the request down
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, nil
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return nil, nil
		}
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan: no more metadata
			return nil, nil
		}
		size := int(binary.BigEndian.Uint16(b[i+2:]))
		if size < 2 || i+2+size > len(b) {
			return nil, nil
		}
		seg := b[i+4 : i+2+size]
		if marker == 0xE1 && len(seg) > 14 && string(seg[:6]) == "Exif\x00\x00" {
			return parseTIFFGPS(seg[6:])
		}
		i += 2 + size
	}
	return nil, nil
}

func parseTIFFGPS(t []byte) (lon, lat *float64) {
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil, nil
	}
	ifd0 := int(bo.Uint32(t[4:]))
	gpsIFD := 0
	eachEntry(t, bo, ifd0, func(tag, typ uint16, count uint32, valOff int) {
		if tag == 0x8825 {
			gpsIFD = int(bo.Uint32(t[valOff:]))
		}
	})
	if gpsIFD == 0 {
		return nil, nil
	}
	var latRef, lonRef byte
	var latV, lonV []float64
	eachEntry(t, bo, gpsIFD, func(tag, typ uint16, count uint32, valOff int) {
		switch tag {
		case 1:
			latRef = t[valOff]
		case 3:
			lonRef = t[valOff]
		case 2, 4:
			if typ != 5 || count != 3 {
				return
			}
			off := int(bo.Uint32(t[valOff:]))
			var v []float64
			for k := 0; k < 3; k++ {
				num, den := bo.Uint32(t[off+8*k:]), bo.Uint32(t[off+8*k+4:])
				if den == 0 {
					return
				}
				v = append(v, float64(num)/float64(den))
			}
			if tag == 2 {
				latV = v
			} else {
				lonV = v
			}
		}
	})
	if latV == nil || lonV == nil {
		return nil, nil
	}
	la := latV[0] + latV[1]/60 + latV[2]/3600
	lo := lonV[0] + lonV[1]/60 + lonV[2]/3600
	if latRef == 'S' {
		la = -la
	}
	if lonRef == 'W' {
		lo = -lo
	}
	if math.Abs(la) > 90 || math.Abs(lo) > 180 {
		return nil, nil
	}
	return &lo, &la
}

func eachEntry(t []byte, bo binary.ByteOrder, off int, f func(tag, typ uint16, count uint32, valOff int)) {
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n && k < 1000; k++ {
		e := off + 2 + 12*k
		f(bo.Uint16(t[e:]), bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]), e+8)
	}
}

// photoDecoder bounds how many photos a store decodes at once and counts them (the proof that
// refused requests decode nothing). Its zero value is ready.
type photoDecoder struct {
	once    sync.Once
	slots   chan struct{}
	decoded atomic.Int64
}

// ProcessPhoto is ProcessPhoto with at most photoDecodeSlots photos decoded at once by this
// store; a request that goes away while waiting for its turn decodes nothing.
func (s *Store) ProcessPhoto(ctx context.Context, name string, b []byte) (Photo, error) {
	format, err := CheckPhoto(name, b)
	if err != nil {
		return Photo{}, err
	}
	s.photos.once.Do(func() { s.photos.slots = make(chan struct{}, photoDecodeSlots) })
	select {
	case s.photos.slots <- struct{}{}:
	case <-ctx.Done():
		return Photo{}, ctx.Err()
	}
	defer func() { <-s.photos.slots }()
	s.photos.decoded.Add(1)
	return decodePhoto(name, format, b)
}

// PhotosDecoded is how many photos the store has decoded since it was made.
func (s *Store) PhotosDecoded() int64 { return s.photos.decoded.Load() }
