package os

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/package-url/packageurl-go"
	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"
)

const (
	maxDBBytes   = 256 << 20 // a package database larger than this is refused
	maxLineBytes = 1 << 20
)

// Dpkg reads var/lib/dpkg/status and distroless var/lib/dpkg/status.d/*.
type Dpkg struct{}

// Name implements inventory.Extractor.
func (Dpkg) Name() string { return "os/dpkg" }

// Version implements inventory.Extractor.
func (Dpkg) Version() int { return 1 }

// Required implements inventory.Extractor.
func (Dpkg) Required(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	if p == "var/lib/dpkg/status" {
		return true
	}
	if rest, ok := strings.CutPrefix(p, "var/lib/dpkg/status.d/"); ok {
		return rest != "" && !strings.Contains(rest, "/") && !strings.HasSuffix(rest, ".md5sums")
	}
	return false
}

// Extract implements inventory.Extractor.
func (d Dpkg) Extract(_ context.Context, in *inventory.Input) ([]sbom.Package, error) {
	statusD := strings.HasPrefix(in.Path, "var/lib/dpkg/status.d/")
	entries, perr := ParseDpkgStatus(io.LimitReader(in.Reader, maxDBBytes+1))
	if perr != nil {
		perr = fmt.Errorf("%s:%w", in.Path, perr) // keep the paragraphs before the error
	}
	var out []sbom.Package
	for _, e := range entries {
		if !statusD && !e.Installed() {
			continue
		}
		if e.Package == "" || e.Version == "" {
			if perr == nil {
				perr = fmt.Errorf("%s:%d: paragraph without Package or Version", in.Path, e.Line)
			}
			continue
		}
		p := sbom.Package{
			Name: e.Package, Version: e.Version, Type: sbom.TypeOS,
			SourceName: e.SourceName(), SourceVersion: e.SourceVersion(),
			Arch: e.Architecture, Path: in.Path, Line: e.Line,
			DependsOn: e.DependNames(),
		}
		d.FinalizeOS(&p, in.OS)
		out = append(out, p)
	}
	return out, perr
}

// FinalizeOS implements inventory.OSFinalizer.
func (Dpkg) FinalizeOS(p *sbom.Package, o *sbom.OS) {
	p.Ecosystem = Ecosystem(o)
	ns := "debian"
	if o != nil && o.Family == "Ubuntu" {
		ns = "ubuntu"
	}
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	if d := distroQualifier(o); d != "" {
		q["distro"] = d
	}
	if p.SourceName != "" && p.SourceName != p.Name {
		q["upstream"] = p.SourceName
	}
	p.PURL = purl(packageurl.TypeDebian, ns, p.Name, p.Version, q)
}

// DpkgEntry is one paragraph of a dpkg status file.
type DpkgEntry struct {
	Line         int // first line of the paragraph
	Package      string
	Version      string
	Status       string
	Source       string // "name" or "name (version)"
	Architecture string
	Depends      string
	PreDepends   string
}

// Installed reports whether the package's files are on disk (dpkg's
// "installed", "half-configured", "unpacked", "triggers-*" states).
func (e *DpkgEntry) Installed() bool {
	f := strings.Fields(e.Status)
	if len(f) != 3 {
		return false
	}
	switch f[2] {
	case "installed", "half-configured", "unpacked", "half-installed", "triggers-awaited", "triggers-pending":
		return true
	}
	return false
}

// SourceName is the source package (dpkg-query ${source:Package}).
func (e *DpkgEntry) SourceName() string {
	if e.Source == "" {
		return e.Package
	}
	name, _, _ := strings.Cut(e.Source, " ")
	return name
}

// SourceVersion is the source version (dpkg-query ${source:Version}).
func (e *DpkgEntry) SourceVersion() string {
	if _, v, ok := strings.Cut(e.Source, "("); ok {
		return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), ")"))
	}
	return e.Version
}

// DependNames lists the package names of Pre-Depends and Depends (every
// alternative, without version constraints or architecture qualifiers).
func (e *DpkgEntry) DependNames() []string {
	var out []string
	seen := map[string]bool{}
	for _, field := range []string{e.PreDepends, e.Depends} {
		for _, dep := range strings.Split(field, ",") {
			for _, alt := range strings.Split(dep, "|") {
				alt = strings.TrimSpace(alt)
				if i := strings.IndexAny(alt, " (["); i >= 0 {
					alt = alt[:i]
				}
				alt, _, _ = strings.Cut(alt, ":")
				if alt != "" && !seen[alt] {
					seen[alt] = true
					out = append(out, alt)
				}
			}
		}
	}
	return out
}

// ParseDpkgStatus reads RFC 822-style paragraphs. Errors carry the line.
func ParseDpkgStatus(r io.Reader) ([]DpkgEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var (
		out   []DpkgEntry
		cur   *DpkgEntry
		field string // last field, for continuation lines
		line  int
		total int
	)
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
		field = ""
	}
	for sc.Scan() {
		line++
		b := sc.Bytes()
		total += len(b) + 1
		if total > maxDBBytes {
			return out, fmt.Errorf("%d: database larger than %d bytes", line, maxDBBytes)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			flush()
			continue
		}
		if b[0] == ' ' || b[0] == '\t' {
			if field == "" {
				return out, fmt.Errorf("%d:1: continuation line outside a field", line)
			}
			if cur != nil && (field == "depends" || field == "pre-depends") {
				appendField(cur, field, " "+strings.TrimSpace(string(b)))
			}
			continue
		}
		if b[0] == '#' {
			continue
		}
		k, v, ok := bytes.Cut(b, []byte{':'})
		if !ok {
			return out, fmt.Errorf("%d:1: expected \"Field: value\"", line)
		}
		if cur == nil {
			cur = &DpkgEntry{Line: line}
		}
		field = strings.ToLower(string(bytes.TrimSpace(k)))
		val := string(bytes.TrimSpace(v))
		switch field {
		case "package":
			cur.Package = val
		case "version":
			cur.Version = val
		case "status":
			cur.Status = val
		case "source":
			cur.Source = val
		case "architecture":
			cur.Architecture = val
		case "depends":
			cur.Depends = val
		case "pre-depends":
			cur.PreDepends = val
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%d: %w", line+1, err)
	}
	flush()
	return out, nil
}

func appendField(e *DpkgEntry, field, v string) {
	switch field {
	case "depends":
		e.Depends += v
	case "pre-depends":
		e.PreDepends += v
	}
}

func purl(typ, ns, name, version string, q map[string]string) string {
	return packageurl.NewPackageURL(typ, ns, name, version, packageurl.QualifiersFromMap(q), "").ToString()
}
