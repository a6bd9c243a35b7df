// Package sbom is Ward's inventory model: what a target contains (OS,
// packages, layers, relationships). Extractors fill it, the vulnerability
// matcher reads it, and the CycloneDX and SPDX codecs write and read it.
package sbom

import "sort"

// Inventory is everything found in one target.
type Inventory struct {
	// Target is what was scanned (image reference, directory, ...).
	Target string `json:"target"`
	// ArtifactType is "container_image", "filesystem", "rootfs", "sbom".
	ArtifactType string `json:"artifact_type"`
	// Digest of the image manifest, or empty.
	Digest string  `json:"digest,omitempty"`
	OS     *OS     `json:"os,omitempty"`
	Layers []Layer `json:"layers,omitempty"`
	// Packages in a deterministic order (see Sort).
	Packages []Package `json:"packages"`
	// Relationships between packages, by Package.ID.
	Relationships []Relationship `json:"relationships,omitempty"`
}

// OS is the detected operating system.
type OS struct {
	// Family is the OSV-style distro name: "Debian", "Ubuntu", "Alpine",
	// "AlmaLinux", "Rocky Linux", "Red Hat", "CentOS", "Oracle Linux",
	// "Amazon Linux", "SUSE", "openSUSE", "Wolfi", "Chainguard".
	Family string `json:"family"`
	// Name is the pretty name from os-release.
	Name string `json:"name,omitempty"`
	// Version is the release ("12", "3.20.1", "9.4").
	Version string `json:"version"`
	// Codename ("bookworm") where known.
	Codename string `json:"codename,omitempty"`
	// Distroless is set for distroless images (no package manager, status.d).
	Distroless bool `json:"distroless,omitempty"`
	// CPE is the os-release CPE_NAME where given (Red Hat's names the
	// product stream of its OSV ecosystem).
	CPE string `json:"cpe,omitempty"`
}

// Layer is one image layer.
type Layer struct {
	Index     int    `json:"index"`
	Digest    string `json:"digest"`
	DiffID    string `json:"diff_id"`
	CreatedBy string `json:"created_by,omitempty"`
	Size      int64  `json:"size,omitempty"`
}

// Package kinds, by how they were found.
const (
	TypeOS      = "os"
	TypeLibrary = "library"
	TypeBinary  = "binary"
	TypeStdlib  = "stdlib"
)

// Package is one installed or locked package.
type Package struct {
	// ID is unique within the inventory (stable: derived from PURL and path).
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	// Ecosystem is OSV's name: "Debian:12", "Alpine:v3.20", "AlmaLinux:9",
	// "PyPI", "npm", "Go", "crates.io", "Maven", "RubyGems", "Packagist",
	// "NuGet".
	Ecosystem string `json:"ecosystem"`
	PURL      string `json:"purl"`
	// Type is TypeOS, TypeLibrary, TypeBinary or TypeStdlib.
	Type string `json:"type,omitempty"`
	// SourceName and SourceVersion: the source package (dpkg Source:, rpm
	// SOURCERPM, apk origin), used to match distro advisories.
	SourceName    string   `json:"source_name,omitempty"`
	SourceVersion string   `json:"source_version,omitempty"`
	Arch          string   `json:"arch,omitempty"`
	Licenses      []string `json:"licenses,omitempty"`
	// Path is the file that recorded the package (lockfile, status file,
	// binary), relative to the target root, slash-separated.
	Path string `json:"path"`
	// Line where the package is declared in Path, if known.
	Line int `json:"line,omitempty"`
	// Layer that introduced the package (images only).
	LayerDigest    string `json:"layer_digest,omitempty"`
	LayerDiffID    string `json:"layer_diff_id,omitempty"`
	LayerCreatedBy string `json:"layer_created_by,omitempty"`
	// Direct is true for a direct dependency of the project (lockfiles).
	Direct bool `json:"direct,omitempty"`
	Dev    bool `json:"dev,omitempty"`
	// Unpinned is set when the manifest gives no exact version (e.g. a
	// requirements.txt line "flask>=1"); Version then holds the constraint.
	Unpinned bool `json:"unpinned,omitempty"`
	// DependsOn lists the IDs of packages (found in the same file) that
	// this package depends on, where the lockfile states it. The inventory
	// driver turns these into Relationships of type RelDependsOn.
	DependsOn []string `json:"depends_on,omitempty"`
}

// Relationship types.
const (
	RelDependsOn = "depends_on"
	RelContains  = "contains"
)

// Relationship links two packages by ID.
type Relationship struct {
	From string `json:"from"`
	To   string `json:"to"`
	Type string `json:"type"`
}

// Sort puts packages in a deterministic order: type (OS first), ecosystem,
// name, version, path, line, ID.
func (inv *Inventory) Sort() {
	rank := func(t string) int {
		switch t {
		case TypeOS:
			return 0
		case TypeLibrary:
			return 1
		case TypeBinary:
			return 2
		case TypeStdlib:
			return 3
		}
		return 4
	}
	sort.SliceStable(inv.Packages, func(i, j int) bool {
		a, b := &inv.Packages[i], &inv.Packages[j]
		if ra, rb := rank(a.Type), rank(b.Type); ra != rb {
			return ra < rb
		}
		if a.Ecosystem != b.Ecosystem {
			return a.Ecosystem < b.Ecosystem
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.ID < b.ID
	})
}
