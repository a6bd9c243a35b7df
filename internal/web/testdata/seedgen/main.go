// Command seedgen regenerates the dashboard tests' seed data
// (internal/web/testdata/seed) by running the real ward CLI on real inputs:
// two container images built here as docker-save tarballs from Debian
// bookworm's package database and the repository's examples/app
// manifests, `ward fs` on examples/app, `ward config` on examples/k8s with
// the four Kubernetes compliance views (CIS, NSA, PSS baseline and
// restricted), `ward k8s --scanners rbac` of a private test API server
// (scripts/testcluster.sh) holding the RBAC engine's test cluster and a
// two-step escalation chain, and `ward runtime replay` of the recorded
// demo events. Vulnerabilities come from the OSV archives of
// ../shared/data/osv.
//
//	go build -o /tmp/ward ./cmd/ward
//	go run ./internal/web/testdata/seedgen -ward /tmp/ward -rootfs /var/cache/ward-test/bookworm
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wardsec/ward/internal/server/jobs"
)

func main() {
	ward := flag.String("ward", "ward", "ward binary")
	rootfs := flag.String("rootfs", "/var/cache/ward-test/bookworm", "Debian root file system (dpkg status, os-release)")
	osv := flag.String("osv", "../shared/data/osv", "OSV archives")
	out := flag.String("out", "internal/web/testdata/seed", "output directory")
	flag.Parse()
	if err := run(*ward, *rootfs, *osv, *out); err != nil {
		fmt.Fprintln(os.Stderr, "seedgen:", err)
		os.Exit(1)
	}
	if err := clusterSeed(*ward, *out); err != nil {
		fmt.Fprintln(os.Stderr, "seedgen:", err)
		os.Exit(1)
	}
}

// file is one file of an image layer: path in the image, source on disk.
type file struct{ dst, src string }

func run(ward, rootfs, osv, out string) error {
	tmp, err := os.MkdirTemp("", "seedgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cache := filepath.Join(tmp, "cache")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	wardCmd := func(stdout string, args ...string) error {
		cmd := exec.Command(ward, append([]string{"--cache-dir", cache, "--no-progress"}, args...)...)
		cmd.Stderr = os.Stderr
		if stdout != "" {
			f, err := os.Create(filepath.Join(out, stdout))
			if err != nil {
				return err
			}
			defer f.Close()
			cmd.Stdout = f
		}
		if err := cmd.Run(); err != nil {
			// ward exits 1 with --exit-code only; findings are not errors.
			return fmt.Errorf("ward %v: %w", args, err)
		}
		return nil
	}
	if err := wardCmd("", "db", "import", osv); err != nil {
		return err
	}
	debian := []file{
		{"etc/os-release", filepath.Join(rootfs, "usr/lib/os-release")},
		{"var/lib/dpkg/status", filepath.Join(rootfs, "var/lib/dpkg/status")},
	}
	images := []struct {
		ref    string
		layers [][]file
		env    []string
		out    string
	}{
		{
			ref: "registry.example.com/shop/checkout:1.4.2",
			layers: [][]file{debian, {
				{"srv/worker/requirements.txt", "examples/app/worker/requirements.txt"},
				{"srv/worker/Cargo.lock", "examples/app/worker/Cargo.lock"},
			}, {
				{"srv/api/go.mod", "examples/app/api/go.mod"},
				{"srv/api/go.sum", "examples/app/api/go.sum"},
				{"srv/api/config.py", "examples/secrets/app/config.py"},
			}},
			env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_ENV=production"},
			out: "image-checkout.json",
		},
		{
			ref: "registry.example.com/shop/storefront:2.0.1",
			layers: [][]file{debian, {
				{"srv/web/package-lock.json", "examples/app/web/package-lock.json"},
				{"srv/web/package.json", "examples/app/web/package.json"},
				{"srv/api/go.mod", "examples/app/api/go.mod"},
				{"srv/api/go.sum", "examples/app/api/go.sum"},
			}},
			env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"},
			out: "image-storefront.json",
		},
	}
	for i, im := range images {
		tarPath := filepath.Join(tmp, fmt.Sprintf("image%d.tar", i))
		if err := mkimage(tarPath, im.ref, im.layers, im.env); err != nil {
			return fmt.Errorf("%s: %w", im.ref, err)
		}
		if err := wardCmd(im.out, "image", tarPath, "--list-all-pkgs", "--format", "json"); err != nil {
			return err
		}
		// The tarball stands for the pushed image: name the report after
		// its reference, as a registry scan would.
		p := filepath.Join(out, im.out)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte(tarPath), []byte(im.ref)), 0o644); err != nil {
			return err
		}
	}
	if err := wardCmd("fs-app.json", "fs", "examples/app", "--format", "json"); err != nil {
		return err
	}
	// Every manifest finding, with the controls of the four Kubernetes
	// views as the server's posture job stores them (one --compliance
	// run per view: the CLI takes one).
	if err := wardCmd("config-k8s.json", "config", "examples/k8s", "--format", "json"); err != nil {
		return err
	}
	var views []string
	for _, fw := range jobs.PostureFrameworks { // the views the server's posture job stores
		name := "view-" + fw + ".json"
		if err := wardCmd(name, "config", "examples/k8s", "--compliance", fw, "--format", "json"); err != nil {
			return err
		}
		views = append(views, filepath.Join(out, name))
	}
	if err := mergeCompliance(filepath.Join(out, "config-k8s.json"), views); err != nil {
		return err
	}
	// --alerts appends: start from an empty file.
	if err := os.Remove(filepath.Join(out, "alerts.jsonl")); err != nil && !os.IsNotExist(err) {
		return err
	}
	return wardCmd("", "runtime", "replay", "internal/runtime/testdata/demo.wevt", "--format", "json",
		"--alerts", filepath.Join(out, "alerts.jsonl"), "-q")
}

// mkimage writes a docker-save tarball of ref with one layer per file list.
func mkimage(path, ref string, layers [][]file, env []string) error {
	var ls []v1.Layer
	for _, files := range layers {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, f := range files {
			data, err := os.ReadFile(f.src)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Name: f.dst, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := tw.Write(data); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		b := buf.Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		return err
	}
	if img, err = mutate.Config(img, v1.Config{Env: env, Cmd: []string{"/srv/app"}}); err != nil {
		return err
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(path, r, img)
}
