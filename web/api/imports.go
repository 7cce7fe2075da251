package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/importers/osm"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Imports serve the uploads into layers (/api/import), their history (/api/imports) and the
// layer exports (/api/layers/{slug}/export.{format}); they are registered in web/routes.go.
type Imports struct {
	Pool   *pgxpool.Pool
	Layers *layers.Store
	Logger *slog.Logger
	// MaxBytes is the configured bound of an upload, read on each request (0: 512 MiB).
	MaxBytes func() int64
	// Guard says who is calling and raises the body limit; Reply writes error answers.
	Guard *guard.Guard
	Reply reply.Writer
}

// ImportRoles may import files into layers.
var ImportRoles = []accounts.Role{accounts.GISStaff, accounts.Admin}

const (
	defaultImportMaxBytes = 512 << 20
	maxImportFiles        = 20
	maxFormValue          = 64 << 10
)

func (im *Imports) maxBytes() int64 {
	if n := im.MaxBytes(); n > 0 {
		return n
	}
	return defaultImportMaxBytes
}

// Limit raises the body limit of the upload route to MaxBytes.
func (im *Imports) Limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		im.Guard.MaxBody(im.maxBytes())(next).ServeHTTP(w, r)
	})
}

// upload is a multipart upload saved into a temporary folder.
type upload struct {
	dir   string
	paths []string
	form  map[string]string
}

// readUpload streams the multipart body to disk (memory stays flat whatever the file size).
func (im *Imports) readUpload(r *http.Request) (*upload, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "want a multipart/form-data upload with the file(s) in field \"file\"")
	}
	dir, err := os.MkdirTemp("", "geoportal-upload-")
	if err != nil {
		return nil, err
	}
	u := &upload{dir: dir, form: map[string]string{}}
	fail := func(err error) (*upload, error) {
		os.RemoveAll(dir)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, geoportal.Errorf(geoportal.ETOOLARGE, "the upload is larger than the limit of %d MiB", im.maxBytes()>>20)
		}
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return fail(err)
			}
			return fail(geoportal.Errorf(geoportal.EINVALID, "broken multipart upload: %v", err))
		}
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, maxFormValue+1))
			if err != nil {
				return fail(err)
			}
			if len(b) > maxFormValue {
				return fail(geoportal.Errorf(geoportal.ETOOLARGE, "form field %s is too long", part.FormName()))
			}
			u.form[part.FormName()] = string(b)
			continue
		}
		name := filepath.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
		if name == "." || name == "/" || name == ".." || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "\x00:") {
			return fail(geoportal.Errorf(geoportal.EINVALID, "file name %q is not allowed", part.FileName()))
		}
		if len(u.paths) == maxImportFiles {
			return fail(geoportal.Errorf(geoportal.EINVALID, "more than %d files in one upload", maxImportFiles))
		}
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fail(geoportal.Errorf(geoportal.EINVALID, "file %s is in the upload twice", name))
		}
		_, err = io.Copy(f, part)
		f.Close()
		if err != nil {
			return fail(err)
		}
		u.paths = append(u.paths, p)
	}
	if len(u.paths) == 0 {
		return fail(geoportal.Errorf(geoportal.EINVALID, "no file in the upload (field \"file\")"))
	}
	return u, nil
}

func formBool(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

func formInt(form map[string]string, key string) (int, error) {
	v := strings.TrimSpace(form[key])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a whole number", key, v)
	}
	return n, nil
}

// parseFieldMap reads "SRC=attr,SRC2=-" or a JSON object.
func parseFieldMap(v string) (map[string]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	m := map[string]string{}
	if strings.HasPrefix(v, "{") {
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return nil, geoportal.Errorf(geoportal.EINVALID, "map: %v", err)
		}
		return m, nil
	}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, geoportal.Errorf(geoportal.EINVALID, "map entry %q is not SRC=attr", kv)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	return m, nil
}

// parseValues reads the value dictionaries of an import: a JSON object of attribute → value →
// {"kk", "ru", "en"} (docs/import.md).
func parseValues(v string) (map[string]map[string]layers.Titles, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	var m map[string]map[string]layers.Titles
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "values: want a JSON object of attribute → value → {\"kk\", \"ru\", \"en\"}: %v", err)
	}
	return m, nil
}

