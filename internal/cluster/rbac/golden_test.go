package rbac

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files")

// loadCluster decodes a multi-document YAML file of RBAC and core objects.
func loadCluster(t *testing.T, path string) Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in Input
	for i, doc := range strings.Split(string(data), "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s document %d: %v", path, i, err)
		}
		var err error
		switch tm.Kind {
		case "Role":
			var o rbacv1.Role
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.Roles = append(in.Roles, o)
		case "ClusterRole":
			var o rbacv1.ClusterRole
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.ClusterRoles = append(in.ClusterRoles, o)
		case "RoleBinding":
			var o rbacv1.RoleBinding
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.RoleBindings = append(in.RoleBindings, o)
		case "ClusterRoleBinding":
			var o rbacv1.ClusterRoleBinding
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.ClusterRoleBindings = append(in.ClusterRoleBindings, o)
		case "ServiceAccount":
			var o corev1.ServiceAccount
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.ServiceAccounts = append(in.ServiceAccounts, ServiceAccountFromCore(&o))
		case "Pod":
			var o corev1.Pod
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.Pods = append(in.Pods, PodFromCore(&o))
		case "Secret":
			var o corev1.Secret
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.Secrets = append(in.Secrets, SecretFromCore(&o))
		default:
			t.Fatalf("%s document %d: unexpected kind %q", path, i, tm.Kind)
		}
		if err != nil {
			t.Fatalf("%s document %d: %v", path, i, err)
		}
	}
	return in
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGoldenCluster runs who-can, findings and escalation paths on the
// fixture cluster and compares them with testdata/cluster.golden.
func TestGoldenCluster(t *testing.T) {
	g, errs := NewGraph(loadCluster(t, filepath.Join("testdata", "cluster.yaml")))
	var b bytes.Buffer
	for _, e := range errs {
		fmt.Fprintf(&b, "error: %v\n", e)
	}
	for _, r := range []Request{
		{Verb: "get", Resource: "secrets", Namespace: "ci"},
		{Verb: "create", Resource: "pods", Namespace: "ci"},
		{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "node-1"},
		{Verb: "list", Resource: "pods", Namespace: "web"},
		{Verb: "get", NonResourceURL: "/healthz"},
	} {
		fmt.Fprintf(&b, "who-can %s:\n", r)
		for _, sg := range g.WhoCan(r) {
			for _, gr := range sg.Grants {
				fmt.Fprintf(&b, "  %s  %s\n", sg.Subject, gr)
			}
		}
	}
	b.WriteString("findings:\n")
	for _, f := range g.Findings(Options{Target: "fixture"}) {
		fmt.Fprintf(&b, "  %s %s %s %s", f.RuleID, f.Severity, f.Location.Object, f.Location.Object.FieldPath)
		if f.Location.Object.UID != "" {
			fmt.Fprintf(&b, " uid=%s", f.Location.Object.UID)
		}
		fmt.Fprintf(&b, ": %s\n", f.Message)
	}
	checkGolden(t, filepath.Join("testdata", "cluster.golden"), b.Bytes())
}
