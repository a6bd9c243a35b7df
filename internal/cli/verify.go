package cli

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/signing"
)

// trustFlags select who a signature must come from.
type trustFlags struct {
	keys           []string
	identity       string
	identityRegexp string
	issuer         string
	issuerRegexp   string
	trustedRoot    string
	ignoreSCT      bool
	annotations    []string
}

func (t *trustFlags) add(fl *pflag.FlagSet) {
	fl.StringSliceVar(&t.keys, "key", nil, "public key file (PEM) a signature must verify with (repeatable: any one)")
	fl.StringVar(&t.identity, "certificate-identity", "", "keyless: the signing certificate's subject alternative name")
	fl.StringVar(&t.identityRegexp, "certificate-identity-regexp", "", "keyless: regular expression the subject alternative name must match")
	fl.StringVar(&t.issuer, "certificate-oidc-issuer", "", "keyless: the certificate's OIDC issuer")
	fl.StringVar(&t.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: regular expression the OIDC issuer must match")
	fl.StringVar(&t.trustedRoot, "trusted-root", "", "keyless: Sigstore trusted_root.json (Fulcio CAs, Rekor and CT log keys), checked offline")
	fl.BoolVar(&t.ignoreSCT, "insecure-ignore-sct", false, "keyless: do not require a certificate transparency timestamp in the certificate")
}

func (t *trustFlags) trust() (signing.Trust, error) {
	var tr signing.Trust
	for _, k := range t.keys {
		b, err := readSmallFile(k, signing.MaxKeyFileSize)
		if err != nil {
			return tr, err
		}
		pub, err := signing.ParsePublicKey(b)
		if err != nil {
			return tr, fmt.Errorf("%s: %w", k, err)
		}
		tr.Keys = append(tr.Keys, crypto.PublicKey(pub))
	}
	keyless := t.identity != "" || t.identityRegexp != "" || t.issuer != "" || t.issuerRegexp != ""
	if keyless {
		if t.identity == "" && t.identityRegexp == "" || t.issuer == "" && t.issuerRegexp == "" {
			return tr, usagef("keyless verification needs --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]")
		}
		if t.trustedRoot == "" {
			return tr, usagef("keyless verification needs --trusted-root (Ward verifies offline)")
		}
		root, err := signing.LoadTrustedRoot(t.trustedRoot)
		if err != nil {
			return tr, err
		}
		tr.Root = root
		tr.IgnoreSCT = t.ignoreSCT
		tr.Identities = []signing.Identity{{Subject: t.identity, SubjectRegexp: t.identityRegexp, Issuer: t.issuer, IssuerRegexp: t.issuerRegexp}}
	}
	if len(tr.Keys) == 0 && !keyless {
		return tr, usagef("give --key PUB, or --certificate-identity, --certificate-oidc-issuer and --trusted-root")
	}
	return tr, nil
}

// newVerifyCmd is `ward verify IMAGE`.
func newVerifyCmd(g *Globals) *cobra.Command {
	var (
		reg        registryFlags
		tf         trustFlags
		policyFile string
	)
	cmd := &cobra.Command{
		Use:   "verify IMAGE... (--key PUB | --certificate-identity I --certificate-oidc-issuer O --trusted-root F | --policy F)",
		Short: "Verify the signatures of container images (cosign-compatible)",
		Long: `Verify every signature of IMAGE: the legacy sha256-<hex>.sig tag (ward sign,
cosign v2) and Sigstore bundles attached as OCI referrers (ward sign, cosign v3),
signed with a key or keyless (a Fulcio certificate with Rekor and CT evidence in
the bundle, checked offline against --trusted-root). Prints who signed which
digest, and the reason each refused signature was refused.

With --policy, IMAGE is checked against a trusted-supply policy file instead
(allowed registries, required signers and attestations, digest pinning; see
docs/signing.md).

Exit codes: 0 every image has a valid signature (or satisfies the policy);
1 an image has none (or violates the policy); 2 usage error; 3 a registry or
file could not be read.`,
		Example: `  ward verify --key cosign.pub registry.example.com/app:1.2
  ward verify --certificate-identity dev@example.com --certificate-oidc-issuer https://accounts.example.com \
      --trusted-root trusted_root.json registry.example.com/app@sha256:...
  ward verify --policy supply.yaml registry.example.com/app@sha256:...`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if policyFile != "" {
				return runPolicy(cmd, g, policyFile, reg.registry(), args)
			}
			trust, err := tf.trust()
			if err != nil {
				return trustErr(err)
			}
			ann, err := parseAnnotations(tf.annotations)
			if err != nil {
				return err
			}
			v, err := signing.NewVerifier(signing.VerifyOptions{Registry: reg.registry(), Trust: trust, Annotations: ann})
			if err != nil {
				return &UsageError{Err: err}
			}
			var results []*signing.Result
			for _, img := range args {
				res, err := v.Verify(cmd.Context(), img)
				if err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				results = append(results, res)
			}
			return g.reportResults(results, "signature")
		},
	}
	fl := cmd.Flags()
	tf.add(fl)
	fl.StringSliceVarP(&tf.annotations, "annotations", "a", nil, "key=value annotation the signed payload must carry (repeatable)")
	fl.StringVar(&policyFile, "policy", "", "trusted-supply policy file (YAML; see docs/signing.md)")
	reg.add(fl)
	return cmd
}

