package deploytest

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ImageUser is the user the image runs as (distroless's "nonroot").
const ImageUser = "65532:65532"

// BuildBinary builds ./cmd/ward of the module at root into out as the
// release build does: CGO_ENABLED=0, -trimpath, -ldflags "-s -w" with the
// version stamped.
func BuildBinary(root, out, version string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/ward")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/ward: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// ImageOptions are the inputs of BuildImage.
type ImageOptions struct {
	// Binary is the ward binary (a static linux build).
	Binary string
	// PasswdDir holds passwd and group (deploy/image).
	PasswdDir string
	// CABundle is copied to /etc/ssl/certs/ca-certificates.crt; empty
	// leaves the image without one (the Dockerfile copies the build
	// image's bundle).
	CABundle string
	// Created is the image's creation time and every file's mtime
	// (default the Unix epoch: the same inputs give the same digest).
	Created time.Time
	// Version is recorded in the org.opencontainers.image.version label.
	Version string
}

type file struct {
	name string
	mode int64
	src  string
}

// BuildImage writes the image the Dockerfile describes (FROM scratch: the
// binary, the CA bundle, passwd and group; user 65532; entrypoint /ward)
// as an OCI image layout in dir, without a container engine: one layer on
// empty.Image with go-containerregistry's mutate. It returns the image as
// read back from the layout.
func BuildImage(dir string, opts ImageOptions) (v1.Image, error) {
	if opts.Created.IsZero() {
		opts.Created = time.Unix(0, 0).UTC()
	}
	files := []file{}
	if opts.CABundle != "" {
		files = append(files, file{"etc/ssl/certs/ca-certificates.crt", 0o444, opts.CABundle})
	}
	files = append(files,
		file{"etc/passwd", 0o444, filepath.Join(opts.PasswdDir, "passwd")},
		file{"etc/group", 0o444, filepath.Join(opts.PasswdDir, "group")},
		file{"ward", 0o555, opts.Binary},
	)
	tmp, err := os.CreateTemp("", "ward-layer-*.tar")
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	defer os.Remove(tmp.Name())
	werr := writeLayer(tmp, files, opts.Created)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("image layer: %w", werr)
	}
	layer, err := tarball.LayerFromFile(tmp.Name(), tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: opts.Created}, CreatedBy: "deploytest.BuildImage: COPY ward, CA bundle, passwd, group", Comment: "built without a container engine"},
	})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: opts.Created}
	cf.Config.User = ImageUser
	cf.Config.Entrypoint = []string{"/ward"}
	cf.Config.Cmd = nil
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.source":  "https://github.com/wardsec/ward",
		"org.opencontainers.image.title":   "ward",
		"org.opencontainers.image.version": opts.Version,
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: opts.Created}); err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "ward:" + opts.Version})); err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	// The layer above streams from a temporary file: hand back the image
	// as stored in the layout.
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("image digest: %w", err)
	}
	return p.Image(d)
}

// writeLayer writes the files (and their parent directories) as a tar
// stream owned by root, with fixed times, in a fixed order.
func writeLayer(w io.Writer, files []file, mtime time.Time) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	for _, f := range files {
		parts := strings.Split(f.name, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
		src, err := os.Open(f.src)
		if err != nil {
			return err
		}
		st, err := src.Stat()
		if err == nil && !st.Mode().IsRegular() {
			err = &fs.PathError{Op: "open", Path: f.src, Err: errors.New("not a regular file")}
		}
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: st.Size(), ModTime: mtime, Format: tar.FormatPAX})
		}
		if err == nil {
			_, err = io.CopyN(tw, src, st.Size())
		}
		src.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.src, err)
		}
	}
	return tw.Close()
}
