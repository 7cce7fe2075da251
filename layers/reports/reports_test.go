package reports_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A square "city" around the centre of Aktobe.
func withCity(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `INSERT INTO layer.city_boundary (geom, name)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`); err != nil {
		t.Fatal(err)
	}
}

func newStore(t *testing.T) (*reports.Store, *pgxpool.Pool) {
	pool := dbtest.New(t)
	withCity(t, pool)
	return reports.NewStore(pool), pool
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestServicesInThreeLanguages(t *testing.T) {
	s, _ := newStore(t)
	svs, err := s.Services(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"street_light", "missing_ramp", "pothole", "overflowing_bin", "damaged_playground",
		"camera_out_of_order", "bus_off_schedule",
		// migration 0150: winter and utility categories
		"snow_road", "icy_pavement", "icicles", "no_heating", "no_water", "water_leak", "stray_animals", "open_manhole"}
	if len(svs) != len(want) {
		t.Fatalf("%d services, want %d", len(svs), len(want))
	}
	for i, sv := range svs {
		if sv.Code != want[i] || sv.Name.KK == "" || sv.Name.RU == "" || sv.Name.EN == "" || sv.Department == "" {
			t.Errorf("service %d = %+v", i, sv)
		}
	}
}

func TestCreateReport(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	r, sec, err := s.Create(ctx, reports.NewReport{ServiceCode: "street_light", Lon: 57.17, Lat: 50.28,
		Description: `Фонарь не горит <script>alert(1)</script>`, Email: "resident@example.kz",
		Attributes: map[string]string{"state": "off"}, FirstName: "Айгерім", Phone: "+7 701 000 00 00"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Status != "new" || r.Department != "housing" || r.SupportCount != 1 {
		t.Fatalf("report %+v", r)
	}
	if r.Description != `Фонарь не горит <script>alert(1)</script>` {
		t.Fatalf("text must be stored as typed (escaped when shown): %q", r.Description)
	}
	if sec.Token == "" || sec.Follow == "" || sec.Token == sec.Follow {
		t.Fatalf("secrets %+v", sec)
	}
	followed, err := s.ByFollowSecret(ctx, sec.Follow)
	if err != nil || followed.ID != r.ID {
		t.Fatalf("follow link: %v %+v", err, followed)
	}
	if _, err := s.ByFollowSecret(ctx, sec.Follow+"x"); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Fatalf("wrong follow secret: %v", err)
	}
	id, err := s.ByToken(ctx, sec.Token)
	if err != nil || id != r.ID {
		t.Fatalf("token: %d %v", id, err)
	}
	p, err := s.GetPrivate(ctx, r.ID)
	if err != nil || p.Email != "resident@example.kz" || p.Attributes["state"] != "off" {
		t.Fatalf("private %+v %v", p, err)
	}
	// the public layer carries no contact details: its columns are the catalog's attributes
	if n := count(t, pool, `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'layer'
		AND table_name = 'citizen_reports' AND column_name IN ('email', 'phone', 'first_name')`); n != 0 {
		t.Fatal("contact columns in the public layer")
	}
	// The acknowledgement asks to confirm the e-mail, and an SMS the phone.
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE report_id = $1 AND sensitive
		AND ((channel = 'email' AND to_addr = 'resident@example.kz') OR (channel = 'sms' AND to_addr = '+7 701 000 00 00'))`, r.ID); n != 2 {
		t.Fatalf("%d acknowledgements queued, want 2 (e-mail and SMS)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM auth.audit_log WHERE action = 'report.create'`); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	if n := count(t, pool, `SELECT feature_count FROM geoportal.layers WHERE slug = 'citizen_reports'`); n != 1 {
		t.Fatalf("catalog count %d", n)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	ok := reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28, Description: "Яма"}
	tests := []struct {
		name string
		edit func(n *reports.NewReport)
		code string
	}{
		{"unknown category", func(n *reports.NewReport) { n.ServiceCode = "ufo" }, geoportal.ENOTFOUND},
		{"outside the city", func(n *reports.NewReport) { n.Lon, n.Lat = 71.43, 51.13 }, geoportal.EINVALID},
		{"impossible coordinates", func(n *reports.NewReport) { n.Lat = 123 }, geoportal.EINVALID},
		{"NaN", func(n *reports.NewReport) { n.Lat = math.NaN() }, geoportal.EINVALID},
		{"no description", func(n *reports.NewReport) { n.Description = "  " }, geoportal.EINVALID},
		{"bad email", func(n *reports.NewReport) { n.Email = "not an address" }, geoportal.EINVALID},
		{"bad phone", func(n *reports.NewReport) { n.Phone = "'; DROP TABLE x; --" }, geoportal.EINVALID},
		{"unknown attribute", func(n *reports.NewReport) { n.Attributes = map[string]string{"colour": "red"} }, geoportal.EINVALID},
		{"value not in list", func(n *reports.NewReport) { n.Attributes = map[string]string{"size": "huge"} }, geoportal.EINVALID},
		{"missing required attribute", func(n *reports.NewReport) { n.ServiceCode = "bus_off_schedule" }, geoportal.EINVALID},
		{"not UTF-8", func(n *reports.NewReport) { n.Description = "\xff\xfe" }, geoportal.EINVALID},
		{"too long", func(n *reports.NewReport) { n.Description = string(bytes.Repeat([]byte("я"), 5000)) }, geoportal.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := ok
			tc.edit(&n)
			_, _, err := s.Create(ctx, n)
			if got := geoportal.ErrorCode(err); got != tc.code {
				t.Fatalf("Create = %v (code %q), want %q", err, got, tc.code)
			}
		})
	}
	if n := count(t, pool, `SELECT count(*) FROM layer.citizen_reports`); n != 0 {
		t.Fatalf("%d reports stored from bad input", n)
	}
}

