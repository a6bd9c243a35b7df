package signing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/verify"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// Where a signature was found.
const (
	SourceSigTag = "sig-tag" // legacy sha256-<hex>.sig tag (cosign v2)
	SourceAttTag = "att-tag" // legacy sha256-<hex>.att tag (cosign v2)
	SourceBundle = "bundle"  // Sigstore bundle OCI referrer (cosign v3)
)

// ErrNoValidSignature is returned (wrapped) when nothing verified.
var ErrNoValidSignature = errors.New("no valid signature")

// Signature is one signature or attestation examined.
type Signature struct {
	// Source is SourceSigTag, SourceAttTag or SourceBundle.
	Source string `json:"source"`
	// Ref is the tag or referrer manifest it came from, with the layer.
	Ref string `json:"ref"`
	// Signer names who signed: "key sha256:..." or the certificate's
	// identity and issuer.
	Signer string `json:"signer,omitempty"`
	// PredicateType of an attestation.
	PredicateType string `json:"predicateType,omitempty"`
	// Annotations of the signed payload (simple-signing optional or the
	// in-toto subject's annotations).
	Annotations map[string]any `json:"annotations,omitempty"`
	// Statement of a verified attestation.
	Statement *Statement `json:"-"`
	// Reason is why it was refused; empty when valid.
	Reason string `json:"reason,omitempty"`
}

// Valid reports whether the signature verified.
func (s *Signature) Valid() bool { return s.Reason == "" }

// Result is the outcome of verifying one image.
type Result struct {
	// Digest is the verified manifest, repo@sha256:...
	Digest     string      `json:"digest"`
	Signatures []Signature `json:"signatures"`
}

// Valid returns the signatures that verified.
func (r *Result) Valid() []Signature {
	var out []Signature
	for _, s := range r.Signatures {
		if s.Valid() {
			out = append(out, s)
		}
	}
	return out
}

// Err is nil when at least one signature verified, else an error wrapping
// ErrNoValidSignature with the reason of each signature.
func (r *Result) Err() error {
	if len(r.Valid()) > 0 {
		return nil
	}
	if len(r.Signatures) == 0 {
		return fmt.Errorf("%s: %w: no signatures found", r.Digest, ErrNoValidSignature)
	}
	var reasons []string
	for _, s := range r.Signatures {
		reasons = append(reasons, s.Ref+": "+s.Reason)
	}
	return fmt.Errorf("%s: %w:\n  %s", r.Digest, ErrNoValidSignature, strings.Join(reasons, "\n  "))
}

// VerifyOptions configure verification.
type VerifyOptions struct {
	Registry Registry
	Trust    Trust
	// Annotations that the signed payload must carry (-a k=v).
	Annotations map[string]string
}

// Verifier verifies images against a fixed trust; build it once and reuse
// it (the admission controller does): keys and trusted roots are parsed
// and verifiers built at construction.
type Verifier struct {
	reg   Registry
	trust *compiledTrust
	ann   map[string]string

	mu      sync.Mutex
	pullers map[string]*remote.Puller // per registry: reused connections and tokens
}

// ropts returns the remote options for reg, reusing one Puller per
// registry so repeated verifications skip the ping and token exchange.
func (v *Verifier) ropts(ctx context.Context, reg name.Registry) []remote.Option {
	opts := v.reg.options(ctx, reg)
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.pullers[reg.RegistryStr()]
	if !ok {
		np, err := remote.NewPuller(v.reg.options(context.Background(), reg)...)
		if err != nil {
			return opts
		}
		if v.pullers == nil {
			v.pullers = map[string]*remote.Puller{}
		}
		p = np
		v.pullers[reg.RegistryStr()] = p
	}
	return append(opts, remote.Reuse(p))
}

// NewVerifier compiles opts.
func NewVerifier(opts VerifyOptions) (*Verifier, error) {
	ct, err := opts.Trust.compile()
	if err != nil {
		return nil, err
	}
	return &Verifier{reg: opts.Registry, trust: ct, ann: opts.Annotations}, nil
}

// NewSignatureLister returns a Verifier that trusts nothing: it finds and
// reads every signature of an image as Verify does, and none verifies
// (each carries the reason). For telling signed images from unsigned ones
// where no key or identity is configured.
func NewSignatureLister(reg Registry) *Verifier {
	return &Verifier{reg: reg, trust: &compiledTrust{}}
}

