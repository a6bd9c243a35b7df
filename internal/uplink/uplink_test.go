package uplink

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
)

func fastClient(t *testing.T, url, token string) *Client {
	t.Helper()
	c, err := New(Config{URL: url, Token: token, Attempts: 4, Backoff: 10 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const report = `{"schema_version":"1","artifact":{"name":"dir","type":"filesystem"},"findings":[{"rule_id":"A"},{"rule_id":"B"}]}`

func TestUploadReportIdempotentAndRetried(t *testing.T) {
	r := newProtocolReceiver(t, "tok")
	r.fail5xx = 2
	c := fastClient(t, r.URL(), "tok")
	file := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(file, []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := c.UploadReportFile(context.Background(), file, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.ScanID != "scan-1" || res.Findings != 2 || res.Duplicate {
		t.Fatalf("first upload %+v", res)
	}
	res2, err := c.UploadReport(context.Background(), []byte(report), "")
	if err != nil || res2.ScanID != "scan-1" || !res2.Duplicate {
		t.Fatalf("second upload %+v %v", res2, err)
	}
	if len(r.violations) > 0 || len(r.scans) != 1 {
		t.Fatalf("violations %v scans %d", r.violations, len(r.scans))
	}
}

func TestUploadErrors(t *testing.T) {
	r := newProtocolReceiver(t, "tok")
	c := fastClient(t, r.URL(), "wrong")
	_, err := c.UploadReport(context.Background(), []byte(report), "")
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), r.URL()+"/api/v1/scans") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad token: %v", err)
	}
	r.stop()
	c = fastClient(t, r.URL(), "tok")
	_, err = c.UploadReport(context.Background(), []byte(report), "")
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "giving up after 4 attempts") || !strings.Contains(err.Error(), r.URL()) {
		t.Fatalf("server down: %v", err)
	}
	if _, err := New(Config{URL: "ftp://x"}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}

func mkAlert(i int) *alert.Alert {
	return &alert.Alert{Time: time.Unix(int64(i), 0).UTC().Format(time.RFC3339Nano), Rule: fmt.Sprintf("r%d", i),
		Priority: "Warning", Output: "o", OutputFields: map[string]any{"n": i}, Tags: []string{}, Source: "syscall", Hostname: "h"}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func received(r *protocolReceiver) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, as := range r.alerts {
		for _, a := range as {
			var al alert.Alert
			_ = json.Unmarshal(a, &al)
			out = append(out, al.Rule)
		}
	}
	return out
}

func TestStreamSurvivesServerOutageInOrder(t *testing.T) {
	r := newProtocolReceiver(t, "tok")
	dir := t.TempDir()
	s, err := NewStreamer(fastClient(t, r.URL(), "tok"), StreamOptions{Node: "node-1", Version: "test", Dir: dir, Batch: 7,
		Heartbeat: 50 * time.Millisecond, Stats: func() (uint64, uint64) { return 42, 1 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		if err := s.Send(ctx, mkAlert(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "first 30 alerts", func() bool { return len(received(r)) == 30 })
	r.stop()
	for i := 30; i < 100; i++ {
		if err := s.Send(ctx, mkAlert(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "alerts spooled while down", func() bool { return s.Stats().Spooled == 70 })
	time.Sleep(200 * time.Millisecond) // several failed attempts
	r.start()
	waitFor(t, "all 100 alerts", func() bool { return len(received(r)) == 100 })
	if err := s.CloseContext(ctx); err != nil {
		t.Fatal(err)
	}
	got := received(r)
	for i, rule := range got {
		if rule != fmt.Sprintf("r%d", i) {
			t.Fatalf("alert %d is %s: order lost", i, rule)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.violations) > 0 {
		t.Fatalf("protocol violations: %v", r.violations)
	}
	if len(r.heartbeats) == 0 {
		t.Fatal("no heartbeat")
	}
	hb := r.heartbeats[len(r.heartbeats)-1]
	if hb.Node != "node-1" || hb.SensorID != s.ID() || hb.Events != 42 || hb.Alerts != 100 || hb.Spooled != 0 {
		t.Fatalf("heartbeat %+v", hb)
	}
}

func TestStreamSpoolPersistsAcrossRestart(t *testing.T) {
	r := newProtocolReceiver(t, "tok")
	r.stop()
	dir := t.TempDir()
	c := fastClient(t, r.URL(), "tok")
	s, err := NewStreamer(c, StreamOptions{Node: "n", Dir: dir, Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		_ = s.Send(context.Background(), mkAlert(i))
	}
	waitFor(t, "spooled", func() bool { return s.Stats().Spooled == 10 })
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_ = s.CloseContext(short)
	cancel()
	// A new sensor process with the same cache dir and the server back.
	r.start()
	s2, err := NewStreamer(c, StreamOptions{Node: "n", Dir: dir, Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	if s2.ID() != s.ID() {
		t.Fatalf("sensor id changed %s -> %s", s.ID(), s2.ID())
	}
	_ = s2.Send(context.Background(), mkAlert(10))
	waitFor(t, "11 alerts", func() bool { return len(received(r)) == 11 })
	_ = s2.Close()
	for i, rule := range received(r) {
		if rule != fmt.Sprintf("r%d", i) {
			t.Fatalf("alert %d is %s", i, rule)
		}
	}
}

func TestSpoolBoundDropsOldest(t *testing.T) {
	sp, err := OpenSpool(t.TempDir(), 64<<10*4) // segments of 64 KiB
	if err != nil {
		t.Fatal(err)
	}
	big := json.RawMessage(`"` + strings.Repeat("x", 1000) + `"`)
	for i := 0; i < 1000; i++ {
		if _, err := sp.Append([]json.RawMessage{big}); err != nil {
			t.Fatal(err)
		}
	}
	if sp.total > sp.maxBytes || sp.Dropped() == 0 || sp.Pending()+sp.Dropped() != 1000 {
		t.Fatalf("total %d max %d dropped %d pending %d", sp.total, sp.maxBytes, sp.Dropped(), sp.Pending())
	}
	first, as, err := sp.Peek(10)
	if err != nil || len(as) != 10 || first != sp.Dropped() {
		t.Fatalf("peek first %d n %d err %v dropped %d", first, len(as), err, sp.Dropped())
	}
	sp.Close()
}

func TestSpoolTornLine(t *testing.T) {
	dir := t.TempDir()
	sp, _ := OpenSpool(dir, 0)
	_, _ = sp.Append([]json.RawMessage{json.RawMessage(`1`), json.RawMessage(`2`)})
	sp.Close()
	f, _ := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%020d.seg", 0)), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"seq":2,"alert":3`) // crash mid-write
	f.Close()
	sp, err := OpenSpool(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Pending() != 2 {
		t.Fatalf("pending %d", sp.Pending())
	}
	seq, _ := sp.Append([]json.RawMessage{json.RawMessage(`3`)})
	_, as, err := sp.Peek(10)
	if seq != 2 || err != nil || len(as) != 3 || string(as[2]) != "3" {
		t.Fatalf("seq %d alerts %s err %v", seq, as, err)
	}
}

func BenchmarkSpoolAppendPeekAck(b *testing.B) {
	sp, err := OpenSpool(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	a, _ := json.Marshal(mkAlert(1))
	batch := make([]json.RawMessage, 100)
	for i := range batch {
		batch[i] = a
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := sp.Append(batch); err != nil {
			b.Fatal(err)
		}
		first, as, err := sp.Peek(100)
		if err != nil || len(as) != 100 {
			b.Fatal(err)
		}
		if err := sp.Ack(first + 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

func TestUploadTLSWithServerCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"scan_id":"t1","findings":2,"new":2,"fixed":0}`))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	c, err := New(Config{URL: srv.URL, Token: "t", CAFile: ca, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.UploadReport(context.Background(), []byte(report), ""); err != nil || res.ScanID != "t1" {
		t.Fatalf("with CA: %v %v", res, err)
	}
	c, _ = New(Config{URL: srv.URL, Token: "t", Attempts: 1})
	if _, err := c.UploadReport(context.Background(), []byte(report), ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without CA: %v", err)
	}
}
