package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runWard runs the command tree with `ward runtime` present (added here
// when the root does not list it yet) and returns the exit code and output.
func runWard(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &Globals{Info: BuildInfo{Version: "test"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, Now: time.Now}
	root := NewRoot(g)
	if c, _, err := root.Find([]string{"runtime"}); err != nil || c == root {
		root.AddCommand(newRuntimeCmd(g))
	}
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := ExitOK
	if err != nil {
		var ee *ExitError
		var ue *UsageError
		switch {
		case errors.As(err, &ee):
			code = ee.Code
			if ee.Err != nil {
				errb.WriteString("ward: " + ee.Err.Error() + "\n")
			}
		case errors.As(err, &ue) || isCobraUsage(err):
			code = ExitUsage
			errb.WriteString("ward: " + err.Error() + "\n")
		default:
			code = ExitScanError
			errb.WriteString("ward: " + err.Error() + "\n")
		}
	}
	return code, out.String(), errb.String()
}

func runtimeTestdata(name string) string {
	return filepath.Join("..", "runtime", "testdata", name)
}

func TestRuntimeReplayDefaultRules(t *testing.T) {
	alerts := filepath.Join(t.TempDir(), "alerts.jsonl")
	code, out, errOut := runWard(t, "runtime", "replay", runtimeTestdata("demo.wevt"), "--format", "json", "--alerts", alerts, "--exit-code", "4")
	if code != 4 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			Kind     string `json:"kind"`
			RuleID   string `json:"rule_id"`
			Location struct {
				Container *struct{ ID string } `json:"container"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Kind != "runtime" || f.Location.Container == nil || f.Location.Container.ID != "0123456789ab" {
			t.Errorf("finding %+v", f)
		}
		got[f.RuleID] = true
	}
	for _, want := range []string{"Ward Reverse Shell Socket Redirect", "Ward Cryptominer Launched", "Ward Package Manager In Container",
		"Ward Execution From Temporary Directory In Container"} {
		if !got[want] {
			t.Errorf("missing %q in %v", want, got)
		}
	}
	data, err := os.ReadFile(alerts)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.SplitN(string(data), "\n", 2)[0]
	var a map[string]any
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "rule", "priority", "output", "output_fields", "tags", "source", "hostname"} {
		if _, ok := a[k]; !ok {
			t.Errorf("Falco alert lacks %q: %s", k, line)
		}
	}
	if !strings.Contains(errOut, "runtime replay:") {
		t.Errorf("no summary on stderr: %q", errOut)
	}
}

func TestRuntimeReplayUpstreamRules(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "data", "falco-rules", "falco_rules.yaml")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("upstream Falco rules absent: %v", err)
	}
	code, out, errOut := runWard(t, "runtime", "replay", runtimeTestdata("falco-stable/terminal-shell-in-container.fire.wevt"), "-r", shared, "--format", "json")
	if code != 0 || !strings.Contains(out, `"rule_id": "Terminal shell in container"`) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runWard(t, "runtime", "rules", "check", shared)
	if code != 0 || !strings.Contains(out, "1 files: 25 rules (25 enabled), 87 macros, 49 lists, 0 unsupported") {
		t.Errorf("rules check: %d\n%s", code, out)
	}
}

func TestRuntimeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("- rule: Bad one\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: INFO\n"), 0o644)
	code, _, errOut := runWard(t, "runtime", "rules", "check", bad)
	if code != ExitScanError || !strings.Contains(errOut, "bad.yaml:3:34") || !strings.Contains(errOut, `rule "Bad one"`) || !strings.Contains(errOut, "col 21") {
		t.Errorf("rules check bad: %d %q", code, errOut)
	}
	code, out, _ := runWard(t, "runtime", "rules", "check")
	if code != 0 || !strings.Contains(out, "Ward Cryptominer Launched") || !strings.Contains(out, "0 unsupported") {
		t.Errorf("rules check defaults: %d %s", code, out)
	}
	corrupt := filepath.Join(dir, "corrupt.wevt")
	data, _ := os.ReadFile(runtimeTestdata("demo.wevt"))
	os.WriteFile(corrupt, data[:len(data)-7], 0o644)
	code, out, errOut = runWard(t, "runtime", "replay", corrupt, "--format", "json")
	if code != ExitScanError || !strings.Contains(out, "truncated record") {
		t.Errorf("corrupt: %d %s %s", code, out, errOut)
	}
	code, _, errOut = runWard(t, "runtime", "replay", filepath.Join(dir, "missing.wevt"))
	if code != ExitUsage {
		t.Errorf("missing file: %d %s", code, errOut)
	}
}
