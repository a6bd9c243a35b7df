package signing

import (
	"context"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cosignOffline are the flags that keep cosign off the network against the
// loopback registry.
var cosignOffline = []string{"--allow-http-registry", "--allow-insecure-registry"}

func cosignSignArgs(key, ref string, extra ...string) []string {
	a := append([]string{"sign", "--key", key, "--tlog-upload=false", "--use-signing-config=false", "--yes"}, cosignOffline...)
	return append(append(a, extra...), ref)
}

func wardVerifier(t *testing.T, reg Registry, pubs ...crypto.PublicKey) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifyOptions{Registry: reg, Trust: Trust{Keys: pubs}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCosignSignsWardVerifies: cosign v3 signs with a cosign key in both
// layouts; Ward verifies both with the cosign public key, and a Ward key
// read by cosign signs too.
func TestCosignSignsWardVerifies(t *testing.T) {
	cosignBin(t)
	_, reg, ref := testImage(t, "interop/a:1")
	ctx := context.Background()
	d, err := reg.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := []string{"COSIGN_PASSWORD=cpw"}
	if out, err := runCosign(t, env, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "c")); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	// Ward reads cosign's private key.
	kb, _ := os.ReadFile(filepath.Join(dir, "c.key"))
	if _, err := DecryptPrivateKey(kb, []byte("cpw")); err != nil {
		t.Fatalf("Ward cannot read cosign's key: %v", err)
	}
	if out, err := runCosign(t, env, cosignSignArgs(filepath.Join(dir, "c.key"), d.String(), "-a", "team=blue")...); err != nil {
		t.Fatalf("cosign sign (bundle): %v\n%s", err, out)
	}
	if out, err := runCosign(t, env, cosignSignArgs(filepath.Join(dir, "c.key"), d.String(), "--new-bundle-format=false")...); err != nil {
		t.Fatalf("cosign sign (legacy): %v\n%s", err, out)
	}
	// cosign signs with a key Ward generated.
	wkey, wpub, _ := testKey(t, t.TempDir())
	if out, err := runCosign(t, []string{"COSIGN_PASSWORD=pw"}, cosignSignArgs(wkey, d.String())...); err != nil {
		t.Fatalf("cosign sign with Ward's key: %v\n%s", err, out)
	}

	res, err := wardVerifier(t, reg, readPub(t, filepath.Join(dir, "c.pub"))).Verify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range res.Valid() {
		got[s.Source]++
	}
	if got[SourceBundle] != 1 || got[SourceSigTag] != 1 {
		t.Fatalf("valid by source %v, want 1 bundle + 1 sig-tag:\n%+v", got, res.Signatures)
	}
	// The bundle signed by Ward's key is refused by cosign's key and
	// accepted by Ward's.
	res, err = wardVerifier(t, reg, readPub(t, wpub)).Verify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Valid()) != 1 || res.Valid()[0].Source != SourceBundle {
		t.Fatalf("Ward key: %+v", res.Signatures)
	}
	for _, s := range res.Signatures {
		if !s.Valid() && !strings.Contains(s.Reason, "does not verify") {
			t.Errorf("unexpected reason %q", s.Reason)
		}
	}
}

