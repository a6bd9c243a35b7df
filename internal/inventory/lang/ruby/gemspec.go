package ruby

import (
	"bufio"
	"context"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// MaxGemspecSize bounds how much of an installed gemspec is read (4 MiB).
const MaxGemspecSize = 4 << 20

// Gemspec reads the Ruby specification files RubyGems writes for installed
// gems (specifications/NAME-VERSION.gemspec, also Debian's
// rubygems-integration directories). The file is Ruby code; only the
// literal assignments RubyGems generates are read (s.name = "x".freeze,
// s.version = "1.0", s.licenses = ["MIT".freeze]), nothing is evaluated.
type Gemspec struct{}

// Name implements inventory.Extractor.
func (Gemspec) Name() string { return "ruby/gemspec" }

// Version implements inventory.Extractor.
func (Gemspec) Version() int { return 1 }

// Required implements inventory.Extractor.
func (Gemspec) Required(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() || !strings.HasSuffix(path, ".gemspec") {
		return false
	}
	dir, _ := langutil.SplitLast(path, "/")
	return langutil.Base(dir) == "specifications"
}

var (
	gemAssign = regexp.MustCompile(`^\s*\w+\.(name|version|license|licenses)\s*=\s*(.+?)\s*$`)
	gemString = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'`)
	gemVerNew = regexp.MustCompile(`Gem::Version\.new\(\s*["']([^"']+)["']`)
)

// Extract implements inventory.Extractor.
func (Gemspec) Extract(_ context.Context, in *inventory.Input) ([]sbom.Package, error) {
	sc := bufio.NewScanner(io.LimitReader(in.Reader, MaxGemspecSize))
	sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
	var name, version string
	var licenses []string
	nameLine, lineNo := 0, 0
	for sc.Scan() {
		lineNo++
		m := gemAssign.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		strs := gemString.FindAllStringSubmatch(m[2], -1)
		first := func() string {
			if len(strs) == 0 {
				return ""
			}
			return strs[0][1] + strs[0][2]
		}
		switch m[1] {
		case "name":
			if name == "" {
				name, nameLine = first(), lineNo
			}
		case "version":
			if version == "" {
				if vm := gemVerNew.FindStringSubmatch(m[2]); vm != nil {
					version = vm[1]
				} else {
					version = first()
				}
			}
		case "license", "licenses":
			for _, s := range strs {
				licenses = append(licenses, s[1]+s[2])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, langutil.Errorf(in.Path, lineNo+1, "%v", err)
	}
	if !validName(name) || !validVersion(version) {
		return nil, nil
	}
	v, plat := splitPlatform(version)
	p := gemPackage(name, v, plat, in.Path, nameLine)
	p.Licenses = licenses
	return []sbom.Package{p}, nil
}
