package osv

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := `{"id":"X-1","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"}]},{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}],"versions":["0.9"]}],"unknown_field":1}`
	v, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != "X-1" || len(v.Affected) != 1 || len(v.Affected[0].Ranges) != 2 || !reflect.DeepEqual(v.IDs(), []string{"X-1", "CVE-1"}) {
		t.Fatalf("parsed %+v", v)
	}
	bad := []struct{ doc, msg string }{
		{"{\n  \"id\": \"X\",\n  \"affected\": [,]\n}", "3:16"},
		{`{"id": 5}`, "1:9: id: cannot read number"},
		{`{"summary":"no id"}`, "advisory has no id"},
		{`{"id":"X","affected":[{"package":{"ecosystem":"PyPI"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`, "package name or ecosystem missing"},
		{`{"id":"X","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"WHAT","events":[]}]}]}`, "unknown range type"},
		{`{"id":"X","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0","fixed":"1"}]}]}]}`, "want exactly one"},
		{`{"id":"X","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{}]}]}]}`, "want exactly one"},
		{`{"id":"X"} {"id":"Y"}`, "unexpected data after"},
		{``, "EOF"},
		{`[]`, "cannot read array"},
	}
	for _, tt := range bad {
		_, err := Parse([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q) error = %v, want %q", tt.doc, err, tt.msg)
		}
	}
	if _, err := Parse(make([]byte, MaxAdvisorySize+1)); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("oversized advisory: %v", err)
	}
}

func ev(kind, v string) Event {
	switch kind {
	case "i":
		return Event{Introduced: v}
	case "f":
		return Event{Fixed: v}
	case "l":
		return Event{LastAffected: v}
	}
	return Event{Limit: v}
}

func TestEvaluate(t *testing.T) {
	r := func(typ string, evs ...Event) Range { return Range{Type: typ, Events: evs} }
	tests := []struct {
		name     string
		eco, ver string
		ranges   []Range
		versions []string
		want     bool
		fixed    []string
	}{
		{"introduced 0 fixed", "PyPI", "1.0.0", []Range{r("ECOSYSTEM", ev("i", "0"), ev("f", "1.1"))}, nil, true, []string{"1.1"}},
		{"pep440 1.0.0 == 1.0 fixed", "PyPI", "1.0.0", []Range{r("ECOSYSTEM", ev("i", "0"), ev("f", "1.0"))}, nil, false, nil},
		{"git range first is skipped", "PyPI", "1.0", []Range{r("GIT", ev("i", "0"), ev("f", "abc")), r("ECOSYSTEM", ev("i", "0"), ev("f", "2.0"))}, nil, true, []string{"2.0"}},
		{"only git", "PyPI", "1.0", []Range{r("GIT", ev("i", "0"))}, nil, false, nil},
		{"two intervals, in second", "npm", "2.5.0", []Range{r("SEMVER", ev("i", "1.0.0"), ev("f", "1.5.0"), ev("i", "2.0.0"), ev("f", "2.6.0"))}, nil, true, []string{"2.6.0"}},
		{"two intervals, between", "npm", "1.7.0", []Range{r("SEMVER", ev("i", "1.0.0"), ev("f", "1.5.0"), ev("i", "2.0.0"), ev("f", "2.6.0"))}, nil, false, nil},
		{"last_affected inclusive", "npm", "1.2.3", []Range{r("SEMVER", ev("i", "0"), ev("l", "1.2.3"))}, nil, true, nil},
		{"after last_affected", "npm", "1.2.4", []Range{r("SEMVER", ev("i", "0"), ev("l", "1.2.3"))}, nil, false, nil},
		{"limit", "Go", "v1.9.0", []Range{r("SEMVER", ev("i", "1.0.0"), ev("lim", "2.0.0"))}, nil, true, nil},
		{"beyond limit", "Go", "v2.0.0", []Range{r("SEMVER", ev("i", "1.0.0"), ev("lim", "2.0.0"))}, nil, false, nil},
		{"limit star", "Go", "v9.0.0", []Range{r("SEMVER", ev("i", "1.0.0"), ev("lim", "*"))}, nil, true, nil},
		{"before introduced", "crates.io", "0.9.0", []Range{r("SEMVER", ev("i", "1.0.0"))}, nil, false, nil},
		{"go pseudo-version", "Go", "v0.0.0-20200101000000-abcdef123456", []Range{r("SEMVER", ev("i", "0"), ev("f", "0.3.3"))}, nil, true, []string{"0.3.3"}},
		{"go stdlib version", "Go", "go1.20.1", []Range{r("SEMVER", ev("i", "0"), ev("f", "1.20.5"))}, nil, true, []string{"1.20.5"}},
		{"debian epoch", "Debian:12", "1:2.0-1", []Range{r("ECOSYSTEM", ev("i", "0"), ev("f", "2.1-1"))}, nil, false, nil},
		{"debian tilde", "Debian:12", "3.0.11-1~deb12u1", []Range{r("ECOSYSTEM", ev("i", "0"), ev("f", "3.0.11-1~deb12u2"))}, nil, true, []string{"3.0.11-1~deb12u2"}},
		{"rpm EVR", "AlmaLinux:8", "1:1.1.1k-7.el8_6", []Range{r("ECOSYSTEM", ev("i", "0"), ev("f", "1:1.1.1k-9.el8_7"))}, nil, true, []string{"1:1.1.1k-9.el8_7"}},
		{"alpine", "Alpine:v3.20", "1.36.1-r30", []Range{r("ECOSYSTEM", ev("i", "0"), ev("f", "1.36.1-r29"))}, nil, false, nil},
		{"maven", "Maven", "2.14.1", []Range{r("ECOSYSTEM", ev("i", "2.0-beta9"), ev("f", "2.15.0"))}, nil, true, []string{"2.15.0"}},
		{"versions exact", "RubyGems", "2.0.1", nil, []string{"2.0.1"}, true, nil},
		{"versions semantic", "PyPI", "1.0.0", nil, []string{"1.0"}, true, nil},
		{"versions miss", "PyPI", "1.0.1", nil, []string{"1.0"}, false, nil},
		{"versions with ranges exact only", "PyPI", "1.0.0", []Range{r("ECOSYSTEM", ev("i", "2.0"))}, []string{"1.0"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.ranges {
				if !SortEvents(tt.eco, &tt.ranges[i]) {
					t.Fatalf("SortEvents failed")
				}
			}
			res, err := Evaluate(tt.eco, tt.ver, tt.ranges, tt.versions)
			if err != nil {
				t.Fatal(err)
			}
			if res.Affected != tt.want || !reflect.DeepEqual(res.Fixed, tt.fixed) {
				t.Errorf("Evaluate = %+v, want affected=%v fixed=%v", res, tt.want, tt.fixed)
			}
		})
	}
	if _, err := Evaluate("Debian:12", "not a debian:version!", []Range{r("ECOSYSTEM", ev("i", "0"))}, nil); err == nil {
		t.Error("invalid installed version: want error")
	}
}

