package signing

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// Layout selects where a signature is written.
type Layout int

// Layouts; LayoutBoth is the default of `ward sign`.
const (
	LayoutBoth   Layout = iota // legacy tag and bundle referrer
	LayoutLegacy               // sha256-<hex>.sig tag only (cosign v2)
	LayoutBundle               // Sigstore bundle referrer only (cosign v3)
)

// ParseLayout parses "both", "legacy" or "bundle".
func ParseLayout(s string) (Layout, error) {
	switch s {
	case "", "both":
		return LayoutBoth, nil
	case "legacy":
		return LayoutLegacy, nil
	case "bundle":
		return LayoutBundle, nil
	}
	return 0, fmt.Errorf("layout %q: want both, legacy or bundle", s)
}

// SignOptions configure Sign and Attest.
type SignOptions struct {
	Registry Registry
	// Key signs.
	Key crypto.Signer
	// Annotations are added to the signed payload (--annotations k=v).
	Annotations map[string]string
	// Layout selects the layouts written.
	Layout Layout
	// Now stamps the referrer manifest (default time.Now).
	Now func() time.Time
}

// SignResult says what Sign wrote.
type SignResult struct {
	// Digest is the signed image manifest, repo@sha256:...
	Digest name.Digest
	// SignatureTag is the legacy .sig tag written, when any.
	SignatureTag string
	// Referrer is the bundle referrer manifest written, when any.
	Referrer string
}

// Sign signs the manifest digest of ref (a tag is resolved first) and
// writes the layouts cosign verifies.
func Sign(ctx context.Context, ref string, opts SignOptions) (*SignResult, error) {
	if opts.Key == nil {
		return nil, errors.New("sign: no key")
	}
	d, err := opts.Registry.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	sv, err := signature.LoadSignerVerifier(opts.Key, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	res := &SignResult{Digest: d}
	if opts.Layout != LayoutBundle {
		payload, err := newSimpleSigning(d, opts.Annotations)
		if err != nil {
			return nil, err
		}
		sig, err := sv.SignMessage(bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		layer := static.NewLayer(payload, SimpleSigningMediaType)
		ann := map[string]string{SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)}
		tag, err := appendToTag(ctx, &opts.Registry, d, ".sig", layer, ann)
		if err != nil {
			return nil, err
		}
		res.SignatureTag = tag
	}
	if opts.Layout != LayoutLegacy {
		stmt, err := newStatement(StatementV1, d, SignPredicateType, []byte("{}"), opts.Annotations)
		if err != nil {
			return nil, err
		}
		b, err := keyBundle(sv, stmt)
		if err != nil {
			return nil, err
		}
		r, err := writeReferrer(ctx, &opts.Registry, d, b, SignPredicateType, now(opts.Now))
		if err != nil {
			return nil, err
		}
		res.Referrer = r
	}
	return res, nil
}

// AttestOptions configure Attest.
type AttestOptions struct {
	SignOptions
	// PredicateType is a type URI (see PredicateType).
	PredicateType string
	// Predicate is the predicate JSON document.
	Predicate []byte
}

// Attest wraps predicate in an in-toto statement about the image digest,
// signs it in a DSSE envelope and attaches it as cosign does: a Sigstore
// bundle referrer (cosign v3) and/or a sha256-<hex>.att tag layer (v2).
func Attest(ctx context.Context, ref string, opts AttestOptions) (*SignResult, error) {
	if opts.Key == nil {
		return nil, errors.New("attest: no key")
	}
	if opts.PredicateType == "" {
		return nil, errors.New("attest: no predicate type")
	}
	d, err := opts.Registry.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	stmt, err := newStatement(StatementV01, d, opts.PredicateType, opts.Predicate, nil)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	sv, err := signature.LoadSignerVerifier(opts.Key, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	res := &SignResult{Digest: d}
	if opts.Layout != LayoutBundle {
		env, err := sigdsse.WrapSigner(sv, InTotoPayloadType).SignMessage(bytes.NewReader(stmt))
		if err != nil {
			return nil, fmt.Errorf("attest: %w", err)
		}
		layer := static.NewLayer(env, DSSEMediaType)
		tag, err := appendToTag(ctx, &opts.Registry, d, ".att", layer, map[string]string{SignatureAnnotation: "", PredicateTypeAnnotation: opts.PredicateType})
		if err != nil {
			return nil, err
		}
		res.SignatureTag = tag
	}
	if opts.Layout != LayoutLegacy {
		b, err := keyBundle(sv, stmt)
		if err != nil {
			return nil, err
		}
		r, err := writeReferrer(ctx, &opts.Registry, d, b, opts.PredicateType, now(opts.Now))
		if err != nil {
			return nil, err
		}
		res.Referrer = r
	}
	return res, nil
}

func now(f func() time.Time) time.Time {
	if f != nil {
		return f()
	}
	return time.Now()
}

// legacyTag is cosign's tag for an image digest: sha256-<hex><suffix>.
func legacyTag(d name.Digest, suffix string) name.Tag {
	return d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + suffix)
}

// appendToTag adds a layer to the image at the legacy tag (creating it),
// as cosign does: existing signatures are kept.
func appendToTag(ctx context.Context, r *Registry, d name.Digest, suffix string, layer v1.Layer, ann map[string]string) (string, error) {
	tag := legacyTag(d, suffix)
	ro := r.options(ctx, tag.Registry)
	var base v1.Image
	img, err := remote.Image(tag, ro...)
	switch {
	case err == nil:
		m, merr := img.Manifest()
		if merr != nil {
			return "", fmt.Errorf("%s: %w", tag, merr)
		}
		if len(m.Layers) >= MaxSignatures {
			return "", fmt.Errorf("%s: already holds %d signatures", tag, len(m.Layers))
		}
		base = img
	case isNotFound(err):
		base = mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	default:
		return "", fmt.Errorf("%s: %w", tag, err)
	}
	img, err = mutate.Append(base, mutate.Addendum{Layer: layer, Annotations: ann})
	if err != nil {
		return "", fmt.Errorf("%s: %w", tag, err)
	}
	if err := remote.Write(tag, img, ro...); err != nil {
		return "", fmt.Errorf("push %s: %w", tag, err)
	}
	return tag.String(), nil
}

// bundleMediaType is the media type of a v0.3 Sigstore bundle.
const bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// keyBundle signs stmt in a DSSE envelope and wraps it in a v0.3 bundle
// whose verification material is the public key hint (no tlog entry:
// offline, --tlog-upload=false).
func keyBundle(sv signature.SignerVerifier, stmt []byte) ([]byte, error) {
	envJSON, err := sigdsse.WrapSigner(sv, InTotoPayloadType).SignMessage(bytes.NewReader(stmt))
	if err != nil {
		return nil, fmt.Errorf("sign envelope: %w", err)
	}
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(envJSON, &env); err != nil || len(env.Signatures) != 1 {
		return nil, fmt.Errorf("sign envelope: unexpected envelope: %v", err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, err
	}
	pb := &protobundle.Bundle{
		MediaType: bundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: keyHint(pub)}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     env.Payload,
			PayloadType: env.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: env.Signatures[0].Sig, Keyid: env.Signatures[0].KeyID}},
		}},
	}
	return protojson.Marshal(pb)
}