// Import takes a multipart upload (field "file", once per file; options as form fields:
// mode, layer, key, srid, encoding, default_encoding, map, values, direction, visibility, title_kk,
// title_ru, title_en, lon, lat, wkt, dry_run, confirm_outside) and either previews it
// (preview=1: detected encoding, CRS, schema, the first features as GeoJSON, where they lie
// against the city and the city's outline) or imports it and answers with the report. A new
// layer needs title_kk, title_ru and title_en; data lying outside the city boundary
// (importers.OutsideShare) is refused with "conflict" until confirm_outside=1. With stream=1 the answer is NDJSON: {"progress":n,"total":N} lines, then
// {"report":…} or {"error":…}.
func (im *Imports) Import(w http.ResponseWriter, r *http.Request) {
	up, err := im.readUpload(r)
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	defer os.RemoveAll(up.dir)
	f := up.form
	srid, err := formInt(f, "srid")
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	direction, err := formInt(f, "direction")
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	fieldMap, err := parseFieldMap(f["map"])
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	values, err := parseValues(f["values"])
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	if len(up.paths) == 1 && osm.IsOSMFile(up.paths[0]) {
		im.importOSM(w, r, up.paths[0], formBool(f["preview"]) || formBool(f["dry_run"]), formBool(f["stream"]))
		return
	}
	src, err := importers.Open(up.paths, importers.Options{Encoding: f["encoding"], DefaultEncoding: f["default_encoding"],
		SRID: srid, TempDir: up.dir, LonColumn: f["lon"], LatColumn: f["lat"], WKTColumn: f["wkt"], Layer: f["source_layer"]})
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	defer src.Close()
	ip := importers.New(im.Pool, im.Logger)
	if formBool(f["preview"]) {
		p, err := ip.Preview(r.Context(), src, 50)
		if err != nil {
			im.Reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, p)
		return
	}
	req := importers.Request{Layer: f["layer"], Mode: f["mode"], Key: f["key"], FieldMap: fieldMap,
		Title: layers.Titles{KK: f["title_kk"], RU: f["title_ru"], EN: f["title_en"]}, Values: values, Direction: direction,
		Visibility: f["visibility"], DryRun: formBool(f["dry_run"]), ConfirmOutside: formBool(f["confirm_outside"])}
	if err := requireTitles(req); err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	if u, ok := im.Guard.CurrentUser(r); ok {
		req.User = u.Email
	}
	if !formBool(f["stream"]) {
		rep, err := ip.Import(r.Context(), src, req)
		if err != nil {
			im.Reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, rep)
		return
	}
	// Streamed progress for the upload page.
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	emit := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(v)
		if flusher != nil {
			flusher.Flush()
		}
	}
	total := src.Info().Count
	var last time.Time
	req.Progress = func(n int) {
		if time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			emit(map[string]int{"progress": n, "total": total})
		}
	}
	rep, err := ip.Import(r.Context(), src, req)
	if err != nil {
		emit(map[string]any{"error": map[string]string{"code": geoportal.ErrorCode(err), "message": geoportal.ErrorMessage(err)}, "report": rep})
		return
	}
	emit(map[string]any{"report": rep})
}

// requireTitles refuses a new layer without its title in each language: on the map a missing
// title would show the file name (or nothing) to the readers of that language. (The command
// line's `geoportal import` still takes the file name for titles it is not given.)
func requireTitles(req importers.Request) error {
	if req.Mode != "" && req.Mode != importers.ModeCreate {
		return nil
	}
	for _, t := range []struct{ field, lang, v string }{{"title_kk", "Kazakh", req.Title.KK},
		{"title_ru", "Russian", req.Title.RU}, {"title_en", "English", req.Title.EN}} {
		if strings.TrimSpace(t.v) == "" {
			return geoportal.Errorf(geoportal.EINVALID, "%s is empty: a new layer needs its title in %s", t.field, t.lang)
		}
	}
	return nil
}

// importOSM imports an uploaded OpenStreetMap extract into every layer the built-in mapping
// fills (a report per layer, an audit entry each); a preview is a dry run that says how many
// features each layer would get. A broken extract is found while it is read, so the answer
// waits for the end: asked to stream, it is one {"report":…} line.
func (im *Imports) importOSM(w http.ResponseWriter, r *http.Request, path string, preview, stream bool) {
	req := importers.OSMRequest{DryRun: preview}
	if u, ok := im.Guard.CurrentUser(r); ok {
		req.User = u.Email
	}
	rep, err := importers.New(im.Pool, im.Logger).ImportOSM(r.Context(), path, req)
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	if stream {
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]any{"report": rep})
		return
	}
	reply.JSON(w, http.StatusOK, rep)
}

// History lists the import history (?layer=slug&limit=n).
func (im *Imports) History(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	hist, err := importers.New(im.Pool, im.Logger).History(r.Context(), r.URL.Query().Get("layer"), limit)
	if err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"imports": hist})
}

// Export streams a layer as GeoJSON, CSV or zipped shapefile: GET
// /api/layers/{slug}/export.{format}?bbox=west,south,east,north. Staff-only layers need staff.
func (im *Imports) Export(w http.ResponseWriter, r *http.Request) {
	slug, format := chi.URLParam(r, "slug"), chi.URLParam(r, "format")
	req := importers.ExportRequest{Layer: slug, Format: format, Staff: im.Guard.IsStaff(r)}
	if b := r.URL.Query().Get("bbox"); b != "" {
		parts := strings.Split(b, ",")
		if len(parts) != 4 {
			im.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "bbox must be west,south,east,north"))
			return
		}
		for _, p := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				im.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "bbox value %q is not a number", p))
				return
			}
			req.BBox = append(req.BBox, v)
		}
	}
	// Check the layer and the request before the first byte, so errors get a proper status.
	if _, err := im.Layers.Layer(r.Context(), slug, req.Staff); err != nil {
		im.Reply.Error(w, r, err)
		return
	}
	switch format {
	case importers.ExportGeoJSON, importers.ExportCSV, importers.ExportShapefile:
	default:
		im.Reply.Error(w, r, geoportal.Errorf(geoportal.ENOTFOUND, "no export format %q (geojson, csv or zip)", format))
		return
	}
	w.Header().Set("Content-Type", importers.ContentType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, slug, format))
	reply.KeepWriting(r) // a large export to a client that keeps reading outlasts the write timeout
	ew := &exportWriter{w: w}
	if err := importers.New(im.Pool, im.Logger).Export(r.Context(), ew, req); err != nil {
		if !ew.wrote {
			w.Header().Del("Content-Disposition")
			im.Reply.Error(w, r, err)
			return
		}
		im.Logger.Error("export failed midway", "layer", slug, "format", format, "error", err)
	}
}

// exportWriter notes whether the export has begun.
type exportWriter struct {
	w     io.Writer
	wrote bool
}

func (e *exportWriter) Write(p []byte) (int, error) {
	e.wrote = true
	return e.w.Write(p)
}
