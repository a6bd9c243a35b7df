package signing

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
)

// Media types and annotations of cosign's legacy tag layouts.
const (
	// SimpleSigningMediaType is the layer media type of a .sig image.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// DSSEMediaType is the layer media type of a .att image.
	DSSEMediaType = "application/vnd.dsse.envelope.v1+json"
	// SignatureAnnotation carries the base64 signature of a .sig layer.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// CertificateAnnotation carries a PEM signing certificate (keyless).
	CertificateAnnotation = "dev.sigstore.cosign/certificate"
	// ChainAnnotation carries the PEM certificate chain (keyless).
	ChainAnnotation = "dev.sigstore.cosign/chain"
	// RekorBundleAnnotation carries the Rekor inclusion promise (keyless).
	RekorBundleAnnotation = "dev.sigstore.cosign/bundle"
	// PredicateTypeAnnotation names an attestation layer's predicate type.
	PredicateTypeAnnotation = "predicateType"

	simpleSigningType = "cosign container image signature"
)

// SimpleSigning is cosign's simple-signing payload (the .sig layer blob).
type SimpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// newSimpleSigning builds the payload cosign signs for an image digest.
func newSimpleSigning(d name.Digest, annotations map[string]string) ([]byte, error) {
	var p SimpleSigning
	p.Critical.Identity.DockerReference = d.Context().Name()
	p.Critical.Image.DockerManifestDigest = d.DigestStr()
	p.Critical.Type = simpleSigningType
	if len(annotations) > 0 {
		p.Optional = map[string]any{}
		for k, v := range annotations {
			p.Optional[k] = v
		}
	}
	return json.Marshal(p)
}

// ParseSimpleSigning decodes and checks a simple-signing payload.
func ParseSimpleSigning(b []byte) (*SimpleSigning, error) {
	var p SimpleSigning
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("simple-signing payload: %w", err)
	}
	if p.Critical.Type != simpleSigningType {
		return nil, fmt.Errorf("simple-signing payload: type %q, want %q", p.Critical.Type, simpleSigningType)
	}
	if p.Critical.Image.DockerManifestDigest == "" {
		return nil, errors.New("simple-signing payload: no docker-manifest-digest")
	}
	return &p, nil
}

// annotationsMatch reports whether every wanted annotation is in got.
func annotationsMatch(want map[string]string, got map[string]any) error {
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			return fmt.Errorf("annotation %q missing", k)
		}
		if s, ok := g.(string); !ok || s != v {
			return fmt.Errorf("annotation %q is %v, want %q", k, g, v)
		}
	}
	return nil
}
