package rust

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/golang"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Limits of the cargo-auditable reader.
const (
	// MaxAuditSection bounds the compressed ".dep-v0" section (4 MiB).
	MaxAuditSection = 4 << 20
	// MaxAuditJSON bounds the decompressed JSON (16 MiB): a zlib bomb
	// stops there with an error.
	MaxAuditJSON = 16 << 20
)

// Auditable reads the dependency list that cargo-auditable embeds in Rust
// executables: section ".dep-v0" (ELF, PE) or "__DATA,.dep-v0" (Mach-O),
// zlib-compressed JSON {"packages": [{name, version, source, kind,
// dependencies: [index], root}]}. Crates from crates.io (and other
// registries) are reported; local and git crates are not, except the root,
// reported as the binary. Build-time-only crates are marked Dev.
type Auditable struct {
	// MaxSize bounds the executable buffered when the input is a stream
	// (default 256 MiB); io.ReaderAt inputs are read in place.
	MaxSize int64
}

// Name implements inventory.Extractor.
func (Auditable) Name() string { return "rust/auditable" }

// Version implements inventory.Extractor.
func (Auditable) Version() int { return 1 }

// Required implements inventory.Extractor: any regular executable file.
func (Auditable) Required(path string, mode fs.FileMode) bool {
	return langutil.IsExecutable(mode) || (mode.IsRegular() && langutil.HasSuffixFold(path, ".exe"))
}

// ErrNoAuditData is returned by DepSection for executables without
// cargo-auditable data.
var ErrNoAuditData = errors.New("no .dep-v0 section")

// DepSection returns the raw (compressed) .dep-v0 section of an ELF, PE or
// Mach-O executable.
func DepSection(r io.ReaderAt) ([]byte, error) {
	var sec interface {
		Data() ([]byte, error)
	}
	var size uint64
	if f, err := elf.NewFile(r); err == nil {
		if s := f.Section(".dep-v0"); s != nil && s.Type != elf.SHT_NOBITS {
			sec, size = s, s.Size
		}
	} else if f, err := pe.NewFile(r); err == nil {
		if s := f.Section(".dep-v0"); s != nil {
			sec, size = s, uint64(s.Size)
		}
	} else if f, err := macho.NewFile(r); err == nil {
		if s := f.Section(".dep-v0"); s != nil {
			sec, size = s, s.Size
		}
	}
	if sec == nil {
		return nil, ErrNoAuditData
	}
	if size > MaxAuditSection {
		return nil, errors.New(".dep-v0 section too large")
	}
	return sec.Data()
}

type auditInfo struct {
	Packages []struct {
		Name         string `json:"name"`
		Version      string `json:"version"`
		Source       string `json:"source"`
		Kind         string `json:"kind"`
		Dependencies []int  `json:"dependencies"`
		Root         bool   `json:"root"`
	} `json:"packages"`
}

// Extract implements inventory.Extractor.
func (a Auditable) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	ra, err := golang.OpenExecutable(in, a.MaxSize)
	if err != nil || ra == nil {
		return nil, err
	}
	raw, err := DepSection(ra)
	if errors.Is(err, ErrNoAuditData) {
		return nil, nil
	}
	if err != nil {
		return nil, langutil.Errorf(in.Path, 0, "cargo-auditable data: %v", err)
	}
	info, err := decodeAudit(raw)
	if err != nil {
		return nil, langutil.Errorf(in.Path, 0, "cargo-auditable data: %v", err)
	}
	n := len(info.Packages)
	pkgs := make([]sbom.Package, n)
	keep := make([]bool, n)
	for i, e := range info.Packages {
		if !validName(e.Name) || e.Version == "" {
			continue
		}
		local := e.Source == "local" || e.Source == "git"
		if local && !e.Root {
			continue
		}
		p := cratePackage(e.Name, e.Version, in.Path, 0)
		if e.Root {
			p.Type = sbom.TypeBinary
		}
		p.Dev = e.Kind == "build"
		pkgs[i], keep[i] = p, true
	}
	var out []sbom.Package
	for i, e := range info.Packages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !keep[i] {
			continue
		}
		for _, d := range e.Dependencies {
			if d >= 0 && d < n && keep[d] {
				pkgs[i].DependsOn = append(pkgs[i].DependsOn, pkgs[d].ID)
				if e.Root {
					pkgs[d].Direct = true
				}
			}
		}
	}
	for i := range pkgs {
		if keep[i] {
			out = append(out, pkgs[i])
		}
	}
	return langutil.Finish(out), nil
}

// decodeAudit inflates and decodes a .dep-v0 section, bounded by
// MaxAuditJSON.
func decodeAudit(raw []byte) (*auditInfo, error) {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	js, err := io.ReadAll(io.LimitReader(zr, MaxAuditJSON+1))
	if err != nil {
		return nil, err
	}
	if len(js) > MaxAuditJSON {
		return nil, fmt.Errorf("decompressed JSON larger than %d bytes", MaxAuditJSON)
	}
	var info auditInfo
	if err := json.Unmarshal(js, &info); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	return &info, nil
}
