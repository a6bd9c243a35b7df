package cli

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wardsec/ward/internal/testutil/kubetest"
)

// kubeAvailable is the [kube] condition of the scripts: the test API
// server of scripts/testcluster.sh runs (started on first use).
func kubeAvailable() bool {
	_, err := kubetest.StartErr()
	return err == nil
}

// cmdKubeCluster ("kubecluster") points the script at the test API
// server: $KUBECONFIG and $KUBECTL. Guard it with [!kube] skip.
func cmdKubeCluster(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: kubecluster")
	}
	c, err := kubetest.StartErr()
	if err != nil {
		ts.Fatalf("kubecluster: %v", err)
	}
	ts.Setenv("KUBECONFIG", c.Kubeconfig)
	ts.Setenv("KUBECTL", filepath.Join(c.Bin, "kubectl"))
}

// cmdKubeNS ("kubens VAR PREFIX") creates a fresh namespace PREFIX-<random>
// with its default service account and stores its name in $VAR.
func cmdKubeNS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: kubens VAR PREFIX")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := args[1] + "-" + hex.EncodeToString(b[:])
	kubectl := ts.Getenv("KUBECTL")
	if kubectl == "" {
		ts.Fatalf("kubens: run kubecluster first")
	}
	ts.Check(ts.Exec(kubectl, "create", "namespace", name))
	ts.Check(ts.Exec(kubectl, "create", "serviceaccount", "default", "-n", name))
	ts.Defer(func() { _ = ts.Exec(kubectl, "delete", "namespace", name, "--wait=false") })
	ts.Setenv(args[0], name)
}