// TestWardSignsCosignVerifies: Ward signs in each layout; cosign verify
// accepts (it reads the bundle when one exists, else the .sig tag).
func TestWardSignsCosignVerifies(t *testing.T) {
	cosignBin(t)
	r, reg, _ := testImage(t, "interop/b:1")
	ctx := context.Background()
	key, pub, priv := testKey(t, t.TempDir())
	_ = key
	for _, tc := range []struct {
		layout Layout
		repo   string
	}{{LayoutLegacy, "interop/legacy:1"}, {LayoutBundle, "interop/bundle:1"}, {LayoutBoth, "interop/both:1"}} {
		ref := pushRandom(t, reg, r.Ref(tc.repo))
		res, err := Sign(ctx, ref, SignOptions{Registry: reg, Key: priv, Layout: tc.layout, Annotations: map[string]string{"team": "red"}})
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"verify", "--key", pub, "--insecure-ignore-tlog", "-a", "team=red"}, cosignOffline...)
		out, err := runCosign(t, nil, append(args, res.Digest.String())...)
		if err != nil {
			t.Fatalf("%s: cosign verify refused Ward's signature: %v\n%s", tc.repo, err, out)
		}
		if !strings.Contains(out, res.Digest.DigestStr()) {
			t.Errorf("%s: cosign output does not name the digest:\n%s", tc.repo, out)
		}
		// And refuses it under another key.
		_, otherPub, _ := testKey(t, t.TempDir())
		args[2] = otherPub
		if out, err := runCosign(t, nil, append(args, res.Digest.String())...); err == nil {
			t.Fatalf("%s: cosign verify accepted a wrong key:\n%s", tc.repo, out)
		}
	}
}

// TestAttestInterop: cosign attest → Ward verifies; Ward attest → cosign
// verify-attestation accepts.
func TestAttestInterop(t *testing.T) {
	cosignBin(t)
	r, reg, ref := testImage(t, "interop/att:1")
	ctx := context.Background()
	dir := t.TempDir()
	key, pubPath, priv := testKey(t, dir)
	pub := readPub(t, pubPath)
	d, _ := reg.Resolve(ctx, ref)
	pred := filepath.Join(dir, "bom.json")
	if err := os.WriteFile(pred, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"openssl","version":"3.0.1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--new-bundle-format=false"}} {
		args := append([]string{"attest", "--key", key, "--tlog-upload=false", "--use-signing-config=false", "--yes", "--type", "cyclonedx", "--predicate", pred}, cosignOffline...)
		args = append(append(args, extra...), d.String())
		if out, err := runCosign(t, []string{"COSIGN_PASSWORD=pw"}, args...); err != nil {
			t.Fatalf("cosign attest %v: %v\n%s", extra, err, out)
		}
	}
	v := wardVerifier(t, reg, pub)
	res, err := v.VerifyAttestations(ctx, ref, "https://cyclonedx.org/bom")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range res.Valid() {
		got[s.Source]++
		var bom struct {
			Components []struct{ Name string } `json:"components"`
		}
		if err := jsonUnmarshal(s.Statement.Predicate, &bom); err != nil || len(bom.Components) != 1 || bom.Components[0].Name != "openssl" {
			t.Errorf("predicate %s: %v", s.Statement.Predicate, err)
		}
	}
	if got[SourceBundle] != 1 || got[SourceAttTag] != 1 {
		t.Fatalf("valid by source %v:\n%+v", got, res.Signatures)
	}
	// Signatures are not attestations and vice versa.
	if res, _ := v.Verify(ctx, ref); len(res.Valid()) != 0 {
		t.Fatalf("attestations counted as signatures: %+v", res.Signatures)
	}

	// Ward attests; cosign verifies (bundle and legacy layouts).
	for _, tc := range []struct {
		layout Layout
		repo   string
		extra  []string
	}{{LayoutBundle, "interop/watt-bundle:1", nil}, {LayoutLegacy, "interop/watt-legacy:1", []string{"--new-bundle-format=false"}}} {
		ref2 := pushRandom(t, reg, r.Ref(tc.repo))
		pb, _ := os.ReadFile(pred)
		sr, err := Attest(ctx, ref2, AttestOptions{SignOptions: SignOptions{Registry: reg, Key: priv, Layout: tc.layout}, PredicateType: "https://cyclonedx.org/bom", Predicate: pb})
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"verify-attestation", "--key", pubPath, "--insecure-ignore-tlog", "--type", "cyclonedx"}, cosignOffline...)
		args = append(append(args, tc.extra...), sr.Digest.String())
		if out, err := runCosign(t, nil, args...); err != nil {
			t.Fatalf("%s: cosign verify-attestation refused Ward's attestation: %v\n%s", tc.repo, err, out)
		}
	}
}
