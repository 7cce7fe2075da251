package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/guard"
)

// benchReportsServer is a server whose submission rate limit is off (the benchmark measures the
// server, not the limiter) and whose proof of work is one bit (its cost is the client's).
func benchReportsServer(b *testing.B) (*web.Server, *httptest.Server) {
	pool := dbtest.New(b)
	if _, err := pool.Exec(context.Background(), `INSERT INTO layer.city_boundary (geom, name)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`); err != nil {
		b.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	srv.Security.Submit = guard.RateLimit{}
	srv.Reports.Difficulty = 1
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	return srv, ts
}

// phonePhoto is a 1280x960 JPEG of noise (about what a phone sends after the app shrinks it).
func phonePhoto(b *testing.B) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1280, 960))
	r := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < 960; y += 4 {
		for x := 0; x < 1280; x += 4 {
			c := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			for dy := 0; dy < 4; dy++ {
				for dx := 0; dx < 4; dx++ {
					img.Set(x+dx, y+dy, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

func submitReport(client *http.Client, base string, photo []byte, i int) error {
	resp, err := client.Get(base + "/api/reports/challenge")
	if err != nil {
		return err
	}
	var ch reports.Challenge
	err = json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"service_code": "pothole", "lon": fmt.Sprint(57.1 + float64(i%1000)*1e-4),
		"lat": "50.28", "description": "Яма на дороге", "pow_challenge": ch.Challenge,
		"pow_nonce": reports.Solve(ch.Challenge, ch.Difficulty), "device_id": fmt.Sprint("bench-", i)} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("photo", "pothole.jpg")
	fw.Write(photo)
	mw.Close()
	resp, err = client.Post(base+"/api/reports/", mw.FormDataContentType(), &body)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// BenchmarkReportSubmitWithPhoto files reports with a phone photo from 8 concurrent clients:
// challenge, multipart upload, photo check + re-encode + thumbnail, one transaction.
func BenchmarkReportSubmitWithPhoto(b *testing.B) {
	_, ts := benchReportsServer(b)
	photo := phonePhoto(b)
	b.SetBytes(int64(len(photo)))
	b.SetParallelism(4) // 4 x GOMAXPROCS(2) = 8 clients
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{}
		for pb.Next() {
			i := int(n.Add(1) - 1)
			if err := submitReport(client, ts.URL, photo, i); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// BenchmarkReportPublicReads reads from 8 concurrent clients over 2,000 stored reports: one
// report with its history, then the Open311 list of the last 90 days (up to 1,000 requests).
func BenchmarkReportPublicReads(b *testing.B) {
	srv, ts := benchReportsServer(b)
	ctx := context.Background()
	for i := 0; i < 2000; i++ {
		if _, _, err := srv.Reports.Create(ctx, reports.NewReport{ServiceCode: "pothole",
			Lon: 57.0 + float64(i%300)*1e-3, Lat: 50.2 + float64(i/300)*1e-2, Description: "Яма"}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{}
		i := 0
		for pb.Next() {
			url := fmt.Sprintf("%s/api/reports/%d", ts.URL, 1+i%2000)
			if i%10 == 9 {
				url = ts.URL + "/open311/v2/requests.json?status=open&service_code=pothole"
			}
			i++
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("%s: %d", url, resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}
