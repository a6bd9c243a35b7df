package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// scanReceiver is a test receiver of POST /api/v1/scans (CONTRACT.md):
// bearer token, Idempotency-Key = sha256 of the body, body a JSON report.
type scanReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
	status int
	bad    []string
}

func (s *scanReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/api/v1/scans" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer tok" {
		http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
		return
	}
	sum := sha256.Sum256(b)
	if r.Header.Get("Idempotency-Key") != hex.EncodeToString(sum[:]) {
		s.bad = append(s.bad, "idempotency key "+r.Header.Get("Idempotency-Key"))
	}
	var rep struct {
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		s.bad = append(s.bad, "body: "+err.Error())
	}
	s.bodies = append(s.bodies, b)
	if s.status != 0 {
		http.Error(w, "down", s.status)
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"scan_id":"s1","findings":` + itoa(len(rep.Findings)) + `,"new":1,"fixed":0}`))
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestConfigUploadsReport(t *testing.T) {
	t.Setenv("WARD_CACHE_DIR", t.TempDir())
	rcv := &scanReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	dir := filepath.Join("..", "..", "examples", "k8s")
	tokFile := filepath.Join(t.TempDir(), "tok")
	_ = os.WriteFile(tokFile, []byte("tok\n"), 0o600)

	code, out, errOut := runWard(t, "config", dir, "--format", "json", "--server", srv.URL, "--token-file", tokFile)
	if code != 0 && code != 1 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	if !strings.Contains(errOut, "uploaded to "+srv.URL+": scan s1") || !strings.Contains(out, `"findings"`) {
		t.Fatalf("stdout %.200s stderr %s", out, errOut)
	}
	if len(rcv.bodies) != 1 || len(rcv.bad) > 0 {
		t.Fatalf("bodies %d, violations %v", len(rcv.bodies), rcv.bad)
	}
	var printed, sent map[string]any
	if json.Unmarshal([]byte(out), &printed) != nil || json.Unmarshal(rcv.bodies[0], &sent) != nil ||
		len(printed["findings"].([]any)) != len(sent["findings"].([]any)) {
		t.Fatal("uploaded report differs from the printed one")
	}

	// Token from the environment; a 401 is a clear failure after printing.
	env := map[string]string{"WARD_SERVER": srv.URL, "WARD_TOKEN": "wrong", "WARD_CACHE_DIR": t.TempDir()}
	code, out, errOut = runWardEnv(t, env, "config", dir, "--format", "json")
	if code != ExitScanError || !strings.Contains(out, `"findings"`) || !strings.Contains(errOut, srv.URL+"/api/v1/scans") || !strings.Contains(errOut, "401") {
		t.Fatalf("bad token: exit %d stderr %s", code, errOut)
	}
	env["WARD_TOKEN"] = "tok"
	rcv.status = http.StatusServiceUnavailable
	code, out, errOut = runWardEnv(t, env, "config", dir, "--format", "json", "--exit-code", "0")
	if code != ExitScanError || !strings.Contains(out, `"findings"`) || !strings.Contains(errOut, "giving up after 5 attempts") {
		t.Fatalf("server 503: exit %d stderr %s", code, errOut)
	}

	code, _, errOut = runWard(t, "config", dir, "--token", "x")
	if code != ExitUsage || !strings.Contains(errOut, "need --server") {
		t.Fatalf("--token without --server: exit %d %s", code, errOut)
	}
}

func runWardEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &Globals{Info: BuildInfo{Version: "test"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] }, Now: time.Now}
	root := NewRoot(g)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := ExitOK
	var ee *ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err != nil {
			errb.WriteString("ward: " + ee.Err.Error() + "\n")
		}
	default:
		code = ExitUsage
		errb.WriteString("ward: " + err.Error() + "\n")
	}
	return code, out.String(), errb.String()
}

// An upload carries the package inventory even when the printed report
// does not (no --list-all-pkgs): the server re-matches it when its
// vulnerability DB changes.
func TestUploadCarriesInventory(t *testing.T) {
	t.Setenv("WARD_CACHE_DIR", t.TempDir())
	rcv := &scanReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	dir := t.TempDir()
	gomod := "module example.com/app\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.0\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		// printed says whether the printed report lists packages.
		printed bool
	}{
		{"default", nil, false},
		{"list-all-pkgs", []string{"--list-all-pkgs"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv.mu.Lock()
			rcv.bodies = nil
			rcv.mu.Unlock()
			args := append([]string{"fs", dir, "--skip-db", "--format", "json", "--server", srv.URL, "--token", "tok"}, tc.args...)
			code, out, errOut := runWard(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var printed, sent struct {
				Packages []struct{ Name string } `json:"packages"`
			}
			if err := json.Unmarshal([]byte(out), &printed); err != nil {
				t.Fatal(err)
			}
			if len(rcv.bodies) != 1 {
				t.Fatalf("%d uploads", len(rcv.bodies))
			}
			if err := json.Unmarshal(rcv.bodies[0], &sent); err != nil {
				t.Fatal(err)
			}
			if got := len(printed.Packages) > 0; got != tc.printed {
				t.Errorf("printed report lists %d packages, want listed=%v", len(printed.Packages), tc.printed)
			}
			found := false
			for _, p := range sent.Packages {
				found = found || p.Name == "golang.org/x/text"
			}
			if !found {
				t.Errorf("uploaded report lacks golang.org/x/text: %+v", sent.Packages)
			}
		})
	}
	// Without --server nothing changes: no packages printed.
	code, out, _ := runWard(t, "fs", dir, "--skip-db", "--format", "json")
	if code != 0 || strings.Contains(out, `"packages"`) {
		t.Errorf("without --server: exit %d, packages printed: %v", code, strings.Contains(out, `"packages"`))
	}
}
