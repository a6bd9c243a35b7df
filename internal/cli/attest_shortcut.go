package cli

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/signing"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// attestShortcut is `ward sbom --attest` and `ward image --attest-vuln`:
// the scan's own output, signed as an in-toto attestation about the
// manifest that was scanned and attached to it in the registry.
type attestShortcut struct {
	enabled bool
	key     string
	layout  string

	signer crypto.Signer
	lay    signing.Layout
}

func (a *attestShortcut) register(fl *pflag.FlagSet, flag, usage string) {
	fl.BoolVar(&a.enabled, flag, false, usage)
	fl.StringVar(&a.key, "key", "", "cosign private key file for --"+flag+" (password from WARD_PASSWORD/COSIGN_PASSWORD or the terminal)")
	fl.StringVar(&a.layout, "attest-layout", "both", "attestation layouts for --"+flag+": both, legacy (.att tag) or bundle (OCI referrer)")
}

// prepare checks the flags and loads the key before anything is scanned,
// so a wrong key or password fails at once.
func (a *attestShortcut) prepare(g *Globals, flag, target string) error {
	if !a.enabled {
		if a.key != "" {
			return usagef("--key is used only with --%s", flag)
		}
		return nil
	}
	if !isRegistryRef(target) {
		return usagef("--%s needs an image in a registry (the attestation is attached there), not %s", flag, target)
	}
	lay, err := signing.ParseLayout(a.layout)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--attest-layout: %w", err)}
	}
	a.lay = lay
	k, err := g.loadSigningKey(a.key)
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return err
		}
		return &ExitError{Code: ExitScanError, Err: err}
	}
	a.signer = k
	return nil
}

// isRegistryRef reports whether target names an image in a registry rather
// than a local file, directory or prefixed archive.
func isRegistryRef(target string) bool {
	for _, p := range []string{"docker-archive:", "oci-archive:", "oci:", "dir:", "docker:", "podman:", "containers-storage:", "containerd:"} {
		if strings.HasPrefix(target, p) {
			return false
		}
	}
	target = strings.TrimPrefix(target, "registry:")
	if _, err := os.Lstat(target); err == nil {
		return false
	}
	_, err := name.ParseReference(target)
	return err == nil
}

// subjectRef is repository@digest of target: the manifest that was
// scanned (for a multi-platform index, the platform's manifest).
func subjectRef(target, digest string) (string, error) {
	if digest == "" {
		return "", fmt.Errorf("%s: the scan recorded no manifest digest to attest", target)
	}
	ref, err := name.ParseReference(strings.TrimPrefix(target, "registry:"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", target, err)
	}
	return ref.Context().Digest(digest).String(), nil
}

// attest signs predicate and attaches it to target@digest.
func (a *attestShortcut) attest(ctx context.Context, g *Globals, insecure []string, target, digest, typ string, predicate []byte) error {
	if len(predicate) > signing.MaxBlobSize/2 {
		return fmt.Errorf("attest: the %s predicate is %d bytes, more than the %d an attestation may carry", typ, len(predicate), signing.MaxBlobSize/2)
	}
	ref, err := subjectRef(target, digest)
	if err != nil {
		return fmt.Errorf("attest: %w", err)
	}
	pt, err := signing.PredicateType(typ)
	if err != nil {
		return fmt.Errorf("attest: %w", err)
	}
	res, err := signing.Attest(ctx, ref, signing.AttestOptions{
		SignOptions:   signing.SignOptions{Registry: signing.Registry{Insecure: insecure}, Key: a.signer, Layout: a.lay, Now: g.Now},
		PredicateType: pt, Predicate: predicate,
	})
	if err != nil {
		return fmt.Errorf("attest %s: %w", ref, err)
	}
	if !g.Quiet {
		if res.SignatureTag != "" {
			fmt.Fprintf(g.Stderr, "%s attestation pushed to %s\n", typ, res.SignatureTag)
		}
		if res.Referrer != "" {
			fmt.Fprintf(g.Stderr, "%s attestation attached as referrer %s\n", typ, res.Referrer)
		}
	}
	return nil
}

// vulnPredicate is cosign's vulnerability predicate
// (https://cosign.sigstore.dev/attestation/vuln/v1) with Ward's JSON report
// as scanner.result, restricted to its vulnerability findings; policies read
// predicate.scanner.result.findings.
func vulnPredicate(r *report.Report, version string, started, finished time.Time) ([]byte, error) {
	if !slices.Contains(r.Scanners, "vuln") {
		return nil, errors.New("the vulnerability scanner did not run (see scanners_not_run): nothing to attest")
	}
	w, err := report.New("json", report.Options{})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	lw := &limitedBuffer{buf: &buf, max: 4 * signing.MaxBlobSize}
	if err := w.Write(lw, r); err != nil {
		return nil, fmt.Errorf("vulnerability report: %w", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("vulnerability report: %w", err)
	}
	var all []json.RawMessage
	if err := json.Unmarshal(doc["findings"], &all); err != nil {
		return nil, fmt.Errorf("vulnerability report findings: %w", err)
	}
	vulns := make([]json.RawMessage, 0, len(all))
	for _, f := range all {
		var k struct {
			Kind finding.Kind `json:"kind"`
		}
		if json.Unmarshal(f, &k) == nil && k.Kind == finding.KindVulnerability {
			vulns = append(vulns, f)
		}
	}
	fb, err := json.Marshal(vulns)
	if err != nil {
		return nil, err
	}
	doc["findings"] = fb
	delete(doc, "summary") // counted over every kind; the findings are the record
	pred := map[string]any{
		"invocation": map[string]any{"uri": "https://github.com/wardsec/ward", "parameters": nil, "event_id": "", "builder.id": ""},
		"scanner": map[string]any{
			"uri":     "https://github.com/wardsec/ward",
			"version": version,
			"result":  doc,
		},
		"metadata": map[string]any{
			"scanStartedOn":  started.UTC().Format(time.RFC3339),
			"scanFinishedOn": finished.UTC().Format(time.RFC3339),
		},
	}
	return json.Marshal(pred)
}

// limitedBuffer fails writes past max bytes (a report too large to attest
// is refused before it is held whole in memory).
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > l.max {
		return 0, fmt.Errorf("larger than %d bytes", l.max)
	}
	return l.buf.Write(p)
}
