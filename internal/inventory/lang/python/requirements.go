package python

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"regexp"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// MaxRequirementsSize bounds a requirements file (16 MiB).
const MaxRequirementsSize = 16 << 20

// Requirements reads pip requirements files (requirements*.txt,
// *requirements*.txt, requirements/*.txt). A requirement pinned with a
// single "==" (or "===") gives its version; any other requirement is
// reported with Unpinned set and Version holding its specifier. Options
// lines (-r, -c, -e, --index-url ...), URLs, local paths and direct
// references ("name @ url") are skipped: included files (-r) are separate
// inputs the driver hands over on their own.
type Requirements struct{}

// Name implements inventory.Extractor.
func (Requirements) Name() string { return "python/requirements" }

// Version implements inventory.Extractor.
func (Requirements) Version() int { return 1 }

// Required implements inventory.Extractor.
func (Requirements) Required(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() || !strings.HasSuffix(path, ".txt") {
		return false
	}
	b := langutil.Base(path)
	return strings.Contains(b, "requirements") || strings.Contains(path, "/requirements/") || strings.HasPrefix(path, "requirements/")
}

var reqLine = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$`)
var reqPinned = regexp.MustCompile(`^===?\s*([^\s,*;]+)$`)

// Extract implements inventory.Extractor.
func (Requirements) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, MaxRequirementsSize)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var pkgs []sbom.Package
	lineNo, start := 0, 0
	var logical strings.Builder
	flush := func() {
		l := logical.String()
		logical.Reset()
		if p, ok := parseRequirement(l, in.Path, start); ok {
			pkgs = append(pkgs, p)
		}
	}
	for sc.Scan() {
		lineNo++
		if lineNo%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		l := sc.Text()
		if logical.Len() == 0 {
			start = lineNo
		}
		// Comments: "#" at line start or after whitespace.
		if i := strings.Index(l, "#"); i == 0 || (i > 0 && (l[i-1] == ' ' || l[i-1] == '\t')) {
			l = l[:i]
		}
		l = strings.TrimRight(l, " \t\r")
		if strings.HasSuffix(l, `\`) {
			logical.WriteString(strings.TrimSuffix(l, `\`))
			logical.WriteByte(' ')
			continue
		}
		logical.WriteString(l)
		flush()
	}
	if err := sc.Err(); err != nil {
		return nil, langutil.Errorf(in.Path, lineNo+1, "%v", err)
	}
	if logical.Len() > 0 {
		flush()
	}
	return langutil.Finish(pkgs), nil
}

func parseRequirement(l, path string, line int) (sbom.Package, bool) {
	l = strings.TrimSpace(l)
	if l == "" || strings.HasPrefix(l, "-") {
		return sbom.Package{}, false
	}
	// Per-requirement options (--hash=...) and environment markers.
	if i := strings.Index(l, " --"); i >= 0 {
		l = l[:i]
	}
	if i := strings.IndexByte(l, ';'); i >= 0 {
		l = l[:i]
	}
	l = strings.TrimSpace(l)
	if strings.Contains(l, "://") || strings.HasPrefix(l, ".") || strings.HasPrefix(l, "/") || strings.HasPrefix(l, "git+") {
		return sbom.Package{}, false
	}
	m := reqLine.FindStringSubmatch(l)
	if m == nil || !validName(m[1]) {
		return sbom.Package{}, false
	}
	spec := strings.TrimSpace(m[3])
	if strings.HasPrefix(spec, "@") {
		return sbom.Package{}, false // direct reference
	}
	spec = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(spec, "("), ")"))
	if spec != "" && !strings.ContainsAny(spec[:1], "=<>!~") {
		return sbom.Package{}, false // not a version specifier
	}
	if pm := reqPinned.FindStringSubmatch(spec); pm != nil {
		p := pypiPackage(m[1], pm[1], path, line)
		p.Direct = true
		return p, true
	}
	p := pypiPackage(m[1], "", path, line)
	p.Version = strings.Join(strings.Fields(spec), "")
	p.Unpinned = true
	p.Direct = true
	return p, true
}
