package api

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/sink"
)

type routedEvent struct {
	Kind    string `json:"kind"`
	New     bool   `json:"new"`
	Target  string `json:"target"`
	Node    string `json:"node"`
	Finding *struct {
		Fingerprint string `json:"fingerprint"`
	} `json:"finding"`
	Alert *struct {
		Output string `json:"output"`
	} `json:"alert"`
}

func readEvents(t *testing.T, path string) []routedEvent {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []routedEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e routedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, e)
	}
	return out
}

// TestRouting routes new findings, recurring findings and alerts of real
// uploads through the sink router to file sinks.
func TestRouting(t *testing.T) {
	dir := t.TempDir()
	cfgText := strings.NewReplacer("DIR", dir).Replace(`
sinks:
  - {name: new, type: file, path: DIR/new.jsonl}
  - {name: recurring, type: file, path: DIR/recurring.jsonl}
  - {name: alerts, type: file, path: DIR/alerts.jsonl}
routes:
  - match: {kind: finding, new: true, severity: HIGH}
    sinks: [new]
  - match: {kind: finding, new: false}
    sinks: [recurring]
  - match: {kind: alert, namespace: prod}
    sinks: [alerts]
`)
	cfg, err := sink.ParseConfig([]byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sink.New(cfg, sink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.Router = r })
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("alpine:3", "a:HIGH", "b:LOW", "c:CRITICAL")))
	// a recurs, b is fixed, d is new but LOW (not routed to "new").
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("alpine:3", "a:HIGH", "c:CRITICAL", "d:LOW")))
	// The same upload again routes nothing.
	e.must(200, e.do("POST", "/api/v1/scans", e.ing, testReport("alpine:3", "a:HIGH", "c:CRITICAL", "d:LOW")))
	// b comes back: new again (it was fixed), but LOW.
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("alpine:3", "b:HIGH")))
	e.must(200, e.do("POST", "/api/v1/alerts", e.ing, alertBody("node-1", "s1", 0, alertJSON("r", 0), alertJSON("r", 1))))
	e.must(200, e.do("POST", "/api/v1/alerts", e.ing, alertBody("node-1", "s1", 1, alertJSON("r", 1), alertJSON("r", 2))))
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	fps := func(evs []routedEvent) string {
		var s []string
		for _, ev := range evs {
			if ev.Finding != nil {
				s = append(s, ev.Finding.Fingerprint)
			}
			if ev.Alert != nil {
				s = append(s, ev.Alert.Output)
			}
		}
		return strings.Join(s, ",")
	}
	if got := fps(readEvents(t, filepath.Join(dir, "new.jsonl"))); got != "a,c,b" {
		t.Errorf("new HIGH+ findings routed: %q, want a,c,b", got)
	}
	if got := fps(readEvents(t, filepath.Join(dir, "recurring.jsonl"))); got != "a,c" {
		t.Errorf("recurring findings routed: %q, want a,c", got)
	}
	evs := readEvents(t, filepath.Join(dir, "alerts.jsonl"))
	if got := fps(evs); got != "alert 0,alert 1,alert 2" {
		t.Errorf("alerts routed: %q, want each once", got)
	}
	if len(evs) > 0 && (evs[0].Node != "node-1" || evs[0].Kind != "alert") {
		t.Errorf("alert event %+v", evs[0])
	}
	for _, ev := range readEvents(t, filepath.Join(dir, "new.jsonl")) {
		if !ev.New || ev.Target != "alpine:3" {
			t.Errorf("new event %+v", ev)
		}
	}
}
