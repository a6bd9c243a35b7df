package secret

import (
	"slices"
	"testing"
)

func TestPathMatcherSuffixes(t *testing.T) {
	for _, tc := range []struct {
		expr     string
		suffixes []string // nil: no precheck
		match    []string
		noMatch  []string
	}{
		{`(?i)(?:^|/)[^/]+\.(?:p12|pfx)$`, []string{".p12", ".pfx"}, []string{"a/b.P12", "x.pfx"}, []string{"a.p12.txt", ".p12x", "p12"}},
		{`(?i)\.(?:tf|tfvars|hcl)$`, []string{".tf", ".tfvars", ".hcl"}, []string{"main.tf", "x.TFVARS"}, []string{"main.tfx", "tf"}},
		{`(?i)(?:^|/)[._]?netrc$`, []string{"netrc"}, []string{".netrc", "home/_netrc", "netrc"}, []string{"netrc.bak", "x/anetrc"}},
		{`(?i)(?:^|/)\.env(?:\.[\w.-]+)?$|\benv\[\d+\]$`, nil, []string{".env", "a/.env.prod", "image config: env[3]"}, []string{".envrc"}},
		{`(?m)^config$`, nil, []string{"config"}, []string{"config.bak"}},
		{`(?i)secrets`, nil, []string{"a/secrets/x"}, []string{"a/b"}},
	} {
		pm, err := newPathMatcher(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(pm.suffixes)
		slices.Sort(got)
		want := slices.Clone(tc.suffixes)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: suffixes %q, want %q", tc.expr, got, want)
		}
		for _, p := range tc.match {
			if !pm.MatchString(p) {
				t.Errorf("%s: %q should match", tc.expr, p)
			}
		}
		for _, p := range tc.noMatch {
			if pm.MatchString(p) {
				t.Errorf("%s: %q should not match", tc.expr, p)
			}
		}
	}
}

// TestPathMatcherAgrees checks the precheck never changes the answer of
// the regex alone, for every path rule of the built-in set.
func TestPathMatcherAgrees(t *testing.T) {
	e := builtinEngine(t)
	paths := []string{".netrc", "a/_netrc", "x/.git-credentials", "k.p12", "K.PFX", "deploy/.env.production", "main.tf",
		"a/b.yaml", "a/b.YML", "c.json", "x.properties", "my.cnf", "a.toml", "b.ini", "README.md", "src/a.go", ".pypirc", "pypirc"}
	for _, r := range e.rules {
		if r.path == nil {
			continue
		}
		for _, p := range paths {
			if got, want := r.path.MatchString(p), r.path.re.MatchString(p); got != want {
				t.Errorf("rule %s path %q: matcher %v, regex %v", r.ID, p, got, want)
			}
		}
	}
}