// emptyConfig is the OCI empty descriptor's content.
var emptyConfig = []byte("{}")

// writeReferrer attaches a bundle to d as an OCI 1.1 referrer, the way
// cosign v3 does; go-containerregistry maintains the referrers fallback tag
// (sha256-<hex>) when the registry has no referrers API.
func writeReferrer(ctx context.Context, r *Registry, d name.Digest, bundle []byte, predicateType string, at time.Time) (string, error) {
	ro := r.options(ctx, d.Registry)
	subject, err := r.descriptor(ctx, d)
	if err != nil {
		return "", err
	}
	layer := static.NewLayer(bundle, bundleMediaType)
	cfg := static.NewLayer(emptyConfig, "application/vnd.oci.empty.v1+json")
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(d.Context(), l, ro...); err != nil {
			return "", fmt.Errorf("push bundle blob to %s: %w", d.Context(), err)
		}
	}
	ld, _ := layer.Digest()
	cd, _ := cfg.Digest()
	m := referrerManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  bundleMediaType,
		Config:        v1.Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: cd, Size: int64(len(emptyConfig))},
		Layers:        []v1.Descriptor{{MediaType: bundleMediaType, Digest: ld, Size: int64(len(bundle))}},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			"org.opencontainers.image.created":  at.UTC().Format(time.RFC3339),
			"dev.sigstore.bundle.content":       "dsse-envelope",
			"dev.sigstore.bundle.predicateType": predicateType,
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	target := d.Context().Digest(h.String())
	if err := remote.Put(target, rawManifest{raw: raw, mt: types.OCIManifestSchema1}, ro...); err != nil {
		return "", fmt.Errorf("push referrer %s: %w", target, err)
	}
	return target.String(), nil
}

// referrerManifest is an OCI image manifest with artifactType.
type referrerManifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }
