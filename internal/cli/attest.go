package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/internal/signing"
)

// newAttestCmd is `ward attest --predicate F --type T --key K IMAGE`.
func newAttestCmd(g *Globals) *cobra.Command {
	var (
		reg       registryFlags
		key       string
		predicate string
		typ       string
		layout    string
	)
	cmd := &cobra.Command{
		Use:   "attest --predicate FILE --type TYPE --key KEY IMAGE",
		Short: "Attach a signed in-toto attestation to a container image (cosign-compatible)",
		Long: `Wrap the predicate document FILE (JSON: an SBOM, a vulnerability report, SLSA
provenance, an OpenVEX document, ...) in an in-toto statement about IMAGE's
manifest digest, sign it in a DSSE envelope with KEY and attach it as cosign
attest does: a Sigstore bundle OCI referrer (cosign v3) and a layer of the
sha256-<hex>.att tag (cosign v2); --layout picks one.

--type is a cosign predicate name (cyclonedx, spdx, spdxjson, slsaprovenance,
slsaprovenance1, link, vuln, openvex, custom) or a predicate type URI.`,
		Example: `  ward sbom -o bom.json registry.example.com/app:1.2
  ward attest --predicate bom.json --type cyclonedx --key cosign.key registry.example.com/app:1.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pt, err := signing.PredicateType(typ)
			if err != nil {
				return &UsageError{Err: err}
			}
			lay, err := signing.ParseLayout(layout)
			if err != nil {
				return &UsageError{Err: err}
			}
			if predicate == "" {
				return usagef("--predicate is required")
			}
			pb, err := readSmallFile(predicate, signing.MaxBlobSize/2)
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			k, err := g.loadSigningKey(key)
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			res, err := signing.Attest(cmd.Context(), args[0], signing.AttestOptions{
				SignOptions:   signing.SignOptions{Registry: reg.registry(), Key: k, Layout: lay, Now: g.Now},
				PredicateType: pt, Predicate: pb,
			})
			if err != nil {
				return &ExitError{Code: 1, Err: fmt.Errorf("%s: %w", predicate, err)}
			}
			fmt.Fprintln(g.Stdout, res.Digest.String())
			if !g.Quiet {
				if res.SignatureTag != "" {
					fmt.Fprintf(g.Stderr, "Attestation pushed to %s\n", res.SignatureTag)
				}
				if res.Referrer != "" {
					fmt.Fprintf(g.Stderr, "Bundle attached as referrer %s\n", res.Referrer)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "cosign private key file (password from WARD_PASSWORD/COSIGN_PASSWORD or the terminal)")
	fl.StringVar(&predicate, "predicate", "", "predicate JSON file")
	fl.StringVar(&typ, "type", "custom", "predicate type: cyclonedx, spdx, slsaprovenance, vuln, openvex, custom, ... or a URI")
	fl.StringVar(&layout, "layout", "both", "layouts to write: both, legacy (.att tag) or bundle (OCI referrer)")
	reg.add(fl)
	return cmd
}

// newVerifyAttestationCmd is `ward verify-attestation IMAGE --type T`.
func newVerifyAttestationCmd(g *Globals) *cobra.Command {
	var (
		reg  registryFlags
		tf   trustFlags
		typ  string
		cond string
	)
	cmd := &cobra.Command{
		Use:   "verify-attestation IMAGE... --type TYPE (--key PUB | keyless flags) [--policy CEL]",
		Short: "Verify the in-toto attestations of container images (cosign-compatible)",
		Long: `Verify the attestations of IMAGE whose predicate type is --type (bundle
referrers and the sha256-<hex>.att tag; key or keyless as for ward verify). With
--policy, a CEL expression over predicate, predicateType and subject must also
be true for at least one verified attestation, e.g.

  --policy '!predicate.scanner.result.exists(r, r.severity == "CRITICAL")'

Exit codes: 0 each image has a valid attestation; 1 one has none; 2 usage
error; 3 a registry or file could not be read.`,
		Example: `  ward verify-attestation --type cyclonedx --key cosign.pub registry.example.com/app:1.2
  ward verify-attestation --type slsaprovenance --key cosign.pub \
      --policy 'predicate.builder.id == "https://ci.example.com/builder"' registry.example.com/app:1.2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pt := ""
			if typ != "" {
				var err error
				if pt, err = signing.PredicateType(typ); err != nil {
					return &UsageError{Err: err}
				}
			}
			var c *policy.Condition
			if cond != "" {
				var err error
				if c, err = policy.CompileCondition(cond); err != nil {
					return &UsageError{Err: fmt.Errorf("--policy: %w", err)}
				}
			}
			trust, err := tf.trust()
			if err != nil {
				return trustErr(err)
			}
			v, err := signing.NewVerifier(signing.VerifyOptions{Registry: reg.registry(), Trust: trust})
			if err != nil {
				return &UsageError{Err: err}
			}
			var results []*signing.Result
			for _, img := range args {
				res, err := v.VerifyAttestations(cmd.Context(), img, pt)
				if err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				if c != nil {
					for i := range res.Signatures {
						s := &res.Signatures[i]
						if !s.Valid() {
							continue
						}
						ok, err := signing.EvalCondition(c, s.Statement)
						switch {
						case err != nil:
							s.Reason = err.Error()
						case !ok:
							s.Reason = "policy " + cond + " is false"
						}
					}
				}
				results = append(results, res)
			}
			return g.reportResults(results, "attestation")
		},
	}
	fl := cmd.Flags()
	tf.add(fl)
	fl.StringVar(&typ, "type", "custom", "predicate type: cyclonedx, spdx, slsaprovenance, vuln, openvex, custom, ... or a URI (\"\" for any)")
	fl.StringVar(&cond, "policy", "", "CEL expression the predicate must satisfy")
	reg.add(fl)
	return cmd
}
