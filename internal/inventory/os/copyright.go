package os

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"
)

// DpkgCopyright reads the licences of Debian packages from
// usr/share/doc/<package>/copyright (dpkg records none in its database):
// the License: fields of machine-readable (DEP-5) files, else references
// to /usr/share/common-licenses/<name>. It implements inventory.Annotator
// and annotates the packages of the Dpkg extractor.
type DpkgCopyright struct{}

const maxCopyrightBytes = 1 << 20

// Name implements inventory.Extractor.
func (DpkgCopyright) Name() string { return "os/dpkg-copyright" }

// Version implements inventory.Extractor.
func (DpkgCopyright) Version() int { return 1 }

// Required implements inventory.Extractor.
func (DpkgCopyright) Required(p string, mode fs.FileMode) bool {
	rest, ok := strings.CutPrefix(p, "usr/share/doc/")
	if !ok || !mode.IsRegular() {
		return false
	}
	pkg, file, ok := strings.Cut(rest, "/")
	return ok && pkg != "" && file == "copyright"
}

// Extract implements inventory.Extractor; licences come through Annotate.
func (DpkgCopyright) Extract(context.Context, *inventory.Input) ([]sbom.Package, error) {
	return nil, nil
}

var commonLicense = regexp.MustCompile(`/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9.+-]*[A-Za-z0-9+])`)

// Annotate implements inventory.Annotator.
func (DpkgCopyright) Annotate(_ context.Context, in *inventory.Input) ([]inventory.Annotation, error) {
	pkg := strings.TrimSuffix(strings.TrimPrefix(in.Path, "usr/share/doc/"), "/copyright")
	ls, err := ParseCopyright(io.LimitReader(in.Reader, maxCopyrightBytes))
	if err != nil {
		return nil, fmt.Errorf("%s:%w", in.Path, err)
	}
	if len(ls) == 0 {
		return nil, nil
	}
	return []inventory.Annotation{{Extractor: Dpkg{}.Name(), Name: pkg, Licenses: ls}}, nil
}

// ParseCopyright returns the licence short names of a Debian copyright
// file, in order of first appearance.
func ParseCopyright(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var out []string
	seen := map[string]bool{}
	add := func(l string) {
		l = strings.TrimSpace(l)
		if l != "" && !seen[l] && len(l) < 200 {
			seen[l] = true
			out = append(out, l)
		}
	}
	var common []string
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if k, v, ok := strings.Cut(s, ":"); ok && strings.EqualFold(k, "License") {
			// "License: GPL-2+ or Artistic" names the licences of a Files
			// paragraph; a bare "License: X" with text below defines X.
			add(v)
			continue
		}
		for _, m := range commonLicense.FindAllStringSubmatch(s, -1) {
			common = append(common, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%d: %w", line+1, err)
	}
	if len(out) == 0 {
		for _, c := range common {
			add(c)
		}
	}
	return out, nil
}