// Verify checks every signature of ref (legacy .sig tag and bundle
// referrers). It returns an error only when the image cannot be reached;
// check Result.Err for the verdict.
func (v *Verifier) Verify(ctx context.Context, ref string) (*Result, error) {
	d, err := v.reg.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return v.VerifyDigest(ctx, d)
}

// VerifyDigest is Verify for a resolved digest.
func (v *Verifier) VerifyDigest(ctx context.Context, d name.Digest) (*Result, error) {
	res := &Result{Digest: d.String()}
	legacy, err := v.legacyLayers(ctx, d, ".sig")
	if err != nil {
		return nil, err
	}
	for _, l := range legacy {
		res.Signatures = append(res.Signatures, v.checkSimpleSigning(d, l))
	}
	bundles, err := v.bundles(ctx, d, func(pt string) bool { return pt == "" || pt == SignPredicateType })
	if err != nil {
		return nil, err
	}
	for _, b := range bundles {
		s := v.checkBundle(d, b)
		if s.Valid() && s.PredicateType != SignPredicateType {
			continue // an attestation: not a signature
		}
		res.Signatures = append(res.Signatures, s)
	}
	return res, nil
}

// VerifyAttestations checks the attestations of ref whose predicate type
// is predicateType (every type when empty): .att tag layers and bundle
// referrers.
func (v *Verifier) VerifyAttestations(ctx context.Context, ref, predicateType string) (*Result, error) {
	d, err := v.reg.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return v.VerifyAttestationsDigest(ctx, d, predicateType)
}

// VerifyAttestationsDigest is VerifyAttestations for a resolved digest.
func (v *Verifier) VerifyAttestationsDigest(ctx context.Context, d name.Digest, predicateType string) (*Result, error) {
	res := &Result{Digest: d.String()}
	want := func(pt string) bool { return predicateType == "" || pt == "" || pt == predicateType }
	legacy, err := v.legacyLayers(ctx, d, ".att")
	if err != nil {
		return nil, err
	}
	for _, l := range legacy {
		if !want(l.annotations[PredicateTypeAnnotation]) {
			continue
		}
		s := v.checkEnvelope(d, l)
		if s.Valid() && predicateType != "" && s.PredicateType != predicateType {
			continue
		}
		res.Signatures = append(res.Signatures, s)
	}
	bundles, err := v.bundles(ctx, d, func(pt string) bool { return pt != SignPredicateType && want(pt) })
	if err != nil {
		return nil, err
	}
	for _, b := range bundles {
		s := v.checkBundle(d, b)
		if s.Valid() && (s.PredicateType == SignPredicateType || predicateType != "" && s.PredicateType != predicateType) {
			continue
		}
		res.Signatures = append(res.Signatures, s)
	}
	return res, nil
}

// layer is one layer of a legacy signature image, or one bundle blob.
type layer struct {
	ref         string
	data        []byte
	annotations map[string]string
	err         error // the blob could not be read
}

// legacyLayers reads the layers of the sha256-<hex><suffix> tag; none when
// the tag does not exist.
func (v *Verifier) legacyLayers(ctx context.Context, d name.Digest, suffix string) ([]layer, error) {
	tag := legacyTag(d, suffix)
	ro := v.ropts(ctx, tag.Registry)
	desc, err := remote.Get(tag, ro...)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", tag, err)
	}
	if len(desc.Manifest) > MaxManifestSize {
		return nil, fmt.Errorf("%s: manifest larger than %d bytes", tag, MaxManifestSize)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", tag, err)
	}
	if len(m.Layers) > MaxSignatures {
		return nil, fmt.Errorf("%s: %d layers, more than %d", tag, len(m.Layers), MaxSignatures)
	}
	out := make([]layer, 0, len(m.Layers))
	for _, ld := range m.Layers {
		l := layer{ref: tag.String() + " layer " + ld.Digest.String(), annotations: ld.Annotations}
		l.data, l.err = v.blob(ctx, d.Context(), ld)
		out = append(out, l)
	}
	return out, nil
}