// A failure in the middle of filing (here: the photo table refuses the row) leaves nothing.
func TestCreateIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	if _, err := pool.Exec(ctx, `CREATE FUNCTION public.fail() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
		CREATE TRIGGER fail BEFORE INSERT ON reports.photos FOR EACH ROW EXECUTE FUNCTION public.fail();`); err != nil {
		t.Fatal(err)
	}
	photo, err := reports.ProcessPhoto("a.png", pngBytes(t, 40, 30))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
		Description: "Яма", Email: "a@b.kz", Photos: []reports.Photo{photo}})
	if err == nil {
		t.Fatal("Create succeeded although the photo could not be stored")
	}
	for _, table := range []string{"layer.citizen_reports", "reports.private", "reports.history", "reports.outbox", "reports.supporters"} {
		if n := count(t, pool, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s has %d rows after a failed filing", table, n)
		}
	}
}

func TestWorkflow(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	r, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "street_light", Lon: 57.17, Lat: 50.28,
		Description: "Не горит", Email: "me@example.kz", Attributes: map[string]string{"state": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	housing := reports.Actor{Label: "housing@akimat.kz", Department: "housing"}
	roads := reports.Actor{Label: "roads@akimat.kz", Department: "roads"}

	if _, err := s.ChangeStatus(ctx, r.ID, reports.Change{Status: "accepted"}, roads); geoportal.ErrorCode(err) != geoportal.EFORBIDDEN {
		t.Fatalf("another department's change: %v, want forbidden", err)
	}
	if _, err := s.ChangeStatus(ctx, r.ID, reports.Change{Status: "resolved"}, housing); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("new → resolved: %v, want invalid", err)
	}
	steps := []reports.Change{
		{Status: "accepted", Comment: "Передано в ЖКХ"},
		{Status: "in_progress", Comment: "Бригада выехала"},
		{Status: "resolved", Comment: "Лампа заменена"},
	}
	for i, c := range steps {
		if r, err = s.ChangeStatus(ctx, r.ID, c, housing); err != nil {
			t.Fatalf("%s: %v", c.Status, err)
		}
		if i == 0 { // the reporter confirms the e-mail after the first step
			link, _ := confirmationSent(t, pool, r.ID, "email")
			if _, err := s.ConfirmLink(ctx, link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r.Status != "resolved" || r.StatusNotes != "Лампа заменена" {
		t.Fatalf("after the workflow: %+v", r)
	}
	h, err := s.History(ctx, r.ID, false)
	if err != nil || len(h) != 4 || h[0].Status != "new" || h[3].Status != "resolved" || h[3].Actor != "" {
		t.Fatalf("history %+v %v", h, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE to_addr = 'me@example.kz'`); n != 3 {
		t.Fatalf("%d messages to the reporter, want 3 (receipt + the 2 changes after confirming)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM auth.audit_log WHERE action = 'report.status'`); n != 3 {
		t.Fatalf("%d audit entries", n)
	}

	other, _, _ := s.Create(ctx, reports.NewReport{ServiceCode: "street_light", Lon: 57.17, Lat: 50.28,
		Description: "Тоже не горит", Attributes: map[string]string{"state": "off"}})
	if _, err := s.ChangeStatus(ctx, other.ID, reports.Change{Status: "rejected"}, housing); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("rejection without a reason: %v", err)
	}
	if _, err := s.ChangeStatus(ctx, other.ID, reports.Change{Status: "duplicate", DuplicateOf: 999999}, housing); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("duplicate of a missing report: %v", err)
	}
	dup, err := s.ChangeStatus(ctx, other.ID, reports.Change{Status: "duplicate", DuplicateOf: r.ID, Comment: "Уже есть"}, reports.Actor{Label: "admin", AllDepartments: true})
	if err != nil || dup.DuplicateOf == nil || *dup.DuplicateOf != r.ID {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}
}

func TestNearbyAndSupport(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	r, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28, Description: "Яма", DeviceID: "dev-1"})
	if err != nil {
		t.Fatal(err)
	}
	s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.25, Lat: 50.35, Description: "Далеко"})
	s.Create(ctx, reports.NewReport{ServiceCode: "overflowing_bin", Lon: 57.1701, Lat: 50.2801, Description: "Мусор"})
	near, err := s.Nearby(ctx, "pothole", 57.1705, 50.2802, 200)
	if err != nil || len(near) != 1 || near[0].ID != r.ID {
		t.Fatalf("nearby: %+v %v", near, err)
	}
	for i, dev := range []string{"dev-2", "dev-2", "dev-3", "dev-1"} {
		n, err := s.Support(ctx, r.ID, dev, "", "")
		if err != nil {
			t.Fatal(err)
		}
		want := []int{2, 2, 3, 3}[i] // the reporter (dev-1) and dev-2's second +1 count once
		if n != want {
			t.Fatalf("support by %s: %d, want %d", dev, n, want)
		}
	}
	if _, err := s.Support(ctx, r.ID, "", "", ""); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("anonymous +1: %v", err)
	}
}

