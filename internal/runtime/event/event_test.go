package event

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sampleEvents() []Event {
	sc := NewScenario()
	sc.Container(Container{ID: strings.Repeat("ab", 32), Name: "web", Image: "nginx:1.25", ImageRepo: "nginx", ImageTag: "1.25",
		Privileged: true, Mounts: []Mount{{Source: "/var/run/docker.sock", Dest: "/var/run/docker.sock", Mode: "rw", RW: true}},
		Labels: []KV{{"app", "web"}}, PodName: "web-0", PodNamespace: "prod", PodLabels: []KV{{"tier", "front"}}})
	sh := sc.Init().Spawn(ExecSpec{Exe: "/bin/bash", Args: []string{"bash", "-c", "x"}, Env: []string{"A=1"}, Cwd: "/root",
		UID: U32(1000), LoginUID: I64(1000), TTY: U32(34816), CapEff: U64(1 << 21), ExeFlags: ExeUpperLayer, ExeCtime: 42})
	fd := sh.Open("/etc/passwd", ORdonly|OCloexec)
	sh.Read(fd, []byte("root:x:0:0"))
	s := sh.Socket(AFInet6, 1)
	sh.Connect(s, "::1", 1234, "2001:db8::1", 443)
	sh.Close(fd)
	sh.Exit()
	return sc.Events
}

