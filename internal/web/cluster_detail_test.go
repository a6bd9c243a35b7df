package web

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
)

// cell returns the text of the table cell marked attr="ns".
func cell(t *testing.T, body, attr, ns string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<td class="small" ` + attr + `="` + regexp.QuoteMeta(ns) + `">(.*?)</td>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s cell for %s", attr, ns)
	}
	return m[1]
}

func TestClusterPosturePage(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	c := e.login(url.Values{"token": {e.read}}) // the read role sees it all
	resp, body := e.do(c, "GET", "/cluster", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("cluster: %d\n%s", resp.StatusCode, body)
	}
	ps, err := e.st.NamespacePostures(t.Context())
	if err != nil || len(ps) == 0 {
		t.Fatalf("seed postures: %v", err)
	}
	for _, p := range ps {
		pss := cell(t, body, "data-pss", p.Namespace)
		if n := p.ByFamily["pss"]; n > 0 && !strings.Contains(pss, `>`+strconv.Itoa(n)+`</span> violate `+p.PSSViolated+`<`) {
			t.Errorf("%s: PSS cell %q, want %d violating %s", p.Namespace, pss, n, p.PSSViolated)
		}
		for _, r := range p.Rules {
			link := `href="/findings?` + strings.ReplaceAll(url.Values{"namespace": {p.Namespace}, "rule": {r.Rule}}.Encode(), "&", "&amp;") + `"`
			if r.Family != "other" && !strings.Contains(body, link) {
				t.Errorf("%s: no drill-down to %s", p.Namespace, r.Rule)
			}
		}
	}
	// Fires: default violates baseline (privileged, host namespaces...),
	// monitoring only restricted; both lack a NetworkPolicy.
	if got := cell(t, body, "data-pss", "default"); !strings.Contains(got, ">9</span> violate baseline<") || !strings.Contains(got, "WARD-PSS-PRIVILEGED") {
		t.Errorf("default PSS: %q", got)
	}
	if got := cell(t, body, "data-pss", "monitoring"); !strings.Contains(got, "violate restricted<") || strings.Contains(got, "WARD-PSS-PRIVILEGED") {
		t.Errorf("monitoring PSS: %q", got)
	}
	for _, ns := range []string{"default", "monitoring"} {
		if got := cell(t, body, "data-net", ns); !strings.Contains(got, `href="/findings?namespace=`+ns+`&amp;rule=WARD-K8S-060">no default-deny<`) {
			t.Errorf("%s network: %q", ns, got)
		}
	}
	// Must not: shop has only RBAC findings (a Role reading Secrets and
	// exec'ing into pods) and a NetworkPolicy.
	if got := cell(t, body, "data-rbac", "shop"); !strings.Contains(got, ">2</span> risks<") || !strings.Contains(got, "WARD-K8S-042") {
		t.Errorf("shop RBAC: %q", got)
	}
	for _, attr := range []string{"data-pss", "data-net"} {
		if got := cell(t, body, attr, "shop"); !strings.Contains(got, ">none<") {
			t.Errorf("shop %s: %q, want none", attr, got)
		}
	}
	// The drill-down lists exactly that rule in that namespace.
	_, fb := e.do(c, "GET", "/findings?namespace=default&rule=WARD-PSS-PRIVILEGED", nil)
	if n := strings.Count(fb, `<a href="/findings/`); n != 1 || !strings.Contains(fb, "WARD-PSS-PRIVILEGED") {
		t.Errorf("PSS drill-down: %d rows", n)
	}
}

