package signing

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Identity is a keyless signer: the certificate's subject alternative name
// and OIDC issuer, each exact or a regular expression (cosign's
// --certificate-identity[-regexp], --certificate-oidc-issuer[-regexp]).
type Identity struct {
	Subject       string `json:"subject,omitempty" yaml:"subject"`
	SubjectRegexp string `json:"subjectRegExp,omitempty" yaml:"subjectRegExp"`
	Issuer        string `json:"issuer,omitempty" yaml:"issuer"`
	IssuerRegexp  string `json:"issuerRegExp,omitempty" yaml:"issuerRegExp"`
}

func (id Identity) String() string {
	s, i := id.Subject, id.Issuer
	if s == "" {
		s = "~" + id.SubjectRegexp
	}
	if i == "" {
		i = "~" + id.IssuerRegexp
	}
	return s + " (issuer " + i + ")"
}

// Trust is what a signature must chain to: public keys and/or keyless
// identities with the trusted root (Fulcio CAs, Rekor and CT log keys) that
// makes their certificates and log evidence checkable offline.
type Trust struct {
	Keys       []crypto.PublicKey
	Identities []Identity
	// Root is the trusted root for keyless verification (a
	// trusted_root.json, e.g. from `cosign trusted-root create` or TUF).
	Root root.TrustedMaterial
	// IgnoreSCT skips the certificate transparency check (private CAs).
	IgnoreSCT bool
}

// LoadTrustedRoot reads a Sigstore trusted_root.json file.
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	if fi.Size() > MaxBlobSize {
		return nil, fmt.Errorf("trusted root %s: larger than %d bytes", path, MaxBlobSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", path, err)
	}
	return tr, nil
}

// keyVerifier is one trusted key, ready for both layouts.
type keyVerifier struct {
	id       string
	sig      signature.Verifier
	bundle   *verify.Verifier
	material root.TrustedMaterial
}

// compiledTrust is a Trust with its verifiers built once.
type compiledTrust struct {
	keys     []keyVerifier
	keyless  *verify.Verifier
	policies []verify.PolicyOption
	ids      []Identity
}

func (t *Trust) compile() (*compiledTrust, error) {
	if len(t.Keys) == 0 && len(t.Identities) == 0 {
		return nil, errors.New("no trust: give a public key or a certificate identity and issuer")
	}
	ct := &compiledTrust{ids: t.Identities}
	for _, k := range t.Keys {
		sv, err := signature.LoadVerifier(k, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		ek := root.NewExpiringKey(sv, time.Time{}, time.Time{})
		mat := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return ek, nil })
		bv, err := verify.NewVerifier(mat, verify.WithNoObserverTimestamps())
		if err != nil {
			return nil, fmt.Errorf("public key verifier: %w", err)
		}
		ct.keys = append(ct.keys, keyVerifier{id: KeyID(k), sig: sv, bundle: bv, material: mat})
	}
	if len(t.Identities) > 0 {
		if t.Root == nil {
			return nil, errors.New("keyless verification needs a trusted root (--trusted-root)")
		}
		opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1)}
		if !t.IgnoreSCT {
			opts = append(opts, verify.WithSignedCertificateTimestamps(1))
		}
		v, err := verify.NewVerifier(t.Root, opts...)
		if err != nil {
			return nil, fmt.Errorf("keyless verifier: %w", err)
		}
		ct.keyless = v
		for _, id := range t.Identities {
			if id.Subject == "" && id.SubjectRegexp == "" || id.Issuer == "" && id.IssuerRegexp == "" {
				return nil, fmt.Errorf("identity %s: needs a subject (or regexp) and an issuer (or regexp)", id)
			}
			for _, re := range []string{id.SubjectRegexp, id.IssuerRegexp} {
				if _, err := regexp.Compile(re); err != nil {
					return nil, fmt.Errorf("identity %s: %w", id, err)
				}
			}
			ci, err := verify.NewShortCertificateIdentity(id.Issuer, id.IssuerRegexp, id.Subject, id.SubjectRegexp)
			if err != nil {
				return nil, fmt.Errorf("identity %s: %w", id, err)
			}
			ct.policies = append(ct.policies, verify.WithCertificateIdentity(ci))
		}
	}
	return ct, nil
}
