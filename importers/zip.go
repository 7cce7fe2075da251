package importers

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aktobe/geoportal"
)

// ZipLimits bound what an archive may unpack to, against zip bombs.
type ZipLimits struct {
	MaxEntries int   // default 1000
	MaxTotal   int64 // uncompressed bytes, default 4 GiB
	MaxRatio   int64 // uncompressed/compressed per entry above 1 MiB, default 200
}

func (l ZipLimits) withDefaults() ZipLimits {
	if l.MaxEntries == 0 {
		l.MaxEntries = 1000
	}
	if l.MaxTotal == 0 {
		l.MaxTotal = 4 << 30
	}
	if l.MaxRatio == 0 {
		l.MaxRatio = 200
	}
	return l
}

// extractZip unpacks an archive into a new temporary folder (returned even on error, for
// clean-up). Entries may not leave the folder (zip-slip), be links, or expand beyond the limits;
// the limits are checked against the bytes actually written, not the sizes the archive claims.
func extractZip(p, tmp string, lim ZipLimits) (string, error) {
	lim = lim.withDefaults()
	name := filepath.Base(p)
	head, err := sniff(p, 4)
	if err != nil {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s: %v", name, err)
	}
	if !bytes.HasPrefix(head, []byte("PK\x03\x04")) && !bytes.HasPrefix(head, []byte("PK\x05\x06")) {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s is not a zip archive (it starts with %q)", name, head)
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s is not a readable zip archive: %v", name, err)
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s is an empty zip archive", name)
	}
	if len(zr.File) > lim.MaxEntries {
		return "", geoportal.Errorf(geoportal.ETOOLARGE, "%s holds %d files, more than the limit of %d", name, len(zr.File), lim.MaxEntries)
	}
	dir, err := os.MkdirTemp(tmp, "geoportal-import-")
	if err != nil {
		return "", err
	}
	var total int64
	for _, f := range zr.File {
		clean := path.Clean(strings.ReplaceAll(f.Name, "\\", "/"))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(clean, ":") {
			return dir, geoportal.Errorf(geoportal.EINVALID, "%s: entry %q points outside the archive (zip-slip): refused", name, f.Name)
		}
		mode := f.Mode()
		if mode&os.ModeSymlink != 0 || (!mode.IsRegular() && !mode.IsDir()) {
			return dir, geoportal.Errorf(geoportal.EINVALID, "%s: entry %q is a link or special file: refused", name, f.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(clean))
		if !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			return dir, geoportal.Errorf(geoportal.EINVALID, "%s: entry %q points outside the archive (zip-slip): refused", name, f.Name)
		}
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return dir, err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return dir, err
		}
		n, err := extractEntry(f, dst, lim.MaxTotal-total, lim.MaxRatio)
		total += n
		if err != nil {
			var ge *geoportal.Error
			if errors.As(err, &ge) {
				return dir, geoportal.Errorf(ge.Code, "%s: %s", name, ge.Message)
			}
			return dir, geoportal.Errorf(geoportal.EINVALID, "%s: entry %q: %v", name, f.Name, err)
		}
	}
	return dir, nil
}

func extractEntry(f *zip.File, dst string, room, ratio int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	// Bound by the room left for the whole archive and by the ratio to the compressed size
	// (small entries may always expand to 1 MiB).
	limit := min(room, max(int64(f.CompressedSize64)*ratio, 1<<20))
	n, err := io.Copy(out, io.LimitReader(rc, limit+1))
	if err != nil {
		return n, err
	}
	if n > limit {
		if limit == room {
			return n, geoportal.Errorf(geoportal.ETOOLARGE, "entry %q expands beyond the limit of %d bytes for the whole archive (zip bomb?)", f.Name, room)
		}
		return n, geoportal.Errorf(geoportal.ETOOLARGE, "entry %q expands more than %d times its compressed size (zip bomb?)", f.Name, ratio)
	}
	return n, nil
}
