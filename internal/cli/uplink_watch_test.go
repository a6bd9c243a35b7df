package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// alertReceiver is a test receiver of POST /api/v1/alerts and
// /api/v1/heartbeats (CONTRACT.md): it checks the token and that each
// sensor's sequence numbers arrive without reordering.
type alertReceiver struct {
	mu         sync.Mutex
	rules      []string
	next       map[string]uint64
	heartbeats int
	bad        []string
}

func (a *alertReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer tok" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	b, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/api/v1/alerts":
		var batch struct {
			Node     string `json:"node"`
			SensorID string `json:"sensor_id"`
			Seq      uint64 `json:"seq"`
			Alerts   []struct {
				Rule string `json:"rule"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal(b, &batch); err != nil || batch.Node != "test-node" || batch.SensorID == "" {
			a.bad = append(a.bad, "bad batch "+string(b))
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		if batch.Seq != a.next[batch.SensorID] {
			a.bad = append(a.bad, "out of order")
		}
		for _, al := range batch.Alerts {
			a.rules = append(a.rules, al.Rule)
		}
		a.next[batch.SensorID] = batch.Seq + uint64(len(batch.Alerts))
		_, _ = w.Write([]byte(`{"accepted":` + itoa(len(batch.Alerts)) + `,"duplicates":0}`))
	case "/api/v1/heartbeats":
		a.heartbeats++
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// TestRuntimeWatchStreamsToServer runs the real sensor with --server and
// checks its own `cat /etc/shadow` alert reaches the receiver.
func TestRuntimeWatchStreamsToServer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the sensor needs root")
	}
	rulesFile := filepath.Join("..", "..", "..", "shared", "data", "falco-rules", "falco_rules.yaml")
	if _, err := os.Stat(rulesFile); err != nil {
		t.Skip("needs the Falco rules in ../shared")
	}
	rcv := &alertReceiver{next: map[string]uint64{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	env := map[string]string{"WARD_TOKEN": "tok", "WARD_NODE": "test-node"}
	type res struct {
		code     int
		out, err string
	}
	done := make(chan res, 1)
	go func() {
		c, o, e := runWardEnv(t, env, "runtime", "watch", "--duration", "3s", "--ready-file", ready, "-r", rulesFile,
			"--format", "json", "--server", srv.URL, "--cache-dir", filepath.Join(dir, "cache"))
		done <- res{c, o, e}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case r := <-done:
			t.Skipf("runtime watch cannot run here: exit %d: %s", r.code, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("sensor not ready in 90s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := exec.Command("cat", "/etc/shadow").Run(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if !strings.Contains(r.err, "alerts sent to "+srv.URL+", 0 still spooled") {
		t.Fatalf("stderr: %s", r.err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	found := false
	for _, rule := range rcv.rules {
		found = found || rule == "Read sensitive file untrusted"
	}
	if !found || len(rcv.bad) > 0 || rcv.heartbeats < 1 {
		t.Fatalf("rules %v, violations %v, heartbeats %d", rcv.rules, rcv.bad, rcv.heartbeats)
	}
}
