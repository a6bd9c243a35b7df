package signing

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	testIdentity = "dev@example.com"
	testIssuer   = "https://issuer.example.com"
)

// virtualSigstore returns a local test Sigstore (Fulcio CA, Rekor and CT
// log keys) and its trusted_root.json written to dir.
func virtualSigstore(t *testing.T, dir string) (*ca.VirtualSigstore, string) {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), fixLogIDs(t, vs.CTLogs()), vs.TimestampingAuthorities(), fixLogIDs(t, vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return vs, p
}

// keylessBundle has the virtual Sigstore sign a cosign v3 signature
// statement for d (certificate for identity, Rekor entry with an inclusion
// proof, SCT) at integrated time at, as a v0.3 bundle JSON.
func keylessBundle(t *testing.T, vs *ca.VirtualSigstore, d name.Digest, identity string, at time.Time, mutate func(*protobundle.Bundle)) []byte {
	t.Helper()
	stmt, err := newStatement(StatementV1, d, SignPredicateType, []byte("{}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := vs.AttestAtTime(identity, testIssuer, stmt, at, true)
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := ent.VerificationContent()
	sc, _ := ent.SignatureContent()
	env := sc.(*bundle.Envelope).Envelope
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := ent.TlogEntries()
	pb := &protobundle.Bundle{
		MediaType: bundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{completeEntry(t, vs, entries[0].TransparencyLogEntry())},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	if mutate != nil {
		mutate(pb)
	}
	b, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keylessVerifier trusts id under the virtual Sigstore's root. The test
// CA's leaf certificates carry no embedded SCT, so the SCT check is off
// (cosign's --insecure-ignore-sct); Rekor inclusion proof, SET, chain to
// the Fulcio root and certificate validity at the integrated time are
// all checked.
func keylessVerifier(t *testing.T, reg Registry, rootPath string, id Identity) *Verifier {
	t.Helper()
	tr, err := LoadTrustedRoot(rootPath)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifyOptions{Registry: reg, Trust: Trust{Root: tr, Identities: []Identity{id}, IgnoreSCT: true}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestKeylessBundle(t *testing.T) {
	_, reg, ref := testImage(t, "keyless/app:1")
	ctx := context.Background()
	d, err := reg.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	vs, rootPath := virtualSigstore(t, t.TempDir())
	b := keylessBundle(t, vs, d, testIdentity, time.Now().Add(5*time.Minute), nil)
	if _, err := writeReferrer(ctx, &reg, d, b, SignPredicateType, time.Now()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   Identity
		want string // "" = valid
	}{
		{"exact", Identity{Subject: testIdentity, Issuer: testIssuer}, ""},
		{"regexp", Identity{SubjectRegexp: `@example\.com$`, IssuerRegexp: `^https://issuer\.`}, ""},
		{"other subject", Identity{Subject: "mallory@example.com", Issuer: testIssuer}, "no matching CertificateIdentity"},
		{"other issuer", Identity{Subject: testIdentity, Issuer: "https://evil.example"}, "no matching CertificateIdentity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := keylessVerifier(t, reg, rootPath, tt.id).Verify(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Signatures) != 1 {
				t.Fatalf("signatures %+v", res.Signatures)
			}
			s := res.Signatures[0]
			if tt.want == "" {
				if !s.Valid() || !strings.Contains(s.Signer, testIdentity) || !strings.Contains(s.Signer, testIssuer) {
					t.Fatalf("want valid keyless signature by %s, got %+v", testIdentity, s)
				}
				return
			}
			if s.Valid() || !strings.Contains(s.Reason, tt.want) {
				t.Fatalf("reason %q, want %q", s.Reason, tt.want)
			}
		})
	}
	// The real cosign accepts the same bundle and trusted root offline.
	if _, err := os.Stat(filepath.Join("/var/cache/ward-test", "cosign-"+cosignVersion, "cosign")); err == nil || os.Getenv("WARD_COSIGN") != "" {
		args := append([]string{"verify", "--certificate-identity", testIdentity, "--certificate-oidc-issuer", testIssuer,
			"--trusted-root", rootPath, "--insecure-ignore-sct"}, cosignOffline...)
		if out, err := runCosign(t, nil, append(args, d.String())...); err != nil {
			t.Errorf("cosign verify refused the keyless bundle: %v\n%s", err, out)
		}
		args[2] = "mallory@example.com"
		if out, err := runCosign(t, nil, append(args, d.String())...); err == nil {
			t.Errorf("cosign verify accepted a mismatched identity:\n%s", out)
		}
	}
	// A key-only trust refuses a keyless bundle with the reason.
	_, pub, _ := testKey(t, t.TempDir())
	res, _ := wardVerifier(t, reg, readPub(t, pub)).Verify(ctx, ref)
	if len(res.Valid()) != 0 || !strings.Contains(res.Signatures[0].Reason, "keyless bundle") {
		t.Fatalf("key trust on a keyless bundle: %+v", res.Signatures)
	}
}

// completeEntry adds what a Rekor v1 entry in a bundle carries and the
// test CA's entry lacks: kind/version and the inclusion promise (SET).
func completeEntry(t *testing.T, vs *ca.VirtualSigstore, tle *protorekor.TransparencyLogEntry) *protorekor.TransparencyLogEntry {
	t.Helper()
	set, err := vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil {
		t.Fatal(err)
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle
}

// fixLogIDs turns the test CA's log IDs (the hex string's bytes) into the
// raw key ID bytes a trusted_root.json carries.
func fixLogIDs(t *testing.T, logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	t.Helper()
	for k, l := range logs {
		id, err := hex.DecodeString(k)
		if err != nil {
			t.Fatal(err)
		}
		l.ID = id
		l.ValidityPeriodStart = time.Now().Add(-24 * time.Hour)
		l.ValidityPeriodEnd = time.Time{}
	}
	return logs
}
