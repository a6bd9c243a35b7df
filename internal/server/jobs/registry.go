package jobs

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/wardsec/ward/internal/scan"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// DefaultMaxTags bounds the tags rescanned per repository.
const DefaultMaxTags = 10

// RegistryOptions configures the registry rescan job.
type RegistryOptions struct {
	// Images are references rescanned as they are ("registry/app:1.2").
	Images []string
	// Repositories are rescanned tag by tag ("registry/app"): the
	// MaxTags last tags in name order (default DefaultMaxTags).
	Repositories []string
	MaxTags      int
	// InsecureRegistries are "host:port" reached over plain HTTP or
	// unverified TLS.
	InsecureRegistries []string
	// CacheDir holds the vulnerability database and layer cache.
	CacheDir string
	// Keychain resolves credentials (default: the Docker config file).
	Keychain authn.Keychain
	// Signatures, when set, checks each stored image's signatures at once
	// (the signatures job covers uploaded reports).
	Signatures *SignatureChecker
	Version    string
	Logger     *slog.Logger
}

// Registry returns the registry rescan job's function: every image is
// scanned the way `ward image --list-all-pkgs` does (vulnerabilities with
// the server's database, secrets, image misconfigurations) and stored as a
// scan of the image with its inventory, so that later database updates
// re-match it; with o.Signatures the image's signature state is recorded
// too. A scan with errors (no database, a layer that could not be
// read) is not stored, so that what it could not see is not marked fixed.
func Registry(o RegistryOptions, ingest Ingest) func(ctx context.Context) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.MaxTags <= 0 {
		o.MaxTags = DefaultMaxTags
	}
	return func(ctx context.Context) error {
		refs := append([]string(nil), o.Images...)
		var errs []error
		for _, repo := range o.Repositories {
			tags, err := listTags(ctx, repo, o)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, t := range tags {
				refs = append(refs, repo+":"+t)
			}
		}
		stored := 0
		for _, ref := range refs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := scanImage(ctx, ref, o, ingest, log); err != nil {
				errs = append(errs, err)
				continue
			}
			stored++
		}
		if len(errs) > 0 {
			return fmt.Errorf("registry: %d of %d images stored: %w", stored, len(refs), errors.Join(errs...))
		}
		return nil
	}
}

func (o *RegistryOptions) remoteOptions(ctx context.Context, reg string) []remote.Option {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ro := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if slices.Contains(o.InsecureRegistries, reg) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // configured as an insecure registry
		ro = append(ro, remote.WithTransport(tr))
	}
	return ro
}

// listTags returns the repository's last MaxTags image tags in name order
// (signature and referrer tags left out).
func listTags(ctx context.Context, repo string, o RegistryOptions) ([]string, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	if slices.Contains(o.InsecureRegistries, r.RegistryStr()) {
		if r, err = name.NewRepository(repo, name.Insecure); err != nil {
			return nil, fmt.Errorf("repository %q: %w", repo, err)
		}
	}
	tags, err := remote.List(r, o.remoteOptions(ctx, r.RegistryStr())...)
	if err != nil {
		return nil, fmt.Errorf("repository %s: listing tags: %w", repo, err)
	}
	tags = slices.DeleteFunc(tags, isArtifactTag)
	sort.Strings(tags)
	if len(tags) > o.MaxTags {
		tags = tags[len(tags)-o.MaxTags:]
	}
	return tags, nil
}

// isArtifactTag reports a tag that names no image of its own: cosign's
// signature, attestation and SBOM tags (sha256-<hex>.sig, .att, .sbom)
// and the OCI referrers fallback tag (sha256-<hex>) of the signed image.
func isArtifactTag(tag string) bool {
	rest, ok := strings.CutPrefix(tag, "sha256-")
	if !ok || len(rest) < 64 {
		return false
	}
	for _, r := range rest[:64] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	switch rest[64:] {
	case "", ".sig", ".att", ".sbom":
		return true
	}
	return false
}

func scanImage(ctx context.Context, ref string, o RegistryOptions, ingest Ingest, log *slog.Logger) error {
	res, err := scan.Run(ctx, ref, scan.Options{CacheDir: o.CacheDir, InsecureRegistries: o.InsecureRegistries,
		Inventory: true, Logger: log, Now: time.Now})
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("image %s: %d errors (first: %s); scan not stored so that its findings are not marked fixed", ref, len(res.Errors), res.Errors[0].Message)
	}
	rep := &report.Report{
		SchemaVersion:  report.SchemaVersion,
		Tool:           report.Tool{Name: "ward", Version: o.Version, URI: "https://github.com/wardsec/ward"},
		Artifact:       res.Artifact,
		Scanners:       res.Scanners,
		ScannersNotRun: res.NotRun,
		Findings:       res.Findings,
		Errors:         []finding.ScanError{},
		Warnings:       res.Warnings,
	}
	if rep.Findings == nil {
		rep.Findings = []finding.Finding{}
	}
	if res.Inventory != nil {
		rep.OS = res.Inventory.OS
		rep.Packages = res.Inventory.Packages
		if rep.Packages == nil {
			rep.Packages = []sbom.Package{}
		}
	}
	rep.Finalize()
	var buf bytes.Buffer
	w, err := report.New("json", report.Options{})
	if err != nil {
		return err
	}
	if err := w.Write(&buf, rep); err != nil {
		return fmt.Errorf("image %s: report: %w", ref, err)
	}
	r, err := ingest(ctx, fmt.Sprintf("registry:%s:%s:%d", ref, res.Artifact.Digest, time.Now().UnixNano()), rep, buf.Bytes())
	if err != nil {
		return fmt.Errorf("image %s: store: %w", ref, err)
	}
	log.Info("image rescanned", "image", ref, "digest", res.Artifact.Digest, "scan_id", r.ScanID, "findings", r.Findings, "new", r.New, "fixed", r.Fixed)
	if o.Signatures != nil && res.Artifact.Digest != "" {
		if _, err := o.Signatures.Record(ctx, ref, res.Artifact.Digest); err != nil {
			return fmt.Errorf("image %s: %w", ref, err)
		}
	}
	return nil
}
