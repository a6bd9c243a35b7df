package deploytest

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/cluster"
	"github.com/wardsec/ward/internal/cluster/rbac"
	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/testutil/kubetest"
)

// installed is the chart applied to the test API server in a namespace of
// the test's own.
type installed struct {
	c    *kubetest.Cluster
	ns   string
	objs []obj
}

// install renders the chart for a fresh namespace and applies it for real
// (server-side apply, no dry run). The webhooks are limited to namespaces
// labelled for this test and set to Ignore, so the shared API server's
// other tests are never sent to a webhook that has no pods here (no
// controller-manager runs: Deployments never get pods).
func install(t *testing.T) *installed {
	t.Helper()
	c := kubetest.Start(t)
	ns := c.Namespace(t, "ward-deploy", map[string]string{"pod-security.kubernetes.io/enforce": "privileged"})
	out, err := Render(ChartDir(), RenderOptions{Namespace: ns, Values: map[string]any{
		"admission": map[string]any{"failurePolicy": "Ignore", "namespaceMatchLabels": map[string]any{"ward.dev/deploytest": ns}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := &installed{c: c, ns: ns, objs: decode(t, out)}
	t.Cleanup(func() {
		// Cluster-scoped objects outlive the namespace: delete them by name.
		for _, o := range in.objs {
			if o.str("metadata", "namespace") == "" {
				_, _ = c.KubectlErr("", "delete", strings.ToLower(o.str("kind")), o.str("metadata", "name"), "--ignore-not-found", "--wait=false")
			}
		}
	})
	c.Kubectl(t, out, "apply", "--server-side", "--field-manager", "deploytest", "-f", "-")
	return in
}

// resourceOf maps a kind to kubectl's resource name.
func resourceOf(kind string) string {
	switch kind {
	case "NetworkPolicy":
		return "networkpolicies.networking.k8s.io"
	case "PodDisruptionBudget":
		return "poddisruptionbudgets.policy"
	case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
		return strings.ToLower(kind) + "s.admissionregistration.k8s.io"
	case "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
		return strings.ToLower(kind) + "s.rbac.authorization.k8s.io"
	}
	return strings.ToLower(kind)
}

// TestInstall applies the chart to the real API server and reads every
// object back: each was created, validated and stored as rendered.
func TestInstall(t *testing.T) {
	in := install(t)
	if len(in.objs) < 25 {
		t.Fatalf("only %d objects rendered", len(in.objs))
	}
	for _, o := range in.objs {
		args := []string{"get", resourceOf(o.str("kind")), o.str("metadata", "name"), "-o", "json"}
		if ns := o.str("metadata", "namespace"); ns != "" {
			args = append(args, "-n", ns)
		}
		out, err := in.c.KubectlErr("", args...)
		if err != nil {
			t.Errorf("%s not created: %v", o.id(), err)
			continue
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v", o.id(), err)
		}
		g := obj(got)
		if g.str("metadata", "uid") == "" || g.str("metadata", "labels", "app.kubernetes.io/part-of") != "ward" {
			t.Errorf("%s read back without uid or labels: %v", o.id(), got["metadata"])
		}
	}
	// Spot checks of what the API server stored (after its defaulting).
	out := in.c.Kubectl(t, "", "get", "daemonset", "ward-sensor", "-n", in.ns, "-o",
		"jsonpath={.spec.template.spec.hostPID} {.spec.template.spec.containers[0].securityContext.capabilities.add} {.spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath}")
	if out != `true ["BPF","PERFMON","SYS_RESOURCE","SYS_PTRACE","DAC_READ_SEARCH"] spec.nodeName` {
		t.Errorf("stored sensor DaemonSet: %s", out)
	}
	out = in.c.Kubectl(t, "", "get", "validatingwebhookconfiguration", "ward-admission."+in.ns, "-o",
		"jsonpath={.webhooks[0].clientConfig.service.namespace} {.webhooks[0].sideEffects} {.webhooks[0].failurePolicy}")
	if out != in.ns+" None Ignore" {
		t.Errorf("stored webhook: %s", out)
	}
	out = in.c.Kubectl(t, "", "get", "cronjob", "ward-posture", "-n", in.ns, "-o", "jsonpath={.spec.jobTemplate.spec.template.spec.serviceAccountName}")
	if out != "ward-posture" {
		t.Errorf("stored CronJob service account: %q", out)
	}
	t.Run("rbac", func(t *testing.T) { checkRights(t, in) })
}

// canI is `kubectl auth can-i --list` as a service account: the API
// server's own answer (SelfSubjectRulesReview) for namespace ns, one
// "resources|nonResourceURLs|resourceNames|verbs" line per rule.
func canI(t *testing.T, in *installed, sa string) []string {
	t.Helper()
	out := in.c.Kubectl(t, "", "auth", "can-i", "--list", "-n", in.ns, "--as", "system:serviceaccount:"+in.ns+":"+sa)
	re := regexp.MustCompile(`^\s*(\S*?)\s*(\[[^\]]*\])\s+(\[[^\]]*\])\s+(\[[^\]]*\])\s*$`)
	var rules []string
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if i == 0 {
			continue // header
		}
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("kubectl auth can-i --list: unexpected line %q", l)
		}
		rules = append(rules, strings.Join(m[1:], "|"))
	}
	sort.Strings(rules)
	return rules
}

// intended are each service account's rights beyond those every service
// account has (the namespace's default one is the reference).
func intended(ns string) map[string][]string {
	get := func(res string) string { return res + "|[]|[]|[get list]" }
	return map[string][]string{
		"ward-server":    nil,
		"ward-sensor":    nil,
		"ward-admission": {"namespaces|[]|[]|[get]"},
		"ward-posture": {
			get("authorizationpolicies.security.istio.io"), get("clusterrolebindings.rbac.authorization.k8s.io"),
			get("clusterroles.rbac.authorization.k8s.io"), get("configmaps"), get("cronjobs.batch"),
			get("daemonsets.apps"), get("deployments.apps"), get("destinationrules.networking.istio.io"),
			get("jobs.batch"), get("namespaces"), get("networkpolicies.networking.k8s.io"), get("nodes"),
			get("peerauthentications.security.istio.io"), get("pods"), get("replicasets.apps"),
			get("replicationcontrollers"), get("rolebindings.rbac.authorization.k8s.io"),
			get("roles.rbac.authorization.k8s.io"), get("serviceaccounts"), get("services"),
			get("statefulsets.apps"),
		},
		"ward-admission-certgen": {
			"mutatingwebhookconfigurations.admissionregistration.k8s.io|[]|[ward-admission." + ns + "]|[get update]",
			"secrets|[]|[]|[create]",
			"secrets|[]|[ward-admission-tls]|[get]",
			"validatingwebhookconfigurations.admissionregistration.k8s.io|[]|[ward-admission." + ns + "]|[get update]",
		},
	}
}

// checkRights asserts each service account has exactly its intended
// rights, twice: from the API server (kubectl auth can-i --list) and from
// Ward's RBAC graph (internal/cluster/rbac, as `ward k8s who-can` uses it)
// over a matrix of requests; and runs `ward k8s who-can` itself.
func checkRights(t *testing.T, in *installed) {
	want := intended(in.ns)
	base := canI(t, in, "default")
	for sa, extra := range want {
		var got []string
		for _, r := range canI(t, in, sa) {
			if !slices.Contains(base, r) {
				got = append(got, r)
			}
		}
		sort.Strings(extra)
		if !slices.Equal(got, extra) {
			t.Errorf("API server: %s may\n  %q\nwant\n  %q", sa, got, extra)
		}
	}

	// Ward's own RBAC model of the same cluster.
	cfg, err := kube.LoadConfig(kube.LoadOptions{Kubeconfig: in.c.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g, res, err := cluster.RBACGraph(ctx, cl, cluster.Options{Target: "kubetest"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("RBAC graph read errors: %v", res.Errors)
	}
	type res2 struct{ group, resource, sub string }
	resources := []res2{
		{"", "pods", ""}, {"", "pods", "exec"}, {"", "pods", "log"}, {"", "secrets", ""}, {"", "configmaps", ""},
		{"", "namespaces", ""}, {"", "nodes", ""}, {"", "nodes", "proxy"}, {"", "services", ""},
		{"", "serviceaccounts", ""}, {"", "serviceaccounts", "token"}, {"", "replicationcontrollers", ""},
		{"", "persistentvolumes", ""}, {"", "events", ""},
		{"apps", "deployments", ""}, {"apps", "daemonsets", ""}, {"apps", "statefulsets", ""}, {"apps", "replicasets", ""},
		{"batch", "jobs", ""}, {"batch", "cronjobs", ""},
		{"rbac.authorization.k8s.io", "roles", ""}, {"rbac.authorization.k8s.io", "rolebindings", ""},
		{"rbac.authorization.k8s.io", "clusterroles", ""}, {"rbac.authorization.k8s.io", "clusterrolebindings", ""},
		{"networking.k8s.io", "networkpolicies", ""}, {"coordination.k8s.io", "leases", ""},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", ""},
		{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""},
		{"certificates.k8s.io", "certificatesigningrequests", "approval"},
		{"security.istio.io", "peerauthentications", ""}, {"security.istio.io", "authorizationpolicies", ""},
		{"networking.istio.io", "destinationrules", ""},
	}
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "bind", "escalate"}
	names := []string{"", "ward-admission-tls", "ward-admission." + in.ns, "other"}
	scopes := []string{in.ns, "default", ""}
	allowedBy := func(sa string, r rbac.Request) bool {
		ok, _ := g.Allowed(rbac.Identity(rbac.ServiceAccount(in.ns, sa)), r)
		return ok
	}
	for sa, extra := range want {
		checked := 0
		for _, rs := range resources {
			for _, v := range verbs {
				for _, ns := range scopes {
					for _, n := range names {
						r := rbac.Request{Verb: v, APIGroup: rs.group, Resource: rs.resource, Subresource: rs.sub, Namespace: ns, Name: n}
						checked++
						got := allowedBy(sa, r)
						exp := allowedBy("default", r) || intends(extra, in.ns, r)
						if got != exp {
							t.Errorf("Ward RBAC graph: %s %s: allowed %v, want %v", sa, r, got, exp)
						}
					}
				}
			}
		}
		if checked == 0 {
			t.Fatal("no requests checked")
		}
	}

	// The built CLI: nobody of the release may read Secrets except the
	// certificate hook its own one, and only the webhook and the posture
	// scanner may get namespaces.
	whoCan := func(args ...string) []string {
		out, stderr, code := runWard(t, append([]string{"k8s", "who-can", "--kubeconfig", in.c.Kubeconfig, "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("ward k8s who-can %v: exit %d: %s", args, code, stderr)
		}
		var ans struct {
			Subjects []struct {
				Subject rbac.Subject `json:"subject"`
			} `json:"subjects"`
		}
		if err := json.Unmarshal([]byte(out), &ans); err != nil {
			t.Fatalf("who-can output: %v: %s", err, out)
		}
		var ours []string
		for _, a := range ans.Subjects {
			if a.Subject.Kind == rbac.KindServiceAccount && a.Subject.Namespace == in.ns {
				ours = append(ours, a.Subject.Name)
			}
		}
		sort.Strings(ours)
		return ours
	}
	if got := whoCan("get", "secrets", "-n", in.ns); len(got) != 0 {
		t.Errorf("who-can get secrets -n %s: %v, want none of the release", in.ns, got)
	}
	if got := whoCan("get", "secrets", "-n", in.ns, "--name", "ward-admission-tls"); !slices.Equal(got, []string{"ward-admission-certgen"}) {
		t.Errorf("who-can get secrets/ward-admission-tls: %v, want [ward-admission-certgen]", got)
	}
	if got := whoCan("get", "namespaces"); !slices.Equal(got, []string{"ward-admission", "ward-posture"}) {
		t.Errorf("who-can get namespaces: %v, want [ward-admission ward-posture]", got)
	}
	if got := whoCan("list", "pods", "-n", "default"); !slices.Equal(got, []string{"ward-posture"}) {
		t.Errorf("who-can list pods -n default: %v, want [ward-posture]", got)
	}
}

// intends evaluates the intended rules (kubectl can-i lines) for r.
func intends(rules []string, ns string, r rbac.Request) bool {
	full := r.Resource
	if r.Subresource != "" {
		full += "/" + r.Subresource
	}
	if r.APIGroup != "" {
		full += "." + r.APIGroup
	}
	for _, line := range rules {
		p := strings.Split(line, "|")
		res, names, verbs := p[0], strings.Fields(strings.Trim(p[2], "[]")), strings.Fields(strings.Trim(p[3], "[]"))
		if res != full || !slices.Contains(verbs, r.Verb) {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, r.Name) {
			continue
		}
		// The certificate hook's Secret rights are a Role in its namespace.
		if res == "secrets" && r.Namespace != ns {
			continue
		}
		return true
	}
	return false
}