func TestModeration(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	r, _, _ := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28, Description: "оскорбление", DeviceID: "troll"})
	yes := true
	admin := reports.Actor{Label: "moderator", AllDepartments: true}
	if err := s.Moderate(ctx, r.ID, reports.Moderation{HideText: &yes, Ban: true, Reason: "abuse"}, admin); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, r.ID)
	if got.Description != "" {
		t.Fatalf("hidden text still public: %q", got.Description)
	}
	var tileText string
	pool.QueryRow(ctx, `SELECT description FROM layer.citizen_reports WHERE id = $1`, r.ID).Scan(&tileText)
	if tileText != "" {
		t.Fatal("hidden text still in the layer that tiles are made from")
	}
	p, _ := s.GetPrivate(ctx, r.ID)
	if p.Original != "оскорбление" || !p.TextHidden {
		t.Fatalf("original text must stay for staff: %+v", p)
	}
	_, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28, Description: "ещё", DeviceID: "troll"})
	if geoportal.ErrorCode(err) != geoportal.EFORBIDDEN {
		t.Fatalf("banned reporter filed again: %v", err)
	}
}

func TestProofOfWork(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	s.Difficulty = 8
	c, err := s.NewChallenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "x"
	for reports.LeadingZeroBits(c.Challenge, wrong) >= 8 {
		wrong += "x"
	}
	if err := s.SpendChallenge(ctx, c.Challenge, wrong); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("a wrong nonce: %v", err)
	}
	nonce := reports.Solve(c.Challenge, 8)
	if err := s.SpendChallenge(ctx, c.Challenge, nonce); err != nil {
		t.Fatalf("solved challenge refused: %v", err)
	}
	if err := s.SpendChallenge(ctx, c.Challenge, nonce); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("replayed challenge: %v", err)
	}
	forged := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"
	if err := s.SpendChallenge(ctx, forged, reports.Solve(forged, 8)); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("forged challenge: %v", err)
	}
	s.Now = func() time.Time { return time.Now().Add(time.Hour) }
	old, _ := s.NewChallenge(ctx) // issued "now+1h"
	s.Now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	if err := s.SpendChallenge(ctx, old.Challenge, reports.Solve(old.Challenge, 8)); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Fatalf("expired challenge: %v", err)
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 100, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// jpegWithGPS builds a JPEG whose EXIF block holds a GPS position (and a camera make that must
// not survive).
func jpegWithGPS(t *testing.T, lat, lon float64) []byte {
	var plain bytes.Buffer
	jpeg.Encode(&plain, image.NewRGBA(image.Rect(0, 0, 64, 48)), nil)
	le := binary.LittleEndian
	var tiff bytes.Buffer
	tiff.WriteString("II")
	binary.Write(&tiff, le, uint16(42))
	binary.Write(&tiff, le, uint32(8))
	// IFD0 at 8: two entries (Make, GPS pointer)
	binary.Write(&tiff, le, uint16(2))
	binary.Write(&tiff, le, []uint16{0x010F, 2})
	binary.Write(&tiff, le, uint32(8))
	binary.Write(&tiff, le, uint32(8+2+24+4+58)) // offset of "SecretCam\0" placed after the GPS IFD
	binary.Write(&tiff, le, []uint16{0x8825, 4})
	binary.Write(&tiff, le, uint32(1))
	binary.Write(&tiff, le, uint32(8+2+24+4))
	binary.Write(&tiff, le, uint32(0))
	// GPS IFD at 38: four entries, then rationals
	gps := 38
	rat := gps + 2 + 4*12 + 4
	binary.Write(&tiff, le, uint16(4))
	entry := func(tag, typ uint16, count, val uint32) {
		binary.Write(&tiff, le, []uint16{tag, typ})
		binary.Write(&tiff, le, count)
		binary.Write(&tiff, le, val)
	}
	entry(1, 2, 2, uint32('N'))
	entry(2, 5, 3, uint32(rat))
	entry(3, 2, 2, uint32('E'))
	entry(4, 5, 3, uint32(rat+24))
	binary.Write(&tiff, le, uint32(0))
	dms := func(v float64) {
		d := math.Floor(v)
		m := math.Floor((v - d) * 60)
		s := ((v-d)*60 - m) * 60
		binary.Write(&tiff, le, []uint32{uint32(d), 1, uint32(m), 1, uint32(s * 1000), 1000})
	}
	dms(lat)
	dms(lon)
	// pad to the Make offset
	for tiff.Len() < 8+2+24+4+58 {
		tiff.WriteByte(0)
	}
	tiff.WriteString("SecretCam\x00")
	app1 := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	src := plain.Bytes()
	var out bytes.Buffer
	out.Write(src[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(app1)+2))
	out.Write(app1)
	out.Write(src[2:])
	return out.Bytes()
}

