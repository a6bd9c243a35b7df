package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang"
	osx "github.com/wardsec/ward/internal/inventory/os"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// sbomFlags are the flags of `ward sbom`.
type sbomFlags struct {
	platform string
	insecure []string
	rootfs   bool
	noCache  bool
	imageSrc []string
}

// newSBOMCmd builds `ward sbom TARGET --format cyclonedx|spdx`.
func newSBOMCmd(g *Globals) *cobra.Command {
	var (
		f      sbomFlags
		format string
		att    attestShortcut
	)
	cmd := &cobra.Command{
		Use:   "sbom TARGET",
		Short: "Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON)",
		Long: `Write the inventory of a target as an SBOM: CycloneDX 1.6 JSON (--format cyclonedx,
the default) or SPDX 2.3 JSON (--format spdx), with PURLs, licences, image layers
and the dependency graph.

TARGET is an image reference (registry, no daemon needed), a docker save tarball,
an OCI layout directory or OCI archive, a directory (lockfiles and manifests) or,
with --rootfs, a root file system (installed-package databases). An SBOM file
(CycloneDX or SPDX JSON) is read and written again in the chosen format.
Prefixes force the kind: registry:, docker-archive:, oci-archive:, oci:, dir:.`,
		Example: `  ward sbom alpine:3.20
  ward sbom --format spdx -o app.spdx.json ./app
  ward sbom --rootfs /mnt/rootfs
  ward sbom image.tar --platform linux/arm64
  ward sbom --attest --key cosign.key registry.example.com/app:1.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := strings.ToLower(format)
			var write func(io.Writer, *sbom.Inventory) error
			var predicateType string
			opts := sbom.WriteOptions{ToolVersion: g.Info.Version}
			switch format {
			case sbom.FormatCycloneDX, "cyclonedx-json", "cdx":
				write = func(w io.Writer, inv *sbom.Inventory) error { return sbom.WriteCycloneDXOptions(w, inv, opts) }
				predicateType = "cyclonedx"
			case sbom.FormatSPDX, "spdx-json":
				write = func(w io.Writer, inv *sbom.Inventory) error { return sbom.WriteSPDXOptions(w, inv, opts) }
				predicateType = "spdxjson"
			default:
				return usagef("ward sbom: unknown --format %q (want cyclonedx or spdx)", format)
			}
			if err := checkImageSrc(f.imageSrc); err != nil {
				return err
			}
			if err := att.prepare(g, "attest", args[0]); err != nil {
				return err
			}
			inv, scanErrs, err := buildInventory(cmd.Context(), g, args[0], f)
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if len(scanErrs) > 0 {
				for _, e := range scanErrs {
					fmt.Fprintln(g.Stderr, "ward: scan error: "+termSafe(e.Error(), false))
				}
			}
			if !att.enabled {
				if err := g.writeOutput(func(w io.Writer) error { return write(w, inv) }); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
			} else {
				// The document is signed as written: render it once.
				var doc bytes.Buffer
				if err := write(&doc, inv); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				if err := g.writeOutput(func(w io.Writer) error { _, err := w.Write(doc.Bytes()); return err }); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				if len(scanErrs) > 0 {
					// An incomplete inventory is not attested.
					fmt.Fprintln(g.Stderr, "ward: not attesting an SBOM with scan errors")
					return &ExitError{Code: ExitScanError}
				}
				if err := att.attest(cmd.Context(), g, f.insecure, args[0], inv.Digest, predicateType, doc.Bytes()); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
			}
			if len(scanErrs) > 0 {
				return &ExitError{Code: ExitScanError}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	// ward sbom's own --format (it shadows the report formats of the other
	// commands, which an SBOM cannot be written in).
	fl.StringVarP(&format, "format", "f", sbom.FormatCycloneDX, "SBOM format: cyclonedx (CycloneDX 1.6 JSON) or spdx (SPDX 2.3 JSON)")
	fl.StringVar(&f.platform, "platform", "", "image platform os/arch[/variant] of a multi-platform image (default linux/<host arch>)")
	fl.StringSliceVar(&f.insecure, "insecure-registry", nil, "registry host:port reached over plain HTTP or unverified TLS (repeatable)")
	addImageSrcFlag(fl, &f.imageSrc)
	fl.BoolVar(&f.rootfs, "rootfs", false, "the directory is a root file system: read installed-package databases")
	fl.BoolVar(&f.noCache, "no-cache", false, "do not read or write the per-layer cache")
	att.register(fl, "attest", "sign the SBOM as an in-toto attestation (cosign-compatible) and attach it to the scanned image in its registry")
	return cmd
}

// buildInventory opens the target (or reads an SBOM file) and runs every
// extractor over it.
func buildInventory(ctx context.Context, g *Globals, target string, f sbomFlags) (*sbom.Inventory, []finding.ScanError, error) {
	if inv, ok, err := readSBOMFile(target); ok {
		return inv, nil, err
	}
	cacheDir := g.CacheDir
	if f.noCache {
		cacheDir = ""
	}
	art, err := artifact.Open(ctx, target, artifact.Options{
		Platform: f.platform, InsecureRegistries: f.insecure, Logger: g.Logger, Rootfs: f.rootfs, CacheDir: cacheDir,
		ImageSources: f.imageSrc,
	})
	if err != nil {
		return nil, nil, err
	}
	defer art.Close()
	extractors := append(osx.Extractors(), lang.Extractors()...)
	return inventory.Extract(ctx, art, extractors, inventory.Options{CacheDir: cacheDir, Logger: g.Logger})
}

// readSBOMFile reads target as an SBOM when it is a JSON file.
func readSBOMFile(target string) (*sbom.Inventory, bool, error) {
	st, err := os.Stat(target)
	if err != nil || !st.Mode().IsRegular() {
		return nil, false, nil
	}
	fh, err := os.Open(target)
	if err != nil {
		return nil, false, nil
	}
	defer fh.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(fh, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n\xef\xbb\xbf")
	if len(head) == 0 || head[0] != '{' {
		return nil, false, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return nil, true, err
	}
	inv, err := sbom.Read(fh)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", target, err)
	}
	if inv.Target == "" {
		inv.Target = target
	}
	return inv, true, nil
}