// blob reads a small blob and checks its digest.
func (v *Verifier) blob(ctx context.Context, repo name.Repository, ld v1.Descriptor) ([]byte, error) {
	if ld.Size > MaxBlobSize {
		return nil, fmt.Errorf("blob %s: %d bytes, more than %d", ld.Digest, ld.Size, MaxBlobSize)
	}
	rl, err := remote.Layer(repo.Digest(ld.Digest.String()), v.ropts(ctx, repo.Registry)...)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", ld.Digest, err)
	}
	rc, err := rl.Compressed()
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("blob %s: missing from %s", ld.Digest, repo)
		}
		return nil, fmt.Errorf("blob %s: %w", ld.Digest, err)
	}
	b, err := readLimited(rc, MaxBlobSize, "blob "+ld.Digest.String())
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("blob %s: missing from %s", ld.Digest, repo)
		}
		return nil, err
	}
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	if h != ld.Digest {
		return nil, fmt.Errorf("blob %s: content has digest %s", ld.Digest, h)
	}
	return b, nil
}

// bundles lists d's referrers that are Sigstore bundles (the predicate type
// annotation passes want) and reads each bundle blob.
func (v *Verifier) bundles(ctx context.Context, d name.Digest, want func(predicateType string) bool) ([]layer, error) {
	ro := v.ropts(ctx, d.Registry)
	idx, err := remote.Referrers(d, ro...)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("referrers of %s: %w", d, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("referrers of %s: %w", d, err)
	}
	var out []layer
	for _, desc := range im.Manifests {
		if !strings.HasPrefix(desc.ArtifactType, "application/vnd.dev.sigstore.bundle") {
			continue
		}
		if !want(desc.Annotations["dev.sigstore.bundle.predicateType"]) {
			continue
		}
		if len(out) == MaxSignatures {
			return nil, fmt.Errorf("referrers of %s: more than %d bundles", d, MaxSignatures)
		}
		mref := d.Context().Digest(desc.Digest.String())
		l := layer{ref: mref.String()}
		l.data, l.err = v.bundleBlob(ctx, mref)
		out = append(out, l)
	}
	return out, nil
}

func (v *Verifier) bundleBlob(ctx context.Context, mref name.Digest) ([]byte, error) {
	md, err := remote.Get(mref, v.ropts(ctx, mref.Registry)...)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("referrer manifest missing from %s", mref.Context())
		}
		return nil, err
	}
	if len(md.Manifest) > MaxManifestSize {
		return nil, fmt.Errorf("manifest larger than %d bytes", MaxManifestSize)
	}
	m, err := v1.ParseManifest(bytes.NewReader(md.Manifest))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	for _, ld := range m.Layers {
		if strings.HasPrefix(string(ld.MediaType), "application/vnd.dev.sigstore.bundle") {
			return v.blob(ctx, mref.Context(), ld)
		}
	}
	return nil, errors.New("no bundle layer")
}

// checkSimpleSigning verifies one .sig layer.
func (v *Verifier) checkSimpleSigning(d name.Digest, l layer) Signature {
	s := Signature{Source: SourceSigTag, Ref: l.ref}
	if l.err != nil {
		s.Reason = l.err.Error()
		return s
	}
	sigB64, ok := l.annotations[SignatureAnnotation]
	if !ok {
		s.Reason = "layer has no " + SignatureAnnotation + " annotation"
		return s
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		s.Reason = "signature annotation is not base64: " + err.Error()
		return s
	}
	signer := ""
	for _, k := range v.trust.keys {
		if k.sig.VerifySignature(bytes.NewReader(sig), bytes.NewReader(l.data)) == nil {
			signer = "key " + k.id
			break
		}
	}
	if signer == "" {
		switch {
		case len(v.trust.keys) > 0:
			s.Reason = "signature does not verify with the given key(s)"
		case l.annotations[CertificateAnnotation] != "":
			s.Reason = "keyless signature in the legacy layout: Ward verifies keyless signatures in Sigstore bundles only (sign with cosign v3 or --new-bundle-format)"
		default:
			s.Reason = "signed with a key, but only keyless identities are trusted"
		}
		return s
	}
	p, err := ParseSimpleSigning(l.data)
	if err != nil {
		s.Reason = err.Error()
		return s
	}
	if p.Critical.Image.DockerManifestDigest != d.DigestStr() {
		s.Reason = fmt.Sprintf("signature is for digest %s, not %s", p.Critical.Image.DockerManifestDigest, d.DigestStr())
		return s
	}
	if err := annotationsMatch(v.ann, p.Optional); err != nil {
		s.Reason = err.Error()
		return s
	}
	s.Signer, s.Annotations = signer, p.Optional
	return s
}

