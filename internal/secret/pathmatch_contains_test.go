package secret

import (
	"slices"
	"testing"
)

func TestPathMatcherContains(t *testing.T) {
	for _, tc := range []struct {
		expr     string
		contains []string // nil: no substring precheck
		match    []string
		noMatch  []string
	}{
		{`(?i)(?:^|/)[\w.-]*(?:shadow|passwd)(?:-|[.-](?:bak|old|orig|backup|\d+))?$`, []string{"shadow", "passwd"},
			[]string{"etc/shadow", "etc/passwd-", "x/SHADOW.bak", "gshadow.1"}, []string{"src/a.go", "shadowing.go", "etc/passwd.txt"}},
		{`(?i)(?:^|/)\.?pgpass(?:\.conf)?$`, []string{"pgpass"}, []string{".pgpass", "a/PGPASS.conf"}, []string{"pgpass.txt", "a/b.go"}},
		{`(?i)(?:^|/)\.env(?:\.[\w.-]+)?$|\benv\[\d+\]$`, []string{".env", "env["}, []string{".env", "a/.env.prod", "image config: env[3]"}, []string{".envrc", "environment.go"}},
		{`(?i)secrets`, []string{"secrets"}, []string{"a/secrets/x", "SECRETS"}, []string{"a/b"}},
		{`ab(?:cd|ef)gh`, []string{"abcdgh", "abefgh"}, []string{"xabefghx"}, []string{"abgh"}},
		{`(?i)^[a-z]+$`, nil, []string{"abc"}, []string{"a/b"}},
		{`x*`, nil, []string{""}, nil},
	} {
		pm, err := newPathMatcher(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if pm.suffixes != nil {
			t.Errorf("%s: unexpected suffixes %q", tc.expr, pm.suffixes)
		}
		got := slices.Clone(pm.contains)
		slices.Sort(got)
		want := slices.Clone(tc.contains)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: contains %q, want %q", tc.expr, got, want)
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

// TestPathMatcherNonASCII: (?i) folds some non-ASCII runes onto ASCII
// letters (U+017F long s, U+212A Kelvin sign); the ASCII prechecks must
// not hide those matches from the regex.
func TestPathMatcherNonASCII(t *testing.T) {
	for _, tc := range []struct{ expr, path string }{
		{`(?i)(?:^|/)\.?pgpass(?:\.conf)?$`, "a/.pgpaſs"},
		{`(?i)\.(?:tf|tfvars|hcl)$`, "main.tfvarſ"},
		{`(?i)(?:^|/)[\w.-]*(?:shadow|passwd)$`, "etc/ſhadow"},
	} {
		pm, err := newPathMatcher(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if !pm.re.MatchString(tc.path) {
			t.Fatalf("%s: regex does not match %q (bad test)", tc.expr, tc.path)
		}
		if !pm.MatchString(tc.path) {
			t.Errorf("%s: %q should match", tc.expr, tc.path)
		}
	}
}

// TestPathMatcherPrecheckAgrees checks, for every built-in path rule, that
// the prechecks never change the regex's answer on a corpus of paths.
func TestPathMatcherPrecheckAgrees(t *testing.T) {
	e := builtinEngine(t)
	paths := []string{"etc/shadow", "etc/gshadow-", "etc/passwd.bak", "backup/passwd.1", "x/shadow.go", ".pgpass", "a/pgpass.conf",
		".env", ".env.local", "a/.bashrc", "x/.zshrc", "history[2]", "config: env[0]", ".idea/webServers.xml", "data-sources.json",
		"logins.json", "app/config/master.key", "config/credentials/prod.key", "mysite/settings.py", ".msmtprc", "msmtp/config",
		"db/dump.sql", "a/b.p12", "README.md", "src/net/http/server.go", "Shadow", "PASSWD", "a/.ENV", ".pgpaſs", "ſhadow"}
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
