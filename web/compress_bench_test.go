package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/data/demo"
	"github.com/aktobe/geoportal/web"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkTextCompression compresses one real answer — an OGC items page of the demo city's
// buildings in the centre (bbox, limit 1000) — with each encoding the compressor could use, encoder
// reused as the compressor's pools do. It reports bytes per answer beside the time:
//
//	go test -run '^$' -bench BenchmarkTextCompression ./web/
func BenchmarkTextCompression(b *testing.B) {
	pool := dbtest.New(b)
	if _, err := demo.Load(context.Background(), pool, demo.Options{Seed: 2040}, nil); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(web.NewServer(slog.New(slog.DiscardHandler), pool).Handler())
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/ogc/collections/buildings/items?limit=1000&bbox=57.16,50.275,57.175,50.285", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("page: %d %v", resp.StatusCode, err)
	}
	run := func(name string, enc func(dst *bytes.Buffer)) {
		b.Run(name, func(b *testing.B) {
			var out bytes.Buffer
			b.SetBytes(int64(len(page)))
			for i := 0; i < b.N; i++ {
				out.Reset()
				enc(&out)
			}
			b.ReportMetric(float64(out.Len()), "bytes/answer")
			b.ReportMetric(float64(len(page)), "plain_bytes")
		})
	}
	gw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	run("gzip-6", func(dst *bytes.Buffer) { gw.Reset(dst); gw.Write(page); gw.Close() })
	zw, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	run("zstd-fastest", func(dst *bytes.Buffer) { dst.Write(zw.EncodeAll(page, dst.AvailableBuffer())) })
	for _, q := range []int{4, 5, 6} {
		bw := brotli.NewWriterLevel(nil, q)
		run("brotli-"+string(rune('0'+q)), func(dst *bytes.Buffer) { bw.Reset(dst); bw.Write(page); bw.Close() })
	}
}