// checkEnvelope verifies one .att layer (a DSSE envelope; keys only).
func (v *Verifier) checkEnvelope(d name.Digest, l layer) Signature {
	s := Signature{Source: SourceAttTag, Ref: l.ref, PredicateType: l.annotations[PredicateTypeAnnotation]}
	if l.err != nil {
		s.Reason = l.err.Error()
		return s
	}
	if _, err := ParseEnvelope(l.data); err != nil {
		s.Reason = err.Error()
		return s
	}
	var payload []byte
	signer := ""
	for _, k := range v.trust.keys {
		dv := sigdsse.WrapVerifier(k.sig, sigdsse.WithDecodedPayload(&payload), sigdsse.WithExpectedPayloadType(InTotoPayloadType))
		if dv.VerifySignature(bytes.NewReader(l.data), nil) == nil {
			signer = "key " + k.id
			break
		}
	}
	if signer == "" {
		if len(v.trust.keys) == 0 {
			s.Reason = "keyless attestation in the legacy layout: Ward verifies keyless attestations in Sigstore bundles only"
		} else {
			s.Reason = "envelope signature does not verify with the given key(s)"
		}
		return s
	}
	return v.checkStatement(d, s, payload, signer)
}

func (v *Verifier) checkStatement(d name.Digest, s Signature, payload []byte, signer string) Signature {
	st, err := ParseStatement(payload)
	if err != nil {
		s.Reason = err.Error()
		return s
	}
	if !st.coversDigest(d.DigestStr()) {
		s.Reason = fmt.Sprintf("statement subject does not name %s", d.DigestStr())
		return s
	}
	var ann map[string]any
	for _, sub := range st.Subject {
		if sub.Annotations != nil {
			ann = sub.Annotations
		}
	}
	if st.PredicateType == SignPredicateType {
		if err := annotationsMatch(v.ann, ann); err != nil {
			s.Reason = err.Error()
			return s
		}
	}
	s.Signer, s.PredicateType, s.Statement, s.Annotations = signer, st.PredicateType, st, ann
	return s
}

// checkBundle verifies one Sigstore bundle referrer.
func (v *Verifier) checkBundle(d name.Digest, l layer) Signature {
	s := Signature{Source: SourceBundle, Ref: l.ref}
	if l.err != nil {
		s.Reason = l.err.Error()
		return s
	}
	b, err := ParseBundle(l.data)
	if err != nil {
		s.Reason = err.Error()
		return s
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		s.Reason = "bundle holds a message signature, not a DSSE envelope (image bundles are DSSE)"
		return s
	}
	alg, hexDigest, _ := strings.Cut(d.DigestStr(), ":")
	digest, err := hex.DecodeString(hexDigest)
	if err != nil {
		s.Reason = err.Error()
		return s
	}
	artifact := verify.WithArtifactDigest(alg, digest)
	var signer string
	vc, err := b.VerificationContent()
	if err != nil {
		s.Reason = "bundle verification material: " + err.Error()
		return s
	}
	if vc.PublicKey() != nil {
		if len(v.trust.keys) == 0 {
			s.Reason = "signed with a key, but only keyless identities are trusted"
			return s
		}
		var last error
		for _, k := range v.trust.keys {
			if _, err := k.bundle.Verify(b, verify.NewPolicy(artifact, verify.WithKey())); err != nil {
				last = err
				continue
			}
			signer = "key " + k.id
			break
		}
		if signer == "" {
			s.Reason = "bundle does not verify with the given key(s): " + last.Error()
			return s
		}
	} else {
		if v.trust.keyless == nil {
			s.Reason = "keyless bundle, but no certificate identity (and trusted root) was given"
			return s
		}
		r, err := v.trust.keyless.Verify(b, verify.NewPolicy(artifact, v.trust.policies...))
		if err != nil {
			s.Reason = "keyless bundle: " + err.Error()
			return s
		}
		signer = "identity " + r.Signature.Certificate.SubjectAlternativeName + " (issuer " + r.Signature.Certificate.Issuer + ")"
	}
	return v.checkStatement(d, s, env.GetPayload(), signer)
}
