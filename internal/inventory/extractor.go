// Package inventory finds packages in files. Each extractor is a plain value
// that says which files it wants and turns one file into packages; the
// driver (Extract*) feeds it files from a directory, a root filesystem or
// image layers, in an explicit list built by the caller.
//
// Extract(ctx, art, extractors, opts) reads each image layer once (layers
// concurrently), runs the extractors on the files they want, and merges the
// per-layer results: a package file replaced or deleted by a later layer
// (whiteouts, opaque directories) no longer counts, and each package records
// the lowest layer from which its file has listed it without a gap (the
// layer that introduced it) with that layer's build instruction. Optional
// interfaces let an extractor detect the OS (OSDetector), finalize OS
// package ecosystems once the OS is known (OSFinalizer), or annotate other
// extractors' packages (Annotator: licences from copyright files).
//
// With Options.CacheDir, per-layer results are cached in
// CacheDir/inventory/ keyed by the layer diff ID and the names and versions
// of the extractors, so rescanning an image that shares layers reads only
// the new ones; layer indexes go to CacheDir/layer-index/ for
// artifact.Walk. CleanCache removes both.
package inventory

import (
	"context"
	"io"
	"io/fs"

	"github.com/wardsec/ward/pkg/sbom"
)

// Input is one file handed to an extractor.
type Input struct {
	// Path is slash-separated and relative to the scan root (no leading
	// slash), e.g. "var/lib/dpkg/status" or "app/package-lock.json".
	Path string
	// Reader yields the file's bytes. Extractors must bound what they read
	// (they are given hostile files) and must not keep it after Extract.
	Reader io.Reader
	Size   int64
	Mode   fs.FileMode
	// OS is the operating system detected so far in the target, if any
	// (OS package extractors use it to build the ecosystem "Debian:12").
	OS *sbom.OS
}

// Extractor turns files of one kind into packages.
type Extractor interface {
	// Name is stable and unique ("os/dpkg", "javascript/packagelock").
	Name() string
	// Version changes whenever the extractor's output for the same input
	// may change; it is part of the layer cache key.
	Version() int
	// Required reports, from the path and mode alone, whether the file is
	// for this extractor. It is called for every file: keep it cheap.
	Required(path string, mode fs.FileMode) bool
	// Extract reads one file. Positional detail (Line) is filled where the
	// format allows. An error names the problem and, where known, the line.
	Extract(ctx context.Context, in *Input) ([]sbom.Package, error)
}
