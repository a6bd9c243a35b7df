package artifacttest

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// GenSpec describes a generated image for benchmarks.
type GenSpec struct {
	Layers        int
	FilesPerLayer int
	FileSize      int
	// Packages in the dpkg status file rewritten by every layer.
	Packages int
	Seed     int64
	// Zstd compresses layers with zstd instead of gzip.
	Zstd bool
}

// GenStats describes what Generate wrote.
type GenStats struct {
	CompressedBytes   int64
	UncompressedBytes int64
	Files             int
}

var words = strings.Fields(`the of and to in is that for it as with was on be by this are from at or an
have not which but they all were their has one there been if more when will would who so no she other its
lib usr bin share doc config main func return error string int package import static void class public
0x1f 0x8b 0xff 0x00 ELF libc.so.6 GLIBC_2.34 __cxa_finalize _ITM_registerTMCloneTable .text .data .bss`)

// GenerateLayout streams a many-layer image to an OCI layout directory
// without holding layers in memory. Files are text-like (compressing about
// 3:1, like typical image layers); every layer rewrites a dpkg status file
// and adds a package-lock.json, as package installs do.
func GenerateLayout(dir string, spec GenSpec) (GenStats, error) {
	var st GenStats
	rng := rand.New(rand.NewSource(spec.Seed))
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return st, err
	}
	cf := v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{User: "1000"}}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	buf := make([]byte, spec.FileSize)
	for li := 0; li < spec.Layers; li++ {
		tmp, err := os.CreateTemp(filepath.Join(dir, "blobs", "sha256"), ".gen-*")
		if err != nil {
			return st, err
		}
		dh := sha256.New()
		ch := sha256.New()
		cw := &countWriter{w: io.MultiWriter(tmp, ch)}
		var zw io.WriteCloser
		mediaType := types.OCILayer
		if spec.Zstd {
			zw, _ = zstd.NewWriter(cw, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
			mediaType = types.OCILayerZStd
		} else {
			zw, _ = gzip.NewWriterLevel(cw, gzip.BestSpeed)
		}
		uw := &countWriter{w: io.MultiWriter(zw, dh)}
		tw := tar.NewWriter(uw)
		write := func(name string, body []byte) error {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
				return err
			}
			_, err := tw.Write(body)
			st.Files++
			return err
		}
		var status strings.Builder
		for p := 0; p < spec.Packages*(li+1)/spec.Layers; p++ {
			fmt.Fprintf(&status, "Package: pkg%d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.%d-%d\nSource: src%d\nDepends: pkg%d\nDescription: generated\n\n", p, p, li, p/3, p/2)
		}
		if err := write("var/lib/dpkg/status", []byte(status.String())); err != nil {
			return st, err
		}
		lock := fmt.Sprintf(`{"name":"app%d","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"app%d"},"node_modules/left-pad":{"version":"1.3.%d"}}}`, li, li, li)
		if err := write(fmt.Sprintf("srv/app%d/package-lock.json", li), []byte(lock)); err != nil {
			return st, err
		}
		for fi := 0; fi < spec.FilesPerLayer; fi++ {
			fill(rng, buf)
			if err := write(fmt.Sprintf("usr/share/gen/l%d/d%d/f%d.dat", li, fi%50, fi), buf); err != nil {
				return st, err
			}
		}
		if err := tw.Close(); err != nil {
			return st, err
		}
		if err := zw.Close(); err != nil {
			return st, err
		}
		if err := tmp.Close(); err != nil {
			return st, err
		}
		digest := hex.EncodeToString(ch.Sum(nil))
		if err := os.Rename(tmp.Name(), filepath.Join(dir, "blobs", "sha256", digest)); err != nil {
			return st, err
		}
		diffID, _ := v1.NewHash("sha256:" + hex.EncodeToString(dh.Sum(nil)))
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, diffID)
		cf.History = append(cf.History, v1.History{CreatedBy: fmt.Sprintf("RUN generate layer %d", li)})
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: mediaType, Size: cw.n, Digest: mustHash("sha256:" + digest)})
		st.CompressedBytes += cw.n
		st.UncompressedBytes += uw.n
	}
	cb, _ := json.Marshal(cf)
	m.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cb)), Digest: mustHash(Digest(cb))}
	mb, _ := json.Marshal(m)
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{{MediaType: types.OCIManifestSchema1,
		Size: int64(len(mb)), Digest: mustHash(Digest(mb)), Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}}}
	ib, _ := json.Marshal(idx)
	for name, b := range map[string][]byte{
		"blobs/sha256/" + Digest(cb)[7:]: cb, "blobs/sha256/" + Digest(mb)[7:]: mb,
		"index.json": ib, "oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return st, err
		}
	}
	return st, nil
}

// fill writes text-like bytes: words with some noise.
func fill(rng *rand.Rand, b []byte) {
	i := 0
	for i < len(b) {
		w := words[rng.Intn(len(words))]
		if rng.Intn(4) == 0 {
			w = fmt.Sprintf("%s%x", w, rng.Uint32())
		}
		i += copy(b[i:], w)
		if i < len(b) {
			if rng.Intn(12) == 0 {
				b[i] = '\n'
			} else {
				b[i] = ' '
			}
			i++
		}
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
