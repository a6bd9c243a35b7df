package rules

import (
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

// chmodEvents builds one chmod-family call with the given mode, made by
// chmod(1) from a shell on the host.
func chmodEvents(ty event.Type, mode uint32) []event.Event {
	sc := event.NewScenario()
	ch := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).
		Spawn(event.ExecSpec{Exe: "/usr/bin/chmod", Args: args("chmod", "x", "/tmp/f")})
	fd := int64(event.AtFDCWD)
	if ty == event.TypeFchmod {
		fd = ch.Open("/tmp/f", event.ORdonly)
	}
	ch.Syscall(ty, func(ev *event.Event) { ev.FD, ev.Path, ev.Mode = fd, "/tmp/f", mode })
	return sc.Events
}

var chmodModeCases = []struct {
	mode uint32
	fire bool
}{
	{0o644, false}, {0o600, false}, {0o755, false}, {0o700, false}, {0o000, false},
	{0o1777, false}, // sticky bit only
	{0o4755, true}, {0o2755, true}, {0o6755, true}, {0o4000, true}, {0o2000, true},
}

func TestWardSetuidRuleModes(t *testing.T) {
	eng := loadDefaults(t)
	const rule = "Ward Setuid Or Setgid Bit Set"
	for _, ty := range []event.Type{event.TypeChmod, event.TypeFchmod, event.TypeFchmodat} {
		for _, tc := range chmodModeCases {
			got := run(t, eng, chmodEvents(ty, tc.mode))[rule]
			if (got > 0) != tc.fire {
				t.Errorf("%s mode %#o: fired %d times, want fire=%v", ty, tc.mode, got, tc.fire)
			}
		}
	}
}

// The upstream incubating rule tests the mode by name, as Falco renders it.
func TestUpstreamSetuidRuleModes(t *testing.T) {
	p := upstreamFile(t, "falco-incubating_rules.yaml")
	eng, err := Load([]string{upstreamFile(t, "falco_rules.yaml"), p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const rule = "Set Setuid or Setgid bit"
	found := false
	for _, r := range eng.Enabled() {
		found = found || r.Name == rule
	}
	if !found {
		t.Fatalf("rule %q not enabled in %s", rule, p)
	}
	for _, tc := range chmodModeCases {
		got := run(t, eng, chmodEvents(event.TypeFchmodat, tc.mode))[rule]
		if (got > 0) != tc.fire {
			t.Errorf("mode %#o: fired %d times, want fire=%v", tc.mode, got, tc.fire)
		}
	}
}

func TestChmodModeRendering(t *testing.T) {
	for _, tc := range []struct {
		mode uint32
		want string
	}{
		{0, "0"},
		{0o644, "S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR"},
		{0o755, "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR"},
		{0o4755, "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID"},
		{0o2000, "S_ISGID"},
		{0o1777, "S_IXOTH|S_IWOTH|S_IROTH|S_IXGRP|S_IWGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISVTX"},
		{0o100644, "S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR"}, // file-type bits are not permission bits
	} {
		if got := string(appendChmodMode(nil, tc.mode)); got != tc.want {
			t.Errorf("mode %#o: %q, want %q", tc.mode, got, tc.want)
		}
	}
	// evt.arg.mode gives the names, evt.rawarg.mode the number.
	eng, err := LoadSources([]Source{{Name: "t.yaml", Data: []byte(`
- rule: chmod seen
  desc: d
  condition: evt.type = fchmodat and evt.rawarg.mode = 2541
  output: "mode=%evt.arg.mode raw=%evt.rawarg.mode"
  priority: NOTICE
`)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := newTestState()
	evs := chmodEvents(event.TypeFchmodat, 0o4755)
	var out string
	for i := range evs {
		st.Apply(&evs[i])
		eng.Eval(&evs[i], st, func(m *Match) { out = m.Output })
	}
	if !strings.Contains(out, "mode=S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID raw=2541") {
		t.Errorf("output %q", out)
	}
}
