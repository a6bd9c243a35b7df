package cluster

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/kubetest"
	"github.com/wardsec/ward/pkg/finding"
)

// TestLiveSinkSameFindings: a scan with Options.Sink hands over exactly
// the findings a collecting scan returns (every scanner), keeps none in
// the result, and calls the sink with non-empty batches.
func TestLiveSinkSameFindings(t *testing.T) {
	c := kubetest.Start(t)
	ns := c.Namespace(t, "wsink", map[string]string{"pod-security.kubernetes.io/warn": "restricted"})
	c.Apply(t, fmt.Sprintf(privPod, "priv", ns)+"---\n"+fmt.Sprintf(restrictedPod, "good", ns, "good", 8080)+
		"---\n"+fmt.Sprintf(privDeployment, "bad", ns, "true")+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: leaky, namespace: `+ns+`}
data: {config.ini: "token = \"ghp_x7erDjHxoJVp4oDkGT08h2Z6ZF6s1odNYf0q\"\n"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: `+ns+`}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-secrets, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: default, namespace: `+ns+`}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{Target: "test", Namespaces: []string{ns}, Secrets: secretScanner(t)}
	want, err := Scan(ctx, client(t, c, ""), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Findings) < 10 {
		t.Fatalf("only %d findings: the fixture should fire many checks", len(want.Findings))
	}
	var got []finding.Finding
	batches := 0
	opts.Sink = func(fs []finding.Finding) {
		if len(fs) == 0 {
			t.Error("sink called with an empty batch")
		}
		batches++
		got = append(got, fs...)
	}
	res, err := Scan(ctx, client(t, c, ""), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("Result.Findings holds %d findings with a sink", len(res.Findings))
	}
	if batches < 2 {
		t.Errorf("%d batches: findings should stream as objects are checked", batches)
	}
	sortFindings(got)
	if len(got) != len(want.Findings) {
		t.Fatalf("sink got %d findings, collecting scan %d", len(got), len(want.Findings))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want.Findings[i]) {
			t.Errorf("finding %d differs:\n got %+v\nwant %+v", i, got[i], want.Findings[i])
		}
	}
	if !reflect.DeepEqual(res.Errors, want.Errors) || !reflect.DeepEqual(res.Objects, want.Objects) {
		t.Errorf("errors or object counts differ: %v %v / %v %v", res.Errors, res.Objects, want.Errors, want.Objects)
	}
}
