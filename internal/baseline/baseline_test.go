package baseline

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestCollapse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/etc/hosts", "/etc/hosts"},
		{"/etc//ssl/../hosts", "/etc/hosts"},
		{"relative/path", ""},
		{"/", "/"},
		{"/proc/1234/status", "/proc/*/status"},
		{"/proc/self/fd/3", "/proc/*/fd/*"},
		{"/tmp/tmp.Xa81kd", "/tmp/*"},
		{"/tmp/build/obj/x.o", "/tmp/*/obj/x.o"},
		{"/var/log/app/2024/01/02/app.log", "/var/log/app/*/**"},
		{"/var/lib/3f2a9c1b7e/data", "/var/lib/*/data"},
		{"/var/lib/app/123e4567-e89b-12d3-a456-426614174000", "/var/lib/app/*"},
		{"/srv/log-20240101", "/srv/*"},
		{"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		{"/usr/share/deadbeef", "/usr/share/deadbeef"},
		{"/a/b/c/d/e", "/a/b/c/d/**"},
		{"/a/b/c/d/**", "/a/b/c/d/**"},
		{"/run/user/1000/bus", "/run/*/*/bus"},
	} {
		got := Collapse(tc.in)
		if got != tc.want {
			t.Errorf("Collapse(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got != "" && Collapse(got) != got {
			t.Errorf("Collapse not idempotent on %q: %q", got, Collapse(got))
		}
	}
}

func TestParseErrors(t *testing.T) {
	head := "apiVersion: ward.dev/baseline/v1\nkind: WorkloadProfile\nidentity:\n  image: app:1\nlearned:\n  events: 1\n"
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "p.yaml: empty profile"},
		{"version", "apiVersion: v0\nkind: WorkloadProfile\n", `p.yaml:1: apiVersion "v0"`},
		{"identity", "apiVersion: ward.dev/baseline/v1\nkind: WorkloadProfile\n", "p.yaml: identity: needs"},
		{"unknown top", head + "bogus: 1\n", "p.yaml:7: field bogus not found"},
		{"relative exe", head + "executables:\n  - path: bin/sh\n", `p.yaml:8: executable path "bin/sh": not absolute`},
		{"bad sha", head + "executables:\n  - path: /bin/sh\n    sha256: xyz\n", `p.yaml:8: executable /bin/sh: sha256 "xyz"`},
		{"unknown exe field", head + "executables:\n  - path: /bin/sh\n    hash: 1\n", `p.yaml:9: unknown field "hash"`},
		{"bad port proto", head + "listen:\n  - proto: sctp\n    port: 1\n", `p.yaml:8: port proto "sctp"`},
		{"port range", head + "listen:\n  - proto: tcp\n    port: 70000\n", "p.yaml:9:"},
		{"bad ip", head + "outbound:\n  - ip: 1.2.3\n    proto: tcp\n", `p.yaml:8: peer ip "1.2.3"`},
		{"file pattern", head + "files:\n  read:\n    - /etc/hosts\n    - etc/x\n", `p.yaml:10: file pattern "etc/x"`},
		{"two docs", head + "---\na: 1\n", "p.yaml:7: more than one YAML document"},
		{"not yaml", "a: [\n", "p.yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.yaml", strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err %T is not *Error", err)
			}
		})
	}
}

