package rules

import (
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/rules/defaults"
)

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		"evt.type in (open, openat) and fd.name startswith /etc/ and not proc.pname in (sh, bash)",
		"(a or b) and not c", "tolower(proc.name) = val(proc.pname)", "fd.name pmatch (/etc, /var)",
		"proc.aname[2] glob 'x*' or evt.arg[1] exists or evt.arg.flags contains O_TRUNC",
		"proc.name in ('\"quoted\"', runc:[0:PARENT])", "len(proc.cmdline) > 10",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCondition(s)
		if err != nil {
			return
		}
		// whatever parses must compile or fail cleanly
		src := "- macro: a\n  condition: evt.num = 1\n- macro: b\n  condition: evt.num = 2\n- macro: c\n  condition: evt.num = 3\n" +
			"- rule: F\n  desc: d\n  condition: " + yamlQuote(s) + "\n  output: o\n  priority: INFO\n"
		eng, err := LoadSources([]Source{{Name: "f.yaml", Data: []byte(src)}}, Options{})
		if err != nil || n == nil {
			return
		}
		sc := event.NewScenario()
		p := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/sh"})
		p.Open("/etc/passwd", event.ORdonly)
		st := event.NewState(event.Options{})
		for i := range sc.Events {
			st.Apply(&sc.Events[i])
			eng.Eval(&sc.Events[i], st, func(*Match) {})
		}
	})
}

func FuzzLoadRules(f *testing.F) {
	_, data := defaults.File()
	f.Add(data)
	f.Add([]byte("- list: l\n  items: [a, b]\n- macro: m\n  condition: proc.name in (l)\n- rule: r\n  desc: d\n  condition: evt.type=open and m\n  output: '%proc.name'\n  priority: INFO\n  exceptions:\n  - name: e\n    fields: [proc.name]\n    values: [[x]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = LoadSources([]Source{{Name: "fuzz.yaml", Data: data}}, Options{})
	})
}