func TestProcessPhoto(t *testing.T) {
	in := jpegWithGPS(t, 50.28, 57.17)
	if !bytes.Contains(in, []byte("SecretCam")) {
		t.Fatal("fixture lacks its EXIF")
	}
	p, err := reports.ProcessPhoto("phone.jpg", in)
	if err != nil {
		t.Fatal(err)
	}
	if p.ExifLat == nil || math.Abs(*p.ExifLat-50.28) > 1e-3 || math.Abs(*p.ExifLon-57.17) > 1e-3 {
		t.Fatalf("EXIF position not read: %v %v", p.ExifLat, p.ExifLon)
	}
	if bytes.Contains(p.JPEG, []byte("Exif")) || bytes.Contains(p.JPEG, []byte("SecretCam")) {
		t.Fatal("EXIF survived processing")
	}
	if p.Width != 64 || p.Height != 48 || len(p.Thumb) == 0 {
		t.Fatalf("processed %dx%d thumb %d bytes", p.Width, p.Height, len(p.Thumb))
	}
	big, err := reports.ProcessPhoto("big.png", pngBytes(t, 3000, 1000))
	if err != nil || big.Width != 2048 || big.Height != 682 {
		t.Fatalf("large photo scaled to %dx%d, %v", big.Width, big.Height, err)
	}
}

