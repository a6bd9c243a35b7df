package secret

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestExamplesTree pins the findings of examples/secrets (see its README).
func TestExamplesTree(t *testing.T) {
	s := newTestScanner(t, Options{})
	fs, errs := s.ScanDir(context.Background(), "examples", filepath.Join("..", "..", "examples", "secrets"))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, f := range fs {
		e := f.Location.Path + " " + f.RuleID
		if f.Suppressed != nil {
			e += " (" + f.Suppressed.Kind + ")"
		}
		got = append(got, e)
	}
	sort.Strings(got)
	want := []string{
		".env dotenv-secret",
		".env dotenv-secret",
		"app/config.py github-pat",
		"app/config.py stripe-secret-key",
		"aws/credentials.ini aws-access-key-id",
		"aws/credentials.ini aws-secret-access-key",
		"deploy/id_rsa private-key-rsa",
		"k8s/db-secret.yaml kubernetes-secret-data",
		"ops/alerts.json slack-webhook-url",
		"tests/test_payments.py stripe-secret-key (inline)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
