package secret

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
)

// maxImageArchiveHeaders bounds the tar headers IsImageArchive reads.
const maxImageArchiveHeaders = 100000

// IsImageArchive reports whether p is a container image rather than files
// to scan one by one: a `docker save` tarball (manifest.json at the root),
// an OCI image archive (oci-layout and index.json at the root) or an OCI
// layout directory. Such inputs are scanned layer by layer (deleted files,
// image configuration) by the orchestrator instead of as an archive of
// blobs. Only uncompressed tarballs qualify (as `docker save` writes them);
// headers are read without the entries' data, at most 100,000 of them.
func IsImageArchive(p string) bool {
	st, err := os.Stat(p)
	if err != nil {
		return false
	}
	if st.IsDir() {
		return regularFile(filepath.Join(p, "oci-layout")) && regularFile(filepath.Join(p, "index.json"))
	}
	if !st.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	// tar.Reader seeks over entry data when its reader is an io.Seeker.
	tr := tar.NewReader(f)
	var manifest, layout, index bool
	for i := 0; i < maxImageArchiveHeaders; i++ {
		h, err := tr.Next()
		if err != nil {
			// io.EOF ends a well-formed tarball; anything else (not a tar,
			// truncated) is not an image.
			return errors.Is(err, io.EOF) && (manifest || layout && index)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		switch path.Clean(h.Name) {
		case "manifest.json":
			manifest = true
		case "oci-layout":
			layout = true
		case "index.json":
			index = true
		}
	}
	return false
}

func regularFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
