package rules

import (
	"sort"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Helpers shared by the per-rule tests.

const (
	capSysModule   = 16
	capSysAdmin    = 21
	capDacOverride = 1
)

func newTestState() *event.State {
	st := event.NewState(event.Options{})
	st.Hostname = "test-host"
	st.AddUser(33, event.User{Name: "www-data", Home: "/var/www", Shell: "/usr/sbin/nologin"})
	st.AddUser(1000, event.User{Name: "alice", Home: "/home/alice", Shell: "/bin/bash"})
	st.AddGroup(1000, "alice")
	return st
}

// run replays events through a fresh state and returns how often each rule fired.
func run(t testing.TB, eng *Engine, evs []event.Event) map[string]int {
	t.Helper()
	st := newTestState()
	fired := map[string]int{}
	for i := range evs {
		st.Apply(&evs[i])
		eng.Eval(&evs[i], st, func(m *Match) {
			fired[m.Rule.Name]++
			if m.Output == "" {
				t.Errorf("rule %q: empty output", m.Rule.Name)
			}
		})
	}
	return fired
}

func firedNames(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// container helpers
func inContainer(sc *event.Scenario, c event.Container) (*event.Proc, *event.Proc) {
	init := sc.Init()
	sc.Container(c)
	shim := init.Spawn(event.ExecSpec{Exe: "/usr/bin/containerd-shim-runc-v2", Comm: "containerd-shim"})
	id := c.ID[:12]
	app := shim.Spawn(event.ExecSpec{Exe: "/usr/local/bin/app", ContainerID: &id, Cwd: "/app", UID: event.U32(0)})
	return shim, app
}

func alpine(id string) event.Container {
	return event.Container{ID: id, Name: "web", Image: "docker.io/library/alpine:3.19", ImageRepo: "docker.io/library/alpine",
		ImageTag: "3.19", Type: "containerd", PodName: "web-0", PodNamespace: "default"}
}

const cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func args(a ...string) []string { return a }

// ruleCase is one rule's fixtures: fire must make the rule fire, miss is
// a near miss that must not.
type ruleCase struct {
	fire func(sc *event.Scenario)
	miss func(sc *event.Scenario)
}

func checkCases(t *testing.T, eng *Engine, cases map[string]ruleCase) {
	t.Helper()
	for name, rc := range cases {
		t.Run(name, func(t *testing.T) {
			sc := event.NewScenario()
			rc.fire(sc)
			if got := run(t, eng, sc.Events); got[name] == 0 {
				t.Errorf("did not fire; fired: %v", firedNames(got))
			}
			if got := run(t, eng, kernelFiltered(eng.OpenFilter(), sc.Events)); got[name] == 0 {
				t.Errorf("did not fire once the kernel's open filter (%+v) dropped what it drops", eng.OpenFilter())
			}
			sc = event.NewScenario()
			rc.miss(sc)
			if got := run(t, eng, sc.Events); got[name] != 0 {
				t.Errorf("near miss fired %d times", got[name])
			}
			if got := run(t, eng, kernelFiltered(eng.OpenFilter(), sc.Events)); got[name] != 0 {
				t.Errorf("near miss fired %d times behind the kernel's open filter", got[name])
			}
		})
	}
	// every enabled rule must have fixtures
	for _, r := range eng.Enabled() {
		if _, ok := cases[r.Name]; !ok {
			t.Errorf("rule %q has no fire / near-miss fixtures", r.Name)
		}
	}
}

// kernelFiltered drops what the sensor drops in the kernel under f: the
// opens f does not keep, and the closes of their fds.
func kernelFiltered(f OpenFilter, evs []event.Event) []event.Event {
	type pfd struct {
		pid int32
		fd  int64
	}
	dropped := map[pfd]bool{}
	var out []event.Event
	for _, ev := range evs {
		switch {
		case ev.Type.IsOpen() && !f.Keeps(ev.Path, ev.Flags):
			if ev.Res >= 0 {
				dropped[pfd{ev.PID, ev.Res}] = true
			}
			continue
		case ev.Type == event.TypeClose && dropped[pfd{ev.PID, ev.FD}]:
			delete(dropped, pfd{ev.PID, ev.FD})
			continue
		}
		out = append(out, ev)
	}
	return out
}
