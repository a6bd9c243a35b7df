package deploytest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/misconfig"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/pkg/finding"
)

// suppressedWant are the findings the chart suppresses inline
// (ward.dev/ignore), by rule and object: the eBPF sensor's inherent ones
// and the certificate hook's webhook-configuration rights. Anything else
// suppressed, or any of these no longer firing, fails the test.
var suppressedWant = []string{
	"WARD-K8S-011 DaemonSet/ward-sensor",
	"WARD-K8S-019 DaemonSet/ward-sensor",
	"WARD-K8S-020 DaemonSet/ward-sensor",
	"WARD-K8S-051 ClusterRole/ward-admission-certgen-ward",
	"WARD-PSS-CAPABILITIES-BASELINE DaemonSet/ward-sensor",
	"WARD-PSS-CAPABILITIES-RESTRICTED DaemonSet/ward-sensor",
	"WARD-PSS-HOSTNAMESPACES DaemonSet/ward-sensor",
	"WARD-PSS-HOSTPATHVOLUMES DaemonSet/ward-sensor",
	"WARD-PSS-RESTRICTEDVOLUMES DaemonSet/ward-sensor",
	"WARD-PSS-RUNASNONROOT DaemonSet/ward-sensor",
	"WARD-PSS-RUNASUSER DaemonSet/ward-sensor",
}

// justification is where the remaining (lower) findings are explained:
// values.yaml for the chart, plus the manifests' header for the Namespace.
func justification(t *testing.T, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ChartDir(), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + strings.Join(extra, "\n")
}

// checkDogfood applies the dogfooding rules to a scan's findings.
func checkDogfood(t *testing.T, fs []finding.Finding, justified string) {
	t.Helper()
	var suppressed []string
	for _, f := range fs {
		obj := ""
		if o := f.Location.Object; o != nil {
			obj = o.Kind + "/" + o.Name
		}
		if f.Suppressed != nil {
			if f.Suppressed.Reason == "" {
				t.Errorf("%s on %s suppressed without a reason", f.RuleID, obj)
			}
			suppressed = append(suppressed, f.RuleID+" "+obj)
			continue
		}
		if f.Severity >= finding.SeverityHigh {
			t.Errorf("%s %s on %s (%s:%d): %s", f.Severity, f.RuleID, obj, f.Location.Path, f.Location.StartLine, f.Message)
			continue
		}
		if !strings.Contains(justified, f.RuleID) {
			t.Errorf("%s %s on %s is not justified by a \"ward config:\" comment", f.Severity, f.RuleID, obj)
		}
	}
	sort.Strings(suppressed)
	suppressed = slices.Compact(suppressed)
	if !slices.Equal(suppressed, suppressedWant) {
		t.Errorf("suppressed findings:\n got  %q\n want %q", suppressed, suppressedWant)
	}
}

// TestDogfoodChart runs Ward's config scanner in process on the chart, as
// `ward config deploy/helm/ward` does.
func TestDogfoodChart(t *testing.T) {
	fs, errs := misconfig.Scan(context.Background(), "deploy/helm/ward", []string{ChartDir()}, misconfig.Options{})
	if len(errs) > 0 {
		t.Fatalf("scan errors: %v", errs)
	}
	if len(fs) == 0 {
		t.Fatal("no findings at all: the chart was not rendered")
	}
	checkDogfood(t, fs, justification(t))
	assertIgnoresUsed(t, fs)
}

// TestDogfoodManifests scans deploy/manifests/ward.yaml the same way.
func TestDogfoodManifests(t *testing.T) {
	fs, errs := misconfig.Scan(context.Background(), "ward.yaml", []string{ManifestsFile()}, misconfig.Options{})
	if len(errs) > 0 {
		t.Fatalf("scan errors: %v", errs)
	}
	checkDogfood(t, fs, justification(t, manifestsHeader))
}

// TestDogfoodFires shows the dogfood rules can fail: enabling the
// posture scanner's Secret rights makes a HIGH finding appear.
func TestDogfoodFires(t *testing.T) {
	fs, errs := misconfig.Scan(context.Background(), "deploy/helm/ward", []string{ChartDir()},
		misconfig.Options{HelmSet: []string{"posture.rbac.readSecrets=true", "posture.rbac.kubeletConfig=true"}})
	if len(errs) > 0 {
		t.Fatalf("scan errors: %v", errs)
	}
	want := map[string]bool{"WARD-K8S-042": false, "WARD-K8S-047": false}
	for _, f := range fs {
		if _, ok := want[f.RuleID]; ok && f.Suppressed == nil && f.Severity == finding.SeverityHigh {
			want[f.RuleID] = true
		}
	}
	for id, seen := range want {
		if !seen {
			t.Errorf("%s not reported HIGH with its value enabled", id)
		}
	}
}

// assertIgnoresUsed fails on ward.dev/ignore IDs in the chart that
// suppress nothing (stale entries would hide future findings).
func assertIgnoresUsed(t *testing.T, fs []finding.Finding) {
	t.Helper()
	used := map[string]bool{}
	for _, f := range fs {
		if f.Suppressed != nil && f.Location.Object != nil {
			used[f.Location.Object.Kind+"/"+f.Location.Object.Name+" "+f.RuleID] = true
		}
	}
	for _, o := range render(t, nil) {
		ann := o.str("metadata", "annotations", k8s.IgnoreAnnotation)
		if ann == "" {
			continue
		}
		for id := range k8s.ParseIgnore(ann) {
			if !used[o.id()+" "+id] {
				t.Errorf("%s: ignore annotation lists %s, which does not fire", o.id(), id)
			}
		}
	}
}

// TestDogfoodCLI runs the built binary: `ward config` on the chart, the
// manifests and the Dockerfile exits 0 with --severity HIGH,CRITICAL
// --exit-code 1 (nothing HIGH or CRITICAL left after suppressions).
func TestDogfoodCLI(t *testing.T) {
	for _, target := range []string{"deploy/helm/ward", "deploy/manifests/ward.yaml", "Dockerfile"} {
		t.Run(target, func(t *testing.T) {
			out, stderr, code := runWard(t, "config", "--format", "json", "--severity", "HIGH,CRITICAL", "--exit-code", "1", target)
			if code != 0 {
				t.Fatalf("ward config %s: exit %d\n%s\n%s", target, code, out, stderr)
			}
			var rep struct {
				Findings []json.RawMessage `json:"findings"`
				Errors   []json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("output: %v", err)
			}
			if len(rep.Findings) != 0 || len(rep.Errors) != 0 {
				t.Fatalf("findings %s errors %s", rep.Findings, rep.Errors)
			}
		})
	}
	// And it does exit 1 when a HIGH finding is present.
	if _, _, code := runWard(t, "config", "--severity", "HIGH,CRITICAL", "--exit-code", "1", "--set", "posture.rbac.readSecrets=true", "deploy/helm/ward"); code != 1 {
		t.Fatalf("ward config with posture.rbac.readSecrets=true: exit %d, want 1", code)
	}
}
