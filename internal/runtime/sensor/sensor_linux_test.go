//go:build linux && amd64

package sensor

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
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

func TestSensorSeesExecOpenConnect(t *testing.T) {
	s := startSensor(t, Options{})
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
