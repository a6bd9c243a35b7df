package signing

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
)

// reasons returns source -> reason of every refused signature.
func reasons(res *Result) map[string]string {
	m := map[string]string{}
	for _, s := range res.Signatures {
		if !s.Valid() {
			m[s.Source] = s.Reason
		}
	}
	return m
}

func mustVerify(t *testing.T, v *Verifier, ref string) *Result {
	t.Helper()
	res, err := v.Verify(context.Background(), ref)
	if err != nil {
		t.Fatalf("verify %s: %v", ref, err)
	}
	return res
}

// copySignatures copies a's .sig tag and bundle referrer to b, as an
// attacker replaying a valid signature onto another image would.
func copySignatures(t *testing.T, reg Registry, a, b name.Digest) {
	t.Helper()
	ctx := context.Background()
	ro := reg.options(ctx, a.Registry)
	img, err := remote.Image(legacyTag(a, ".sig"), ro...)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(legacyTag(b, ".sig"), img, ro...); err != nil {
		t.Fatal(err)
	}
	v := &Verifier{reg: reg}
	bundles, err := v.bundles(ctx, a, func(string) bool { return true })
	if err != nil || len(bundles) == 0 {
		t.Fatalf("bundles of %s: %v", a, err)
	}
	if _, err := writeReferrer(ctx, &reg, b, bundles[0].data, SignPredicateType, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestTampering(t *testing.T) {
	r, reg, refA := testImage(t, "tamper/a:1")
	ctx := context.Background()
	_, pubPath, priv := testKey(t, t.TempDir())
	pub := readPub(t, pubPath)
	v := wardVerifier(t, reg, pub)
	resA, err := Sign(ctx, refA, SignOptions{Registry: reg, Key: priv})
	if err != nil {
		t.Fatal(err)
	}
	if err := mustVerify(t, v, refA).Err(); err != nil {
		t.Fatal(err)
	}

	t.Run("changed manifest", func(t *testing.T) {
		// The tag now points at another manifest: its digest has no signature.
		pushRandom(t, reg, refA)
		res := mustVerify(t, v, refA)
		if res.Err() == nil || !strings.Contains(res.Err().Error(), "no signatures found") {
			t.Fatalf("changed manifest: %v", res.Err())
		}
		if res.Digest == resA.Digest.String() {
			t.Fatal("tag still resolves to the signed digest")
		}
	})

	t.Run("signature for another digest", func(t *testing.T) {
		refB := pushRandom(t, reg, r.Ref("tamper/b:1"))
		b, _ := reg.Resolve(ctx, refB)
		copySignatures(t, reg, resA.Digest, b)
		res := mustVerify(t, v, refB)
		if res.Err() == nil {
			t.Fatal("replayed signatures accepted")
		}
		got := reasons(res)
		if !strings.Contains(got[SourceSigTag], "signature is for digest "+resA.Digest.DigestStr()) {
			t.Errorf("sig-tag reason %q", got[SourceSigTag])
		}
		if !strings.Contains(got[SourceBundle], "does not verify") || !strings.Contains(got[SourceBundle], "digest") {
			t.Errorf("bundle reason %q", got[SourceBundle])
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		_, otherPub, _ := testKey(t, t.TempDir())
		res := mustVerify(t, wardVerifier(t, reg, readPub(t, otherPub)), resA.Digest.String())
		got := reasons(res)
		if res.Err() == nil || !strings.Contains(got[SourceSigTag], "does not verify with the given key") || !strings.Contains(got[SourceBundle], "does not verify with the given key") {
			t.Fatalf("wrong key: %v", got)
		}
	})

	t.Run("referrer pointing to a missing blob", func(t *testing.T) {
		refC := pushRandom(t, reg, r.Ref("tamper/c:1"))
		sc, err := Sign(ctx, refC, SignOptions{Registry: reg, Key: priv})
		if err != nil {
			t.Fatal(err)
		}
		ro := reg.options(ctx, sc.Digest.Registry)
		for _, m := range []name.Reference{mustRef(t, sc.Referrer), legacyTag(sc.Digest, ".sig")} {
			img, err := remote.Image(m, ro...)
			if err != nil {
				t.Fatal(err)
			}
			mf, _ := img.Manifest()
			deleteBlob(t, sc.Digest.Context(), mf.Layers[0].Digest)
		}
		res := mustVerify(t, v, sc.Digest.String())
		got := reasons(res)
		if res.Err() == nil || !strings.Contains(got[SourceBundle], "missing from") || !strings.Contains(got[SourceSigTag], "missing from") {
			t.Fatalf("missing blobs: %+v", res.Signatures)
		}
	})
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	n, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deleteBlob removes a blob with the registry API (delete is enabled in
// the test registry).
func deleteBlob(t *testing.T, repo name.Repository, d v1.Hash) {
	t.Helper()
	u := fmt.Sprintf("http://%s/v2/%s/blobs/%s", repo.RegistryStr(), repo.RepositoryStr(), d)
	req, _ := http.NewRequest(http.MethodDelete, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE %s: %s", u, resp.Status)
	}
}

// TestKeylessTampering: expired certificate, forged inclusion proof,
// forged SET, swapped certificate.
func TestKeylessTampering(t *testing.T) {
	r, reg, _ := testImage(t, "ktamper/base:1")
	ctx := context.Background()
	vs, rootPath := virtualSigstore(t, t.TempDir())
	v := keylessVerifier(t, reg, rootPath, Identity{Subject: testIdentity, Issuer: testIssuer})
	flip := func(b []byte) { b[len(b)/2] ^= 0x01 }
	tests := []struct {
		name   string
		at     time.Time
		mutate func(*protobundle.Bundle)
		want   string
	}{
		{name: "valid", at: time.Now().Add(5 * time.Minute)},
		// The leaf is valid for 10 minutes from now; logged 30 minutes
		// later, it had expired.
		{name: "expired certificate", at: time.Now().Add(30 * time.Minute), want: "certificate validity"},
		{name: "forged inclusion proof", at: time.Now().Add(5 * time.Minute), mutate: func(b *protobundle.Bundle) {
			flip(b.VerificationMaterial.TlogEntries[0].InclusionProof.RootHash)
		}, want: "inclusion"},
		{name: "forged SET", at: time.Now().Add(5 * time.Minute), mutate: func(b *protobundle.Bundle) {
			flip(b.VerificationMaterial.TlogEntries[0].InclusionPromise.SignedEntryTimestamp)
		}, want: "log"},
		{name: "tampered log body", at: time.Now().Add(5 * time.Minute), mutate: func(b *protobundle.Bundle) {
			body := b.VerificationMaterial.TlogEntries[0].CanonicalizedBody
			b.VerificationMaterial.TlogEntries[0].CanonicalizedBody = bytes.Replace(body, []byte(`"spec"`), []byte(`"spec" `), 1)
		}, want: "log"},
		{name: "no log entry", at: time.Now().Add(5 * time.Minute), mutate: func(b *protobundle.Bundle) {
			b.VerificationMaterial.TlogEntries = nil
		}, want: "transparency log"},
		{name: "tampered payload", at: time.Now().Add(5 * time.Minute), mutate: func(b *protobundle.Bundle) {
			env := b.GetDsseEnvelope()
			env.Payload = bytes.Replace(env.Payload, []byte("sign/v1"), []byte("sign/v2"), 1)
		}, want: "payload hash"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := pushRandom(t, reg, r.Ref(fmt.Sprintf("ktamper/img%d:1", i)))
			d, _ := reg.Resolve(ctx, ref)
			b := keylessBundle(t, vs, d, testIdentity, tt.at, tt.mutate)
			if _, err := writeReferrer(ctx, &reg, d, b, SignPredicateType, time.Now()); err != nil {
				t.Fatal(err)
			}
			res := mustVerify(t, v, ref)
			if len(res.Signatures) != 1 {
				t.Fatalf("signatures: %+v", res.Signatures)
			}
			s := res.Signatures[0]
			if tt.want == "" {
				if !s.Valid() {
					t.Fatalf("valid bundle refused: %s", s.Reason)
				}
				return
			}
			if s.Valid() {
				t.Fatal("tampered bundle accepted")
			}
			if !strings.Contains(strings.ToLower(s.Reason), tt.want) {
				t.Errorf("reason %q does not mention %q", s.Reason, tt.want)
			}
			t.Logf("refused: %s", s.Reason)
		})
	}
}

// TestLegacyLayerTampering: bad annotations and payloads in .sig layers.
func TestLegacyLayerTampering(t *testing.T) {
	ctx := context.Background()
	_, pubPath, priv := testKey(t, t.TempDir())
	pub := readPub(t, pubPath)
	v := &Verifier{trust: mustCompile(t, Trust{Keys: []crypto.PublicKey{pub}})}
	d, _ := name.NewDigest("r.example/app@sha256:" + strings.Repeat("a", 64))
	payload, _ := newSimpleSigning(d, nil)
	sv := mustSigner(t, priv)
	sig := signB64(t, sv, payload)
	other, _ := json.Marshal(map[string]any{"critical": map[string]any{"type": "other"}})
	tests := []struct {
		name string
		l    layer
		want string
	}{
		{"valid", layer{data: payload, annotations: map[string]string{SignatureAnnotation: sig}}, ""},
		{"no annotation", layer{data: payload}, "no dev.cosignproject.cosign/signature annotation"},
		{"bad base64", layer{data: payload, annotations: map[string]string{SignatureAnnotation: "%%%"}}, "not base64"},
		{"payload changed", layer{data: append(bytes.Clone(payload), ' '), annotations: map[string]string{SignatureAnnotation: sig}}, "does not verify"},
		{"not simple signing", layer{data: other, annotations: map[string]string{SignatureAnnotation: signB64(t, sv, other)}}, "simple-signing payload: type"},
		{"not JSON", layer{data: []byte("{"), annotations: map[string]string{SignatureAnnotation: signB64(t, sv, []byte("{"))}}, "simple-signing payload"},
	}
	_ = ctx
	for _, tt := range tests {
		s := v.checkSimpleSigning(d, tt.l)
		if tt.want == "" {
			if !s.Valid() {
				t.Errorf("%s: refused: %s", tt.name, s.Reason)
			}
			continue
		}
		if s.Valid() || !strings.Contains(s.Reason, tt.want) {
			t.Errorf("%s: reason %q, want %q", tt.name, s.Reason, tt.want)
		}
	}
}
