package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/pkg/finding"
)

const ruleFile = `
- rule: Shadow read
  desc: shadow was read
  condition: evt.type = openat and fd.name = /etc/shadow
  output: shadow read by %proc.name (file=%fd.name uid=%user.uid missing=%container.image.repository)
  priority: WARNING
  tags: [filesystem, mitre_credential_access, T1555]
`

func matches(t *testing.T) []*rules.Match {
	t.Helper()
	eng, err := rules.LoadSources([]rules.Source{{Name: "r.yaml", Data: []byte(ruleFile)}}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc := event.NewScenario()
	cat := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/cat", Args: []string{"cat", "/etc/shadow"}})
	cat.Open("/etc/shadow", event.ORdonly)
	cat.Open("/etc/shadow", event.ORdonly)
	cat.Open("/etc/shadow", event.ORdonly)
	st := event.NewState(event.Options{})
	st.Hostname = "node-1"
	var out []*rules.Match
	for i := range sc.Events {
		st.Apply(&sc.Events[i])
		eng.Eval(&sc.Events[i], st, func(m *rules.Match) { out = append(out, m) })
	}
	if len(out) != 3 {
		t.Fatalf("%d matches, want 3", len(out))
	}
	return out
}

func TestFalcoShapeAndFinding(t *testing.T) {
	m := matches(t)[0]
	a := FromMatch(m)
	b, _ := json.Marshal(a)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "rule", "priority", "output", "output_fields", "tags", "source", "hostname"} {
		if _, ok := got[k]; !ok {
			t.Errorf("alert JSON lacks %q: %s", k, b)
		}
	}
	if a.Priority != "Warning" || a.Source != "syscall" || a.Hostname != "node-1" || !strings.HasPrefix(a.Time, "2023-11-14T22:13:20") {
		t.Errorf("alert = %+v", a)
	}
	if !strings.HasSuffix(a.Output, "Warning shadow read by cat (file=/etc/shadow uid=0 missing=<NA>)") {
		t.Errorf("output = %q", a.Output)
	}
	if a.OutputFields["fd.name"] != "/etc/shadow" || a.OutputFields["user.uid"] != int64(0) || a.OutputFields["container.image.repository"] != nil {
		t.Errorf("output_fields = %v", a.OutputFields)
	}
	f := Finding(m)
	if f.Kind != finding.KindRuntime || f.Severity != finding.SeverityMedium || f.RuleID != "Shadow read" ||
		f.Location.Process == nil || f.Location.Process.Name != "cat" || f.Fingerprint == "" || f.Runtime == nil || f.Target != "node-1" {
		t.Errorf("finding = %+v", f)
	}
	if f2 := Finding(matches(t)[1]); f2.Fingerprint != f.Fingerprint {
		t.Errorf("fingerprint not stable")
	}
}

func TestSinksAndRateLimit(t *testing.T) {
	ms := matches(t)
	var text, js bytes.Buffer
	file := filepath.Join(t.TempDir(), "alerts.jsonl")
	fs, err := NewFileSink(file, true)
	if err != nil {
		t.Fatal(err)
	}
	d := &Dispatcher{Sinks: []Sink{NewTextSink(&text), NewJSONSink(&js), fs}, Limiter: NewRateLimiter(1, 2)}
	sent := 0
	for _, m := range ms { // three matches within a few ms: burst 2
		if d.Dispatch(context.Background(), m) {
			sent++
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if sent != 2 {
		t.Errorf("sent %d, want 2 (rate limited)", sent)
	}
	if _, _, dropped := d.Stats(); dropped["Shadow read"] != 1 {
		t.Errorf("dropped = %v", dropped)
	}
	if strings.Count(text.String(), "\n") != 2 || !strings.Contains(text.String(), ": Warning shadow read by cat") {
		t.Errorf("text = %q", text.String())
	}
	data, _ := os.ReadFile(file)
	if strings.Count(string(data), "\n") != 2 || js.String() != string(data) {
		t.Errorf("file = %q", data)
	}
	fi, _ := os.Stat(file)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("alert file mode %v", fi.Mode())
	}
	// refill after a second
	l := NewRateLimiter(1, 1)
	now := time.Unix(100, 0)
	if !l.Allow("r", now) || l.Allow("r", now) || !l.Allow("r", now.Add(1100*time.Millisecond)) {
		t.Errorf("token bucket wrong")
	}
}

func TestWebhookRetries(t *testing.T) {
	var calls atomic.Int32
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var a Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err == nil {
			body.Store(a.Rule)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	wh := NewWebhook(srv.URL, WebhookOptions{Backoff: time.Millisecond, Retries: 3})
	a := FromMatch(matches(t)[0])
	if err := wh.Send(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}
	s := wh.Stats()
	if s.Sent != 1 || s.Retries != 2 || s.Failed != 0 || body.Load() != "Shadow read" {
		t.Errorf("stats = %+v body=%v", s, body.Load())
	}
	if wh.Send(context.Background(), &a) == nil {
		t.Errorf("send after close must fail")
	}
}

func TestWebhookGivesUpAndDrops(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-block
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	wh := NewWebhook(srv.URL, WebhookOptions{Backoff: time.Millisecond, Retries: 1, QueueSize: 2})
	a := FromMatch(matches(t)[0])
	errs := 0
	for i := 0; i < 6; i++ {
		if wh.Send(context.Background(), &a) != nil {
			errs++
		}
	}
	close(block)
	err := wh.Close()
	s := wh.Stats()
	if errs == 0 || s.Dropped == 0 || s.Failed == 0 || s.Sent != 0 || err == nil {
		t.Errorf("stats = %+v errs=%d err=%v", s, errs, err)
	}
}
