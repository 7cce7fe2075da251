package modules_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/webtest"
)

// Who may do what with private cameras: anonymous nothing, an owner only their own, staff of
// another department no moderation, safe-city staff decide.
func TestPrivateCameraRoles(t *testing.T) {
	e := webtest.NewSite(t)
	alice := e.SignIn("alice@example.kz", accounts.Citizen)
	bob := e.SignIn("bob@example.kz", accounts.Citizen)
	other := e.SignInStaff("social@akimat.kz")
	cam := `{"lon":57.2,"lat":50.3,"name":"Дүкен","heading":90,"fov":60,"range_m":50,"height_m":3,"films":"street","retention_days":7,"contact":"+7 700","consent_police":true,"show_public":true}`
	e.Want(webtest.Caller{}, "POST", "/api/modules/cameras", cam, 401, "sign in")
	e.Want(alice, "POST", "/api/modules/cameras", `{"lon":57.2,"lat":50.3,"name":"x","heading":0,"fov":60,"range_m":0,"height_m":3,"films":"street","retention_days":7,"contact":"+7 700","consent_police":true}`, 400, "range_m")
	var c struct{ ID int64 }
	json.Unmarshal([]byte(e.Want(alice, "POST", "/api/modules/cameras", cam, 201, `"status":"pending"`)), &c)
	e.Want(bob, "POST", fmt.Sprintf("/api/modules/cameras/%d/withdraw", c.ID), "", 403, "another owner")
	e.Want(alice, "GET", "/api/modules/cameras/queue", nil, 403, "Safe City")
	e.Want(other, "POST", fmt.Sprintf("/api/modules/cameras/%d/decision", c.ID), `{"decision":"approve"}`, 403, "Safe City")
	e.Want(webtest.Caller{}, "GET", "/api/modules/cameras/queue", nil, 401, "sign in")
	admin := e.SignIn("safecity@akimat.kz", accounts.Admin)
	e.Want(admin, "GET", "/api/modules/cameras/queue", nil, 200, `"owner":"alice@example.kz"`)
	e.Want(admin, "POST", fmt.Sprintf("/api/modules/cameras/%d/decision", c.ID), `{"decision":"reject"}`, 400, "reason")
	e.Want(admin, "POST", fmt.Sprintf("/api/modules/cameras/%d/decision", c.ID), `{"decision":"approve"}`, 200, `"status":"approved"`)
	e.Want(admin, "GET", "/api/modules/cameras/incident?lon=57.2003&lat=50.3&from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", nil, 200, `"retention_reaches":false`)
	e.Want(alice, "POST", fmt.Sprintf("/api/modules/cameras/%d/withdraw", c.ID), "", 200, `"status":"withdrawn"`)
	e.Want(admin, "POST", fmt.Sprintf("/api/modules/cameras/%d/decision", c.ID), `{"decision":"approve"}`, 409, "withdrawn")
}
