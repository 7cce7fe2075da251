package pages_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/webtest"
	"github.com/jackc/pgx/v5"
)

// GIS staff retitle, hide, recolour and delete a layer on /staff/layers: bad input is a 4xx
// naming the field with nothing changed, every change is audited and announced, and the tiles and
// the public catalog follow at once.
func TestLayerManagement(t *testing.T) {
	e := webtest.NewSite(t)
	ctx := context.Background()
	if err := e.Srv.Layers.CreateLayer(ctx, nil, layers.Layer{Slug: "wrong_import", Direction: 6, GeometryType: "Point",
		Title: layers.Titles{KK: "Қате", RU: "Ошибка", EN: "Wrong"}}); err != nil {
		t.Fatal(err)
	}
	e.Exec(`INSERT INTO layer.wrong_import (geom) VALUES (ST_SetSRID(ST_MakePoint(57.17, 50.28), 4326)), (ST_SetSRID(ST_MakePoint(57.18, 50.29), 4326))`)
	// Another process on the database hears the changes.
	listen, err := pgx.ConnectConfig(ctx, e.Pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close(ctx)
	if _, err := listen.Exec(ctx, "LISTEN layer_changed"); err != nil {
		t.Fatal(err)
	}
	heard := func(what string) {
		t.Helper()
		for {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			n, err := listen.WaitForNotification(wctx)
			cancel()
			if err != nil {
				t.Fatalf("%s: no catalog notification: %v", what, err)
			}
			var p struct {
				Layer   string
				Catalog bool
			}
			json.Unmarshal([]byte(n.Payload), &p)
			if p.Layer == "wrong_import" && p.Catalog {
				return
			}
		}
	}

	gis := e.SignIn("gis@akimat.kz", accounts.GISStaff)
	planner := e.SignIn("planner@akimat.kz", accounts.Planner)
	form := func(c webtest.Caller, path string, kv ...string) (int, string) {
		t.Helper()
		return e.Do(c, "POST", path, webtest.Form(c, kv...), "application/x-www-form-urlencoded")
	}
	if code, _ := form(planner, "/staff/layers/wrong_import/titles", "title_kk", "A", "title_ru", "B", "title_en", "C"); code != http.StatusForbidden {
		t.Fatalf("planner retitles: %d, want 403", code)
	}

	page := e.Want(gis, "GET", "/staff/layers?lang=en", nil, 200, `id="layer-wrong_import"`)
	if !strings.Contains(page, `value="Wrong"`) || !strings.Contains(page, `value="Қате"`) {
		t.Fatalf("the page lacks the layer's titles:\n%.2000s", page)
	}

	// Bad input: a 4xx naming the field, nothing changed.
	for _, tc := range []struct {
		name, path, says string
		code             int
		kv               []string
	}{
		{"empty title", "/staff/layers/wrong_import/titles", "title_en is empty", 400, []string{"title_kk", "Жаңа", "title_ru", "Новый", "title_en", "  "}},
		{"unknown slug", "/staff/layers/no_such_layer/titles", "no_such_layer", 404, []string{"title_kk", "A", "title_ru", "B", "title_en", "C"}},
		{"bad colour", "/staff/layers/wrong_import/color", "color", 400, []string{"color", "red"}},
		{"bad visibility", "/staff/layers/wrong_import/visibility", "visibility", 400, []string{"visibility", "everyone"}},
	} {
		code, body := form(gis, tc.path+"?lang=en", tc.kv...)
		if code != tc.code || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%.800s", tc.name, code, tc.code, tc.says, body)
		}
	}
	if l, _ := e.Srv.Layers.Layer(ctx, "wrong_import", true); l.Title.KK != "Қате" {
		t.Fatalf("a refused change was stored: %+v", l.Title)
	}

	// Retitle.
	if code, body := form(gis, "/staff/layers/wrong_import/titles", "title_kk", " Аялдамалар (ескі) ", "title_ru", "Остановки (старые)", "title_en", "Stops (old)"); code != 303 && code != 200 {
		t.Fatalf("retitle: %d %.500s", code, body)
	}
	heard("retitle")
	e.Want(webtest.Caller{}, "GET", "/api/layers/wrong_import", nil, 200, `"kk":"Аялдамалар (ескі)"`)

	// Recolour: the style fragment's colour.
	form(gis, "/staff/layers/wrong_import/color", "color", "#C0392B")
	heard("recolour")
	if l, _ := e.Srv.Layers.Layer(ctx, "wrong_import", true); !strings.Contains(string(l.Style), `"circle-color": "#c0392b"`) || !strings.Contains(string(l.Style), `"type": "circle"`) {
		t.Fatalf("style after recolour: %s", l.Style)
	}
	e.Want(gis, "GET", "/staff/layers?lang=ru", nil, 200, `value="#c0392b"`)

	// Hide: the public catalog and tiles no longer have it, at once.
	tile := "/tiles/wrong_import/14/10794/5581.mvt"
	if code, _ := e.Do(webtest.Caller{}, "GET", tile, nil); code != 200 && code != 204 {
		t.Fatalf("public tile before hiding: %d", code)
	}
	form(gis, "/staff/layers/wrong_import/visibility", "visibility", "staff")
	heard("hide")
	if code, _ := e.Do(webtest.Caller{}, "GET", "/api/layers/wrong_import", nil); code != 404 {
		t.Errorf("hidden layer in the public catalog: %d", code)
	}
	if code, _ := e.Do(webtest.Caller{}, "GET", tile, nil); code != 404 {
		t.Errorf("hidden layer's tile for the public: %d, want 404", code)
	}
	e.Want(gis, "GET", "/staff/layers?lang=kk", nil, 200, `data-visibility="staff"`)

	// Delete: the confirmation page names the layer and its count; a stale count is refused.
	e.Want(gis, "GET", "/staff/layers/wrong_import/delete?lang=en", nil, 200, "The layer “Stops (old)” (wrong_import) and its 2 features will be deleted")
	if code, body := form(gis, "/staff/layers/wrong_import/delete?lang=en", "features", "5"); code != 409 || !strings.Contains(body, "now has 2 features") {
		t.Fatalf("delete with a stale count: %d %.600s", code, body)
	}
	if code, _ := form(planner, "/staff/layers/wrong_import/delete", "features", "2"); code != 403 {
		t.Fatalf("planner deletes: %d", code)
	}
	form(gis, "/staff/layers/wrong_import/delete", "features", "2")
	heard("delete")
	if _, err := e.Srv.Layers.Layer(ctx, "wrong_import", true); err == nil {
		t.Fatal("the layer is still in the catalog")
	}
	var table *string
	e.Pool.QueryRow(ctx, `SELECT to_regclass('layer.wrong_import')::text`).Scan(&table)
	if table != nil {
		t.Fatalf("the layer's table is left: %s", *table)
	}
	if code, _ := e.Do(gis, "GET", tile, nil); code != 404 {
		t.Errorf("deleted layer's tile: %d, want 404", code)
	}
	// A module's layer cannot be deleted.
	if code, body := form(gis, "/staff/layers/outages/delete?lang=en", "features", "0"); code != 409 || !strings.Contains(body, "hide it instead") {
		t.Errorf("delete outages: %d %.400s", code, body)
	}

	// Every change is in the audit log, with the actor.
	log, err := e.Srv.Accounts.AuditLog(ctx, accounts.AuditFilter{Action: "layer.*", ObjectID: "wrong_import"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range log {
		actions = append(actions, r.Action)
		if r.Actor != "gis@akimat.kz" {
			t.Errorf("%s by %q", r.Action, r.Actor)
		}
	}
	if strings.Join(actions, " ") != "layer.delete layer.edit layer.edit layer.edit" {
		t.Errorf("audit: %v", actions)
	}
	if len(log) == 4 && (!strings.Contains(string(log[3].Before), `"Wrong"`) || !strings.Contains(string(log[3].After), `"Stops (old)"`)) {
		t.Errorf("retitle audit: %s → %s", log[3].Before, log[3].After)
	}
}
