package python

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// MaxMetadataHeader bounds how much of a METADATA / PKG-INFO file is read:
// only the header block is needed (the description body is skipped).
const MaxMetadataHeader = 4 << 20

// Installed reads the core metadata of installed distributions:
// *.dist-info/METADATA (wheels, pip), *.egg-info/PKG-INFO and single-file
// *.egg-info (setuptools, distutils; Debian's python3-* packages).
type Installed struct{}

// Name implements inventory.Extractor.
func (Installed) Name() string { return "python/installed" }

// Version implements inventory.Extractor.
func (Installed) Version() int { return 1 }

// Required implements inventory.Extractor.
func (Installed) Required(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	return strings.HasSuffix(path, ".dist-info/METADATA") ||
		strings.HasSuffix(path, ".egg-info/PKG-INFO") ||
		strings.HasSuffix(path, ".egg-info")
}

// Extract implements inventory.Extractor.
func (Installed) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	sc := bufio.NewScanner(io.LimitReader(in.Reader, MaxMetadataHeader))
	sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
	var name, version, license, expr string
	var classifiers []string
	nameLine, lineNo, last := 0, 0, ""
	for sc.Scan() {
		lineNo++
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			break // end of headers
		}
		if l[0] == ' ' || l[0] == '\t' {
			if last == "license" {
				license += "\n" + strings.TrimSpace(l)
			}
			continue // continuation line
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, langutil.Errorf(in.Path, lineNo, "not a metadata header: %.60q", l)
		}
		v = strings.TrimSpace(v)
		last = strings.ToLower(k)
		switch last {
		case "name":
			name, nameLine = v, lineNo
		case "version":
			version = v
		case "license":
			license = v
		case "license-expression":
			expr = v
		case "classifier":
			if c, ok := strings.CutPrefix(v, "License :: "); ok {
				if i := strings.LastIndex(c, " :: "); i >= 0 {
					c = c[i+4:]
				}
				classifiers = append(classifiers, c)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, langutil.Errorf(in.Path, lineNo+1, "%v", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if name == "" || version == "" || !validName(name) {
		return nil, nil
	}
	p := pypiPackage(name, version, in.Path, nameLine)
	switch {
	case expr != "":
		p.Licenses = []string{expr}
	case license != "" && license != "UNKNOWN" && !bytes.ContainsRune([]byte(license), '\n') && len(license) < 100:
		p.Licenses = []string{license}
	default:
		p.Licenses = classifiers
	}
	return []sbom.Package{p}, nil
}
