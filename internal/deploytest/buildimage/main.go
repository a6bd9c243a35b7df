// Command buildimage writes Ward's container image as an OCI image layout
// without a container engine (scripts/build-image.sh runs it):
//
//	go run ./internal/deploytest/buildimage -o DIR [-binary ward] [-version v1.2.3]
//
// Without -binary it builds ./cmd/ward as the release does (CGO_ENABLED=0,
// -trimpath, -ldflags "-s -w"). The layout holds one image: the binary, the
// build machine's CA bundle, deploy/image/passwd and group; user 65532.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wardsec/ward/internal/deploytest"
)

func main() {
	out := flag.String("o", "", "directory of the OCI image layout to write (must not exist)")
	bin := flag.String("binary", "", "ward binary to put in the image (default: build ./cmd/ward)")
	version := flag.String("version", "dev", "version stamped into the binary and the image label")
	ca := flag.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied to /etc/ssl/certs/ca-certificates.crt (empty: none)")
	flag.Parse()
	if err := run(*out, *bin, *version, *ca); err != nil {
		fmt.Fprintln(os.Stderr, "buildimage:", err)
		os.Exit(1)
	}
}

func run(out, bin, version, ca string) error {
	if out == "" {
		return fmt.Errorf("-o DIR is required")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists: choose a new directory", out)
	}
	root := deploytest.RepoRoot()
	if bin == "" {
		tmp, err := os.MkdirTemp("", "ward-buildimage-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		bin = filepath.Join(tmp, "ward")
		if err := deploytest.BuildBinary(root, bin, version); err != nil {
			return err
		}
	}
	img, err := deploytest.BuildImage(out, deploytest.ImageOptions{
		Binary: bin, PasswdDir: filepath.Join(root, "deploy", "image"), CABundle: ca, Version: version,
	})
	if err != nil {
		os.RemoveAll(out)
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", out, d)
	return nil
}
