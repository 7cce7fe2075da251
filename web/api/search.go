package api

import (
	"errors"
	"math"
	"net/http"
	"sort"
	"strconv"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/paulmach/orb"
)

// Search answers GET /api/search?q=&lang=&limit=&offset=&lon=&lat= with one page of the best
// matching features, the total and the layers whose kind the query names; lon and lat (both or
// neither) put the nearest of those first.
func (hs *Handlers) Search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw := q.Get("q")
	if len(raw) > 4*layers.MaxSearchQuery+64 {
		// Refused before anything else looks at it: 10 KB of text is no query.
		hs.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "search: query q is longer than %d characters", layers.MaxSearchQuery))
		return
	}
	lang, err := langParam(q.Get("lang"))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit", 10)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	offset, err := intParam(q.Get("offset"), "offset", 0)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	sq := layers.SearchQuery{Q: raw, Lang: lang, Limit: limit, Offset: offset, Staff: hs.Guard.IsStaff(r)}
	if q.Has("lon") || q.Has("lat") {
		lon, lat, err := pointParam(q)
		if err != nil {
			hs.Reply.Error(w, r, err)
			return
		}
		sq.Near = &[2]float64{lon, lat}
	}
	page, err := hs.Store.Find(r.Context(), sq)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, page)
}

// handleNearest answers GET /api/nearest?layer=&lon=&lat=&limit=&lang= with the closest features.
func (hs *Handlers) Nearest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	slug := q.Get("layer")
	if slug == "" {
		hs.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "nearest: parameter layer is required"))
		return
	}
	lon, lat, err := pointParam(q)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit", 5)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	lang, err := langParam(q.Get("lang"))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	by := q.Get("by")
	switch by {
	case "", NearestByLine:
		hits, err := hs.Store.Nearest(r.Context(), slug, lon, lat, lang, limit, hs.Guard.IsStaff(r))
		if err != nil {
			hs.Reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, map[string]any{"layer": slug, "from": [2]float64{lon, lat}, "by": NearestByLine, "results": hits})
	case NearestByWalk:
		hits, complete, err := hs.nearestOnFoot(r, slug, lon, lat, lang, limit)
		var noWalk *walkUnavailable
		if errors.As(err, &noWalk) {
			// No walk from here (far from any street, or a city without streets): the straight
			// line, saying why.
			reply.JSON(w, http.StatusOK, map[string]any{"layer": slug, "from": [2]float64{lon, lat}, "by": NearestByLine,
				"walk_unavailable": noWalk.reason.Error(), "results": noWalk.line})
			return
		}
		if err != nil {
			hs.Reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, map[string]any{"layer": slug, "from": [2]float64{lon, lat}, "by": NearestByWalk, "complete": complete, "results": hits})
	default:
		hs.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "parameter by %q is not one of %s, %s", by, NearestByLine, NearestByWalk))
	}
}

// What /api/nearest orders by (parameter by): the straight line (default) or the walk along the
// streets.
const (
	NearestByLine = "line"
	NearestByWalk = "walk"
)

// nearestOnFoot is the limit features of layer slug nearest to (lon, lat) by walking distance:
// the straight-line nearest first (walkCandidates of them), then each one's walk along the
// street graph of the planners' network analyses (analysis.Store.Walking), ordered by it; those
// not reachable on foot come last, by straight line, without walk_m. A walk is never shorter
// than the straight line (the graph's flat local projection could make it so by a fraction of a
// percent). complete says the answer is exact: no feature beyond the candidates could be
// nearer on foot, because the limit-th walk is no longer than the farthest candidate's straight
// line (or the candidates were the whole layer).
func (hs *Handlers) nearestOnFoot(r *http.Request, slug string, lon, lat float64, lang string, limit int) ([]layers.Hit, bool, error) {
	if hs.Analysis == nil {
		return nil, false, geoportal.Errorf(geoportal.EUNAVAILABLE, "nearest: walking distances are not available on this server")
	}
	if limit < 1 || limit > layers.MaxNearest {
		return nil, false, geoportal.Errorf(geoportal.EINVALID, "nearest: limit %d is not between 1 and %d", limit, layers.MaxNearest)
	}
	n := walkCandidates(limit)
	cands, err := hs.Store.Nearest(r.Context(), slug, lon, lat, lang, n, hs.Guard.IsStaff(r))
	if err != nil {
		return nil, false, err
	}
	to := make([]orb.Point, len(cands))
	farthest := 0.0
	for i, c := range cands {
		to[i] = orb.Point{c.Point[0], c.Point[1]}
		farthest = max(farthest, *c.DistanceM)
	}
	walks, err := hs.Analysis.Walking(r.Context(), orb.Point{lon, lat}, to)
	if geoportal.ErrorCode(err) == geoportal.EINVALID {
		return nil, false, &walkUnavailable{reason: err, line: cands[:min(limit, len(cands))]}
	}
	if err != nil {
		return nil, false, err
	}
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
		if !math.IsInf(walks[i], 1) {
			w := math.Round(max(walks[i], *cands[i].DistanceM)*10) / 10
			cands[i].WalkM = &w
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		wa, wb := cands[order[a]].WalkM, cands[order[b]].WalkM
		switch {
		case wa != nil && wb != nil:
			return *wa < *wb
		case wa != nil || wb != nil:
			return wa != nil // reachable ones first
		}
		return false // both unreachable: straight-line order, as the candidates came
	})
	out := make([]layers.Hit, 0, limit)
	for _, i := range order[:min(limit, len(order))] {
		out = append(out, cands[i])
	}
	complete := len(cands) < n
	if len(out) == limit && out[limit-1].WalkM != nil && *out[limit-1].WalkM <= farthest {
		complete = true
	}
	return out, complete, nil
}

// walkUnavailable is nearestOnFoot's answer when there is no walk to measure: the start is more
// than analysis.SnapRadius from any street, or the city has no streets (or buildings) for the
// graph. The handler answers with the straight-line nearest (line) and the reason.
type walkUnavailable struct {
	reason error
	line   []layers.Hit
}

func (e *walkUnavailable) Error() string { return e.reason.Error() }

// walkCandidates is how many straight-line nearest features are walked to for limit answers:
// enough that a street detour seldom hides a nearer one, few enough for one bounded Dijkstra.
func walkCandidates(limit int) int {
	return min(layers.MaxNearest, 3*limit+10)
}

func langParam(v string) (string, error) {
	if v == "" {
		return "ru", nil
	}
	if !layers.ValidLanguage(v) {
		return "", geoportal.Errorf(geoportal.EINVALID, "parameter lang %q is not one of kk, ru, en", v)
	}
	return v, nil
}

func intParam(v, name string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, geoportal.Errorf(geoportal.EINVALID, "parameter %s %q is not a whole number", name, v)
	}
	return n, nil
}
