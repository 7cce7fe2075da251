package web

import (
	"compress/gzip"
	"net/http"

	"github.com/klauspost/compress/gzhttp"
)

// compressedTypes are the text answers the service sends: pages, scripts, JSON, GeoJSON, CSV,
// XML (Open311), OpenAPI, problem details and the live event stream. Tiles, photos and the
// bundle's assets are compressed (or not) by their own handlers, which set Content-Encoding
// themselves; the compressor leaves such answers alone.
var compressedTypes = []string{
	"text/html", "text/plain", "text/css", "text/csv", "text/xml", "text/javascript",
	"text/event-stream", "application/json", "application/geo+json", "application/xml",
	"application/javascript", "application/problem+json", "application/schema+json",
	"application/vnd.oai.openapi+json", "application/ld+json", "image/svg+xml",
}

// compressMinSize is the smallest answer worth compressing: below it the encoding's framing
// costs about what it saves.
const compressMinSize = 1024

// newCompressor returns the middleware that compresses every text answer of at least
// compressMinSize bytes when the client accepts it: zstd when it is offered (current browsers do),
// otherwise gzip; streaming answers are compressed too and each Flush sends what was written.
// Every answer says Vary: Accept-Encoding. Brotli is left to answers compressed once and served
// many times (tiles): made per request it saves a tenth of the bytes for six to twenty times the
// CPU (BENCHMARKS "Compression of text answers").
func newCompressor() func(http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		gzhttp.ContentTypes(compressedTypes),
		gzhttp.CompressionLevel(gzip.DefaultCompression),
		gzhttp.EnableZstd(true),
	)
	if err != nil {
		panic(err) // the options above are constants
	}
	return func(next http.Handler) http.Handler { return wrap(next) }
}
