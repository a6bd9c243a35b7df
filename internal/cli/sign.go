package cli

import (
	"crypto"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/signing"
)

// registryFlags are the registry-access flags of the signing commands.
type registryFlags struct {
	insecure []string
}

func (r *registryFlags) add(fl *pflag.FlagSet) {
	fl.StringSliceVar(&r.insecure, "insecure-registry", nil, "registry host:port reached over plain HTTP or unverified TLS (repeatable)")
}

func (r *registryFlags) registry() signing.Registry {
	return signing.Registry{Insecure: r.insecure}
}

// parseAnnotations parses k=v pairs.
func parseAnnotations(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("annotation %q: want key=value", kv)
		}
		m[k] = v
	}
	return m, nil
}

// loadSigningKey reads and decrypts a cosign private key file.
func (g *Globals) loadSigningKey(path string) (crypto.Signer, error) {
	if path == "" {
		return nil, usagef("--key is required (keyless signing needs network access to Fulcio and is not supported)")
	}
	b, err := readSmallFile(path, signing.MaxKeyFileSize)
	if err != nil {
		return nil, err
	}
	pw, err := g.password(false)
	if err != nil {
		return nil, err
	}
	k, err := signing.DecryptPrivateKey(b, pw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// readSmallFile reads a regular file of at most max bytes.
func readSmallFile(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return os.ReadFile(path)
}

// newSignCmd is `ward sign --key K IMAGE`.
func newSignCmd(g *Globals) *cobra.Command {
	var (
		reg         registryFlags
		key         string
		annotations []string
		layout      string
		tlogUpload  bool
	)
	cmd := &cobra.Command{
		Use:   "sign --key KEY IMAGE",
		Short: "Sign a container image (cosign-compatible signatures)",
		Long: `Sign the manifest digest of IMAGE with a cosign key (ward keygen or cosign
generate-key-pair). A tag is resolved to its digest first; the digest signed is
printed. Two layouts are written, the ones cosign verifies:

  legacy   the sha256-<hex>.sig tag: a simple-signing payload layer with the
           dev.cosignproject.cosign/signature annotation (cosign v2)
  bundle   a Sigstore bundle (DSSE envelope of an in-toto statement) attached
           as an OCI 1.1 referrer; on registries without the referrers API the
           sha256-<hex> referrers fallback tag is maintained (cosign v3)

--layout picks one (default both). Signing is offline: nothing is uploaded to a
transparency log (--tlog-upload=false), so verifiers use --insecure-ignore-tlog
(cosign) or a key (ward verify). Keyless signing is not supported.`,
		Example: `  ward sign --key cosign.key registry.example.com/app:1.2
  ward sign --key cosign.key -a env=prod --insecure-registry 127.0.0.1:5000 127.0.0.1:5000/app@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if tlogUpload {
				return usagef("--tlog-upload=true: Ward signs offline; uploading to a transparency log is not supported")
			}
			lay, err := signing.ParseLayout(layout)
			if err != nil {
				return &UsageError{Err: err}
			}
			ann, err := parseAnnotations(annotations)
			if err != nil {
				return err
			}
			k, err := g.loadSigningKey(key)
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			res, err := signing.Sign(cmd.Context(), args[0], signing.SignOptions{Registry: reg.registry(), Key: k, Annotations: ann, Layout: lay, Now: g.Now})
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			fmt.Fprintln(g.Stdout, res.Digest.String())
			if !g.Quiet {
				if res.SignatureTag != "" {
					fmt.Fprintf(g.Stderr, "Signature pushed to %s\n", res.SignatureTag)
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
	fl.StringSliceVarP(&annotations, "annotations", "a", nil, "key=value annotation added to the signed payload (repeatable)")
	fl.StringVar(&layout, "layout", "both", "signature layouts to write: both, legacy (.sig tag) or bundle (OCI referrer)")
	fl.BoolVar(&tlogUpload, "tlog-upload", false, "upload to a transparency log (not supported: signing is offline)")
	reg.add(fl)
	return cmd
}
