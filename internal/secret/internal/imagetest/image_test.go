package imagetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/scan"
	"github.com/wardsec/ward/pkg/finding"
)

// TestImageLayers runs the orchestrator's secret scan over an OCI layout:
// a secret in a file that a later layer deletes (still in the image), a
// secret in a later layer, a binary, the config environment and history.
func TestImageLayers(t *testing.T) {
	const (
		ghp    = "ghp_Vx9KqTz3LmWp2RbYc7NdHs4FjGa8Ue1Qo5Ik"
		stripe = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ2fR8sKm"
	)
	l1 := artifacttest.GzipLayer(artifacttest.Tar(
		artifacttest.Entry{Name: "app/"},
		artifacttest.Entry{Name: "app/deploy.env.txt", Body: "GH_TOKEN=" + ghp + "\n"},
		artifacttest.Entry{Name: "app/tool", Body: "\x7fELF\x00\x00\x00" + ghp},
	), "COPY app /app")
	l2 := artifacttest.GzipLayer(artifacttest.Tar(
		artifacttest.Entry{Name: "app/.wh.deploy.env.txt"},
		artifacttest.Entry{Name: "etc/"},
		artifacttest.Entry{Name: "etc/pay.conf", Body: "stripe_key = " + stripe + "\n"},
	), "RUN rm /app/deploy.env.txt && curl -u admin:Zq8Yw7Xv6Ut5 https://repo.corp.invalid/pay.conf -o /etc/pay.conf")
	img := &artifacttest.Image{
		Config: v1.Config{Env: []string{"PATH=/usr/bin", "DB_PASSWORD=Tr0ub4dor&3xKq9"}},
		Layers: []artifacttest.Layer{l1, l2},
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if err := artifacttest.WriteLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	res, err := scan.Run(context.Background(), dir, scan.Options{Scanners: []string{scan.Secret}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	byRule := map[string]finding.Finding{}
	for _, f := range res.Findings {
		if f.Kind == finding.KindSecret {
			byRule[f.RuleID+" "+f.Location.Path] = f
		}
	}
	del, ok := byRule["github-pat app/deploy.env.txt"]
	if !ok {
		t.Fatalf("deleted file's secret missing; got %v", keys(byRule))
	}
	if !del.Secret.Deleted || !strings.Contains(del.Message, "still present in the image") || del.Location.LayerDigest != artifacttest.Digest(l1.Blob) {
		t.Errorf("deleted finding: deleted=%v msg=%q layer=%s", del.Secret.Deleted, del.Message, del.Location.LayerDigest)
	}
	if f, ok := byRule["stripe-secret-key etc/pay.conf"]; !ok || f.Secret.Deleted || f.Location.LayerDigest != artifacttest.Digest(l2.Blob) {
		t.Errorf("layer 2 secret: %+v (all %v)", f, keys(byRule))
	}
	if _, ok := byRule["dotenv-secret image config: Env[1]"]; !ok {
		t.Errorf("config env secret missing: %v", keys(byRule))
	}
	if _, ok := byRule["curl-user-password image config: history[1]"]; !ok {
		t.Errorf("history secret missing: %v", keys(byRule))
	}
	for k := range byRule {
		if strings.Contains(k, "app/tool") {
			t.Errorf("binary scanned: %s", k)
		}
	}
}

func keys(m map[string]finding.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
