package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/admission"
)

// newAdmissionManifestsCmd is `ward admission manifests`.
func newAdmissionManifestsCmd(g *Globals) *cobra.Command {
	o := admission.ManifestOptions{}
	var policyFile string
	cmd := &cobra.Command{
		Use:   "manifests",
		Short: "Print the Kubernetes objects that install the admission webhook (kubectl apply -f -)",
		Long: `Print ServiceAccount, Deployment (non-root, read-only root filesystem, probes on
/healthz and /readyz), PodDisruptionBudget, Service and the Validating and Mutating
webhook configurations (sideEffects None, admissionReviewVersions v1, timeoutSeconds 10,
the webhook's namespace and kube-system excluded). TLS: a freshly generated self-signed
CA and serving certificate (Secret + caBundle), or with --cert-manager a cert-manager
Issuer and Certificate and the cainjector annotation. docs/admission.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Image == "" {
				v := g.Info.Version
				if v == "" {
					v = "latest"
				}
				o.Image = "ghcr.io/wardsec/ward:" + v
			}
			if policyFile != "" {
				fi, err := os.Stat(policyFile)
				if err != nil {
					return fmt.Errorf("admission manifests: %w", err)
				}
				if fi.Size() > admission.MaxPolicySize {
					return fmt.Errorf("admission manifests: policy %s: larger than %d bytes", policyFile, admission.MaxPolicySize)
				}
				b, err := os.ReadFile(policyFile)
				if err != nil {
					return fmt.Errorf("admission manifests: %w", err)
				}
				// Compile it here so a broken policy never reaches the cluster.
				if _, err := admission.ParsePolicy(policyFile, b, admission.PolicyOptions{}); err != nil {
					return fmt.Errorf("admission manifests: %w", err)
				}
				o.Policy, o.PolicyName = b, policyFile
			}
			if g.Now != nil {
				o.Now = g.Now
			}
			return admission.Manifests(g.Stdout, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Namespace, "namespace", "ward", "namespace of the webhook (excluded from its webhooks, with kube-system)")
	f.StringVar(&o.Name, "name", "ward-admission", "name of the Deployment, Service and webhook configurations")
	f.StringVar(&o.Image, "image", "", "ward image (default ghcr.io/wardsec/ward:<version>)")
	f.BoolVar(&o.CertManager, "cert-manager", false, "cert-manager Issuer/Certificate and cainjector annotation instead of a generated CA")
	f.StringVar(&o.FailurePolicy, "failure-policy", "Fail", "webhooks' failurePolicy: Fail or Ignore")
	f.IntVar(&o.Replicas, "replicas", 2, "Deployment replicas")
	f.DurationVar(&o.Validity, "validity", 365*24*time.Hour, "validity of the generated certificates")
	f.StringVar(&policyFile, "policy", "", "admission policy file shipped in a ConfigMap (must not name other local files)")
	f.BoolVar(&o.NamespaceLabels, "namespace-labels", false, "serve with --namespace-labels and grant get on namespaces")
	return cmd
}
