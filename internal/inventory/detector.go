package inventory

import (
	"context"

	"github.com/wardsec/ward/pkg/sbom"
)

// OSDetector is an extractor that recognises the operating system from a
// release file. The driver calls DetectOS (not Extract) for its files; of
// the files that survive in the final image, the lowest rank wins.
type OSDetector interface {
	Extractor
	DetectOS(ctx context.Context, in *Input) (os *sbom.OS, rank int, err error)
}

// OSFinalizer is an extractor of OS packages whose ecosystem and PURL depend
// on the final operating system, which may be detected in another layer
// than the package database. The driver calls FinalizeOS on each of its
// packages once the OS is known (and with nil when none was found). Per-layer
// results are cached before this step, so they do not depend on the OS.
type OSFinalizer interface {
	Extractor
	FinalizeOS(p *sbom.Package, os *sbom.OS)
}

// Annotator is an extractor whose files add detail to packages that another
// extractor found, such as licences from Debian copyright files. The driver
// calls Annotate (not Extract) for its files and applies the annotations of
// files that survive in the final image to the packages of the named
// extractor.
type Annotator interface {
	Extractor
	Annotate(ctx context.Context, in *Input) ([]Annotation, error)
}

// Annotation adds licences to the package Name found by Extractor.
type Annotation struct {
	Extractor string   `json:"extractor"`
	Name      string   `json:"name"`
	Licenses  []string `json:"licenses,omitempty"`
}