func TestCodecRoundTrip(t *testing.T) {
	evs := sampleEvents()
	var buf bytes.Buffer
	w := NewWriter(&buf, "node-1", 123)
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(buf.Bytes()))
	h, err := r.Header()
	if err != nil || h.Hostname != "node-1" || h.Start != 123 || h.Version != Version {
		t.Fatalf("header %+v %v", h, err)
	}
	for i := range evs {
		var got Event
		if err := r.Read(&got); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		want := evs[i]
		want.Num = uint64(i + 1)
		norm := func(e *Event) {
			if len(e.Args) == 0 {
				e.Args = nil
			}
			if len(e.Env) == 0 {
				e.Env = nil
			}
			if len(e.Data) == 0 {
				e.Data = nil
			}
		}
		norm(&got)
		norm(&want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	var ev Event
	if err := r.Read(&ev); err != io.EOF {
		t.Errorf("want EOF, got %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, "h", 0)
	evs := sampleEvents()
	_ = w.Write(&evs[1])
	_ = w.Flush()
	good := buf.Bytes()
	hdrLen := fileHeaderFixed + 1
	cases := map[string][]byte{
		"bad magic":      append([]byte("NOTWARD!"), good[8:]...),
		"truncated body": good[:len(good)-3],
		"huge length":    append(append([]byte{}, good[:hdrLen]...), 0xff, 0xff, 0xff, 0x7f),
		"bad version":    func() []byte { b := append([]byte{}, good...); b[8] = 99; return b }(),
		"param overrun": func() []byte {
			b := append([]byte{}, good...)
			b[hdrLen+HeaderSize+2] = 0xff
			b[hdrLen+HeaderSize+3] = 0xff
			return b
		}(),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(data))
			var ev Event
			err := r.Read(&ev)
			if err == nil || !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			if !strings.Contains(err.Error(), "offset") {
				t.Errorf("error does not locate the problem: %v", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf, "h", 0)
	for _, ev := range sampleEvents() {
		ev := ev
		_ = w.Write(&ev)
	}
	_ = w.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		st := NewState(Options{MaxProcesses: 64, MaxFDsPerProcess: 64})
		var ev Event
		for i := 0; i < 1000; i++ {
			if err := r.Read(&ev); err != nil {
				return
			}
			st.Apply(&ev)
			// re-encoding what was decoded must decode to the same event
			b := AppendRecord(nil, &ev)
			var back Event
			if err := DecodeRecord(b, &back, nil); err != nil {
				t.Fatalf("re-decode: %v", err)
			}
		}
	})
}

func TestStateAncestryFDsAndExit(t *testing.T) {
	sc := NewScenario()
	init := sc.Init()
	sh := init.Spawn(ExecSpec{Exe: "/bin/bash", Cwd: "/home/a"})
	child := sh.Spawn(ExecSpec{Exe: "/usr/bin/vim"})
	fd := child.Open("notes.txt", OWronly|OCloexec)
	keep := child.Open("/etc/hosts", ORdonly)
	st := NewState(Options{})
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
	}
	p := st.Process(child.PID)
	if p == nil || st.Ancestor(p, 1).Comm != "bash" || st.Ancestor(p, 2).Comm != "systemd" || st.Ancestor(p, 3) != nil {
		t.Fatalf("ancestry wrong")
	}
	if f := p.FD(fd); f == nil || f.Name != "/home/a/notes.txt" || f.NameRaw != "notes.txt" || f.Type != FDFile {
		t.Fatalf("fd = %+v", f)
	}
	// exec closes O_CLOEXEC fds only
	child.Exec(ExecSpec{Exe: "/usr/bin/less"})
	child.Close(keep)
	n := len(sc.Events)
	st.Apply(&sc.Events[n-2])
	if p.FD(fd) != nil || p.FD(keep) == nil || p.Comm != "less" {
		t.Fatalf("cloexec not applied")
	}
	st.Apply(&sc.Events[n-1])
	if st.CurrentFD() == nil || st.CurrentFD().Name != "/etc/hosts" {
		t.Errorf("close: rules must still see the closed fd")
	}
	if p.FD(keep) != nil {
		t.Errorf("fd still open after close")
	}
	// parent exits while child lives: kept as zombie for ancestry
	sh.Exit()
	st.Apply(&sc.Events[len(sc.Events)-1])
	child.Open("/x", ORdonly)
	st.Apply(&sc.Events[len(sc.Events)-1])
	if a := st.Ancestor(st.Process(child.PID), 1); a == nil || !a.Exited || a.Comm != "bash" {
		t.Errorf("exited parent should stay for ancestry, got %+v", a)
	}
	child.Exit()
	st.Apply(&sc.Events[len(sc.Events)-1])
	child2 := init.Spawn(ExecSpec{Exe: "/bin/true"})
	for _, ev := range sc.Events[len(sc.Events)-2:] {
		ev := ev
		st.Apply(&ev)
	}
	if st.Process(child.PID) != nil || st.Process(sh.PID) != nil {
		t.Errorf("exited processes not reclaimed")
	}
	if st.Process(child2.PID) == nil {
		t.Errorf("new child missing")
	}
}

func TestStateCapsAndEvictions(t *testing.T) {
	st := NewState(Options{MaxProcesses: 10, MaxFDsPerProcess: 8})
	sc := NewScenario()
	init := sc.Init()
	for i := 0; i < 50; i++ {
		init.Spawn(ExecSpec{Exe: "/bin/sleep"})
	}
	p := init.Spawn(ExecSpec{Exe: "/bin/cat"})
	for i := 0; i < 20; i++ {
		p.Open("/f", ORdonly)
	}
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
	}
	s := st.Stats()
	if s.Processes > 10 {
		t.Errorf("processes %d over cap", s.Processes)
	}
	if s.ProcessEvictions == 0 || s.FDEvictions == 0 {
		t.Errorf("evictions not counted: %+v", s)
	}
}

func TestStateSocketsDupAndContainer(t *testing.T) {
	evs := sampleEvents()
	st := NewState(Options{})
	for i := range evs {
		st.Apply(&evs[i])
		if evs[i].Type == TypeConnect {
			f := st.CurrentFD()
			if f == nil || f.Type != FDIPv6 || f.Role != 'c' || !f.Connected || f.Addr.DstPort != 443 || f.Addr.L4 != L4TCP {
				t.Errorf("connect fd = %+v", f)
			}
		}
	}
	c := st.Container(strings.Repeat("ab", 6))
	if c == nil || c.Name != "web" || !c.Privileged || len(c.Mounts) != 1 {
		t.Errorf("container = %+v", c)
	}
}