func TestProcessPhotoRefusesBadFiles(t *testing.T) {
	// A PNG header claiming 100000 x 100000 pixels: a decompression bomb.
	var bomb bytes.Buffer
	png.Encode(&bomb, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := bomb.Bytes()
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	tests := map[string][]byte{
		"not an image": []byte("<html><script>alert(1)</script></html>"),
		"bomb":         b,
		"too big":      make([]byte, reports.MaxPhotoBytes+1),
		"truncated":    jpegWithGPS(t, 1, 1)[:200],
	}
	for name, data := range tests {
		if _, err := reports.ProcessPhoto(name, data); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestOutboxKeepsMessagesWhileMailIsDown(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	for i := 0; i < 3; i++ {
		if _, _, err := s.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28,
			Description: "Яма", Email: "me@example.kz"}); err != nil {
			t.Fatal(err)
		}
	}
	down := func(reports.Message) error { return errMailDown }
	sent, failed, err := s.SendPending(ctx, 10, down)
	if err != nil || sent != 0 || failed != 1 {
		t.Fatalf("mail down: sent %d failed %d %v", sent, failed, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE sent_at IS NULL`); n != 3 {
		t.Fatalf("%d messages still queued, want 3", n)
	}
	var got []reports.Message
	sent, _, err = s.SendPending(ctx, 10, func(m reports.Message) error { got = append(got, m); return nil })
	if err != nil || sent != 3 || len(got) != 3 || got[0].To != "me@example.kz" {
		t.Fatalf("mail up: sent %d %v %+v", sent, err, got)
	}
	if n := count(t, pool, `SELECT count(*) FROM reports.outbox WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d messages left after sending", n)
	}
}

var errMailDown = errors.New("dial tcp 127.0.0.1:25: connection refused")

// BenchmarkProcessPhoto is the photo work alone (check, decode, re-encode without EXIF, thumbnail)
// for a 1280x960 JPEG: the reference for the submission benchmark in web/.
func BenchmarkProcessPhoto(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 1280, 960))
	for y := 0; y < 960; y++ {
		for x := 0; x < 1280; x++ {
			img.Set(x, y, color.RGBA{uint8(x * y), uint8(x + y), uint8(y), 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	b.SetBytes(int64(buf.Len()))
	for i := 0; i < b.N; i++ {
		if _, err := reports.ProcessPhoto("bench.jpg", buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
