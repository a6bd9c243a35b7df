package java

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

// GradleLock reads Gradle dependency lockfiles (gradle.lockfile,
// buildscript-gradle.lockfile and the older
// gradle/dependency-locks/*.lockfile): "group:artifact:version=conf,..."
// lines. A package locked only in test configurations is Dev.
type GradleLock struct{}

// Name implements inventory.Extractor.
func (GradleLock) Name() string { return "java/gradlelock" }

// Version implements inventory.Extractor.
func (GradleLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (GradleLock) Required(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	b := langutil.Base(path)
	return b == "gradle.lockfile" || b == "buildscript-gradle.lockfile" ||
		(strings.HasSuffix(b, ".lockfile") && strings.Contains("/"+path, "/gradle/dependency-locks/"))
}

// Extract implements inventory.Extractor.
func (GradleLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var pkgs []sbom.Package
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if lineNo%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "empty=") {
			continue
		}
		coord, confs, _ := strings.Cut(l, "=")
		parts := strings.Split(coord, ":")
		if len(parts) != 3 || !validCoord(parts[0]) || !validCoord(parts[1]) || !validCoord(parts[2]) {
			return nil, langutil.Errorf(in.Path, lineNo, "expected group:artifact:version=configurations, got %.80q", l)
		}
		p := mavenPackage(parts[0], parts[1], parts[2], in.Path, lineNo)
		p.Dev = confs != ""
		for _, c := range strings.Split(confs, ",") {
			if c != "" && !strings.Contains(strings.ToLower(c), "test") {
				p.Dev = false
			}
		}
		pkgs = append(pkgs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, langutil.Errorf(in.Path, lineNo+1, "%v", err)
	}
	return langutil.Finish(pkgs), nil
}
