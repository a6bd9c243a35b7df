package lang

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langtest"
	"github.com/wardsec/ward/pkg/sbom"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestExtractorNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Extractors() {
		n := e.Name()
		if n == "" || !strings.Contains(n, "/") {
			t.Errorf("bad name %q", n)
		}
		if seen[n] {
			t.Errorf("duplicate extractor name %q", n)
		}
		seen[n] = true
		if e.Version() < 1 {
			t.Errorf("%s: version %d", n, e.Version())
		}
	}
	if len(seen) != 21 {
		t.Errorf("%d extractors, want 21", len(seen))
	}
}

// scanDir is a minimal driver: every regular file under root goes to every
// extractor that wants it.
func scanDir(t testing.TB, root string) []sbom.Package {
	t.Helper()
	exs := Extractors()
	var out []sbom.Package
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		for _, ex := range exs {
			if !ex.Required(rel, info.Mode()) {
				continue
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			pkgs, err := ex.Extract(context.Background(), &inventory.Input{Path: rel, Reader: f, Size: info.Size(), Mode: info.Mode()})
			f.Close()
			if err != nil {
				t.Errorf("%s on %s: %v", ex.Name(), rel, err)
			}
			out = append(out, pkgs...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return false
	})
	return out
}

// TestExampleApp scans the bundled sample application (examples/app) the
// way the README's main command does and checks that the known-vulnerable
// pins are all found.
func TestExampleApp(t *testing.T) {
	root := filepath.Join("..", "..", "..", "examples", "app")
	pkgs := scanDir(t, root)
	langtest.CheckInvariants(t, pkgs)
	have := map[string]bool{}
	for _, p := range pkgs {
		have[p.Ecosystem+" "+p.Name+" "+p.Version] = true
	}
	for _, want := range []string{
		"Go golang.org/x/text 0.3.0",
		"Go github.com/dgrijalva/jwt-go 3.2.0+incompatible",
		"npm express 4.16.0",
		"npm lodash 4.17.4",
		"npm minimist 0.0.8",
		"PyPI flask 1.0.0",
		"PyPI jinja2 2.10",
		"PyPI requests 2.19.1",
		"crates.io smallvec 0.6.9",
		"crates.io time 0.1.42",
		"Maven org.apache.logging.log4j:log4j-core 2.14.1",
		"Maven com.fasterxml.jackson.core:jackson-databind 2.9.8",
		"Packagist guzzlehttp/guzzle 6.3.0",
		"RubyGems rack 2.0.4",
		"RubyGems nokogiri 1.8.2",
	} {
		if !have[want] {
			t.Errorf("missing %s", want)
		}
	}
	langtest.Golden(t, filepath.Join("testdata", "example-app.json"), pkgs, *update)
}

// TestNoCrossTalkOnExamples checks that manifests no extractor handles
// (sources, package.json of the project itself, Cargo.toml) are not
// claimed.
func TestNoCrossTalkOnExamples(t *testing.T) {
	exs := Extractors()
	for _, p := range []string{"README.md", "api/main.go", "worker/src/main.rs", "web/package.json", "billing/composer.json", "worker/Cargo.toml", "legacy-rails/Gemfile"} {
		for _, ex := range exs {
			if ex.Required(p, 0o644) {
				t.Errorf("%s claims %s", ex.Name(), p)
			}
		}
	}
}

var benchPaths = func() []string {
	var ps []string
	dirs := []string{"usr/lib/python3/dist-packages/six-1.16.0.dist-info", "app/node_modules/express", "app/node_modules/@babel/core/lib", "usr/share/doc/libc6", "srv/app/WEB-INF/lib", "etc/ssl/certs", "var/lib/dpkg/info", "usr/lib/ruby/gems/3.1.0/specifications", "home/u/src/project"}
	files := []string{"METADATA", "RECORD", "package.json", "index.js", "README.md", "copyright", "x.jar", "ca.pem", "libc6.list", "rake-13.0.6.gemspec", "go.mod", "main.go", "Cargo.lock", "requirements.txt", "yarn.lock"}
	for i := 0; i < 20; i++ {
		for _, d := range dirs {
			for _, f := range files {
				ps = append(ps, fmt.Sprintf("%s/%d/%s", d, i, f))
			}
		}
	}
	return ps
}()

// BenchmarkRequired measures the per-file cost of asking every language
// extractor whether it wants a path (called for every file of a target).
func BenchmarkRequired(b *testing.B) {
	exs := Extractors()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, p := range benchPaths {
			for _, ex := range exs {
				if ex.Required(p, 0o644) {
					n++
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchPaths)), "ns/path")
	_ = n
}
