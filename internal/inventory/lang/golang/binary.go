package golang

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"io"
	"io/fs"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Binary reads the build information of Go executables (ELF, Mach-O, PE):
// the main module, every dependency module (after replacements) and the Go
// standard library version, reported as the package "stdlib" of type
// stdlib. debug/buildinfo needs random access: a streamed file is buffered
// in memory up to MaxSize (larger ones are refused with an error), a file
// given as an io.ReaderAt is read in place.
type Binary struct {
	// MaxSize bounds the executable size buffered when the input is a
	// stream (default langutil.MaxBinarySize, 256 MiB); inputs that are
	// io.ReaderAt are read in place.
	MaxSize int64
}

// Name implements inventory.Extractor.
func (Binary) Name() string { return "go/binary" }

// Version implements inventory.Extractor.
func (Binary) Version() int { return 1 }

// Required implements inventory.Extractor: any regular executable file.
func (Binary) Required(path string, mode fs.FileMode) bool {
	return langutil.IsExecutable(mode) || (mode.IsRegular() && langutil.HasSuffixFold(path, ".exe"))
}

// IsExecutableFormat reports whether head starts like an ELF, Mach-O or PE
// file.
func IsExecutableFormat(head []byte) bool {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("MZ")):
		return true
	case len(head) >= 4:
		m := string(head[:4])
		return m == "\xfe\xed\xfa\xce" || m == "\xfe\xed\xfa\xcf" || m == "\xce\xfa\xed\xfe" || m == "\xcf\xfa\xed\xfe"
	}
	return false
}

// OpenExecutable gives random access to an executable after checking its
// magic number; it returns nil, nil for files that are not executables
// (scripts), so that they are never buffered. When the input's Reader is
// already an io.ReaderAt (a file on disk) it is used as is, without
// buffering; otherwise at most max bytes are read into memory and larger
// files are refused with langutil.ErrTooLarge.
func OpenExecutable(in *inventory.Input, max int64) (io.ReaderAt, error) {
	if max <= 0 {
		max = langutil.MaxBinarySize
	}
	head := make([]byte, 4)
	if ra, ok := in.Reader.(io.ReaderAt); ok && in.Size > 0 {
		n, err := ra.ReadAt(head, 0)
		if n < len(head) || (err != nil && err != io.EOF) {
			return nil, nil
		}
		if !IsExecutableFormat(head) {
			return nil, nil
		}
		return io.NewSectionReader(ra, 0, in.Size), nil
	}
	n, err := io.ReadFull(in.Reader, head)
	if err != nil && n == 0 {
		if err == io.EOF {
			return nil, nil
		}
		return nil, langutil.Errorf(in.Path, 0, "read: %v", err)
	}
	if !IsExecutableFormat(head[:n]) {
		return nil, nil
	}
	rest := &inventory.Input{Path: in.Path, Reader: in.Reader, Size: in.Size - int64(n)}
	data, err := langutil.ReadAll(rest, max-int64(n))
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(append(head[:n], data...)), nil
}

// Extract implements inventory.Extractor.
func (b Binary) Extract(_ context.Context, in *inventory.Input) ([]sbom.Package, error) {
	ra, err := OpenExecutable(in, b.MaxSize)
	if err != nil || ra == nil {
		return nil, err
	}
	bi, err := buildinfo.Read(ra)
	if err != nil {
		// Not a Go binary, or one without build information: nothing to
		// report. Truncated Go binaries are also dropped here, as
		// debug/buildinfo does not tell them apart.
		return nil, nil
	}
	var pkgs []sbom.Package
	var deps []string
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		if m.Path == "" || m.Version == "" || m.Version == "(devel)" {
			continue // replaced by a local directory: no version to match
		}
		p := goPackage(m.Path, m.Version, in.Path, 0, sbom.TypeLibrary)
		deps = append(deps, p.ID)
		pkgs = append(pkgs, p)
	}
	if v := goVersion(bi.GoVersion); v != "" {
		p := goPackage("stdlib", v, in.Path, 0, sbom.TypeStdlib)
		deps = append(deps, p.ID)
		pkgs = append(pkgs, p)
	}
	if bi.Main.Path != "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		p := goPackage(bi.Main.Path, bi.Main.Version, in.Path, 0, sbom.TypeBinary)
		p.DependsOn = deps
		pkgs = append(pkgs, p)
	}
	return langutil.Finish(pkgs), nil
}

// goVersion turns "go1.21.3", "go1.22rc1" or "go1.21.0 X:boringcrypto"
// into "1.21.3"; "devel ..." versions give "".
func goVersion(s string) string {
	s, _, _ = strings.Cut(s, " ")
	s, ok := strings.CutPrefix(s, "go")
	if !ok || s == "" || s[0] < '0' || s[0] > '9' {
		return ""
	}
	s, _, _ = strings.Cut(s, "-")
	return s
}
