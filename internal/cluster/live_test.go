package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/cluster/rbac"
	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/secret"
	"github.com/wardsec/ward/internal/testutil/kubetest"
	"github.com/wardsec/ward/pkg/finding"
)

// The tests of this file run against the real API server of
// scripts/testcluster.sh (kubetest skips them when it cannot run).

func client(t testing.TB, c *kubetest.Cluster, context string) *kube.Client {
	t.Helper()
	cfg, err := kube.LoadConfig(kube.LoadOptions{Kubeconfig: c.Kubeconfig, Context: context})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kube.New(cfg, kube.WithPageSize(7)) // small pages: the continue path runs
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func secretScanner(t testing.TB) TextScanner {
	t.Helper()
	s, err := secret.New(secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// has reports whether some finding of rule is on kind ns/name (name ""
// matches any name) and, if fieldPart is set, its field path contains it.
func has(fs []finding.Finding, rule, kind, ns, name, fieldPart string) bool {
	for _, f := range fs {
		o := f.Location.Object
		if f.RuleID != rule || o == nil || o.Kind != kind || o.Namespace != ns || (name != "" && o.Name != name) {
			continue
		}
		if fieldPart == "" || strings.Contains(o.FieldPath, fieldPart) {
			return true
		}
	}
	return false
}

const privPod = `apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  containers:
  - name: app
    image: registry.local/app:1.0
    securityContext: {privileged: true}
    env:
    - {name: GITHUB_TOKEN, value: ghp_BBuwHvvLwAUMgK4zaZRDxUubLJ3bIZsTgDjL}
    - {name: LOG_LEVEL, value: debug}
`

const restrictedPod = `apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {app: %s}}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.local/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    ports: [{name: http, containerPort: %d}]
    resources: {limits: {cpu: 100m, memory: 64Mi}, requests: {cpu: 100m, memory: 64Mi}}
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`

const privDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: app
        image: registry.local/app:1.0
        securityContext: {privileged: %s}
`

func TestLiveWorkloadsNamespacesSecrets(t *testing.T) {
	c := kubetest.Start(t)
	open := c.Namespace(t, "wopen", nil)
	base := c.Namespace(t, "wbase", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"})
	restr := c.Namespace(t, "wrestr", map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"})
	c.Apply(t, fmt.Sprintf(privPod, "priv", open)+"---\n"+fmt.Sprintf(restrictedPod, "good", open, "good", 8080))
	// PodSecurity admission checks pods, not templates: a privileged
	// Deployment is admitted (with a warning) in a baseline namespace.
	c.Apply(t, fmt.Sprintf(privDeployment, "bad", base, "true")+"---\n"+fmt.Sprintf(privDeployment, "fine", base, "false")+
		"---\n"+fmt.Sprintf(privDeployment, "warned", restr, "false"))
	c.Apply(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: leaky, namespace: `+open+`}
data: {config.ini: "token = \"ghp_x7erDjHxoJVp4oDkGT08h2Z6ZF6s1odNYf0q\"\n"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: clean, namespace: `+open+`}
data: {config.ini: "level = debug\n"}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Scan(ctx, client(t, c, ""), Options{Target: "test", Namespaces: []string{open, base, restr},
		Scanners: []string{ScannerMisconfig, ScannerSecret}, Secrets: secretScanner(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	fs := res.Findings
	cases := []struct {
		name                string
		rule, kind, ns, obj string
		field               string
		want                bool
	}{
		{"open namespace has no enforce label", RuleNSNoEnforce, "Namespace", "", open, "", true},
		{"labelled namespace is fine", RuleNSNoEnforce, "Namespace", "", base, "", false},
		{"manifest PSS check on a live pod", "WARD-PSS-PRIVILEGED", "Pod", open, "priv", "securityContext.privileged", true},
		{"restricted pod passes PSS", "WARD-PSS-PRIVILEGED", "Pod", open, "good", "", false},
		{"deployment violates enforced baseline", RuleNSViolatesLevel, "Deployment", base, "bad", "spec.template.spec", true},
		{"compliant deployment", RuleNSViolatesLevel, "Deployment", base, "fine", "", false},
		{"warn level restricted", RuleNSViolatesWarn, "Deployment", restr, "warned", "", true},
		{"warn level is not enforce", RuleNSViolatesLevel, "Deployment", restr, "warned", "", false},
		{"no level in open namespace", RuleNSViolatesLevel, "Pod", open, "priv", "", false},
		{"secret in env", "github-pat", "Pod", open, "priv", "spec.containers[0].env[0].value", true},
		{"plain env", "github-pat", "Pod", open, "priv", "env[1]", false},
		{"secret in configmap", "github-pat", "ConfigMap", open, "leaky", "data.config.ini", true},
		{"clean configmap", "github-pat", "ConfigMap", open, "clean", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := has(fs, tc.rule, tc.kind, tc.ns, tc.obj, tc.field); got != tc.want {
				t.Errorf("%s on %s %s/%s (%s): got %v, want %v", tc.rule, tc.kind, tc.ns, tc.obj, tc.field, got, tc.want)
			}
		})
	}
	// Object references carry the live uid and apiVersion.
	for _, f := range fs {
		if o := f.Location.Object; o != nil && o.Kind == "Pod" && o.UID == "" {
			t.Errorf("finding %s on %s has no uid", f.RuleID, o)
		}
		if f.Fingerprint == "" {
			t.Errorf("finding %s has no fingerprint", f.RuleID)
		}
	}
	if res.Objects["pods"] < 2 || res.Objects["deployments.apps"] < 3 {
		t.Errorf("objects read: %v", res.Objects)
	}
}

func TestLiveRBACAndWhoCan(t *testing.T) {
	c := kubetest.Start(t)
	ns := c.Namespace(t, "wrbac", nil)
	c.Apply(t, `apiVersion: v1
kind: ServiceAccount
metadata: {name: robot, namespace: `+ns+`}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: `+ns+`}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: robot-secrets, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: robot, namespace: `+ns+`}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: `+ns+`}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-cm, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := client(t, c, "")
	res, err := Scan(ctx, cl, Options{Target: "test", Namespaces: []string{ns}, Scanners: []string{ScannerRBAC}})
	if err != nil {
		t.Fatal(err)
	}
	if !has(res.Findings, rbac.RuleSecretsRead, "RoleBinding", ns, "robot-secrets", "") {
		t.Errorf("no %s on RoleBinding %s/robot-secrets in %v", rbac.RuleSecretsRead, ns, ruleList(res.Findings))
	}
	if has(res.Findings, rbac.RuleSecretsRead, "RoleBinding", ns, "alice-cm", "") {
		t.Errorf("configmap reader reported as secrets reader")
	}
	g, gres, err := RBACGraph(ctx, cl, Options{Target: "test"})
	if err != nil || len(gres.Errors) > 0 {
		t.Fatalf("graph: %v %v", err, gres.Errors)
	}
	subjects := func(req rbac.Request) map[string]bool {
		out := map[string]bool{}
		for _, sg := range g.WhoCan(req) {
			out[sg.Subject.String()] = true
		}
		return out
	}
	got := subjects(rbac.Request{Verb: "get", Resource: "secrets", Namespace: ns})
	if !got["system:serviceaccount:"+ns+":robot"] {
		t.Errorf("who-can get secrets -n %s misses the robot: %v", ns, got)
	}
	if got["User alice"] || got["alice"] {
		t.Errorf("who-can get secrets lists alice: %v", got)
	}
	got = subjects(rbac.Request{Verb: "get", Resource: "configmaps", Namespace: ns})
	found := false
	for s := range got {
		if strings.Contains(s, "alice") {
			found = true
		}
	}
	if !found {
		t.Errorf("who-can get configmaps -n %s misses alice: %v", ns, got)
	}
}

func ruleList(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+" "+f.Location.Object.String())
	}
	return out
}