func TestClusterComplianceDrillDown(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	c := e.login(url.Values{"token": {e.read}})
	_, body := e.do(c, "GET", "/cluster", nil)
	if !strings.Contains(body, `<a data-framework="k8s-cis" href="/cluster/compliance?framework=k8s-cis">k8s-cis</a>`) {
		t.Fatal("no drill-down link for k8s-cis")
	}
	resp, body := e.do(c, "GET", "/cluster/compliance?framework=k8s-cis", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("drill-down: %d\n%s", resp.StatusCode, body)
	}
	ctls, err := e.st.ComplianceControls(t.Context(), "k8s-cis")
	if err != nil {
		t.Fatal(err)
	}
	failing := 0
	for _, ct := range ctls {
		linked := strings.Contains(body, `data-control="`+ct.Control+`"`)
		if ct.Failed > 0 {
			failing++
		}
		if linked != (ct.Failed > 0) {
			t.Errorf("control %s (failed %d): linked %v", ct.Control, ct.Failed, linked)
		}
	}
	if failing != 22 || !strings.Contains(body, `data-failing="k8s-cis">22<`) {
		t.Errorf("failing controls: %d", failing)
	}
	_, body = e.do(c, "GET", "/cluster/compliance?framework=k8s-cis&control=5.3.2", nil)
	if n := strings.Count(body, `<a href="/findings/`); n != 2 || strings.Count(body, "WARD-K8S-060") != 2 {
		t.Errorf("5.3.2 findings: %d rows", n)
	}
	// A framework known only from findings' tags still drills down.
	_, body = e.do(c, "GET", "/cluster/compliance?framework=k8s-pss-baseline&control=privileged", nil)
	if n := strings.Count(body, `<a href="/findings/`); n != 1 {
		t.Errorf("pss privileged: %d rows", n)
	}
	// The four views each have a score; restricted's baseline controls
	// drill down to the baseline findings (restricted includes baseline).
	_, cl := e.do(c, "GET", "/cluster", nil)
	for _, fw := range []string{"k8s-cis", "k8s-nsa", "k8s-pss-baseline", "k8s-pss-restricted"} {
		if !strings.Contains(cl, `data-score="`+fw+`">`) {
			t.Errorf("no %s score on the cluster page", fw)
		}
	}
	_, body = e.do(c, "GET", "/cluster/compliance?framework=k8s-pss-restricted", nil)
	if !strings.Contains(body, `data-control="privileged"`) || !strings.Contains(body, `data-control="runAsNonRoot"`) {
		t.Error("restricted drill-down lacks the failing baseline and restricted controls")
	}
	_, body = e.do(c, "GET", "/cluster/compliance?framework=k8s-pss-restricted&control=privileged", nil)
	if n := strings.Count(body, `<a href="/findings/`); n != 1 || !strings.Contains(body, "WARD-PSS-PRIVILEGED") {
		t.Errorf("restricted privileged: %d rows", n)
	}
	_, body = e.do(c, "GET", "/cluster/compliance?framework=k8s-pss-baseline&control=runAsNonRoot", nil)
	if n := strings.Count(body, `<a href="/findings/`); n != 0 {
		t.Errorf("baseline runAsNonRoot (a restricted control): %d rows, want 0", n)
	}
	// Without a session the drill-down sends to the login page.
	if resp, _ := e.do(e.client(), "GET", "/cluster/compliance?framework=k8s-cis", nil); resp.StatusCode != 303 ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Errorf("no session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for p, want := range map[string]int{"/cluster/compliance": 400, "/cluster/compliance?framework=k8s-cis&control=5.3.2&cursor=zzz": 400} {
		if resp, _ := e.do(c, "GET", p, nil); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", p, resp.StatusCode, want)
		}
	}
}

func TestClusterHostileNames(t *testing.T) {
	e := newEnv(t)
	ns := `<i onclick=alert(6)>`
	ingestFindings(t, e.st, "manifests", "config",
		finding.Finding{Kind: finding.KindMisconfiguration, RuleID: `WARD-PSS-"><script>alert(1)</script>`, Severity: finding.SeverityHigh,
			Tags: []string{"k8s-pss-baseline:<b onmouseover=alert(2)>"}, Location: finding.Location{Object: &finding.ObjectRef{Kind: "Pod", Name: "x", Namespace: ns}}},
		finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "WARD-K8S-060", Severity: finding.SeverityMedium,
			Location: finding.Location{Object: &finding.ObjectRef{Kind: "Namespace", Name: ns, Namespace: ns}}})
	c := e.login(url.Values{"token": {e.read}})
	for _, p := range []string{"/cluster", "/cluster/compliance?framework=" + url.QueryEscape("<script>alert(3)</script>") + "&control=" + url.QueryEscape("<b onmouseover=alert(4)>")} {
		resp, body := e.do(c, "GET", p, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		for _, bad := range []string{"<script>alert", "<b onmouseover", "<i onclick"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: unescaped %q", p, bad)
			}
		}
	}
	_, body := e.do(c, "GET", "/cluster", nil)
	if !strings.Contains(body, `data-pss="&lt;i onclick=alert(6)&gt;"`) || !strings.Contains(body, "violate baseline") || !strings.Contains(body, "no default-deny") {
		t.Errorf("hostile namespace posture missing:\n%s", body)
	}
}
