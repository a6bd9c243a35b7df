package web

import (
	"encoding/json"
	"html"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// clusterSeed is `ward k8s --scanners rbac` of the RBAC test cluster with
// a two-step chain (testdata/seedgen/cluster.go).
const clusterSeed = "testdata/seed/cluster/rbac.json"

// ingestClusterSeed adds the cluster seed report to st.
func ingestClusterSeed(t testing.TB, st *store.Store) {
	t.Helper()
	raw, err := os.ReadFile(clusterSeed)
	if err != nil {
		t.Fatal(err)
	}
	rep := seedReportBytes(t, raw)
	if _, err := st.IngestScan(t.Context(), "seed:cluster-rbac", &rep, raw); err != nil {
		t.Fatal(err)
	}
}

func TestClusterEscalationChains(t *testing.T) {
	e := newEnv(t)
	c := e.login(url.Values{"token": {e.read}})
	// Must not: without the cluster scan there is no chain.
	seedReports(t, e.st)
	_, body := e.do(c, "GET", "/cluster", nil)
	if !strings.Contains(body, "No open escalation chain") || strings.Contains(body, `class="chain"`) {
		t.Error("chains shown without escalation findings")
	}
	ingestClusterSeed(t, e.st)
	_, body = e.do(c, "GET", "/cluster", nil)
	chains := regexp.MustCompile(`data-chain="(\d+)"`).FindAllStringSubmatch(body, -1)
	if len(chains) != 5 {
		t.Fatalf("%d chains on the cluster page, want the seed's 5", len(chains))
	}
	// Fires: eve's two-step chain, each step with its permission,
	// binding and role, then the outcome, linking to the finding.
	i := strings.Index(body, "User eve can become")
	if i < 0 {
		t.Fatal("eve's chain missing")
	}
	eve := body[strings.LastIndex(body[:i], `<li class="chain"`):]
	eve = eve[:strings.Index(eve, "</ol>")]
	for _, want := range []string{
		"<strong>User eve</strong>", "exec into pods in web", "<code>RoleBinding/web/eve-exec</code> → <code>Role/web/exec</code>",
		"using pod web/checkout", "<strong>system:serviceaccount:web:web-sa</strong>",
		"create pods in ci running as a service account", "<code>RoleBinding/ci/web-sa-runner</code> → <code>Role/ci/runner</code>",
		"<strong>system:serviceaccount:ci:deployer</strong>", "cluster-admin equivalent",
	} {
		if !strings.Contains(eve, html.EscapeString(want)) && !strings.Contains(eve, want) {
			t.Errorf("eve's chain lacks %q:\n%s", want, eve)
		}
	}
	if strings.Count(eve, `class="chain-step"`) != 2 {
		t.Errorf("eve's chain: %d steps, want 2", strings.Count(eve, `class="chain-step"`))
	}
	id := regexp.MustCompile(`href="/findings/(\d+)"`).FindStringSubmatch(eve)
	if id == nil {
		t.Fatal("eve's chain does not link to its finding")
	}
	// The finding detail draws the same chain as a table of steps.
	_, detail := e.do(c, "GET", "/findings/"+id[1], nil)
	for _, want := range []string{"Escalation chain", "in 2 steps", "<td class=\"wrap\">User eve</td>", "<td class=\"wrap\">system:serviceaccount:web:web-sa</td><td class=\"wrap\">create pods in ci",
		"<code>RoleBinding/ci/web-sa-runner</code>", "pod web/checkout"} {
		if !strings.Contains(detail, want) {
			t.Errorf("finding detail lacks %q", want)
		}
	}
	// Must not: a finding of another rule has no chain section.
	other, _, err := e.st.Findings(t.Context(), FindingFilter{Rule: "K8S-RBAC-013", Limit: 1})
	if err != nil || len(other) == 0 {
		t.Fatalf("no K8S-RBAC-013 finding: %v", err)
	}
	if _, d := e.do(c, "GET", "/findings/"+strconv.FormatInt(other[0].ID, 10), nil); strings.Contains(d, "Escalation chain") {
		t.Error("chain section on a finding without one")
	}
}

func TestClusterEscalationPages(t *testing.T) {
	e := newEnv(t)
	var fs []finding.Finding
	for i := range chainPageSize + 2 {
		fs = append(fs, finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "K8S-RBAC-014", Severity: finding.SeverityHigh,
			Escalation: &finding.Escalation{From: "User u" + strconv.Itoa(i), To: "system:serviceaccount:ci:deployer", ToRank: "cluster-privileged",
				Steps: []finding.EscalationStep{{Action: "create pods in ci", Binding: "RoleBinding/ci/b", Role: "Role/ci/r", To: "system:serviceaccount:ci:deployer"}}}})
	}
	// An old finding without the chain data still shows (its message).
	fs = append(fs, finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "K8S-RBAC-014", Severity: finding.SeverityHigh, Message: "old-style chain text"})
	ingestFindings(t, e.st, "cluster-a", "cluster", fs...)
	c := e.login(url.Values{"token": {e.read}})
	_, body := e.do(c, "GET", "/cluster?sort=name", nil)
	if n := strings.Count(body, `data-chain="`); n != chainPageSize {
		t.Fatalf("page 1: %d chains, want %d", n, chainPageSize)
	}
	m := regexp.MustCompile(`rel="next" href="([^"]+)">Next chains`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(m[1], "sort=name") {
		t.Fatalf("no next page of chains keeping the sort: %v", m)
	}
	_, body2 := e.do(c, "GET", html.UnescapeString(m[1]), nil)
	if n := strings.Count(body2, `data-chain="`); n != 3 || !strings.Contains(body2, "Page 2 · 3 shown") || strings.Contains(body2, "Next chains") {
		t.Errorf("page 2: %d chains", n)
	}
	// Every chain once over the two pages.
	both := body + body2
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`data-chain="(\d+)"`).FindAllStringSubmatch(both, -1) {
		ids[m[1]] = true
	}
	if len(ids) != chainPageSize+3 {
		t.Errorf("%d distinct chains over two pages, want %d", len(ids), chainPageSize+3)
	}
	for i := range chainPageSize + 2 {
		if !strings.Contains(both, "User u"+strconv.Itoa(i)+" can become") {
			t.Errorf("chain of u%d missing", i)
		}
	}
	if !strings.Contains(both, "old-style chain text") || !strings.Contains(both, "chain not recorded") {
		t.Error("the finding without chain data is not shown with its message")
	}
	if resp, _ := e.do(c, "GET", "/cluster?chains=zzz", nil); resp.StatusCode != 400 {
		t.Errorf("bad chains cursor: %d, want 400", resp.StatusCode)
	}
}

