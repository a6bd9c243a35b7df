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

	"github.com/wardsec/ward/internal/server/api"
	"github.com/wardsec/ward/internal/server/store"
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

	// The real server: the store on SQLite in a temporary directory,
	// seeded through store.IngestScan with the seed reports and through
	// store.IngestAlerts with four of the seed alerts; the API
	// (internal/server/api) serves /api/v1 and the dashboard the rest,
	// as in `ward server`.
	st := openStore(t)
	seedReports(t, st)
	ingestClusterSeed(t, st) // escalation chains
	alerts := seedAlerts(t)
	ingestAlerts(t, st, "fixture-host", "sensor-1", 1, alerts[:4])
	if err := st.Heartbeat(t.Context(), store.Heartbeat{Node: "fixture-host", SensorID: "sensor-1", Version: "e2e",
		Started: time.Now().Add(-time.Hour), Events: 120000, Alerts: 4}); err != nil {
		t.Fatal(err)
	}
	dash, err := NewStore(st, Options{Refresh: time.Second, Version: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	apiSrv, err := api.New(api.Options{Store: st, Web: dash, Version: "e2e", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: apiSrv, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	crit, _, err := st.Findings(t.Context(), FindingFilter{Status: "open", Severity: "CRITICAL", Limit: 1})
	if err != nil || len(crit) == 0 {
		t.Fatalf("no CRITICAL finding to suppress: %v", err)
	}
	live, err := json.Marshal(alerts[4])
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(t.Context(), node, "testdata/e2e/dashboard.mjs")
	cmd.Env = append(os.Environ(),
		"WARD_URL=http://"+ln.Addr().String(),
		"WARD_ADMIN_TOKEN="+token(t, st, "admin"), "WARD_READ_TOKEN="+token(t, st, "read"), "WARD_INGEST_TOKEN="+token(t, st, "ingest"),
		"WARD_SUPPRESS_ID="+strconv.FormatInt(crit[0].ID, 10), "WARD_LIVE_ALERT="+string(live),
		"WARD_IMAGE=registry.example.com/shop/checkout:1.4.2",
		"WARD_ARTIFACTS="+artifacts, "WARD_PLAYWRIGHT_DIR="+pw, "WARD_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("playwright:\n%s", out)
	if err != nil {
		t.Fatalf("browser checks failed: %v", err)
	}
	if got := status(t, st, crit[0].ID); got != "suppressed" {
		t.Errorf("finding %d is %s after the browser suppressed it", crit[0].ID, got)
	}
	t.Logf("screenshots in %s", artifacts)
}

func fileMissing(p string) bool {
	_, err := os.Stat(p)
	return err != nil
}
