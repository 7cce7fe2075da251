package modules_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/webtest"
)

func pngPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 20, 10))
	img.Set(3, 3, color.RGBA{G: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBestYardAPI(t *testing.T) {
	e := webtest.NewSite(t)
	staff := e.SignIn("yards@akimat.kz", accounts.GISStaff)
	alice := e.SignIn("alice@example.kz", accounts.Citizen)
	bob := e.SignIn("bob@example.kz", accounts.Citizen)
	e.Want(alice, "POST", "/api/modules/yards/seasons", `{"season":2026}`, 403, "may not")
	e.Want(staff, "POST", "/api/modules/yards/seasons", `{"season":2026}`, 201, `"status":"open"`)
	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/season", nil, 200, `"season":2026`)

	// Alice nominates her yard with a photo (multipart).
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("title", "Двор на Абая 5")
	mw.WriteField("geometry", `{"type":"Point","coordinates":[57.17,50.28]}`)
	fw, _ := mw.CreateFormFile("photo", "yard.png")
	fw.Write(pngPhoto(t))
	mw.Close()
	e.Want(webtest.Caller{}, "POST", "/api/modules/yards/nominations", `{}`, 401, "sign in")
	code, out := e.Do(alice, "POST", "/api/modules/yards/nominations", buf.Bytes(), mw.FormDataContentType())
	if code != 201 || !strings.Contains(out, `"photos":1`) {
		t.Fatalf("nominate: %d %s", code, out)
	}
	var nom struct{ ID int64 }
	json.Unmarshal([]byte(out), &nom)
	e.Want(bob, "POST", "/api/modules/yards/nominations", `{"title":"x","geometry":{"type":"LineString","coordinates":[[57,50],[57.1,50]]}}`, 400, "Point or Polygon")
	code, _ = e.Do(webtest.Caller{}, "GET", fmt.Sprintf("/api/modules/yards/nominations/%d/photos/1.jpg", nom.ID), nil)
	if code != 200 {
		t.Errorf("photo: %d", code)
	}
	vote := fmt.Sprintf("/api/modules/yards/nominations/%d/vote", nom.ID)
	e.Want(webtest.Caller{}, "POST", vote, "", 401, "sign in")
	e.Want(bob, "POST", vote, "", 201, "voted")
	e.Want(bob, "POST", vote, "", 409, "already voted")
	e.Want(alice, "POST", vote, "", 201, "voted")
	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/ranking?season=2026", nil, 200, `"votes":2`)
	e.Want(alice, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/hide", nom.ID), `{"reason":"x"}`, 403, "may not")
	e.Want(staff, "POST", "/api/modules/yards/nominations/999999/hide", `{"reason":"spam"}`, 404, "no visible nomination")
	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/ranking?season=abc", nil, 400, "not a year")
	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/ranking?season=1990", nil, 404, "no best-yard season")
	e.Want(staff, "POST", "/api/modules/yards/seasons/2026/close", `{"winners":1}`, 200, fmt.Sprintf(`"winners":[%d]`, nom.ID))
	carol := e.SignIn("carol@example.kz", accounts.Citizen)
	e.Want(carol, "POST", vote, "", 409, "closed")
	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/ranking?season=2026", nil, 200, `"winner":true`)
	var votes int
	e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM auth.audit_log WHERE action = 'yard.vote'`).Scan(&votes)
	if votes != 2 {
		t.Errorf("audited votes = %d, want 2", votes)
	}
}

// The map's view of the contest: every season (open, then closed with winners) and the
// resident's own vote and nominations.
func TestYardSeasonsAndMine(t *testing.T) {
	e := webtest.NewSite(t)
	staff := e.SignInStaff("contest@akimat.kz")
	alice := e.SignIn("alice@example.kz", accounts.Citizen)
	bob := e.SignIn("bob@example.kz", accounts.Citizen)
	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/seasons", nil, 200, `{"seasons":[]}`)
	e.Want(staff, "POST", "/api/modules/yards/seasons", `{"season":2025}`, 201, `"status":"open"`)
	e.Want(staff, "POST", "/api/modules/yards/seasons/2025/close", `{"winners":1}`, 200, `"status":"closed"`)
	e.Want(staff, "POST", "/api/modules/yards/seasons", `{"season":2026}`, 201, `"status":"open"`)

	e.Want(webtest.Caller{}, "GET", "/api/modules/yards/mine?season=2026", nil, 401, "sign in")
	e.Want(alice, "GET", "/api/modules/yards/mine?season=x", nil, 400, `season \"x\" is not a year`)
	e.Want(alice, "GET", "/api/modules/yards/mine?season=1990", nil, 404, "no best-yard season 1990")
	e.Want(alice, "GET", "/api/modules/yards/mine?season=2026", nil, 200, `{"season":2026,"voted_for":null,"nominations":[],"nominations_left":3}`)

	out := e.Want(alice, "POST", "/api/modules/yards/nominations",
		`{"title":"Двор на Абая 5","geometry":{"type":"Polygon","coordinates":[[[57.1,50.2],[57.101,50.2],[57.101,50.201],[57.1,50.201],[57.1,50.2]]]}}`, 201, `"Двор на Абая 5"`)
	var nom struct{ ID int64 }
	json.Unmarshal([]byte(out), &nom)
	e.Want(alice, "GET", "/api/modules/yards/mine?season=2026", nil, 200,
		fmt.Sprintf(`{"season":2026,"voted_for":null,"nominations":[%d],"nominations_left":2}`, nom.ID))
	e.Want(bob, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", nom.ID), "", 201, "voted")
	e.Want(bob, "GET", "/api/modules/yards/mine?season=2026", nil, 200, fmt.Sprintf(`"voted_for":%d`, nom.ID))
	e.Want(bob, "POST", fmt.Sprintf("/api/modules/yards/nominations/%d/vote", nom.ID), "", 409, "already voted")

	// Latest first: the open 2026, then 2025 (closed without nominations, so without winners).
	var seasons struct {
		Seasons []struct {
			Season  int
			Status  string
			Winners []int64
		}
	}
	json.Unmarshal([]byte(e.Want(webtest.Caller{}, "GET", "/api/modules/yards/seasons", nil, 200, "seasons")), &seasons)
	if len(seasons.Seasons) != 2 || seasons.Seasons[0].Season != 2026 || seasons.Seasons[0].Status != "open" ||
		seasons.Seasons[1].Season != 2025 || seasons.Seasons[1].Status != "closed" || len(seasons.Seasons[1].Winners) != 0 {
		t.Fatalf("seasons = %+v", seasons)
	}
	e.Want(staff, "POST", "/api/modules/yards/seasons/2026/close", `{"winners":3}`, 200, fmt.Sprintf(`"winners":[%d]`, nom.ID))
	json.Unmarshal([]byte(e.Want(webtest.Caller{}, "GET", "/api/modules/yards/seasons", nil, 200, "seasons")), &seasons)
	if seasons.Seasons[0].Status != "closed" || len(seasons.Seasons[0].Winners) != 1 || seasons.Seasons[0].Winners[0] != nom.ID {
		t.Fatalf("closed season = %+v", seasons.Seasons[0])
	}
}
