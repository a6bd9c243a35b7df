package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

const appendRules = `
- rule: Shell
  desc: d
  condition: evt.type = execve and proc.name = bash
  output: "shell %proc.name"
  priority: NOTICE
  tags: [shell]
- rule: Other
  desc: d
  condition: evt.type = execve and proc.name = bash
  output: "other"
  priority: NOTICE
`

func matches(t *testing.T, eng *Engine, evs []event.Event) map[string]*Match {
	t.Helper()
	st := newTestState()
	got := map[string]*Match{}
	for i := range evs {
		st.Apply(&evs[i])
		eng.Eval(&evs[i], st, func(m *Match) { got[m.Rule.Name] = m })
	}
	return got
}

func fieldMap(m *Match) map[string]any {
	out := map[string]any{}
	for _, f := range m.Fields {
		out[f.Name] = f.Value
	}
	return out
}

func TestContainerAppendOutput(t *testing.T) {
	eng, err := LoadSources([]Source{{Name: "r.yaml", Data: []byte(appendRules)}}, Options{AppendOutput: ContainerAppendOutput})
	if err != nil {
		t.Fatal(err)
	}
	// in a container: id, name, image repository and tag, pod and namespace
	sc := event.NewScenario()
	shim, _ := inContainer(sc, alpine(cid))
	id := cid[:12]
	shim.Spawn(event.ExecSpec{Exe: "/bin/bash", ContainerID: &id})
	m := matches(t, eng, sc.Events)["Shell"]
	if m == nil {
		t.Fatal("no match")
	}
	want := "shell bash container_id=0123456789ab container_name=web container_image_repository=docker.io/library/alpine " +
		"container_image_tag=3.19 k8s_pod_name=web-0 k8s_ns_name=default"
	if m.Output != want {
		t.Errorf("output\n %q\nwant\n %q", m.Output, want)
	}
	f := fieldMap(m)
	for k, v := range map[string]any{"proc.name": "bash", "container.id": "0123456789ab", "container.name": "web",
		"container.image.repository": "docker.io/library/alpine", "container.image.tag": "3.19",
		"k8s.pod.name": "web-0", "k8s.ns.name": "default"} {
		if f[k] != v {
			t.Errorf("output_fields[%s] = %#v, want %q", k, f[k], v)
		}
	}
	// on the host: Falco's "host" id and name, no image
	sc = event.NewScenario()
	sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
	m = matches(t, eng, sc.Events)["Other"]
	if m == nil {
		t.Fatal("no host match")
	}
	if want := "other container_id=host container_name=host container_image_repository=<NA> container_image_tag=<NA> k8s_pod_name=<NA> k8s_ns_name=<NA>"; m.Output != want {
		t.Errorf("host output %q, want %q", m.Output, want)
	}
	if f := fieldMap(m); f["container.id"] != "host" || f["container.image.repository"] != nil {
		t.Errorf("host fields %v", f)
	}
	// without AppendOutput the outputs are the rules' own
	plain, err := LoadSources([]Source{{Name: "r.yaml", Data: []byte(appendRules)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := matches(t, plain, sc.Events)["Other"]; m == nil || m.Output != "other" || len(m.Fields) != 0 {
		t.Errorf("plain match %+v", m)
	}
}

func TestAppendOutputSelectors(t *testing.T) {
	eng, err := LoadSources([]Source{{Name: "r.yaml", Data: []byte(appendRules)}}, Options{AppendOutput: []AppendOutput{
		{Tags: []string{"shell"}, ExtraOutput: "tagged", ExtraFields: []string{"proc.pid", "evt.type"}},
		{Rule: "Other", ExtraOutput: "(ppid=%proc.ppid)"},
		{Source: "k8s_audit", ExtraOutput: "never"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sc := event.NewScenario()
	sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
	got := matches(t, eng, sc.Events)
	if m := got["Shell"]; m == nil || m.Output != "shell bash tagged" {
		t.Fatalf("Shell: %+v", m)
	} else if f := fieldMap(m); f["evt.type"] != "execve" || f["proc.pid"] == nil {
		t.Errorf("extra fields missing from output_fields: %v", f)
	}
	if m := got["Other"]; m == nil || !strings.HasPrefix(m.Output, "other (ppid=") || strings.Contains(m.Output, "tagged") {
		t.Errorf("Other: %+v", m)
	}
	for _, bad := range []AppendOutput{{ExtraOutput: "x=%proc.nosuch"}, {ExtraFields: []string{"proc.nosuch"}}, {ExtraFields: []string{"not a field"}}} {
		var ae *AppendOutputError
		if _, err := LoadSources([]Source{{Name: "r.yaml", Data: []byte(appendRules)}}, Options{AppendOutput: []AppendOutput{bad}}); !errors.As(err, &ae) {
			t.Errorf("%+v: error %v, want an *AppendOutputError", bad, err)
		} else {
			t.Logf("%+v: %v", bad, err)
		}
	}
}
