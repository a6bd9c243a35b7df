// Package artifacttest builds container images for tests: tar layers from
// entries, and images written as OCI layouts, OCI archives and docker save
// tarballs, byte for byte under the test's control (corrupt blobs
// included).
package artifacttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one tar entry. Type defaults to a regular file (a directory
// when Name ends in "/").
type Entry struct {
	Name     string
	Body     string
	Mode     int64
	Type     byte
	Linkname string
	// Size overrides the header size (to write truncated entries).
	Size int64
	UID  int
}

// Tar builds an uncompressed tar from entries.
func Tar(entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: e.Mode, Typeflag: e.Type, Linkname: e.Linkname, Uid: e.UID, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			if len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' {
				h.Typeflag = tar.TypeDir
			}
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				panic(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Layer is a layer blob as stored plus its diff ID.
type Layer struct {
	Blob      []byte
	DiffID    string
	CreatedBy string
	MediaType types.MediaType
}

// GzipLayer makes a gzip layer from an uncompressed tar.
func GzipLayer(tarball []byte, createdBy string) Layer {
	return Layer{Blob: Gzip(tarball), DiffID: Digest(tarball), CreatedBy: createdBy, MediaType: types.OCILayer}
}

// Digest is "sha256:<hex>" of b.
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// Image is an image under construction.
type Image struct {
	OS, Arch string
	Config   v1.Config
	Layers   []Layer
	// EmptyHistory are extra history steps without layers, before the first.
	EmptyHistory []string
}

type blob struct {
	digest string
	data   []byte
}

// build returns the config and manifest blobs and the layer blobs.
func (img *Image) build() (manifest []byte, blobs []blob) {
	osName, arch := img.OS, img.Arch
	if osName == "" {
		osName = "linux"
	}
	if arch == "" {
		arch = "amd64"
	}
	cf := v1.ConfigFile{OS: osName, Architecture: arch, Config: img.Config, RootFS: v1.RootFS{Type: "layers"}}
	for _, h := range img.EmptyHistory {
		cf.History = append(cf.History, v1.History{CreatedBy: h, EmptyLayer: true})
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	for _, l := range img.Layers {
		h, err := v1.NewHash(l.DiffID)
		if err != nil {
			panic(err)
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
		cf.History = append(cf.History, v1.History{CreatedBy: l.CreatedBy})
		d := Digest(l.Blob)
		mt := l.MediaType
		if mt == "" {
			mt = types.OCILayer
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: mt, Size: int64(len(l.Blob)), Digest: mustHash(d)})
		blobs = append(blobs, blob{d, l.Blob})
	}
	cb, _ := json.Marshal(cf)
	m.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cb)), Digest: mustHash(Digest(cb))}
	blobs = append(blobs, blob{Digest(cb), cb})
	mb, _ := json.Marshal(m)
	blobs = append(blobs, blob{Digest(mb), mb})
	return mb, blobs
}

func mustHash(s string) v1.Hash {
	h, err := v1.NewHash(s)
	if err != nil {
		panic(err)
	}
	return h
}

// Files returns the files of an OCI layout holding the images (a
// multi-platform index when more than one), path -> content.
func Files(imgs ...*Image) map[string][]byte {
	files := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, img := range imgs {
		mb, blobs := img.build()
		for _, b := range blobs {
			files["blobs/sha256/"+b.digest[len("sha256:"):]] = b.data
		}
		osName, arch := img.OS, img.Arch
		if osName == "" {
			osName = "linux"
		}
		if arch == "" {
			arch = "amd64"
		}
		idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(mb)), Digest: mustHash(Digest(mb)),
			Platform: &v1.Platform{OS: osName, Architecture: arch}})
	}
	ib, _ := json.Marshal(idx)
	files["index.json"] = ib
	return files
}

// WriteLayout writes an OCI layout directory.
func WriteLayout(dir string, imgs ...*Image) error {
	for p, b := range Files(imgs...) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteOCIArchive writes a tar of an OCI layout.
func WriteOCIArchive(path string, imgs ...*Image) error {
	return writeTar(path, Files(imgs...))
}

// WriteDockerSave writes a `docker save` style tarball (manifest.json,
// config and layer blobs as stored).
func WriteDockerSave(path string, img *Image, tag string) error {
	_, blobs := img.build()
	files := map[string][]byte{}
	var layers []string
	for i, b := range blobs {
		p := "blobs/sha256/" + b.digest[len("sha256:"):]
		files[p] = b.data
		if i < len(img.Layers) {
			layers = append(layers, p)
		}
	}
	cfg := blobs[len(img.Layers)]
	m := []map[string]any{{"Config": "blobs/sha256/" + cfg.digest[len("sha256:"):], "RepoTags": []string{tag}, "Layers": layers}}
	mb, _ := json.Marshal(m)
	files["manifest.json"] = mb
	return writeTar(path, files)
}

func writeTar(path string, files map[string][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	// Deterministic order.
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			f.Close()
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
