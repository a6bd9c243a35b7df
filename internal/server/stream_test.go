package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/uplink"
)

// freeAddr returns a 127.0.0.1 address that was free a moment ago (the
// server restarts on the same address).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestStreamerSurvivesServerRestarts streams alerts with the sensor's
// uplink streamer (on-disk spool) to the real server while the server is
// stopped and restarted twice: every alert arrives exactly once, in order.
func TestStreamerSurvivesServerRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the server several times")
	}
	dataDir := t.TempDir()
	addr := freeAddr(t)
	tok := token(t, dataDir, store.RoleIngest)
	cl, err := uplink.New(uplink.Config{URL: "http://" + addr, Token: tok, Attempts: 2, Backoff: 50 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := uplink.NewStreamer(cl, uplink.StreamOptions{Node: "node-1", Version: "test", Dir: t.TempDir(), Batch: 50, Heartbeat: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	send := func(k int) {
		for i := 0; i < k; i++ {
			a := &alert.Alert{Time: time.Now().UTC().Format(time.RFC3339Nano), Rule: "Terminal shell in container", Priority: "Notice",
				Output: fmt.Sprintf("alert %d", n), OutputFields: map[string]any{"n": n}, Hostname: "node-1"}
			if err := s.Send(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	send(120) // the server is not up yet: spooled
	time.Sleep(300 * time.Millisecond)
	r := start(t, Options{Listen: addr, DataDir: dataDir})
	send(80)
	waitAlerts(t, dataDir, n)
	r.stop(t)
	send(150) // down again
	time.Sleep(500 * time.Millisecond)
	r = start(t, Options{Listen: addr, DataDir: dataDir})
	send(50)
	waitAlerts(t, dataDir, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.CloseContext(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Dropped != 0 || st.Spooled != 0 {
		t.Errorf("streamer stats %+v", st)
	}
	// Order and exactly-once: seq i carries "alert i".
	got := allAlerts(t, dataDir)
	if len(got) != n {
		t.Fatalf("%d alerts stored, want %d", len(got), n)
	}
	for _, a := range got {
		var body struct {
			Output string `json:"output"`
		}
		if err := json.Unmarshal(a.Alert, &body); err != nil {
			t.Fatal(err)
		}
		if body.Output != fmt.Sprintf("alert %d", a.Seq) {
			t.Fatalf("seq %d holds %q: out of order", a.Seq, body.Output)
		}
		if a.Node != "node-1" || a.SensorID != s.ID() {
			t.Fatalf("alert %+v", a)
		}
	}
	// Stored in the order raised: ids (newest first) follow the seqs.
	for i := 1; i < len(got); i++ {
		if got[i].Seq >= got[i-1].Seq {
			t.Fatalf("alert id %d (seq %d) stored after id %d (seq %d)", got[i-1].ID, got[i-1].Seq, got[i].ID, got[i].Seq)
		}
	}
	seen := map[int64]bool{}
	for _, a := range got {
		seen[a.Seq] = true
	}
	for i := 0; i < n; i++ {
		if !seen[int64(i)] {
			t.Fatalf("seq %d missing", i)
		}
	}
	r.stop(t)
}

func allAlerts(t testing.TB, dataDir string) []store.StoredAlert {
	t.Helper()
	st, err := store.OpenDSN(context.Background(), "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []store.StoredAlert
	f := store.AlertFilter{Limit: 1000}
	for {
		items, next, err := st.Alerts(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		f.Cursor = next
	}
}

func waitAlerts(t *testing.T, dataDir string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := len(allAlerts(t, dataDir))
		if got == n {
			return
		}
		if got > n {
			t.Fatalf("%d alerts stored, more than the %d sent", got, n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts arrived", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
