package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/admission"
	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/signing"
)

// newAdmissionCmd is `ward admission`: the admission webhook.
func newAdmissionCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admission",
		Short: "Kubernetes admission webhook enforcing Pod Security, CEL checks and the trusted-supply policy",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAdmissionServeCmd(g), newAdmissionManifestsCmd(g))
	return cmd
}

func newAdmissionServeCmd(g *Globals) *cobra.Command {
	var policyFile, cert, key, listen, kubeconfig string
	var insecure []string
	var namespaceLookup bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve /validate and /mutate over TLS (docs/admission.md)",
		Long: `Serve the admission webhook: /validate, /mutate, /healthz, /readyz and
/metrics (Prometheus text). With no --policy, Pod Security baseline is
enforced in every namespace. Certificates are re-read when the files change.
Decisions are logged as JSON lines on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cert == "" || key == "" {
				return fmt.Errorf("admission serve: --tls-cert and --tls-key are required")
			}
			tuneAdmissionGC(g.Getenv)
			reg := signing.Registry{Insecure: insecure}
			opts := admission.PolicyOptions{Registry: reg, Cache: signing.NewCache(4096, 10*time.Minute)}
			var p *admission.Policy
			var err error
			if policyFile != "" {
				p, err = admission.LoadPolicy(policyFile, opts)
			} else {
				p, err = admission.DefaultPolicy()
			}
			if err != nil {
				return err
			}
			e := &admission.Engine{Policy: p, Resolve: admission.SigningResolver(reg, 10*time.Minute, 4096)}
			if namespaceLookup {
				cfg, err := kube.LoadConfig(kube.LoadOptions{Kubeconfig: kubeconfig})
				if err != nil {
					return fmt.Errorf("admission serve: namespace lookup: %w", err)
				}
				cl, err := kube.New(cfg)
				if err != nil {
					return fmt.Errorf("admission serve: namespace lookup: %w", err)
				}
				e.Namespaces = admission.CachedNamespaces(func(ctx context.Context, ns string) (map[string]string, error) {
					var obj struct {
						Metadata struct {
							Labels map[string]string `json:"labels"`
						} `json:"metadata"`
					}
					if err := cl.Get(ctx, "/api/v1/namespaces/"+ns, &obj); err != nil {
						return nil, err
					}
					return obj.Metadata.Labels, nil
				}, 30*time.Second, 1024)
			}
			certs, err := admission.NewCertReloader(cert, key)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("admission serve: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewJSONHandler(g.Stderr, nil))
			log.Info("admission webhook listening", slog.String("addr", ln.Addr().String()))
			s := &admission.Server{Engine: e, Log: log}
			return s.Serve(ctx, ln, certs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&policyFile, "policy", "", "admission policy file (kind AdmissionPolicy)")
	f.StringVar(&cert, "tls-cert", "", "serving certificate (PEM), re-read on change")
	f.StringVar(&key, "tls-key", "", "serving key (PEM), re-read on change")
	f.StringVar(&listen, "listen", ":8443", "listen address")
	f.StringSliceVar(&insecure, "insecure-registry", nil, "registry host:port reached over plain HTTP")
	f.BoolVar(&namespaceLookup, "namespace-labels", false, "look up namespaces' pod-security.kubernetes.io/enforce label (kubeconfig or in-cluster)")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig for --namespace-labels (default: in-cluster or $KUBECONFIG)")
	return cmd
}