// workload is the learning scenario: a shell script that runs a server
// and a client in a Kubernetes pod.
func workload(sc *event.Scenario, attack bool) {
	sc.Container(event.Container{ID: "c0ffee0000000000000000000000000000000000000000000000000000000001", Name: "app",
		Image: "registry.example/app:1", ImageDigest: "sha256:" + strings.Repeat("ab", 32),
		PodName: "web-7d4b9c8f6d-x2x9q", PodNamespace: "shop",
		PodLabels: []event.KV{{Key: "app", Value: "web"}, {Key: "pod-template-hash", Value: "7d4b9c8f6d"}}})
	cid := event.Str("c0ffee0000000000000000000000000000000000000000000000000000000001")
	root := sc.Init()
	sh := root.Spawn(event.ExecSpec{Exe: "/bin/sh", Args: []string{"sh", "/app/run.sh"}, ContainerID: cid, UID: event.U32(1000)})
	srv := sh.Spawn(event.ExecSpec{Exe: "/usr/bin/busybox", Args: []string{"nc", "-l", "-p", "8080"}})
	fd := srv.Socket(event.AFInet, 1)
	srv.Syscall(event.TypeBind, func(ev *event.Event) {
		ev.FD = fd
		ev.Addr = event.Addr{Family: event.AFInet, L4: event.L4TCP, SrcIP: event.IP("0.0.0.0"), SrcPort: 8080}
	})
	srv.Syscall(event.TypeListen, func(ev *event.Event) { ev.FD = fd })
	srv.Syscall(event.TypeAccept4, func(ev *event.Event) {
		ev.FD, ev.Res = fd, fd+1
		ev.Addr = event.Addr{Family: event.AFInet, L4: event.L4TCP, SrcIP: event.IP("10.1.0.9"), SrcPort: 5555,
			DstIP: event.IP("10.1.0.7"), DstPort: 8080}
	})
	cl := sh.Spawn(event.ExecSpec{Exe: "/usr/bin/wget", Args: []string{"wget", "http://api.example:443/"}})
	cl.Open("/etc/hosts", event.ORdonly)
	cl.Open("/tmp/wget.12345", event.OWronly|event.OCreat)
	sc.DNS("api.example", "10.0.0.5")
	cfd := cl.Socket(event.AFInet, 1)
	cl.Connect(cfd, "10.1.0.7", 40000, "10.0.0.5", 443)
	if !attack {
		return
	}
	sc.Sleep(10 * int64(time.Second))
	evil := sh.Spawn(event.ExecSpec{Exe: "/tmp/evil"})
	efd := evil.Socket(event.AFInet, 1)
	evil.Connect(efd, "10.1.0.7", 40001, "203.0.113.9", 4444)
	evil.Open("/etc/passwd", event.OWronly)
	evil.Syscall(event.TypePtrace, func(ev *event.Event) { ev.Arg = 16 })
}

func learnScenario(t testing.TB, attack bool) []*Profile {
	sc := event.NewScenario()
	workload(sc, attack)
	l := NewLearner(LearnOptions{})
	st := event.NewState(event.Options{})
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
		l.Observe(&sc.Events[i], st)
	}
	return l.Profiles()
}

