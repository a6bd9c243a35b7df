package web

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"encoding/json"
)

// TestBrowser drives the dashboard in a real browser: Debian's chromium
// through playwright-core (scripts/deps-browser.sh installs both). It
// skips with the reason when they are missing, unless
// WARD_REQUIRE_BROWSER=1. Screenshots go to $WARD_ARTIFACTS (default: a
// temporary directory, logged).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	pw := os.Getenv("WARD_PLAYWRIGHT_DIR")
	if pw == "" {
		pw = "/var/cache/ward-test/playwright"
	}
	chromium := os.Getenv("WARD_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node not found"
	case fileMissing(chromium):
		missing = chromium + " not found"
	case fileMissing(filepath.Join(pw, "node_modules/playwright-core/package.json")):
		missing = "playwright-core not installed in " + pw
	}
	if missing != "" {
		if os.Getenv("WARD_REQUIRE_BROWSER") == "1" {
			t.Fatalf("browser test required but %s (run scripts/deps-browser.sh)", missing)
		}
		t.Skipf("%s: run scripts/deps-browser.sh (WARD_REQUIRE_BROWSER=1 makes this fatal)", missing)
	}
	artifacts := os.Getenv("WARD_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else {
		artifacts = filepath.Join(artifacts, "web")
		if err := os.MkdirAll(artifacts, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	be := newMemBackend()
	be.loadSeed(t)
	be.tokens["e2e-admin-token"] = "admin"
	be.tokens["e2e-read-token"] = "read"
	h, err := New(be, Options{Refresh: 2 * time.Second, Version: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	counts, err := be.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	expect := map[string]int{"total": counts.Total}
	for _, s := range severityOrder {
		expect[s] = counts.BySeverity[s]
	}
	ej, _ := json.Marshal(expect)
	crit, _, err := be.Findings(t.Context(), FindingFilter{Status: "open", Severity: "CRITICAL", Limit: 1})
	if err != nil || len(crit) == 0 {
		t.Fatalf("no CRITICAL finding to suppress: %v", err)
	}

	cmd := exec.CommandContext(t.Context(), node, "testdata/e2e/dashboard.mjs")
	cmd.Env = append(os.Environ(),
		"WARD_URL=http://"+ln.Addr().String(),
		"WARD_ADMIN_TOKEN=e2e-admin-token", "WARD_READ_TOKEN=e2e-read-token",
		"WARD_EXPECT="+string(ej), "WARD_SUPPRESS_ID="+strconv.FormatInt(crit[0].ID, 10),
		"WARD_ARTIFACTS="+artifacts, "WARD_PLAYWRIGHT_DIR="+pw, "WARD_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("playwright:\n%s", out)
	if err != nil {
		t.Fatalf("browser checks failed: %v", err)
	}
	if st := be.status(crit[0].ID); st != "suppressed" {
		t.Errorf("finding %d is %s after the browser suppressed it", crit[0].ID, st)
	}
	t.Logf("screenshots in %s", artifacts)
}

func fileMissing(p string) bool {
	_, err := os.Stat(p)
	return err != nil
}
