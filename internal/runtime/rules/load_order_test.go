package rules

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

func TestDirOrder(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{
			in:   []string{"falco-sandbox_rules.yaml", "falco_rules.yaml", "falco-incubating_rules.yaml"},
			want: []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"},
		},
		{
			in: []string{"zz.yaml", "falco_rules.local.yaml", "aa.yml", "falco-deprecated_rules.yaml",
				"falco_rules.yaml", "my.local.yaml", "falco-incubating_rules.yaml", "a.local.yml"},
			want: []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-deprecated_rules.yaml",
				"aa.yml", "zz.yaml", "falco_rules.local.yaml", "a.local.yml", "my.local.yaml"},
		},
		{in: []string{"b.yaml", "a.yaml"}, want: []string{"a.yaml", "b.yaml"}},
		{in: nil, want: nil},
	} {
		got := append([]string(nil), tc.in...)
		DirOrder(got)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DirOrder(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// The upstream directory loads stable first, then incubating, then sandbox.
func TestUpstreamDirOrder(t *testing.T) {
	dir := filepath.Dir(upstreamFile(t, "falco_rules.yaml"))
	files, err := ExpandPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("load order %v, want %v", names, want)
	}
}

// A directory holding the upstream stable and incubating files, another
// user file and a local override: the stable file must not redefine what
// incubating changed (python_package_managers loses "uv" in incubating), and
// the local file's append comes last.
func TestDirLoadOrderSemantics(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"falco_rules.yaml", "falco-incubating_rules.yaml"} {
		data, err := os.ReadFile(upstreamFile(t, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// "aaa" sorts first by name; it must still load after the upstream files.
	write("aaa_custom.yaml", `
- rule: Python package manager run
  desc: test
  condition: evt.type = execve and proc.name in (python_package_managers)
  output: "%proc.name"
  priority: NOTICE
`)
	write("falco_rules.local.yaml", `
- list: python_package_managers
  items: [poetry]
  override:
    items: append
`)
	eng, err := Load([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var base []string
	for _, f := range eng.Info().Files {
		base = append(base, filepath.Base(f))
	}
	if want := []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "aaa_custom.yaml", "falco_rules.local.yaml"}; !reflect.DeepEqual(base, want) {
		t.Fatalf("files %v, want %v", base, want)
	}
	const rule = "Python package manager run"
	for _, tc := range []struct {
		comm string
		fire bool
	}{{"pip3", true}, {"poetry", true}, {"uv", false}} {
		sc := event.NewScenario()
		sc.Init().Spawn(event.ExecSpec{Exe: "/usr/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/local/bin/" + tc.comm})
		if got := run(t, eng, sc.Events)[rule] > 0; got != tc.fire {
			t.Errorf("%s: fired=%v, want %v", tc.comm, got, tc.fire)
		}
	}
}