func trustErr(err error) error {
	var ue *UsageError
	if errors.As(err, &ue) {
		return err
	}
	return &ExitError{Code: ExitScanError, Err: err}
}

// reportResults prints results (table or JSON) and returns exit 1 when an
// image has no valid signature.
func (g *Globals) reportResults(results []*signing.Result, what string) error {
	failed := 0
	for _, r := range results {
		if r.Err() != nil {
			failed++
		}
	}
	err := g.writeOutput(func(w io.Writer) error {
		if g.Format == "json" {
			e := json.NewEncoder(w)
			e.SetIndent("", "  ")
			return e.Encode(results)
		}
		for _, r := range results {
			writeResult(w, r, what)
		}
		return nil
	})
	if err != nil {
		return &ExitError{Code: ExitScanError, Err: err}
	}
	if failed > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d image(s) have no valid %s", failed, len(results), what)}
	}
	return nil
}

func writeResult(w io.Writer, r *signing.Result, what string) {
	valid := r.Valid()
	if len(valid) > 0 {
		fmt.Fprintf(w, "Verified %s: %d valid %s(s)\n", termSafe(r.Digest, false), len(valid), what)
	} else {
		fmt.Fprintf(w, "NOT verified %s: no valid %s\n", termSafe(r.Digest, false), what)
	}
	if len(r.Signatures) == 0 {
		fmt.Fprintf(w, "  (no %ss found)\n", what)
	}
	for _, s := range r.Signatures {
		kind := s.Source
		if s.PredicateType != "" && s.PredicateType != signing.SignPredicateType {
			kind += " " + s.PredicateType
		}
		if s.Valid() {
			fmt.Fprintf(w, "  ok      %s  signed by %s  (%s)\n", kind, termSafe(s.Signer, false), termSafe(s.Ref, false))
		} else {
			fmt.Fprintf(w, "  refused %s  %s  (%s)\n", kind, termSafe(s.Reason, false), termSafe(s.Ref, false))
		}
	}
}

// runPolicy evaluates images against a supply policy file.
func runPolicy(cmd *cobra.Command, g *Globals, file string, reg signing.Registry, images []string) error {
	p, err := signing.LoadPolicy(file, signing.PolicyOptions{Registry: reg})
	if err != nil {
		return &ExitError{Code: ExitScanError, Err: err}
	}
	var decs []*signing.Decision
	denied := 0
	for _, img := range images {
		d, err := p.Evaluate(cmd.Context(), img)
		if err != nil {
			return &ExitError{Code: ExitScanError, Err: err}
		}
		if !d.Allowed {
			denied++
		}
		decs = append(decs, d)
	}
	err = g.writeOutput(func(w io.Writer) error {
		if g.Format == "json" {
			e := json.NewEncoder(w)
			e.SetIndent("", "  ")
			return e.Encode(decs)
		}
		for _, d := range decs {
			name := d.Image
			if d.Digest != "" {
				name = d.Digest
			}
			if d.Allowed {
				fmt.Fprintf(w, "Allowed %s\n", termSafe(name, false))
			} else {
				fmt.Fprintf(w, "DENIED %s\n", termSafe(name, false))
			}
			for _, s := range d.Signatures {
				fmt.Fprintf(w, "  signature   %s  signed by %s\n", s.Source, termSafe(s.Signer, false))
			}
			for _, s := range d.Attestations {
				fmt.Fprintf(w, "  attestation %s  %s  signed by %s\n", s.Source, termSafe(s.PredicateType, false), termSafe(s.Signer, false))
			}
			for _, v := range d.Violations {
				fmt.Fprintf(w, "  violation   %s\n", termSafe(v, true))
			}
		}
		return nil
	})
	if err != nil {
		return &ExitError{Code: ExitScanError, Err: err}
	}
	if denied > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d image(s) violate %s", denied, len(images), file)}
	}
	return nil
}
