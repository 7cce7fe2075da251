package modules

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// The best-yard contest: residents nominate yards and vote once a season; staff open and close
// seasons and hide nominations. The public map (src/ext/yards.js) asks for every season, so it
// shows the winners once a season is closed, and for what the signed-in resident has already
// done in a season (voted, nominated).

// almaty is the city's clock (Aktobe keeps UTC+5 all year).
var almaty = time.FixedZone("UTC+5", 5*3600)

func (ms *API) YardSeason(w http.ResponseWriter, r *http.Request) {
	season, err := ms.Modules.CurrentSeason(r.Context())
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, season)
}

func (ms *API) YardRanking(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("season")
	var season int
	if v == "" {
		cur, err := ms.Modules.CurrentSeason(r.Context())
		if err != nil {
			ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season is required (no season is open)"))
			return
		}
		season = cur.Season
	} else {
		n, err := strconv.Atoi(v)
		if err != nil {
			ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v))
			return
		}
		season = n
	}
	rk, err := ms.Modules.Ranking(r.Context(), season)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rk)
}

// YardNominate takes a nomination as multipart/form-data (title, description, geometry as
// GeoJSON text, up to three files "photo") or as JSON {title, description, geometry}.
func (ms *API) YardNominate(w http.ResponseWriter, r *http.Request) {
	u, ok := ms.Guard.CurrentUser(r)
	if !ok {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to nominate a yard"))
		return
	}
	var n modules.NewNomination
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(4 << 20); err != nil {
			ms.Reply.Error(w, r, guard.BodyError(err))
			return
		}
		n.Title, n.Description = r.FormValue("title"), r.FormValue("description")
		if g := r.FormValue("geometry"); g != "" {
			n.Geometry = json.RawMessage(g)
		}
		files := r.MultipartForm.File["photo"]
		if len(files) > reports.MaxPhotos {
			ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "at most %d photos", reports.MaxPhotos))
			return
		}
		for _, fh := range files {
			f, err := fh.Open()
			if err != nil {
				ms.Reply.Error(w, r, guard.BodyError(err))
				return
			}
			b, err := io.ReadAll(io.LimitReader(f, reports.MaxPhotoBytes+1))
			f.Close()
			if err != nil {
				ms.Reply.Error(w, r, guard.BodyError(err))
				return
			}
			p, err := reports.ProcessPhoto(fh.Filename, b)
			if err != nil {
				ms.Reply.Error(w, r, err)
				return
			}
			n.Photos = append(n.Photos, p)
		}
	default:
		var body struct {
			Title       string          `json:"title"`
			Description string          `json:"description"`
			Geometry    json.RawMessage `json:"geometry"`
		}
		if err := guard.DecodeJSON(r, &body); err != nil {
			ms.Reply.Error(w, r, err)
			return
		}
		n.Title, n.Description, n.Geometry = body.Title, body.Description, body.Geometry
	}
	nom, err := ms.Modules.Nominate(r.Context(), u.ID, n)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, nom)
}

func (ms *API) YardVote(w http.ResponseWriter, r *http.Request) {
	u, ok := ms.Guard.CurrentUser(r)
	if !ok {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to vote"))
		return
	}
	id, err := api.PathID(r, "id")
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	if err := ms.Modules.Vote(r.Context(), u.ID, id); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, map[string]any{"voted": id})
}

func (ms *API) YardPhoto(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	file := chi.URLParam(r, "file")
	thumb := strings.HasSuffix(file, ".thumb.jpg")
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(file, ".thumb.jpg"), ".jpg"))
	if err != nil || !strings.HasSuffix(file, ".jpg") {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.ENOTFOUND, "no photo %q", file))
		return
	}
	b, err := ms.Modules.YardPhoto(r.Context(), id, n, thumb)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

func (ms *API) YardSeasonOpen(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Season int `json:"season"`
	}
	if err := guard.DecodeJSON(r, &body); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	if body.Season == 0 {
		body.Season = time.Now().In(almaty).Year()
	}
	season, err := ms.Modules.OpenSeason(r.Context(), body.Season)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, season)
}

func (ms *API) YardSeasonClose(w http.ResponseWriter, r *http.Request) {
	v := chi.URLParam(r, "season")
	season, err := strconv.Atoi(v)
	if err != nil {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v))
		return
	}
	var body struct {
		Winners int `json:"winners"`
	}
	if err := guard.DecodeJSON(r, &body); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	if body.Winners == 0 {
		body.Winners = 3
	}
	out, err := ms.Modules.CloseSeason(r.Context(), season, body.Winners)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, out)
}

func (ms *API) YardHide(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := guard.DecodeJSON(r, &body); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	if err := ms.Modules.HideNomination(r.Context(), id, body.Reason); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"hidden": id})
}

func (ms *API) YardSeasons(w http.ResponseWriter, r *http.Request) {
	list, err := ms.Modules.Seasons(r.Context())
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"seasons": list})
}

// YardMine answers for the signed-in account: its vote and nominations in ?season=.
func (ms *API) YardMine(w http.ResponseWriter, r *http.Request) {
	u, ok := ms.Guard.CurrentUser(r)
	if !ok {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to see your vote"))
		return
	}
	v := r.URL.Query().Get("season")
	season, err := strconv.Atoi(v)
	if err != nil {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v))
		return
	}
	p, err := ms.Modules.Participation(r.Context(), u.ID, season)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, p)
}
