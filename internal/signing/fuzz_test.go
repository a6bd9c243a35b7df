package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// Every parser of untrusted input is fuzzed: none may panic, hang or
// allocate without bound. Seeds are real documents made by Ward.

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AAAA"}]}`))
	f.Add([]byte(`{"payloadType":"x","signatures":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEnvelope(b)
		if err == nil && (e.PayloadType == "" || len(e.Signatures) == 0) {
			t.Fatal("accepted an envelope without type or signatures")
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sv := mustSigner(f, k)
	d, _ := name.NewDigest("r.example/a@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	stmt, _ := newStatement(StatementV1, d, SignPredicateType, []byte("{}"), map[string]string{"a": "b"})
	b, err := keyBundle(sv, stmt)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1","verificationMaterial":{"tlogEntries":[{}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		bun, err := ParseBundle(b)
		if err != nil {
			return
		}
		// Accessors over a validated bundle must not panic either.
		_, _ = bun.VerificationContent()
		_, _ = bun.SignatureContent()
		_, _ = bun.TlogEntries()
		_, _ = bun.Timestamps()
	})
}

func FuzzDecryptPrivateKey(f *testing.F) {
	kp, err := GenerateKeyPair([]byte("pw"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(kp.PrivatePEM)
	f.Add([]byte("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// scrypt runs only for the three known parameter sets, so a
		// hostile key costs at most one N=2^17 derivation.
		_, _ = DecryptPrivateKey(b, []byte("pw"))
	})
}

func FuzzParsePublicKey(f *testing.F) {
	kp, err := GenerateKeyPair(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(kp.PublicPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pub, err := ParsePublicKey(b); err == nil && pub == nil {
			t.Fatal("nil key without error")
		}
	})
}

func FuzzParsePayloads(f *testing.F) {
	d, _ := name.NewDigest("r.example/a@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	ss, _ := newSimpleSigning(d, map[string]string{"k": "v"})
	st, _ := newStatement(StatementV01, d, "https://cyclonedx.org/bom", []byte(`{"bomFormat":"CycloneDX"}`), nil)
	f.Add(ss)
	f.Add(st)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseSimpleSigning(b)
		if s, err := ParseStatement(b); err == nil {
			_ = s.coversDigest(d.DigestStr())
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(examplePolicy))
	f.Add([]byte("apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrules: [{images: ['**'], attestations: [{type: vuln, condition: 'true'}]}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParsePolicy("fuzz.yaml", b, PolicyOptions{})
	})
}