func TestLoadProc(t *testing.T) {
	root := t.TempDir()
	proc := filepath.Join(root, "proc")
	etc := filepath.Join(root, "etc")
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(etc, "passwd"), "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/zsh\nbad line\n")
	write(filepath.Join(etc, "group"), "root:x:0:\nalice:x:1000:\n")
	write(filepath.Join(proc, "stat"), "cpu 1 2 3\nbtime 1700000000\n")
	mk := func(pid, ppid, comm, cmdline, cgroup string) {
		d := filepath.Join(proc, pid)
		write(filepath.Join(d, "stat"), pid+" ("+comm+") S "+ppid+" "+pid+" "+pid+" 34816 0 0 0 0 0 0 0 0 0 0 0 0 1 0 500 0 0")
		write(filepath.Join(d, "cmdline"), cmdline)
		write(filepath.Join(d, "status"), "Name:\t"+comm+"\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\nNSpid:\t"+pid+"\t7\n")
		write(filepath.Join(d, "loginuid"), "1000")
		write(filepath.Join(d, "cgroup"), cgroup)
		if err := os.MkdirAll(filepath.Join(d, "fd"), 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.Symlink("/etc/hosts", filepath.Join(d, "fd", "3"))
		_ = os.Symlink("socket:[1234]", filepath.Join(d, "fd", "4"))
		_ = os.Symlink("/home/alice", filepath.Join(d, "cwd"))
		_ = os.Symlink("/usr/bin/"+comm, filepath.Join(d, "exe"))
	}
	mk("1", "0", "systemd", "/sbin/init\x00", "0::/init.scope\n")
	mk("200", "1", "bash", "bash\x00-l\x00", "0::/system.slice/docker-"+strings.Repeat("cd", 32)+".scope\n")
	write(filepath.Join(proc, "300", "stat"), "garbage") // malformed: skipped
	st := NewState(Options{})
	stats, err := st.LoadProc(SnapshotOptions{ProcRoot: proc, EtcRoot: etc})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Processes != 2 || stats.Skipped != 1 || stats.Users != 2 || stats.Groups != 2 || stats.FDs != 4 {
		t.Errorf("stats = %+v", stats)
	}
	p := st.Process(200)
	if p == nil || p.Comm != "bash" || p.PPID != 1 || p.Cwd != "/home/alice" || p.ExePath != "/usr/bin/bash" ||
		p.EUID != 1000 || p.LoginUID != 1000 || p.CapEff != 1<<21 || p.VPID != 7 || p.TTY != 34816 ||
		p.ContainerID != strings.Repeat("cd", 6) || len(p.Args) != 2 || p.StartTS != 1700000000e9+5e9 {
		t.Errorf("process = %+v", p)
	}
	if f := p.FD(3); f == nil || f.Name != "/etc/hosts" || f.Type != FDFile {
		t.Errorf("fd 3 = %+v", f)
	}
	if u, ok := st.User(1000); !ok || u.Name != "alice" || u.Shell != "/bin/zsh" {
		t.Errorf("user = %+v", u)
	}
	if st.Parent(p).Comm != "systemd" {
		t.Errorf("parent link missing")
	}
}

// TestStateDupOfUnknownFD: dup2 from an fd the table does not know (opened
// before the sensor, or filtered in the kernel) replaces what the target
// held: a socket on fd 1 must not survive it.
func TestStateDupOfUnknownFD(t *testing.T) {
	sc := NewScenario()
	p := sc.Init().Spawn(ExecSpec{Exe: "/bin/sh"})
	sock := p.Socket(AFInet, 1)
	p.Dup2(sock, 1)
	p.Dup2(77, 1) // fd 77 is unknown
	st := NewState(Options{})
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
	}
	proc := st.Process(p.PID)
	if proc.FD(sock) == nil {
		t.Fatal("socket missing")
	}
	if f := proc.FD(1); f != nil {
		t.Errorf("fd 1 after dup2 of an unknown fd = %+v, want unknown", f)
	}
}