func TestLearnGolden(t *testing.T) {
	ps := learnScenario(t, false)
	if len(ps) != 1 {
		t.Fatalf("%d profiles, want 1", len(ps))
	}
	if k := ps[0].Identity.Key(); k != "k8s:shop/web" {
		t.Fatalf("key %q", k)
	}
	got, err := ps[0].Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "web.profile.yaml", got)
	// The golden profile parses back to the same bytes.
	p, err := Parse("web.profile.yaml", bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.Marshal()
	if !bytes.Equal(again, got) {
		t.Fatalf("round trip differs:\n%s", again)
	}
	for name, gen := range map[string]func(*Profile) ([]byte, error){
		"web.seccomp.json":         GenerateSeccomp,
		"web.networkpolicy.yaml":   GenerateNetworkPolicy,
		"web.securitycontext.yaml": GenerateSecurityContext,
		"web.apparmor":             func(p *Profile) ([]byte, error) { return GenerateAppArmor(p), nil },
	} {
		out, err := gen(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden(t, name, out)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n%s", name, got)
	}
}

func TestDrift(t *testing.T) {
	ps := learnScenario(t, false)
	// Replaying the learned workload raises nothing.
	if d := drifts(ps, false); len(d) != 0 {
		t.Fatalf("drift on the learned workload: %v", d)
	}
	got := drifts(ps, true)
	want := []string{
		RuleExec + " executables=/tmp/evil",
		RuleEdge + " execEdges=/bin/sh -> /tmp/evil",
		RuleOutbound + " outbound=tcp 203.0.113.9:4444",
		RuleWrite + " files.write=/etc/passwd",
		RuleSyscall + " syscalls=ptrace",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("drifts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func drifts(ps []*Profile, attack bool) []string {
	sc := event.NewScenario()
	workload(sc, attack)
	c := NewChecker(ps)
	st := event.NewState(event.Options{})
	var out []string
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
		c.Check(&sc.Events[i], st, func(d *Drift) {
			a := d.Alert("node1")
			if a.Rule != d.Rule || a.OutputFields["ward.profile.missing"] != d.Missing || a.OutputFields["ward.profile"] != "k8s:shop/web" {
				panic("alert shape")
			}
			out = append(out, d.Rule+" "+d.Section+"="+d.Missing)
		})
	}
	return out
}

func TestMerge(t *testing.T) {
	a := learnScenario(t, false)[0]
	b := learnScenario(t, true)[0]
	events := a.Learned.Events + b.Learned.Events
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if a.Learned.Replicas != 2 || a.Learned.Events != events {
		t.Fatalf("learned %+v", a.Learned)
	}
	found := false
	for _, e := range a.Executables {
		found = found || e.Path == "/tmp/evil"
	}
	if !found {
		t.Fatal("merged profile lacks /tmp/evil")
	}
	// Merging is order independent.
	c := learnScenario(t, true)[0]
	if err := c.Merge(learnScenario(t, false)[0]); err != nil {
		t.Fatal(err)
	}
	x, _ := a.Marshal()
	y, _ := c.Marshal()
	if !bytes.Equal(x, y) {
		t.Fatalf("merge order matters:\n%s\n---\n%s", x, y)
	}
	other := &Profile{Identity: Identity{Image: "other:1"}}
	if err := a.Merge(other); err == nil {
		t.Fatal("merging different identities succeeded")
	}
}

func TestIdentityOf(t *testing.T) {
	for _, tc := range []struct {
		c    event.Container
		want string
	}{
		{event.Container{Image: "nginx:1"}, "nginx:1"},
		{event.Container{ImageRepo: "nginx", ImageTag: "2"}, "nginx:2"},
		{event.Container{ImageDigest: "sha256:aa"}, "sha256:aa"},
		{event.Container{Image: "x", PodNamespace: "ns", PodName: "api-5f7c9d8b4-abcde"}, "k8s:ns/api"},
		{event.Container{Image: "x", PodNamespace: "ns", PodName: "db-0", PodLabels: []event.KV{{Key: "controller-revision-hash", Value: "db-1"}}}, "k8s:ns/db"},
		{event.Container{Image: "x", PodNamespace: "ns", PodName: "p", PodLabels: []event.KV{{Key: "app.kubernetes.io/name", Value: "shop"}}}, "k8s:ns/shop"},
	} {
		if got := IdentityOf(&tc.c).Key(); got != tc.want {
			t.Errorf("%+v: key %q, want %q", tc.c, got, tc.want)
		}
	}
	if n := FileName("k8s:shop/web"); n != "k8s_shop_web.yaml" {
		t.Errorf("FileName %q", n)
	}
}

func TestMonitorLearning(t *testing.T) {
	sc := event.NewScenario()
	workload(sc, true)
	m := NewMonitor(nil, 5*time.Second)
	st := event.NewState(event.Options{})
	var got []string
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
		m.Observe(&sc.Events[i], st, func(d *Drift) { got = append(got, d.Rule+" "+d.Missing) })
		if i == 5 {
			if s := m.State("k8s:shop/web"); s != "learning" {
				t.Fatalf("state after 5 events %q", s)
			}
		}
	}
	if s := m.State("k8s:shop/web"); s != "enforcing" {
		t.Fatalf("state %q", s)
	}
	if len(got) == 0 || got[0] != RuleExec+" /tmp/evil" {
		t.Fatalf("drifts after learning: %v", got)
	}
	// Without a learning period nothing is checked or learned.
	m = NewMonitor(nil, 0)
	st = event.NewState(event.Options{})
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
		m.Observe(&sc.Events[i], st, func(d *Drift) { t.Fatalf("drift without profile: %v", d.Rule) })
	}
	if s := m.State("k8s:shop/web"); s != "unknown" {
		t.Fatalf("state %q", s)
	}
}
