//go:build linux && amd64

package sensor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
)

// startSensor loads the sensor or skips the test with the reason.
func startSensor(t *testing.T, opts Options) *Sensor {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		if errors.Is(err, ErrNotSupported) {
			if os.Getenv("WARD_REQUIRE_SENSOR") != "" {
				t.Fatalf("WARD_REQUIRE_SENSOR is set: %v", err)
			}
			t.Skipf("sensor not supported here: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// collector gathers copies of events until a predicate is met.
type collector struct {
	mu     sync.Mutex
	events []event.Event
}

func (c *collector) add(ev *event.Event) {
	cp := *ev
	cp.Args = append([]string(nil), ev.Args...)
	cp.Env = nil
	c.mu.Lock()
	c.events = append(c.events, cp)
	c.mu.Unlock()
}

func (c *collector) find(pred func(*event.Event) bool) *event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.events {
		if pred(&c.events[i]) {
			return &c.events[i]
		}
	}
	return nil
}

func waitFor(t *testing.T, c *collector, what string, pred func(*event.Event) bool) *event.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ev := c.find(pred); ev != nil {
			return ev
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s event seen", what)
	return nil
}

// TestSensorSeesExecOpenConnect runs on both sys_exit hooks: tp_btf (the
// default) and the raw tracepoint.
func TestSensorSeesExecOpenConnect(t *testing.T) {
	for _, tc := range []struct {
		raw  bool
		hook string
	}{{false, "tp_btf/sys_exit"}, {true, "raw_tracepoint/sys_exit"}} {
		t.Run(tc.hook, func(t *testing.T) {
			s := startSensor(t, Options{RawTracepoint: tc.raw})
			if got := s.Hooks().Attached[0]; got != tc.hook {
				t.Fatalf("sys_exit hook = %q, want %q (probes %+v)", got, tc.hook, s.Hooks().Probes)
			}
			sensorSeesExecOpen(t, s)
		})
	}
}

func sensorSeesExecOpen(t *testing.T, s *Sensor) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &collector{}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.add) }()

	// The sensor ignores its own process, so the test runs cat from a shell.
	cmd := exec.Command("/bin/sh", "-c", "/bin/cat /etc/hostname /nonexistent-ward-file; true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	shPID := int64(cmd.Process.Pid)
	fork := waitFor(t, c, "fork", func(ev *event.Event) bool { return ev.Type == event.TypeClone && int64(ev.PID) == shPID && ev.Res > 0 })
	pid := int32(fork.Res)

	execEv := waitFor(t, c, "exec", func(ev *event.Event) bool {
		return ev.Type == event.TypeExecve && ev.PID == pid && ev.Res == 0
	})
	if execEv.Path != "/bin/cat" || len(execEv.Args) != 3 || execEv.Args[1] != "/etc/hostname" || execEv.Comm != "cat" {
		t.Errorf("exec event = path %q args %q comm %q", execEv.Path, execEv.Args, execEv.Comm)
	}
	var fi syscall.Stat_t
	if err := syscall.Stat("/bin/cat", &fi); err != nil {
		t.Fatal(err)
	}
	if execEv.ExeIno != fi.Ino || execEv.ExeCtime != fi.Ctim.Nano() || execEv.ExeMtime != fi.Mtim.Nano() {
		t.Errorf("exe inode %d ctime %d mtime %d, want %d %d %d", execEv.ExeIno, execEv.ExeCtime, execEv.ExeMtime, fi.Ino, fi.Ctim.Nano(), fi.Mtim.Nano())
	}
	if execEv.ContainerID != HostID {
		t.Errorf("container id = %q, want host", execEv.ContainerID)
	}
	if int64(execEv.PPID) != shPID || execEv.VPID != pid {
		t.Errorf("ids: ppid %d vpid %d (pid %d)", execEv.PPID, execEv.VPID, pid)
	}
	waitFor(t, c, "successful open of /etc/hostname", func(ev *event.Event) bool {
		return ev.PID == pid && ev.Type.IsOpen() && ev.Path == "/etc/hostname" && ev.Res >= 0
	})
	failed := waitFor(t, c, "failed open", func(ev *event.Event) bool {
		return ev.PID == pid && ev.Type.IsOpen() && strings.HasSuffix(ev.Path, "nonexistent-ward-file")
	})
	if failed.Res != -2 {
		t.Errorf("failed open res = %d, want -ENOENT", failed.Res)
	}
	waitFor(t, c, "exit", func(ev *event.Event) bool { return ev.Type == event.TypeProcExit && ev.PID == pid })

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Events == 0 || st.Delivered == 0 || st.DecodeErrors != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestKernelFilters checks the in-kernel open path filter and close
// tracking: opens no pattern can match never leave the kernel, nor do
// their closes; opens a pattern matches, directories on the way to a
// prefix, directories opened as such, non-canonical and relative paths are
// delivered with their closes; SeedFDs makes a close deliverable.
func TestKernelFilters(t *testing.T) {
	t.Run("fdslots", testKernelFilters)
	// One slot (tgid 0's): every process's fd bits live in the fdtrack
	// hash, as for tgids above pid_max.
	t.Run("fdtrack fallback", func(t *testing.T) {
		fdSlotsForTest = 1
		defer func() { fdSlotsForTest = 0 }()
		testKernelFilters(t)
	})
}

func testKernelFilters(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "opener")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/opener").CombinedOutput(); err != nil {
		t.Fatalf("build opener: %v\n%s", err, out)
	}
	tmp := t.TempDir()
	suffixFile := filepath.Join(tmp, "ward-suffix")
	nearFile := filepath.Join(tmp, "xard-suffix") // the last two bytes of a suffix, not the suffix
	oneFile := filepath.Join(tmp, "endsinz")      // a one-byte suffix
	for _, p := range []string{suffixFile, nearFile, oneFile} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startSensor(t, Options{OpenPaths: &OpenPaths{
		Prefixes: []string{"/etc/shadow", "/dev/", "/etc/security/pwquality.conf"},
		Suffixes: []string{"/ward-suffix", "z"}}})
	if err := s.FDTrackingReady(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &collector{}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.add) }()

	// The sensor's own process is ignored, even for a path a prefix keeps.
	if f, err := os.Open("/etc/shadow"); err == nil {
		f.Close()
	}
	// open, creat and openat2 take the other ways into the filter (their
	// arguments in other places; openat2's flags in user memory).
	tmp2 := t.TempDir()
	creatKept := filepath.Join(tmp2, "ward-suffix")
	creatDropped := filepath.Join(tmp2, "plain")
	args := []string{"/etc/hostname", "/etc/os-release", "/etc/shadow", "/etc", "/etc/./hostname", "/etc//hostname", "/proc/1/../1/status",
		"dir:/usr", suffixFile, "/dev/null", "/etc/security", "/etc/shadow-", nearFile, oneFile,
		"open:/etc/passwd", "open:/dev/zero", "creat:" + creatKept, "creat:" + creatDropped, "openat2:/etc/group", "openat2:/dev/full",
		"cd:/etc", "hostname"}
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fds := map[string]int64{}
	sc := bufio.NewScanner(stdout)
	for len(fds) < len(args)-1 && sc.Scan() {
		var p string
		var fd int64
		if _, err := fmt.Sscan(sc.Text(), &p, &fd); err != nil {
			t.Fatalf("opener said %q: %v", sc.Text(), err)
		}
		if mode, path, ok := strings.Cut(p, ":"); ok && (mode == "dir" || mode == "open" || mode == "creat" || mode == "openat2") {
			p = path
		}
		fds[p] = fd
	}
	pid := int32(cmd.Process.Pid)
	// The kernel never saw /etc/os-release's fd delivered: seed it.
	if err := s.SeedFDs(uint32(pid), []int32{int32(fds["/etc/os-release"])}); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "exit", func(ev *event.Event) bool { return ev.Type == event.TypeProcExit && ev.PID == pid })

	opened := map[string]bool{}
	closed := map[int64]bool{}
	c.mu.Lock()
	for _, ev := range c.events {
		if ev.PID == int32(os.Getpid()) && ev.Type.IsOpen() {
			t.Errorf("the sensor delivered its own process's open of %s", ev.Path)
		}
		if ev.PID != pid {
			continue
		}
		switch {
		case ev.Type.IsOpen() && ev.Res >= 0:
			opened[ev.Path] = true
		case ev.Type == event.TypeClose:
			closed[ev.FD] = true
		}
	}
	c.mu.Unlock()
	for _, tc := range []struct {
		path         string
		open, closed bool
	}{
		{"/etc/hostname", false, false},  // matches nothing
		{"/etc/os-release", false, true}, // filtered, but its fd was seeded
		{"/etc/shadow", true, true},      // a prefix
		{"/etc", true, true},             // a directory on the way to a prefix
		{"/etc/./hostname", true, true},  // not canonical
		{"/usr", true, true},             // O_DIRECTORY
		{suffixFile, true, true},         // a suffix
		{"/dev/null", true, true},        // a prefix shorter than a word
		{"/etc/security", true, true},    // a directory on the way to a long prefix
		{"/etc/shadow-", true, true},     // starts with a prefix
		{nearFile, false, false},         // ends like a suffix's last two bytes only
		{oneFile, true, true},            // a one-byte suffix
		{"hostname", true, true},         // relative
		{"/etc/passwd", false, false},    // open(2): matches nothing
		{"/dev/zero", true, true},        // open(2): a prefix
		{creatKept, true, true},          // creat: a suffix
		{creatDropped, false, false},     // creat: matches nothing
		{"/etc/group", false, false},     // openat2: matches nothing
		{"/dev/full", true, true},        // openat2: a prefix
	} {
		fd, ok := fds[tc.path]
		if !ok {
			t.Fatalf("opener did not report %s", tc.path)
		}
		if opened[tc.path] != tc.open {
			t.Errorf("open of %s delivered = %v, want %v", tc.path, opened[tc.path], tc.open)
		}
		if closed[fd] != tc.closed {
			t.Errorf("close of %s (fd %d) delivered = %v, want %v", tc.path, fd, closed[fd], tc.closed)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestIdleReaderWakes: once the ring has been empty for idleAfter, the
// reader stops polling and the kernel wakes it for the next record (the
// wakeup threshold is 0), long before its idle safety poll; the first
// record puts the threshold back.
func TestIdleReaderWakes(t *testing.T) {
	oldAfter, oldPoll := idleAfter, idlePoll
	idleAfter, idlePoll = 2*PollInterval, time.Minute
	defer func() { idleAfter, idlePoll = oldAfter, oldPoll }()
	s := startSensor(t, Options{Types: []event.Type{event.TypeExecve}})
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.add) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	wake := func() uint64 {
		var v uint64
		if err := s.objs.WardConfig.Lookup(uint32(1), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Idle needs a gap of 20 ms with no exec, fork or exit on the host.
	for deadline := time.Now().Add(20 * time.Second); !s.idle.Load(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reader never went idle")
		}
	}
	if w := wake(); w != 0 {
		t.Fatalf("idle: wakeup threshold %d, want 0", w)
	}
	start := time.Now()
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Fatal(err)
	}
	for s.idle.Load() {
		if time.Since(start) > 10*time.Second {
			t.Fatal("an exec did not wake the idle reader within 10 s (its safety poll is a minute)")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s.idleWakes.Load() == 0 {
		t.Error("idle ended without a record")
	}
	// Busy again, unless the reader already went idle once more.
	if w := wake(); w != uint64(s.objs.Events.MaxEntries()/8) && !s.idle.Load() {
		t.Errorf("busy: wakeup threshold %d, want %d", w, s.objs.Events.MaxEntries()/8)
	}
}
