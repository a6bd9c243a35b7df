package jobs

import (
	"context"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/signing"
	"github.com/wardsec/ward/internal/testutil/registry"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/report"
)

// signWith signs ref on the test registry with a new key pair and
// returns the public key.
func signWith(t *testing.T, ref string) crypto.PublicKey {
	t.Helper()
	kp, err := signing.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := signing.DecryptPrivateKey(kp.PrivatePEM, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signing.Sign(context.Background(), ref, signing.SignOptions{Key: priv}); err != nil {
		t.Fatalf("sign %s: %v", ref, err)
	}
	return priv.Public()
}

// signatureStates returns the stored state ("state signer") of every
// container image target.
func signatureStates(t *testing.T, st *store.Store) map[string]*store.ImageSignature {
	t.Helper()
	ts, _, err := st.Targets(context.Background(), "container_image", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.ImageSignature{}
	for _, tg := range ts {
		out[tg.Name] = tg.Signature
	}
	return out
}

// TestRegistrySignatures: on a real registry (Debian's docker-registry)
// with an image signed by the trusted key, one signed by another key and
// one unsigned, the registry job records verified (by that key), invalid
// and unsigned; a server that trusts no key records the signed ones as
// signed but not verified; the signatures job checks uploaded reports
// (a registry image, a docker-save archive whose digest is no registry's)
// and leaves fresh checks alone.
func TestRegistrySignatures(t *testing.T) {
	goZip := sharedGoZip(t)
	reg := registry.Start(t, registry.Options{})
	ctx := context.Background()
	cache := t.TempDir()
	if _, err := db.Import(ctx, db.DefaultDir(cache), []string{advisoryDir(t, goZip, "osv", "GO-2020-0015")}, db.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	signed, unsigned, other := reg.Ref("ward/app:signed"), reg.Ref("ward/app:unsigned"), reg.Ref("ward/app:otherkey")
	pushImage(t, signed, goModImage("v0.3.0"))
	pushImage(t, unsigned, goModImage("v0.3.5"))
	pushImage(t, other, goModImage("v0.3.6"))
	trusted := signWith(t, signed)
	signWith(t, other)

	e := newRematchEnv(t)
	checker, err := NewSignatureChecker(SignatureOptions{Keys: []crypto.PublicKey{trusted}}, e.st)
	if err != nil {
		t.Fatal(err)
	}
	job := Registry(RegistryOptions{Repositories: []string{reg.Ref("ward/app")}, CacheDir: cache, Version: "test", Signatures: checker},
		e.srv.IngestReport)
	if err := job(ctx); err != nil {
		t.Fatal(err)
	}
	got := signatureStates(t, e.st)
	keyID := "key " + signing.KeyID(trusted)
	if s := got[signed]; s == nil || s.State != store.SignatureVerified || s.Signer != keyID || !strings.HasSuffix(s.Ref, "ward/app@"+s.Digest) {
		t.Errorf("signed by the trusted key: %+v, want verified by %s", s, keyID)
	}
	if s := got[other]; s == nil || s.State != store.SignatureInvalid || s.Signer != "" || !strings.Contains(s.Detail, "none verified") {
		t.Errorf("signed by another key: %+v, want invalid", s)
	}
	if s := got[unsigned]; s == nil || s.State != store.SignatureUnsigned {
		t.Errorf("unsigned: %+v, want unsigned", s)
	}
	if len(got) != 3 {
		t.Errorf("targets %v, want the three tags", got)
	}

	// No trusted key: what is signed is "signed", never "verified".
	untrusting, err := NewSignatureChecker(SignatureOptions{}, e.st)
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{signed: store.SignatureUnverified, other: store.SignatureUnverified, unsigned: store.SignatureUnsigned} {
		s, err := untrusting.Record(ctx, ref, got[ref].Digest)
		if err != nil || s.State != want || s.Signer != "" {
			t.Errorf("no trusted key, %s: %+v %v, want %s", ref, s, err, want)
		}
	}
	if s := signatureStates(t, e.st)[signed]; s.State != store.SignatureUnverified || !strings.Contains(s.Detail, "trusts no key") {
		t.Errorf("stored without trust: %+v", s)
	}

	// Uploaded reports: the job checks what was never checked.
	digest := got[signed].Digest
	e.upload(&report.Report{Artifact: report.Artifact{Name: reg.Ref("ward/app:copy"), Type: "container_image", Digest: digest}})
	archive := "sha256:" + strings.Repeat("0", 64)
	e.upload(&report.Report{Artifact: report.Artifact{Name: "/tmp/app image.tar", Type: "container_image", Digest: "sha256:" + strings.Repeat("1", 64)}})
	e.upload(&report.Report{Artifact: report.Artifact{Name: reg.Ref("ward/app:local"), Type: "container_image", Digest: archive}})
	if err := checker.Run(ctx); err != nil {
		t.Fatal(err)
	}
	got = signatureStates(t, e.st)
	if s := got[reg.Ref("ward/app:copy")]; s == nil || s.State != store.SignatureUnverified {
		// The digest was checked (without trust) moments ago: not due, and
		// shared with ward/app:signed.
		t.Errorf("uploaded copy of a checked digest: %+v, want the digest's state (signed)", s)
	}
	if s := got["/tmp/app image.tar"]; s == nil || s.State != store.SignatureError || !strings.Contains(s.Detail, "not a registry reference") {
		t.Errorf("archive path: %+v, want error (not a registry reference)", s)
	}
	if s := got[reg.Ref("ward/app:local")]; s == nil || s.State != store.SignatureError || s.Detail == "" {
		t.Errorf("digest not in the registry: %+v, want error with the registry's answer", s)
	}
	due, err := e.st.SignaturesDue(ctx, checker.now().Add(-time.Minute), 10)
	if err != nil || len(due) != 0 {
		t.Errorf("due after the run: %+v %v", due, err)
	}
}

// TestIsArtifactTag: cosign's and the referrers fallback's tags are not
// images to rescan; image tags that merely look alike are.
func TestIsArtifactTag(t *testing.T) {
	hex := strings.Repeat("ab12", 16)
	for tag, want := range map[string]bool{
		"sha256-" + hex + ".sig": true, "sha256-" + hex + ".att": true, "sha256-" + hex + ".sbom": true, "sha256-" + hex: true,
		"1.0": false, "latest": false, "sha256-" + hex + ".tar": false, "sha256-" + hex[:63]: false,
		"sha256-" + strings.ToUpper(hex): false, "sha512-" + hex: false, "sha256-" + hex + "x": false,
	} {
		if got := isArtifactTag(tag); got != want {
			t.Errorf("isArtifactTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
