package uplink

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// protocolReceiver is a test receiver of CONTRACT.md's client protocol
// (POST /api/v1/scans, /alerts, /heartbeats), strict about what it
// accepts: bearer token, JSON bodies, Idempotency-Key equal to the body's
// sha256, alert sequences without reordering. It keeps its state across
// stop and restart.
type protocolReceiver struct {
	t     *testing.T
	token string
	addr  string
	srv   *httptest.Server

	mu         sync.Mutex
	scans      map[string]string // idempotency key -> scan id
	alerts     map[string][]json.RawMessage
	nextSeq    map[string]uint64
	heartbeats []Heartbeat
	fail5xx    int // answer 503 to this many requests first
	violations []string
}

func newProtocolReceiver(t *testing.T, token string) *protocolReceiver {
	r := &protocolReceiver{t: t, token: token, scans: map[string]string{}, alerts: map[string][]json.RawMessage{}, nextSeq: map[string]uint64{}}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *protocolReceiver) URL() string { return "http://" + r.addr }

func (r *protocolReceiver) start() {
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger briefly
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("receiver listen %s: %v", addr, err)
	}
	r.addr = ln.Addr().String()
	r.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: r}}
	r.srv.Start()
}

func (r *protocolReceiver) stop() {
	if r.srv != nil {
		r.srv.CloseClientConnections()
		r.srv.Close()
		r.srv = nil
	}
}

func (r *protocolReceiver) violate(format string, a ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, a...))
}

func (r *protocolReceiver) ServeHTTP(w http.ResponseWriter, q *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if q.Header.Get("Authorization") != "Bearer "+r.token {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if q.Header.Get("Content-Type") != "application/json" {
		r.violate("%s: content type %q", q.URL.Path, q.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(q.Body, 256<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if r.fail5xx > 0 {
		r.fail5xx--
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	switch q.URL.Path {
	case "/api/v1/scans":
		sum := sha256.Sum256(body)
		key := q.Header.Get("Idempotency-Key")
		if key != hex.EncodeToString(sum[:]) {
			r.violate("scan idempotency key %q is not the body's sha256", key)
		}
		var rep struct {
			Findings []json.RawMessage `json:"findings"`
		}
		if err := json.Unmarshal(body, &rep); err != nil {
			http.Error(w, `{"error":"bad report"}`, http.StatusBadRequest)
			return
		}
		if id, ok := r.scans[key]; ok {
			w.WriteHeader(http.StatusOK)
			fmt.Fprintf(w, `{"scan_id":%q,"findings":%d,"new":0,"fixed":0}`, id, len(rep.Findings))
			return
		}
		id := fmt.Sprintf("scan-%d", len(r.scans)+1)
		r.scans[key] = id
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"scan_id":%q,"findings":%d,"new":%d,"fixed":0}`, id, len(rep.Findings), len(rep.Findings))
	case "/api/v1/alerts":
		var b AlertBatch
		if err := json.Unmarshal(body, &b); err != nil || b.SensorID == "" || b.Node == "" {
			http.Error(w, `{"error":"bad batch"}`, http.StatusBadRequest)
			return
		}
		next := r.nextSeq[b.SensorID]
		acc, dup := 0, 0
		for i, a := range b.Alerts {
			seq := b.Seq + uint64(i)
			if seq < next {
				dup++
				continue
			}
			if seq > next && len(r.alerts[b.SensorID]) > 0 {
				// Gaps are allowed only when the spool dropped alerts; tests that
				// do not overflow the spool check there are none.
				r.violate("sensor %s: seq %d after %d (gap)", b.SensorID, seq, next)
			}
			r.alerts[b.SensorID] = append(r.alerts[b.SensorID], a)
			next = seq + 1
			acc++
		}
		r.nextSeq[b.SensorID] = next
		fmt.Fprintf(w, `{"accepted":%d,"duplicates":%d}`, acc, dup)
	case "/api/v1/heartbeats":
		var hb Heartbeat
		if err := json.Unmarshal(body, &hb); err != nil || hb.SensorID == "" {
			http.Error(w, `{"error":"bad heartbeat"}`, http.StatusBadRequest)
			return
		}
		r.heartbeats = append(r.heartbeats, hb)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, q)
	}
}
