package signing

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/wardsec/ward/internal/testutil/schema"
)

// examplePolicy is the policy of docs/signing.md (keys resolved relative to
// the policy file).
const examplePolicy = `apiVersion: ward.dev/v1
kind: SupplyPolicy
requireDigest: true
registries:
  - "registry.example.com/**"
  - "127.0.0.1:*/prod/**"
  - "127.0.0.1:*/dev/*"
rules:
  - name: production
    images: ["127.0.0.1:*/prod/**", "registry.example.com/prod/**"]
    signers:
      - key: release.pub
    attestations:
      - type: vuln
        condition: '!predicate.scanner.result.exists(v, v.severity == "CRITICAL")'
      - type: cyclonedx
  - name: development
    images: ["127.0.0.1:*/dev/*"]
    signers:
      - key: release.pub
      - key: dev.pub
`

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, repo string
		want       bool
	}{
		{"registry.example.com/**", "registry.example.com/a/b/c", true},
		{"registry.example.com/*", "registry.example.com/a/b", false},
		{"registry.example.com/*", "registry.example.com/a", true},
		{"127.0.0.1:*/dev/*", "127.0.0.1:5000/dev/app", true},
		{"127.0.0.1:*/dev/*", "127.0.0.1:5000/prod/app", false},
		{"index.docker.io/library/alpine", "index.docker.io/library/alpine", true},
		{"index.docker.io/library/alp?ne", "index.docker.io/library/alpine", true},
		{"a.io/x.y", "a.io/xzy", false}, // "." is literal
	}
	for _, tt := range tests {
		g, err := CompileGlob(tt.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Match(tt.repo); got != tt.want {
			t.Errorf("%s ~ %s = %v, want %v", tt.glob, tt.repo, got, tt.want)
		}
	}
}

// TestPolicySchema: the JSON schema accepts the documented policy and the
// loader agrees with it on bad documents.
func TestPolicySchema(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "schema.json"), SupplySchema, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"release.pub", "dev.pub"} {
		kp, _ := GenerateKeyPair(nil)
		os.WriteFile(filepath.Join(dir, k), kp.PublicPEM, 0o644)
	}
	tests := []struct {
		name, doc string
		ok        bool
		wantErr   string
	}{
		{"documented", examplePolicy, true, ""},
		{"minimal", "apiVersion: ward.dev/v1\nkind: SupplyPolicy\n", true, ""},
		{"unknown field", "apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrequireDigests: true\n", false, "field requireDigests not found"},
		{"wrong kind", "apiVersion: ward.dev/v1\nkind: Policy\n", false, "kind SupplyPolicy"},
		{"rule without images", "apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrules:\n  - name: x\n    signers: [{key: release.pub}]\n", false, ":4: rule x: images"},
		{"signer without key or identity", "apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrules:\n  - images: ['**']\n    signers: [{}]\n", false, "needs key or identity"},
		{"identity without issuer", "apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrules:\n  - images: ['**']\n    signers: [{identity: {subject: a@b}}]\n", false, "identity"},
		{"bad CEL", "apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrules:\n  - images: ['**']\n    signers: [{key: release.pub}]\n    attestations: [{type: vuln, condition: 'predicate.('}]\n", false, "Syntax error"},
		{"attestation without signers", "apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrules:\n  - images: ['**']\n    attestations: [{type: vuln}]\n", false, "no signers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, err := yaml.YAMLToJSON([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			serr := schema.Check(filepath.Join(dir, "schema.json"), js)
			_, lerr := ParsePolicy(filepath.Join(dir, "p.yaml"), []byte(tt.doc), PolicyOptions{})
			if tt.ok {
				if serr != nil || lerr != nil {
					t.Fatalf("schema: %v; loader: %v", serr, lerr)
				}
				return
			}
			if lerr == nil || !strings.Contains(lerr.Error(), tt.wantErr) {
				t.Errorf("loader error %v, want %q", lerr, tt.wantErr)
			}
			// Semantic checks (CEL, signers on attestations) are the loader's.
			if serr == nil && !strings.Contains("bad CEL attestation without signers", tt.name) {
				t.Errorf("schema accepted %s", tt.name)
			}
		})
	}
}

