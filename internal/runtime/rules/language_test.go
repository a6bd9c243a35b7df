package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

// condScenario: bash (pid 101, cwd /root, uid 0) spawned by sshd spawns
// "python3 -c print(1)" which opens /etc/Shadow.bak O_RDWR and connects
// to 203.0.113.5:443.
func condScenario() []event.Event {
	sc := event.NewScenario()
	sshd := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/sshd"})
	sh := sshd.Spawn(event.ExecSpec{Exe: "/bin/bash", Cwd: "/root", Env: []string{"HOME=/root", "TOKEN=c2VjcmV0"}})
	py := sh.Spawn(event.ExecSpec{Exe: "/usr/bin/python3.11", Comm: "python3", Args: args("python3", "-c", "print(1)")})
	py.Open("/etc/Shadow.bak", event.ORdwr)
	fd := py.Socket(event.AFInet, 1)
	py.Connect(fd, "192.168.1.10", 50000, "203.0.113.5", 443)
	py.Write(fd, []byte{0xca, 0xfe, 0xba, 0xbe, 'h', 'i'})
	return sc.Events
}

func evalCond(t *testing.T, cond string, lists string) (bool, error) {
	t.Helper()
	src := lists + "\n- rule: T\n  desc: d\n  condition: " + yamlQuote(cond) + "\n  output: o %proc.name\n  priority: INFO\n"
	eng, err := LoadSources([]Source{{Name: "t.yaml", Data: []byte(src)}}, Options{})
	if err != nil {
		return false, err
	}
	return run(t, eng, condScenario())["T"] > 0, nil
}

