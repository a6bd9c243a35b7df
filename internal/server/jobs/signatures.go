package jobs

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/signing"
)

// Defaults of the signature checks.
const (
	DefaultSignatureRecheck = 24 * time.Hour
	DefaultSignatureBatch   = 100
)

// SignatureStore is where signature states are kept (*store.Store).
type SignatureStore interface {
	SetImageSignature(ctx context.Context, sig store.ImageSignature) error
	SignaturesDue(ctx context.Context, staleBefore time.Time, limit int) ([]store.SignatureCheck, error)
}

// SignatureOptions configures the signature checks.
type SignatureOptions struct {
	// Keys are the trusted cosign public keys. Without any, signatures
	// found are recorded as signed but not verified.
	Keys []crypto.PublicKey
	// InsecureRegistries ("host:port") are reached over plain HTTP or
	// unverified TLS.
	InsecureRegistries []string
	// Keychain resolves credentials (default: the Docker config file).
	Keychain authn.Keychain
	// Recheck is how old a digest's check may be before the job checks it
	// again (default DefaultSignatureRecheck).
	Recheck time.Duration
	// Batch bounds the images one run checks (default
	// DefaultSignatureBatch, at most store.MaxSignatureChecks).
	Batch  int
	Logger *slog.Logger
}

// SignatureChecker finds the cosign signatures of image digests in their
// registries (sha256-<hex>.sig tags and Sigstore bundle referrers, with
// internal/signing's verifier) and records each digest's state in the
// store.
type SignatureChecker struct {
	o       SignatureOptions
	st      SignatureStore
	v       *signing.Verifier
	trusted bool
	now     func() time.Time
}

// NewSignatureChecker builds the checker: the verifier's keys are
// compiled once.
func NewSignatureChecker(o SignatureOptions, st SignatureStore) (*SignatureChecker, error) {
	if st == nil {
		return nil, errors.New("signatures: no store")
	}
	if o.Recheck <= 0 {
		o.Recheck = DefaultSignatureRecheck
	}
	if o.Batch <= 0 {
		o.Batch = DefaultSignatureBatch
	}
	o.Batch = min(o.Batch, store.MaxSignatureChecks)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	reg := signing.Registry{Keychain: o.Keychain, Insecure: o.InsecureRegistries}
	// With nothing trusted, the lister still finds and reads every
	// signature; none verifies, so each found is "signed, not verified".
	v := signing.NewSignatureLister(reg)
	if len(o.Keys) > 0 {
		var err error
		if v, err = signing.NewVerifier(signing.VerifyOptions{Registry: reg, Trust: signing.Trust{Keys: o.Keys}}); err != nil {
			return nil, fmt.Errorf("signatures: %w", err)
		}
	}
	return &SignatureChecker{o: o, st: st, v: v, trusted: len(o.Keys) > 0, now: time.Now}, nil
}

// Check finds the signature state of digest in the repository of image
// (a reference such as "registry/app:1.2", as the image was scanned).
// The state is SignatureError, with the reason, when the check could not
// run: image is not a registry reference, the registry cannot be reached
// or does not hold the digest (a docker-save archive's digest is its image
// ID, never in a registry).
func (c *SignatureChecker) Check(ctx context.Context, image, digest string) store.ImageSignature {
	sig := store.ImageSignature{Digest: digest, CheckedAt: c.now()}
	ref, err := name.ParseReference(image)
	if err != nil || strings.ContainsAny(image, " \t\n") {
		sig.State, sig.Detail = store.SignatureError, fmt.Sprintf("%q is not a registry reference: not checked", image)
		return sig
	}
	sig.Ref = ref.Context().Name() + "@" + digest
	res, err := c.v.Verify(ctx, sig.Ref)
	if err != nil {
		sig.State, sig.Detail = store.SignatureError, err.Error()
		return sig
	}
	valid := res.Valid()
	switch {
	case len(res.Signatures) == 0:
		sig.State = store.SignatureUnsigned
	case !c.trusted:
		sig.State = store.SignatureUnverified
		sig.Detail = fmt.Sprintf("%d signature(s) found; the server trusts no key (jobs.signatures.keys), so none was verified", len(res.Signatures))
	case len(valid) > 0:
		sig.State = store.SignatureVerified
		var signers []string
		for _, s := range valid {
			if !slices.Contains(signers, s.Signer) {
				signers = append(signers, s.Signer)
			}
		}
		sig.Signer = strings.Join(signers, ", ")
		sig.Detail = fmt.Sprintf("%d of %d signature(s) verified (%s)", len(valid), len(res.Signatures), valid[0].Source)
	default:
		sig.State = store.SignatureInvalid
		s := res.Signatures[0]
		sig.Detail = fmt.Sprintf("%d signature(s), none verified; %s: %s", len(res.Signatures), s.Source, s.Reason)
	}
	return sig
}

// Record checks digest (Check) and stores the state.
func (c *SignatureChecker) Record(ctx context.Context, image, digest string) (store.ImageSignature, error) {
	sig := c.Check(ctx, image, digest)
	if err := ctx.Err(); err != nil {
		return sig, err // cancelled: the state would only say so
	}
	if err := c.st.SetImageSignature(ctx, sig); err != nil {
		return sig, fmt.Errorf("signatures: %s: %w", digest, err)
	}
	c.o.Logger.Info("image signature checked", "image", image, "digest", digest, "state", sig.State, "signer", sig.Signer, "detail", sig.Detail)
	return sig, nil
}

// Run is the signatures job: it checks the images (uploaded reports and
// rescans) whose digest was never checked or was checked more than
// Recheck ago, at most Batch per run. A digest whose check could not run
// is recorded with the reason and retried after Recheck.
func (c *SignatureChecker) Run(ctx context.Context) error {
	due, err := c.st.SignaturesDue(ctx, c.now().Add(-c.o.Recheck), c.o.Batch)
	if err != nil {
		return err
	}
	done := map[string]bool{} // a digest under several names: checked once a run
	for _, d := range due {
		if done[d.Digest] {
			continue
		}
		if _, err := c.Record(ctx, d.Name, d.Digest); err != nil {
			return err
		}
		done[d.Digest] = true
	}
	return nil
}