func TestPolicyEvaluate(t *testing.T) {
	r, reg, _ := testImage(t, "prod/base:1")
	ctx := context.Background()
	dir := t.TempDir()
	_, relPub, relPriv := testKey(t, dir)
	os.Rename(relPub, filepath.Join(dir, "release.pub"))
	devDir := t.TempDir()
	_, devPub, devPriv := testKey(t, devDir)
	b, _ := os.ReadFile(devPub)
	os.WriteFile(filepath.Join(dir, "dev.pub"), b, 0o644)
	polPath := filepath.Join(dir, "supply.yaml")
	os.WriteFile(polPath, []byte(examplePolicy), 0o644)
	cache := NewCache(100, time.Minute)
	p, err := LoadPolicy(polPath, PolicyOptions{Registry: reg, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	vuln := func(sev string) []byte {
		return []byte(fmt.Sprintf(`{"scanner":{"uri":"ward","result":[{"id":"CVE-1","severity":%q}]}}`, sev))
	}
	attest := func(ref, typ string, pred []byte) {
		t.Helper()
		pt, _ := PredicateType(typ)
		if _, err := Attest(ctx, ref, AttestOptions{SignOptions: SignOptions{Registry: reg, Key: relPriv, Layout: LayoutBundle}, PredicateType: pt, Predicate: pred}); err != nil {
			t.Fatal(err)
		}
	}
	digestOf := func(ref string) string {
		d, err := reg.Resolve(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}

	good := pushRandom(t, reg, r.Ref("prod/api:1"))
	Sign(ctx, good, SignOptions{Registry: reg, Key: relPriv})
	attest(good, "vuln", vuln("HIGH"))
	attest(good, "cyclonedx", []byte(`{"bomFormat":"CycloneDX"}`))

	critical := pushRandom(t, reg, r.Ref("prod/critical:1"))
	Sign(ctx, critical, SignOptions{Registry: reg, Key: relPriv})
	attest(critical, "vuln", vuln("CRITICAL"))
	attest(critical, "cyclonedx", []byte(`{"bomFormat":"CycloneDX"}`))

	nosbom := pushRandom(t, reg, r.Ref("prod/nosbom:1"))
	Sign(ctx, nosbom, SignOptions{Registry: reg, Key: relPriv})
	attest(nosbom, "vuln", vuln("LOW"))

	devSigned := pushRandom(t, reg, r.Ref("dev/tool:1"))
	Sign(ctx, devSigned, SignOptions{Registry: reg, Key: devPriv})
	prodDevSigned := pushRandom(t, reg, r.Ref("prod/devkey:1"))
	Sign(ctx, prodDevSigned, SignOptions{Registry: reg, Key: devPriv})
	other := pushRandom(t, reg, r.Ref("elsewhere/app:1"))

	tests := []struct {
		name, ref string
		want      []string // violation substrings; none = allowed
	}{
		{"signed, attested, no critical", digestOf(good), nil},
		{"tag not pinned", good, []string{"not pinned by digest"}},
		{"critical vulnerability", digestOf(critical), []string{"condition", "is false"}},
		{"no SBOM", digestOf(nosbom), []string{"no valid https://cyclonedx.org/bom attestation", "none found"}},
		{"dev key on dev", digestOf(devSigned), nil},
		{"dev key on prod", digestOf(prodDevSigned), []string{"rule production", "does not verify"}},
		{"registry not allowed", digestOf(other), []string{"not in the allowed registries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Evaluate(ctx, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(d.Violations, "\n")
			if len(tt.want) == 0 {
				if !d.Allowed {
					t.Fatalf("denied: %s", all)
				}
				return
			}
			if d.Allowed {
				t.Fatal("allowed")
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("violations %q lack %q", all, w)
				}
			}
		})
	}
	// Repeats come from the cache.
	d, err := p.Evaluate(ctx, digestOf(good))
	if err != nil || !d.Cached || !d.Allowed {
		t.Fatalf("second evaluation: cached=%v allowed=%v err=%v", d.Cached, d.Allowed, err)
	}
	js, _ := json.Marshal(d)
	if !strings.Contains(string(js), `"cached":true`) {
		t.Errorf("decision JSON %s", js)
	}
}

// TestDocsPolicy: the policy shown in docs/signing.md loads and passes the
// schema (the page cannot drift from the code).
func TestDocsPolicy(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	page, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "signing.md"))
	if err != nil {
		t.Skipf("docs/signing.md: %v", err)
	}
	_, rest, ok := strings.Cut(string(page), "```yaml\n")
	if !ok {
		t.Fatal("no yaml block in docs/signing.md")
	}
	doc, _, _ := strings.Cut(rest, "```")
	dir := t.TempDir()
	for _, k := range []string{"release.pub", "dev.pub"} {
		kp, _ := GenerateKeyPair(nil)
		os.WriteFile(filepath.Join(dir, k), kp.PublicPEM, 0o644)
	}
	if _, err := ParsePolicy(filepath.Join(dir, "supply.yaml"), []byte(doc), PolicyOptions{}); err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "schema.json"), SupplySchema, 0o644)
	if err := schema.Check(filepath.Join(dir, "schema.json"), js); err != nil {
		t.Fatal(err)
	}
}
