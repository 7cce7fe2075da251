package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// dist is the web map built by scripts/frontend.sh (Vite) into web/dist. Only web/dist/.keep is
// in git; `make build` builds the bundle before `go build`.
//
//go:embed all:dist
var dist embed.FS

// distFS is the bundle with the dist/ prefix removed.
func distFS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path by construction
	}
	return sub
}

// handleIndex serves the web map's page. It is never cached, so a new release is picked up at once;
// the assets it names carry content hashes and are cached for a year.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) { s.servePage(w, "index.html") }

// handlePlanner serves the planners' coverage page, the bundle's second entry (planner.html).
func (s *Server) handlePlanner(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, "planner.html")
}

// servePage serves one of the bundle's HTML entries, like handleIndex.
func (s *Server) servePage(w http.ResponseWriter, name string) {
	b, err := fs.ReadFile(distFS(), name)
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("The web map was not built into this binary: run `make build` (scripts/frontend.sh, then go build).\n"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.Write(b)
}

// gzipped holds the compressed form of each text asset, made once per process (the bundle is
// embedded and immutable): by PrecompressAssets at start, else on first request. Each name has
// its entry, so that requests arriving while it is compressed wait for that one compression
// rather than each compressing the 1.1 MB bundle again.
var gzipped sync.Map // name -> *gzEntry

type gzEntry struct {
	once sync.Once
	b    []byte
	err  error
}

// PrecompressAssets compresses every text asset of the bundle, largest first. `geoportal serve`
// runs it in the background as it starts: compressing at gzip -9 on the first visitor's request
// made a fresh server's first page load wait 0.2 s for the bundle on an idle machine and 1.8 s on
// a loaded one (BENCHMARKS.md, "Web map", cold first render).
func PrecompressAssets() {
	type file struct {
		name string
		size int64
	}
	var files []file
	fs.WalkDir(distFS(), "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !compressible(p) {
			return nil
		}
		if info, err := d.Info(); err == nil {
			files = append(files, file{p, info.Size()})
		}
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].size > files[j].size })
	for _, f := range files {
		gzipAsset(f.name)
	}
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".js", ".mjs", ".css", ".svg", ".json", ".html", ".map":
		return true
	}
	return false
}

// assetsHandler serves the bundle's hashed files under /assets/, gzipped when the client takes it.
func (s *Server) assetsHandler() http.Handler {
	files := http.FileServerFS(distFS())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if strings.HasSuffix(name, "/") || !strings.HasPrefix(name, "assets/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		if !compressible(name) {
			files.ServeHTTP(w, r)
			return
		}
		h.Add("Vary", "Accept-Encoding")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			files.ServeHTTP(w, r)
			return
		}
		gz, err := gzipAsset(name)
		if err != nil {
			files.ServeHTTP(w, r) // answers 404 for a missing file
			return
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if path.Ext(name) == ".mjs" || ct == "" {
			ct = "text/javascript; charset=utf-8"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Encoding", "gzip")
		h.Set("ETag", `"`+path.Base(name)+`.gz"`)
		if r.Header.Get("If-None-Match") == h.Get("ETag") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(gz))
	})
}

func gzipAsset(name string) ([]byte, error) {
	v, _ := gzipped.LoadOrStore(name, &gzEntry{})
	e := v.(*gzEntry)
	e.once.Do(func() {
		raw, err := fs.ReadFile(distFS(), name)
		if err != nil {
			e.err = err
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(raw)
		zw.Close()
		e.b = buf.Bytes()
	})
	return e.b, e.err
}

// viteManifest is the bundle's .vite/manifest.json (Vite's build.manifest): for each entry, its
// hashed script and stylesheets.
var viteManifest = sync.OnceValue(func() map[string]struct {
	File string   `json:"file"`
	CSS  []string `json:"css"`
} {
	m := map[string]struct {
		File string   `json:"file"`
		CSS  []string `json:"css"`
	}{}
	if b, err := fs.ReadFile(distFS(), ".vite/manifest.json"); err == nil {
		json.Unmarshal(b, &m) // a bundle without a manifest has no pages' map: the pages say so
	}
	return m
})

// mapEntry names the built script and stylesheets of a bundle entry (a path of web/frontend,
// "src/cameras/main.js") as URLs; "" when the bundle lacks it.
func mapEntry(entry string) (string, []string) {
	e, ok := viteManifest()[entry]
	if !ok {
		return "", nil
	}
	css := make([]string, len(e.CSS))
	for i, c := range e.CSS {
		css[i] = "/" + c
	}
	return "/" + e.File, css
}
