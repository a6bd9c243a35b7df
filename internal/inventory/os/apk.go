package os

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/package-url/packageurl-go"
	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"
)

// Apk reads lib/apk/db/installed (Alpine, Wolfi, Chainguard).
type Apk struct{}

// Name implements inventory.Extractor.
func (Apk) Name() string { return "os/apk" }

// Version implements inventory.Extractor.
func (Apk) Version() int { return 1 }

// Required implements inventory.Extractor.
func (Apk) Required(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && (p == "lib/apk/db/installed" || p == "usr/lib/apk/db/installed")
}

// ApkEntry is one package record of the installed database.
type ApkEntry struct {
	Line     int
	Name     string // P:
	Version  string // V:
	Arch     string // A:
	License  string // L:
	Origin   string // o:
	Depends  []string
	Provides []string
}

// ParseApkInstalled reads the apk installed database.
func ParseApkInstalled(r io.Reader) ([]ApkEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var (
		out   []ApkEntry
		cur   *ApkEntry
		line  int
		total int
	)
	for sc.Scan() {
		line++
		s := sc.Text()
		total += len(s) + 1
		if total > maxDBBytes {
			return out, fmt.Errorf("%d: database larger than %d bytes", line, maxDBBytes)
		}
		if strings.TrimSpace(s) == "" {
			if cur != nil {
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		if len(s) < 2 || s[1] != ':' {
			return out, fmt.Errorf("%d:1: expected \"X:value\"", line)
		}
		if cur == nil {
			cur = &ApkEntry{Line: line}
		}
		v := s[2:]
		switch s[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'L':
			cur.License = v
		case 'o':
			cur.Origin = v
		case 'D':
			cur.Depends = append(cur.Depends, strings.Fields(v)...)
		case 'p':
			cur.Provides = append(cur.Provides, strings.Fields(v)...)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%d: %w", line+1, err)
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out, nil
}

// apkName strips a constraint ("musl>=1.2", "so:libc.so=1") from a D: or
// p: item.
func apkName(s string) string {
	s = strings.TrimPrefix(s, "!")
	if i := strings.IndexAny(s, "<>=~"); i >= 0 {
		s = s[:i]
	}
	return s
}

// Extract implements inventory.Extractor. Dependencies (D:) are resolved
// through provides (p:) to package names within the database.
func (a Apk) Extract(_ context.Context, in *inventory.Input) ([]sbom.Package, error) {
	entries, perr := ParseApkInstalled(io.LimitReader(in.Reader, maxDBBytes+1))
	if perr != nil {
		perr = fmt.Errorf("%s:%w", in.Path, perr) // keep the records before the error
	}
	provider := map[string]string{}
	for _, e := range entries {
		provider[e.Name] = e.Name
		for _, p := range e.Provides {
			if n := apkName(p); n != "" {
				if _, ok := provider[n]; !ok {
					provider[n] = e.Name
				}
			}
		}
	}
	var out []sbom.Package
	for _, e := range entries {
		if e.Name == "" || e.Version == "" {
			if perr == nil {
				perr = fmt.Errorf("%s:%d: record without a P (name) or V (version) field", in.Path, e.Line)
			}
			continue
		}
		p := sbom.Package{
			Name: e.Name, Version: e.Version, Type: sbom.TypeOS, Arch: e.Arch,
			SourceName: e.Origin, SourceVersion: e.Version, Path: in.Path, Line: e.Line,
		}
		if p.SourceName == "" {
			p.SourceName = e.Name
		}
		if e.License != "" {
			p.Licenses = []string{strings.TrimSpace(e.License)}
		}
		seen := map[string]bool{}
		for _, d := range e.Depends {
			if strings.HasPrefix(d, "!") {
				continue // a conflict, not a dependency
			}
			if n, ok := provider[apkName(d)]; ok && n != e.Name && !seen[n] {
				seen[n] = true
				p.DependsOn = append(p.DependsOn, n)
			}
		}
		a.FinalizeOS(&p, in.OS)
		out = append(out, p)
	}
	return out, perr
}

// FinalizeOS implements inventory.OSFinalizer.
func (Apk) FinalizeOS(p *sbom.Package, o *sbom.OS) {
	p.Ecosystem = Ecosystem(o)
	ns := "alpine"
	if o != nil {
		switch o.Family {
		case "Wolfi":
			ns = "wolfi"
		case "Chainguard":
			ns = "chainguard"
		}
	}
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	if o != nil && o.Version != "" {
		q["distro"] = o.Version
	}
	p.PURL = purl(packageurl.TypeApk, ns, p.Name, p.Version, q)
}
