package rules

import (
	"regexp"
	"testing"
)

func TestBuiltinValid(t *testing.T) {
	f, err := ParseWard(BuiltinYAML(), "builtin")
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(f); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range f.Rules {
		if seen[r.ID] {
			t.Errorf("duplicate id %s", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Description == "" {
			t.Errorf("%s: title and description are required for the catalogue", r.ID)
		}
		// The prefilter is the keywords, or the path gate for rules bound
		// to one file format (.pgpass, config/master.key).
		if r.Pattern() != "" && len(r.Keywords) == 0 && r.Path == "" {
			t.Errorf("%s: a built-in rule with a regex needs keywords or a path (the prefilter)", r.ID)
		}
	}
}

func TestPatternAssign(t *testing.T) {
	r := Rule{ID: "x1", Assign: "acme", Value: "[a-f0-9]{8}"}
	re := regexp.MustCompile(r.Pattern())
	for _, s := range []string{`ACME_KEY = "deadbeef"`, `acme_token: deadbeef`, `"acmeKey": "deadbeef"`, `export ACME=deadbeef`, `{\"acme\": \"deadbeef\"}`} {
		m := re.FindStringSubmatch(s)
		if m == nil || m[1] != "deadbeef" {
			t.Errorf("%q: %v", s, m)
		}
	}
	for _, s := range []string{`acme deadbeef`, `ACME_KEY = "deadbeefcafe"`} {
		if re.MatchString(s) {
			t.Errorf("%q matched", s)
		}
	}
}

func TestMergeOverrideAndDisable(t *testing.T) {
	a := &File{Rules: []Rule{{ID: "one", Regex: "a"}, {ID: "two", Regex: "b"}}, Allowlist: Allowlist{Paths: []string{"x"}}}
	b := &File{Rules: []Rule{{ID: "two", Regex: "c"}, {ID: "three", Regex: "d"}}, Disabled: []string{"ONE"}}
	m := Merge(a, nil, b)
	if len(m.Rules) != 2 || m.Rules[0].ID != "two" || m.Rules[0].Regex != "c" || m.Rules[1].ID != "three" {
		t.Errorf("merge: %+v", m.Rules)
	}
	if len(m.Globals()) < 2 || m.Globals()[1].Paths[0] != "x" {
		t.Errorf("globals: %+v", m.Globals())
	}
	if err := Validate(m); err != nil {
		t.Error(err)
	}
}

func TestValidateRejects(t *testing.T) {
	for name, f := range map[string]*File{
		"dup":        {Rules: []Rule{{ID: "a1", Regex: "a"}, {ID: "a1", Regex: "b"}}},
		"severity":   {Rules: []Rule{{ID: "a1", Regex: "a", Severity: "SEVERE"}}},
		"assign":     {Rules: []Rule{{ID: "a1", Assign: "x"}}},
		"both":       {Rules: []Rule{{ID: "a1", Regex: "a", Assign: "x", Value: "y"}}},
		"entropy":    {Rules: []Rule{{ID: "a1", Regex: "a", Entropy: 9}}},
		"path":       {Rules: []Rule{{ID: "a1", Path: "("}}},
		"keyword":    {Rules: []Rule{{ID: "a1", Regex: "a", Keywords: []string{" "}}}},
		"target":     {Rules: []Rule{{ID: "a1", Regex: "a", Allowlist: Allowlist{RegexTarget: "file"}}}},
		"condition":  {Rules: []Rule{{ID: "a1", Regex: "a", Allowlist: Allowlist{Condition: "xor"}}}},
		"global":     {Allowlist: Allowlist{Regexes: []string{"("}}},
		"group":      {Rules: []Rule{{ID: "a1", Regex: "(a)", SecretGroup: 2}}},
		"id":         {Rules: []Rule{{ID: "-bad", Regex: "a"}}},
		"no pattern": {Rules: []Rule{{ID: "a1"}}},
	} {
		if err := Validate(f); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}