func TestClusterEscalationHostile(t *testing.T) {
	e := newEnv(t)
	bad := `<script>alert(1)</script>`
	ingestFindings(t, e.st, "cluster-a", "cluster", finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "K8S-RBAC-014", Severity: finding.SeverityCritical,
		Escalation: &finding.Escalation{From: "User " + bad, FromRank: bad, To: `<img src=x onerror=alert(2)>`, ToRank: bad,
			Steps: []finding.EscalationStep{{Action: bad, Binding: `RoleBinding/"><b>`, Role: bad, To: bad, Detail: `<i onclick=alert(3)>`}}}})
	c := e.login(url.Values{"token": {e.read}})
	_, body := e.do(c, "GET", "/cluster", nil)
	id := regexp.MustCompile(`data-chain="(\d+)"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("hostile chain not shown")
	}
	_, detail := e.do(c, "GET", "/findings/"+id[1], nil)
	for name, b := range map[string]string{"cluster": body, "detail": detail} {
		for _, s := range []string{"<script>alert", "<img src=x", `"><b>`, "<i onclick"} {
			if strings.Contains(b, s) {
				t.Errorf("%s page: unescaped %q", name, s)
			}
		}
		if !strings.Contains(b, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s page: escaped chain text missing", name)
		}
	}
}

// seedReportBytes decodes a seed report.
func seedReportBytes(t testing.TB, raw []byte) (rep report.Report) {
	t.Helper()
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}
