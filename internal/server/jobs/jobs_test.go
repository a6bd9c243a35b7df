package jobs

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/testutil/kubetest"
	"github.com/wardsec/ward/pkg/report"
)

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.OpenDSN(context.Background(), "sqlite:"+path, filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestLeaseOneServerRuns runs the same job on two servers (two store
// handles on one database): only the lease holder runs it; when it stops,
// the other takes over.
func TestLeaseOneServerRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ward.db")
	stA, stB := openStore(t, db), openStore(t, db)
	var mu sync.Mutex
	runs := map[string]int{}
	job := func(holder string) Job {
		return Job{Name: "posture", Every: 100 * time.Millisecond, Run: func(context.Context) error {
			mu.Lock()
			runs[holder]++
			mu.Unlock()
			return nil
		}}
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA, doneB := make(chan struct{}), make(chan struct{})
	go func() {
		(&Scheduler{Leases: stA, Holder: "A"}).Run(ctxA, []Job{job("A")})
		close(doneA)
	}()
	time.Sleep(50 * time.Millisecond) // A asks first
	go func() {
		(&Scheduler{Leases: stB, Holder: "B"}).Run(ctxB, []Job{job("B")})
		close(doneB)
	}()
	time.Sleep(1200 * time.Millisecond)
	mu.Lock()
	a, b := runs["A"], runs["B"]
	mu.Unlock()
	if a < 5 || b != 0 {
		t.Fatalf("while A holds the lease: A ran %d times, B %d (want A only)", a, b)
	}
	stopA()
	<-doneA
	// The lease (TTL 2x the interval) expires; B takes over.
	time.Sleep(1200 * time.Millisecond)
	mu.Lock()
	a2, b2 := runs["A"], runs["B"]
	mu.Unlock()
	if a2 != a && a2 != a+1 {
		t.Errorf("A ran after it stopped: %d -> %d", a, a2)
	}
	if b2 < 3 {
		t.Errorf("B ran %d times after A stopped, want it to take over", b2)
	}
	stopB()
	<-doneB
}

func TestSchedulerRejectsBadJobs(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "ward.db"))
	s := &Scheduler{Leases: st, Holder: "x"}
	if err := s.Run(context.Background(), []Job{{Name: "j"}}); err == nil {
		t.Fatal("a job without interval and function was accepted")
	}
}

const privPod = `apiVersion: v1
kind: Pod
metadata: {name: priv, namespace: %s}
spec:
  containers:
    - name: c
      image: nginx:1.27
      securityContext: {privileged: true}
`

// TestPostureJob runs the posture job against the real test API server
// and checks that the scan is stored under the configured name.
func TestPostureJob(t *testing.T) {
	c := kubetest.Start(t)
	ns := c.Namespace(t, "wjob", nil)
	c.Apply(t, fmtNS(privPod, ns))
	st := openStore(t, filepath.Join(t.TempDir(), "ward.db"))
	var got store.IngestResult
	run := Posture(PostureOptions{Kubeconfig: c.Kubeconfig, Name: "test-cluster", Namespaces: []string{ns}, Version: "test"},
		func(ctx context.Context, key string, rep *report.Report, raw []byte) (store.IngestResult, error) {
			if !json.Valid(raw) {
				t.Error("raw report is not JSON")
			}
			var err error
			got, err = st.IngestScan(ctx, key, rep, raw)
			return got, err
		})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		t.Fatal(err)
	}
	if got.Findings == 0 || got.New != got.Findings {
		t.Fatalf("first posture scan: %+v", got)
	}
	items, _, err := st.Findings(ctx, store.FindingFilter{Target: "test-cluster", Namespace: ns, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	privileged := false
	for _, it := range items {
		var f struct {
			RuleID string `json:"rule_id"`
			Title  string `json:"title"`
		}
		_ = json.Unmarshal(it.Finding, &f)
		if it.TargetType != "cluster" {
			t.Errorf("target type %q", it.TargetType)
		}
		if containsFold(f.Title, "privileged") {
			privileged = true
		}
	}
	if !privileged {
		t.Errorf("no privileged-container finding stored for %s among %d", ns, len(items))
	}
	// The four compliance views are stored with the scan; the privileged
	// pod fails the baseline "privileged" control of both PSS views.
	scores, err := st.Compliance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var fws []string
	for _, sc := range scores {
		fws = append(fws, sc.Framework)
	}
	if !slices.Equal(fws, PostureFrameworks) {
		t.Errorf("stored frameworks %v, want %v", fws, PostureFrameworks)
	}
	for _, fw := range []string{"k8s-pss-baseline", "k8s-pss-restricted"} {
		ctls, err := st.ComplianceControls(ctx, fw)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(ctls, func(c store.ComplianceControl) bool { return c.Control == "privileged" }); i < 0 || ctls[i].Failed != 1 {
			t.Errorf("%s privileged: %v", fw, ctls)
		}
	}
	// A second run is a new scan of the same target: the namespace's
	// findings stay open (other tests share the cluster, so only this
	// namespace is checked).
	first := got.ScanID
	if err := run(ctx); err != nil {
		t.Fatal(err)
	}
	if got.ScanID == first {
		t.Error("second run was not a new scan")
	}
	fixed, _, err := st.Findings(ctx, store.FindingFilter{Target: "test-cluster", Namespace: ns, Status: "fixed", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed) != 0 {
		t.Errorf("%d findings of %s marked fixed by an identical rescan", len(fixed), ns)
	}
}