func TestSortEvents(t *testing.T) {
	r := Range{Type: "ECOSYSTEM", Events: []Event{ev("f", "2.3.2"), ev("i", "2.3.0"), ev("f", "2.2.5"), ev("i", "0")}}
	if !SortEvents("PyPI", &r) {
		t.Fatal("sort failed")
	}
	want := []Event{ev("i", "0"), ev("f", "2.2.5"), ev("i", "2.3.0"), ev("f", "2.3.2")}
	if !reflect.DeepEqual(r.Events, want) {
		t.Errorf("sorted = %v", r.Events)
	}
	bad := Range{Type: "ECOSYSTEM", Events: []Event{ev("f", "not:valid!"), ev("i", "0")}}
	if SortEvents("Debian", &bad) {
		t.Error("unparseable event should not sort")
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ eco, in, want string }{
		{"PyPI", "Flask_SQLAlchemy", "flask-sqlalchemy"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI", "a__b--c", "a-b-c"},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
		{"npm", "@Scope/Pkg", "@Scope/Pkg"},
		{"Go", "github.com/A/b", "github.com/A/b"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.eco, tt.in); got != tt.want {
			t.Errorf("NormalizeName(%s, %s) = %s, want %s", tt.eco, tt.in, got, tt.want)
		}
	}
}

func TestReleases(t *testing.T) {
	norm := []struct{ base, in, want string }{
		{"Alpine", "3.20.1", "v3.20"}, {"Alpine", "v3.20", "v3.20"}, {"Alpine", "edge", "edge"},
		{"Debian", "12.5", "12"}, {"Debian", "12", "12"}, {"AlmaLinux", "9.4", "9"}, {"Rocky Linux", "8.10", "8"},
		{"Ubuntu", "22.04", "22.04"}, {"Wolfi", "", ""},
	}
	for _, tt := range norm {
		if got := NormalizeRelease(tt.base, tt.in); got != tt.want {
			t.Errorf("NormalizeRelease(%s, %s) = %s, want %s", tt.base, tt.in, got, tt.want)
		}
	}
	match := []struct {
		base, adv, pkg string
		want           bool
	}{
		{"Debian", "12", "12", true}, {"Debian", "11", "12", false}, {"Debian", "12", "", false},
		{"Ubuntu", "22.04:LTS", "22.04", true}, {"Ubuntu", "Pro:22.04:LTS", "22.04", false},
		{"Red Hat", "enterprise_linux:9::appstream", "9", true}, {"Red Hat", "enterprise_linux:8::baseos", "9", false},
		{"Go", "", "", true}, {"Wolfi", "", "", true},
	}
	for _, tt := range match {
		if got := ReleaseMatches(tt.base, tt.adv, tt.pkg); got != tt.want {
			t.Errorf("ReleaseMatches(%s, %q, %q) = %v", tt.base, tt.adv, tt.pkg, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}]}`))
	f.Add([]byte(`{"id":"GO-1","withdrawn":"2020","affected":[{"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"*"}]}],"versions":["1.0.1"]}]}`))
	f.Add([]byte(`{"id":"D-1","affected":[{"package":{"ecosystem":"Debian:12","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"1:2.0-1~x"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			return
		}
		for _, a := range v.Affected {
			for i := range a.Ranges {
				SortEvents(a.Package.Ecosystem, &a.Ranges[i])
			}
			for _, ver := range []string{"0", "1.0", "1:2.0-1", "v1.2.3", "go1.21"} {
				_, _ = Evaluate(a.Package.Ecosystem, ver, a.Ranges, a.Versions)
			}
		}
	})
}
