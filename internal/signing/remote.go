package signing

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Limits on what is read from a registry.
const (
	// MaxManifestSize bounds a signature, attestation or referrer manifest.
	MaxManifestSize = 4 << 20
	// MaxBlobSize bounds one signature payload, envelope or bundle blob.
	MaxBlobSize = 16 << 20
	// MaxSignatures bounds the signatures/attestations examined per image.
	MaxSignatures = 256
)

// Registry says how registries are reached: the same way as `ward image`
// (Docker config credentials and helpers, plain HTTP for listed hosts).
type Registry struct {
	// Keychain resolves credentials; default authn.DefaultKeychain.
	Keychain authn.Keychain
	// Insecure lists registry host:port reached over plain HTTP or
	// unverified TLS.
	Insecure []string
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

// parse parses an image reference, insecure when its registry is listed.
func (r *Registry) parse(ref string) (name.Reference, error) {
	n, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	if slices.Contains(r.Insecure, n.Context().RegistryStr()) {
		if n, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, fmt.Errorf("image reference %q: %w", ref, err)
		}
	}
	return n, nil
}

func (r *Registry) options(ctx context.Context, reg name.Registry) []remote.Option {
	kc := r.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	switch {
	case r.Transport != nil:
		opts = append(opts, remote.WithTransport(r.Transport))
	case slices.Contains(r.Insecure, reg.RegistryStr()):
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // user asked for --insecure-registry
		opts = append(opts, remote.WithTransport(tr))
	}
	return opts
}

// Resolve resolves an image reference to its manifest digest (a tag is
// looked up with a HEAD request; a digest reference is checked to exist).
func (r *Registry) Resolve(ctx context.Context, ref string) (name.Digest, error) {
	n, err := r.parse(ref)
	if err != nil {
		return name.Digest{}, err
	}
	desc, err := remote.Head(n, r.options(ctx, n.Context().Registry)...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("%s: %w", ref, err)
	}
	if d, ok := n.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return name.Digest{}, fmt.Errorf("%s: registry answered digest %s", ref, desc.Digest)
	}
	return n.Context().Digest(desc.Digest.String()), nil
}

// descriptor returns the image's manifest descriptor (media type, size).
func (r *Registry) descriptor(ctx context.Context, d name.Digest) (*v1.Descriptor, error) {
	desc, err := remote.Head(d, r.options(ctx, d.Context().Registry)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	return desc, nil
}

// isNotFound reports a registry 404 (manifest or blob unknown).
func isNotFound(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode == http.StatusNotFound
	}
	return false
}

// readLimited reads at most max bytes of rc and closes it.
func readLimited(rc io.ReadCloser, max int64, what string) ([]byte, error) {
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", what, max)
	}
	return b, nil
}