func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func TestConditionLanguage(t *testing.T) {
	lists := "- list: pys\n  items: [python3, '\"python 2\"']\n- list: nested\n  items: [pys, ruby]\n- macro: is_py\n  condition: proc.name in (nested)\n- list: ports\n  items: [443, 8443]\n"
	cases := []struct {
		cond string
		want bool
	}{
		{"evt.type = openat and fd.name = /etc/Shadow.bak", true},
		{"evt.type = openat and fd.name != /etc/Shadow.bak", false},
		{"evt.type = openat and fd.name contains Shadow", true},
		{"evt.type = openat and fd.name contains shadow", false},
		{"evt.type = openat and fd.name icontains SHADOW", true},
		{"evt.type = openat and fd.name startswith /etc/", true},
		{"evt.type = openat and fd.name endswith .bak", true},
		{"evt.type = openat and fd.name glob '/etc/*.bak'", true},
		{"evt.type = openat and fd.name glob '/etc/s*'", false},
		{"evt.type = openat and fd.name iglob '/ETC/S*'", true},
		{"evt.type = openat and fd.name regex '^/etc/[A-Z][a-z]+\\.bak$'", true},
		{"evt.type = openat and fd.name pmatch (/etc, /var)", true},
		{"evt.type = openat and fd.name pmatch (/et, /var)", false},
		{"evt.type = openat and fd.directory = /etc and fd.filename = Shadow.bak", true},
		{"evt.type = openat and fd.num >= 3 and fd.num < 4 and fd.num <= 3 and fd.num > 2", true},
		{"evt.type = openat and evt.is_open_read = true and evt.is_open_write = true", true},
		{"evt.type = openat and evt.arg.flags contains O_RDWR", true},
		{"evt.type = openat and evt.arg[2] = /etc/Shadow.bak", true},
		{"evt.type = openat and evt.arg.name = /etc/Shadow.bak", true},
		{"evt.type = openat and tolower(fd.filename) = shadow.bak", true},
		{"evt.type = openat and toupper(fd.filename) = SHADOW.BAK", true},
		{"evt.type = openat and basename(fd.name) = Shadow.bak", true},
		{"evt.type = openat and len(fd.name) = 15", true},
		{"evt.type = openat and len(fd.name) > 15", false},
		{"evt.type = execve and proc.name in (pys)", true},
		{"evt.type = execve and is_py", true},
		{"evt.type = execve and proc.name in (ruby, perl)", false},
		{"evt.type = execve and proc.name intersects (python3)", true},
		{"evt.type = execve and proc.pname = bash and proc.aname[2] = sshd and proc.aname[3] = systemd", true},
		{"evt.type = execve and proc.aname = sshd", true},
		{"evt.type = execve and proc.aname in (systemd)", true},
		{"evt.type = execve and proc.aname = python3", false},
		{"evt.type = execve and proc.args = '-c print(1)' and proc.cmdline = 'python3 -c print(1)'", true},
		{"evt.type = execve and proc.exe = python3 and proc.exepath = /usr/bin/python3.11", true},
		{"evt.type = execve and proc.cwd = /root/", true},
		{"evt.type = execve and proc.env contains \"HOME=/root\" and proc.env[TOKEN] = c2VjcmV0", true},
		{"evt.type = execve and b64(proc.env[TOKEN]) = secret", true},
		{"evt.type = execve and proc.pname exists and proc.aname[9] exists", false},
		{"evt.type = execve and not proc.aname[9] exists", true},
		{"evt.type = execve and proc.name = val(proc.name)", true},
		{"evt.type = execve and proc.name = val(proc.pname)", false},
		{"evt.type = execve and user.name = root and user.uid = 0 and group.gid = 0", true},
		{"evt.type = execve and container.id = host and container.name = host", true},
		{"evt.type = execve and not container.image.repository exists", true},
		{"evt.type = connect and fd.sip = 203.0.113.5 and fd.cip = 192.168.1.10 and fd.rip = 203.0.113.5", true},
		{"evt.type = connect and fd.snet = 203.0.113.0/24 and not fd.rnet in (\"10.0.0.0/8\", \"192.168.0.0/16\")", true},
		{"evt.type = connect and fd.lnet = 192.168.0.0/16", true},
		{"evt.type = connect and fd.net = 127.0.0.0/8", false},
		{"evt.type = connect and fd.ip = 192.168.1.10", true},
		{"evt.type = connect and fd.sport in (ports) and fd.rport = 443 and fd.lport = 50000", true},
		{"evt.type = connect and fd.port = 50000", true},
		{"evt.type = connect and fd.name = 192.168.1.10:50000->203.0.113.5:443", true},
		{"evt.type = connect and fd.l4proto = tcp and fd.typechar = 4 and fd.type = ipv4 and fd.connected = true", true},
		{"evt.type = write and evt.buffer bcontains cafebabe", true},
		{"evt.type = write and evt.buffer bstartswith cafe", true},
		{"evt.type = write and evt.buffer bcontains deadbeef", false},
		{"evt.type = write and evt.buffer contains hi", true},
		{"(evt.type = write or evt.type = read) and not (evt.buflen < 6)", true},
		{"evt.type != write and evt.type in (connect)", true},
		{"evt.type = execve and proc.name in (pys) and evt.res = SUCCESS and evt.rawres = 0 and evt.failed = false", true},
	}
	for _, tc := range cases {
		got, err := evalCond(t, tc.cond, lists)
		if err != nil {
			t.Errorf("%s: %v", tc.cond, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %v, want %v", tc.cond, got, tc.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown field", "- rule: R1\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: INFO\n",
			[]string{"t.yaml:3:34", `rule "R1"`, "condition col 21", `unknown field "proc.nmae"`}},
		{"folded condition", "- rule: R12\n  desc: d\n  condition: >\n    evt.type = open\n    and fd.name startswith /etc\n    and proc.nmae = x\n  output: o\n  priority: INFO\n",
			[]string{"t.yaml:6:9", `rule "R12"`, "condition col 49", `unknown field "proc.nmae"`}},
		{"unknown field in macro", "- macro: m\n  condition: fd.nam = x\n- rule: R2\n  desc: d\n  condition: evt.type = open and m\n  output: o\n  priority: INFO\n",
			[]string{`rule "R2"`, `in macro "m"`, `unknown field "fd.nam"`}},
		{"type error", "- rule: R3\n  desc: d\n  condition: evt.type = open and fd.num = abc\n  output: o\n  priority: INFO\n",
			[]string{`rule "R3"`, "type error", `"abc" is not a number`}},
		{"operator type error", "- rule: R4\n  desc: d\n  condition: evt.type = open and fd.num contains 3\n  output: o\n  priority: INFO\n",
			[]string{`rule "R4"`, "operator contains is not supported"}},
		{"syntax", "- rule: R5\n  desc: d\n  condition: evt.type = open and (proc.name = x\n  output: o\n  priority: INFO\n",
			[]string{`rule "R5"`, "expected ')'"}},
		{"undefined macro", "- rule: R6\n  desc: d\n  condition: evt.type = open and nope\n  output: o\n  priority: INFO\n",
			[]string{`rule "R6"`, `undefined macro "nope"`}},
		{"bad output field", "- rule: R7\n  desc: d\n  condition: evt.type = open\n  output: x %proc.nope\n  priority: INFO\n",
			[]string{`rule "R7"`, "output", `unknown field "proc.nope"`}},
		{"bad priority", "- rule: R8\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: LOUD\n",
			[]string{`rule "R8"`, "unknown priority"}},
		{"missing keys", "- rule: R9\n  condition: evt.type = open\n",
			[]string{`rule "R9"`, "missing output, desc, priority"}},
		{"append to nothing", "- list: l\n  items: [a]\n  append: true\n", []string{`list "l"`, "no list by that name"}},
		{"alias", "- list: l\n  items: &a [x]\n- list: m\n  items: *a\n", []string{"aliases are not allowed"}},
		{"not a list", "rule: x\n", []string{"t.yaml:1:1", "must be a YAML sequence"}},
		{"unknown key", "- rule: R10\n  desc: d\n  conditon: x\n", []string{"t.yaml:3:3", `unknown key "conditon"`}},
		{"macro loop", "- macro: a\n  condition: b\n- macro: b\n  condition: a\n- rule: R11\n  desc: d\n  condition: evt.type=open and a\n  output: o\n  priority: INFO\n",
			[]string{"references itself"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadSources([]Source{{Name: "t.yaml", Data: []byte(tc.src)}}, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Errorf("error is %T, want *LoadError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDisabledRuleWithUnknownFieldLoads(t *testing.T) {
	src := "- rule: R\n  desc: d\n  condition: evt.type = open and proc.nope = x\n  output: o\n  priority: INFO\n  enabled: false\n" +
		"- rule: S\n  desc: d\n  condition: evt.type = open and ka.verb = x\n  output: o\n  priority: INFO\n  skip-if-unknown-filter: true\n"
	eng, err := LoadSources([]Source{{Name: "t.yaml", Data: []byte(src)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(eng.Enabled()); n != 0 {
		t.Errorf("%d enabled rules, want 0", n)
	}
	if eng.Info().Unsupported != 2 {
		t.Errorf("unsupported = %d, want 2", eng.Info().Unsupported)
	}
}

func TestOverridesAndExceptions(t *testing.T) {
	base := `
- required_engine_version: 0.26.0
- required_plugin_versions:
  - name: container
    version: 0.4.0
- list: shells
  items: [bash]
- macro: spawned
  condition: evt.type = execve
- rule: Shell
  desc: a shell ran
  condition: spawned and proc.name in (shells)
  output: shell %proc.name parent=%proc.pname
  priority: WARNING
  tags: [a]
  exceptions:
    - name: by_parent
      fields: [proc.pname, proc.name]
      comps: [=, in]
      values:
        - [sshd, [zsh]]
- rule: Other
  desc: d
  condition: spawned and proc.name = ruby
  output: o
  priority: DEBUG
`
	user := `
- list: shells
  items: [python3]
  append: true
- macro: spawned
  condition: and proc.pname != nobody
  override:
    condition: append
- rule: Shell
  exceptions:
    - name: by_parent
      values:
        - [sshd, [bash]]
    - name: by_name
      fields: proc.name
      comps: in
      values: [perl]
  override:
    exceptions: append
- rule: Shell
  priority: CRITICAL
  tags: [b]
  override:
    priority: replace
    tags: append
- rule: Other
  enabled: false
`
	eng, err := LoadSources([]Source{{Name: "base.yaml", Data: []byte(base)}, {Name: "user.yaml", Data: []byte(user)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := eng.Info()
	if len(info.RequiredEngineVersions) != 1 || len(info.RequiredPlugins) != 1 || info.RequiredPlugins[0].Name != "container" {
		t.Errorf("required versions not reported: %+v", info)
	}
	if len(eng.Enabled()) != 1 {
		t.Fatalf("enabled rules = %d, want 1 (Other disabled)", len(eng.Enabled()))
	}
	r := eng.Enabled()[0]
	if r.Priority != PriorityCritical || strings.Join(r.Tags, ",") != "a,b" {
		t.Errorf("override not applied: %v %v", r.Priority, r.Tags)
	}
	sc := event.NewScenario()
	sshd := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/sshd"})
	sshd.Spawn(event.ExecSpec{Exe: "/bin/bash"})     // exception by_parent (appended value)
	sshd.Spawn(event.ExecSpec{Exe: "/usr/bin/perl"}) // not a shell
	cron := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/cron"})
	cron.Spawn(event.ExecSpec{Exe: "/bin/bash"})        // fires
	cron.Spawn(event.ExecSpec{Exe: "/usr/bin/python3"}) // appended list item: fires
	if got := run(t, eng, sc.Events)["Shell"]; got != 2 {
		t.Errorf("Shell fired %d times, want 2", got)
	}
}

func TestEventTypesAndPrefixes(t *testing.T) {
	src := "- rule: A\n  desc: d\n  condition: evt.type in (open, openat) and fd.name startswith /etc/\n  output: o\n  priority: INFO\n" +
		"- rule: B\n  desc: d\n  condition: evt.type = openat and fd.directory in (/root/.ssh)\n  output: o\n  priority: INFO\n" +
		"- rule: C\n  desc: d\n  condition: not evt.type in (open, openat, openat2, creat, read, write, close) and evt.type = ptrace\n  output: o\n  priority: INFO\n"
	eng, err := LoadSources([]Source{{Name: "t.yaml", Data: []byte(src)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ty := range eng.EventTypes() {
		names = append(names, ty.String())
	}
	if got := strings.Join(names, ","); got != "open,openat,ptrace" {
		t.Errorf("EventTypes = %s", got)
	}
	of := eng.OpenFilter()
	if of.All || strings.Join(of.Prefixes, ",") != "/etc/,/root/.ssh/" || len(of.Suffixes) != 0 {
		t.Errorf("OpenFilter = %+v", of)
	}
}

func TestGlobAndTrie(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"/home/*/.ssh/*", "/home/a/b/.ssh/id", true},
		{"*../*../*", "/a/../../etc", true},
		{"*../*../*", "/a/../etc", false},
		{"a?c", "abc", true},
		{"[a-c]x", "bx", true},
		{"[!a-c]x", "bx", false},
	} {
		if got := globMatch(tc.p, tc.s, false); got != tc.want {
			t.Errorf("glob(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
	tr := newPathTrie([]string{"/etc/ssh", "/var/lib/"})
	for s, want := range map[string]bool{"/etc/ssh": true, "/etc/ssh/sshd_config": true, "/etc/sshd": false, "/var/lib/x": true, "/var": false} {
		if tr.match(s) != want {
			t.Errorf("pmatch %q != %v", s, want)
		}
	}
}
