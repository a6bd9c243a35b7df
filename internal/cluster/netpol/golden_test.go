package netpol

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files")

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
		case "Namespace":
			var o corev1.Namespace
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.Namespaces = append(in.Namespaces, NamespaceFromCore(&o))
		case "Pod":
			var o corev1.Pod
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.Pods = append(in.Pods, PodFromCore(&o))
		case "Service":
			var o corev1.Service
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.Services = append(in.Services, ServiceFromCore(&o))
		case "NetworkPolicy":
			var o networkingv1.NetworkPolicy
			err = yaml.UnmarshalStrict([]byte(doc), &o)
			in.Policies = append(in.Policies, o)
		default:
			t.Fatalf("%s document %d: unexpected kind %q", path, i, tm.Kind)
		}
		if err != nil {
			t.Fatalf("%s document %d: %v", path, i, err)
		}
	}
	return in
}

// TestGoldenCluster runs reach questions and findings on the fixture
// cluster and compares them with testdata/cluster.golden.
func TestGoldenCluster(t *testing.T) {
	e, errs := NewEngine(loadCluster(t, filepath.Join("testdata", "cluster.yaml")))
	var b bytes.Buffer
	for _, err := range errs {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	for _, q := range []struct {
		from, to Endpoint
		port     string
	}{
		{PodEndpoint("shop", "api-1"), PodEndpoint("db", "pg-0"), "pg"},
		{PodEndpoint("shop", "web-1"), PodEndpoint("db", "pg-0"), "5432"},
		{PodEndpoint("shop", "web-1"), PodEndpoint("shop", "api-1"), "grpc"},
		{PodEndpoint("shop", "web-1"), PodEndpoint("shop", "api-1"), "9090"},
		{IPEndpoint(netip.MustParseAddr("203.0.113.7")), PodEndpoint("shop", "api-1"), "metrics"},
		{IPEndpoint(netip.MustParseAddr("203.0.113.7")), PodEndpoint("shop", "web-1"), "http"},
		{PodEndpoint("tools", "agent"), PodEndpoint("shop", "web-1"), "8080/UDP"},
		{PodEndpoint("db", "pg-0"), IPEndpoint(netip.MustParseAddr("fd00::1:10")), "8080"},
	} {
		ps, err := ParsePort(q.port)
		if err != nil {
			t.Fatal(err)
		}
		port, err := e.ResolvePort(q.to, ps)
		if err != nil {
			t.Fatal(err)
		}
		v := e.Reach(q.from, q.to, port, ps.Protocol)
		fmt.Fprintf(&b, "reach %s -> %s %d/%s: %v: %s\n", q.from, q.to, port, ps.Protocol, v.Allowed, v.Reason)
	}
	b.WriteString("findings:\n")
	for _, f := range e.Findings(Options{Target: "fixture"}) {
		fmt.Fprintf(&b, "  %s %s %s", f.RuleID, f.Severity, f.Location.Object)
		if f.Location.Object.FieldPath != "" {
			fmt.Fprintf(&b, " %s", f.Location.Object.FieldPath)
		}
		if f.Location.Object.UID != "" {
			fmt.Fprintf(&b, " uid=%s", f.Location.Object.UID)
		}
		fmt.Fprintf(&b, ": %s\n", f.Message)
	}
	got := b.Bytes()
	path := filepath.Join("testdata", "cluster.golden")
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
