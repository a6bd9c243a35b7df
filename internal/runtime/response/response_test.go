package response

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`
dry_run: true
actions:
  - rules: ["Terminal shell in container"]
    action: kill
  - tags: [T1611]
    action: stop
    containers_only: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.DryRun || len(p.Entries) != 2 {
		t.Fatalf("policy = %+v", p)
	}
	if got := p.Select("Terminal shell in container", nil, false); len(got) != 1 || got[0] != Kill {
		t.Errorf("select by name = %v", got)
	}
	if got := p.Select("X", []string{"t1611"}, false); len(got) != 0 {
		t.Errorf("containers_only entry applied to a host process: %v", got)
	}
	if got := p.Select("X", []string{"t1611"}, true); len(got) != 1 || got[0] != Stop {
		t.Errorf("select by tag = %v", got)
	}
	if got := p.Select("Other", []string{"T1059"}, true); len(got) != 0 {
		t.Errorf("unnamed rule selected: %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"actions:\n  - rules: [a]\n    action: explode\n": `p.yaml:2:5: unknown action "explode"`,
		"actions:\n  - action: kill\n":                    "p.yaml:2:5: an action entry needs rules or tags",
		"colour: red\n":                                   `p.yaml:1:1: unknown key "colour"`,
		"- a\n":                                           "p.yaml:1:1: expected a mapping",
		"actions: [\n":                                    "p.yaml:",
	} {
		if _, err := Parse("p.yaml", []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestDoGuards(t *testing.T) {
	p := &Policy{Self: os.Getpid()}
	for _, tc := range []struct {
		a    Action
		pid  int
		cid  string
		want string
	}{
		{Kill, 1, "", "skipped: refusing"},
		{Kill, os.Getpid(), "", "skipped: the sensor's own"},
		{Pause, 12345, "host", "skipped: the process is not in a container"},
		{Stop, 12345, "", "skipped: the process is not in a container"},
	} {
		if rec := p.Do(tc.a, "r", tc.pid, 0, tc.cid); !strings.HasPrefix(rec.Result, tc.want) {
			t.Errorf("Do(%s, %d, %q) = %q, want %q", tc.a, tc.pid, tc.cid, rec.Result, tc.want)
		}
	}
}

func TestDryRunDoesNothing(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	p := &Policy{DryRun: true, Self: os.Getpid()}
	rec := p.Do(Kill, "r", cmd.Process.Pid, 0, "")
	if rec.Result != "dry-run" {
		t.Fatalf("result = %q", rec.Result)
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid))); err != nil {
		t.Fatal("dry run killed the process")
	}
}

func TestKillIsReal(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Policy{Self: os.Getpid()}
	rec := p.Do(Kill, "r", cmd.Process.Pid, 0, "")
	if rec.Result != "done" {
		t.Fatalf("result = %q", rec.Result)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("wait = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("process not killed")
	}
}

func TestFreezeAndStopOnFixtureCgroup(t *testing.T) {
	root := t.TempDir()
	pid := 4242
	mk := func(p, data string) {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(data), 0o644)
	}
	mk("proc/4242/cgroup", "12:freezer:/libpod_parent/libpod-abc\n8:pids:/libpod_parent/libpod-abc\n")
	mk("sys/fs/cgroup/freezer/libpod_parent/libpod-abc/freezer.state", "THAWED")
	mk("sys/fs/cgroup/freezer/libpod_parent/libpod-abc/cgroup.procs", "4242\n4243\n")
	p := &Policy{Root: root, Self: os.Getpid()}
	rec := p.Do(Pause, "r", pid, 0, "libpod-abc")
	if rec.Result != "done" || len(rec.Affected) != 2 {
		t.Fatalf("pause = %+v", rec)
	}
	state, _ := os.ReadFile(filepath.Join(root, "sys/fs/cgroup/freezer/libpod_parent/libpod-abc/freezer.state"))
	if string(state) != "FROZEN" {
		t.Errorf("freezer.state = %q", state)
	}
	// cgroup v2: cgroup.freeze.
	mk("proc/4300/cgroup", "0::/machine.slice/libpod-def.scope\n")
	mk("sys/fs/cgroup/machine.slice/libpod-def.scope/cgroup.procs", "4300\n")
	mk("sys/fs/cgroup/machine.slice/libpod-def.scope/cgroup.freeze", "0")
	if rec := p.Do(Pause, "r", 4300, 0, "libpod-def"); rec.Result != "done" {
		t.Fatalf("v2 pause = %+v", rec)
	}
	fz, _ := os.ReadFile(filepath.Join(root, "sys/fs/cgroup/machine.slice/libpod-def.scope/cgroup.freeze"))
	if string(fz) != "1" {
		t.Errorf("cgroup.freeze = %q", fz)
	}
	// A process in the root cgroup is never frozen.
	mk("proc/4400/cgroup", "12:freezer:/\n")
	if rec := p.Do(Pause, "r", 4400, 0, "xyz"); !strings.HasPrefix(rec.Result, "failed") {
		t.Errorf("root cgroup pause = %+v", rec)
	}
}
