//go:build linux && amd64

package baseline

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/response"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/watch"
	"github.com/wardsec/ward/internal/testutil/sensortest"
)

// TestPodmanAlertAncestry: with the real eBPF sensor, an alert on a
// process two shells deep in a podman container carries its parent chain
// up to the container's init, and the container's identity.
func TestPodmanAlertAncestry(t *testing.T) {
	image := buildBaselineImage(t)
	src := `
- rule: Busybox in container
  desc: test rule
  condition: evt.type = execve and container.id != host and proc.name = busybox and proc.aname[2] = sh
  output: "busybox (parent=%proc.aname[1] ppid=%proc.apid[1] gp=%proc.aname[2])"
  priority: WARNING
`
	eng, err := rules.LoadSources([]rules.Source{{Name: "t.yaml", Data: []byte(src)}}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		alerts []alert.Alert
	)
	sensortest.Start(t, watch.Options{Engine: eng,
		OnMatchState: func(m *rules.Match, st *event.State, _ []response.Record) {
			a := alert.FromMatch(m)
			alert.AddContext(&a, st, m.Event.PID, 0)
			mu.Lock()
			alerts = append(alerts, a)
			mu.Unlock()
		}})
	out, err := runIn(t, image, []string{"--name", "ward-ancestry-test"}, "sh", "-c", `sh -c "/bin/busybox cat /etc/passwd; true"; true`)
	if err != nil || !strings.Contains(out, "root:x:0:0") {
		t.Fatalf("workload: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(alerts)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) == 0 {
		t.Fatal("no alert for /bin/busybox cat in the container")
	}
	a := alerts[0]
	t.Logf("alert: %s", a.Output)
	for _, p := range a.Ancestry {
		t.Logf("  pid=%d ppid=%d comm=%s exe=%s args=%q uid=%d start=%s init=%v", p.PID, p.PPID, p.Comm, p.Exe, p.Args, p.UID, p.Start, p.ContainerInit)
	}
	var comms []string
	for _, p := range a.Ancestry {
		comms = append(comms, p.Comm)
	}
	// busybox's shell runs the inner "sh -c" by re-executing itself
	// (/proc/self/exe, comm "exe").
	if got := strings.Join(comms, "<"); got != "busybox<exe<sh" {
		t.Fatalf("ancestry %s, want busybox<exe<sh (busybox cat, the inner shell, the container init)", got)
	}
	last := a.Ancestry[len(a.Ancestry)-1]
	if !last.ContainerInit || last.Start == "" || strings.Join(last.Args, " ") != `sh -c sh -c "/bin/busybox cat /etc/passwd; true"; true` || last.Exe != "/bin/sh" {
		t.Errorf("container init entry %+v", last)
	}
	if a.Ancestry[0].PPID != a.Ancestry[1].PID || a.Ancestry[1].PPID != last.PID {
		t.Errorf("pids do not chain: %+v", a.Ancestry)
	}
	if a.OutputFields["proc.aname[2]"] != "sh" {
		t.Errorf("proc.aname[2] = %v", a.OutputFields["proc.aname[2]"])
	}
	if a.Container == nil || a.Container.ID == "" || a.Container.Image != image || a.Container.Name != "ward-ancestry-test" {
		t.Errorf("container %+v", a.Container)
	}
}
