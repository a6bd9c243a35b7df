package ruby

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// GemfileLock reads Bundler's Gemfile.lock / gems.locked: the "specs:" of
// the GEM and GIT sections (PATH sections are local code and skipped),
// with dependency edges from the six-space lines and Direct from the
// DEPENDENCIES section. Platform-specific versions ("1.13.10-x86_64-linux")
// keep the platform as a PURL qualifier.
type GemfileLock struct{}

// Name implements inventory.Extractor.
func (GemfileLock) Name() string { return "ruby/gemfilelock" }

// Version implements inventory.Extractor.
func (GemfileLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (GemfileLock) Required(path string, mode fs.FileMode) bool {
	b := langutil.Base(path)
	return mode.IsRegular() && (b == "Gemfile.lock" || b == "gems.locked")
}

type gemSpec struct {
	name, version, platform string
	line                    int
	deps                    []string
	keep                    bool
}

// splitPlatform separates "1.13.10-x86_64-linux" into version and platform.
func splitPlatform(v string) (string, string) {
	if i := strings.IndexByte(v, '-'); i > 0 {
		return v[:i], v[i+1:]
	}
	return v, ""
}

// Extract implements inventory.Extractor.
func (GemfileLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var specs []gemSpec
	direct := map[string]bool{}
	section, inSpecs := "", false
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if lineNo%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		raw := strings.TrimRight(sc.Text(), " \r")
		if strings.TrimSpace(raw) == "" {
			continue
		}
		t := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(t)
		switch {
		case indent == 0:
			section, inSpecs = t, false
		case section == "DEPENDENCIES" && indent == 2:
			name, _, _ := strings.Cut(t, " ")
			direct[strings.TrimSuffix(name, "!")] = true
		case section != "GEM" && section != "GIT" && section != "PATH":
		case indent == 2:
			inSpecs = t == "specs:"
		case inSpecs && indent == 4:
			name, ver, ok := parseSpecLine(t)
			if !ok {
				return nil, langutil.Errorf(in.Path, lineNo, "expected \"name (version)\", got %.80q", t)
			}
			v, plat := splitPlatform(ver)
			specs = append(specs, gemSpec{name: name, version: v, platform: plat, line: lineNo, keep: section != "PATH" && validName(name) && validVersion(v)})
		case inSpecs && indent == 6 && len(specs) > 0:
			name, _, _ := strings.Cut(t, " ")
			specs[len(specs)-1].deps = append(specs[len(specs)-1].deps, name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, langutil.Errorf(in.Path, lineNo+1, "%v", err)
	}
	ids := map[string][]string{}
	pkgs := make([]sbom.Package, 0, len(specs))
	for _, s := range specs {
		if !s.keep {
			continue
		}
		p := gemPackage(s.name, s.version, s.platform, in.Path, s.line)
		p.Direct = direct[s.name]
		ids[s.name] = append(ids[s.name], p.ID)
		pkgs = append(pkgs, p)
	}
	i := 0
	for _, s := range specs {
		if !s.keep {
			continue
		}
		for _, d := range s.deps {
			pkgs[i].DependsOn = append(pkgs[i].DependsOn, ids[d]...)
		}
		i++
	}
	return langutil.Finish(pkgs), nil
}

// parseSpecLine splits "name (version)".
func parseSpecLine(s string) (string, string, bool) {
	name, rest, ok := strings.Cut(s, " ")
	if !ok || !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
		return "", "", false
	}
	return name, rest[1 : len(rest)-1], true
}
