package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/internal/cluster"
	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/misconfig/compliance"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/scan"
	"github.com/wardsec/ward/internal/secret"
	"github.com/wardsec/ward/internal/vuln"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// k8sConn are the connection flags of every `ward k8s` command.
type k8sConn struct {
	kubeconfig, context string
	namespace           string
	allNamespaces       bool
}

func (c *k8sConn) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG list, then ~/.kube/config, then the pod's service account)")
	f.StringVar(&c.context, "context", "", "kubeconfig context (default: the current context)")
	f.StringVarP(&c.namespace, "namespace", "n", "", "namespace (default for scans: all namespaces)")
	f.BoolVarP(&c.allNamespaces, "all-namespaces", "A", false, "every namespace (the default for scans)")
}

// connect resolves the kubeconfig and builds the client.
func (c *k8sConn) connect() (*kube.Client, string, error) {
	cfg, err := kube.LoadConfig(kube.LoadOptions{Kubeconfig: c.kubeconfig, Context: c.context})
	if err != nil {
		return nil, "", &ExitError{Code: ExitScanError, Err: err}
	}
	cl, err := kube.New(cfg)
	if err != nil {
		return nil, "", &ExitError{Code: ExitScanError, Err: err}
	}
	target := cl.Host()
	if cfg.Context != "" {
		target = cfg.Context + " (" + cl.Host() + ")"
	}
	return cl, target, nil
}

// clusterError turns a scan that could not start into exit 3 with a
// message that says what to check.
func clusterError(host string, err error) error {
	switch {
	case kube.IsUnauthorized(err):
		err = fmt.Errorf("%w (the credentials were refused: expired or revoked token or certificate?)", err)
	case kube.IsForbidden(err):
		err = fmt.Errorf("%w (RBAC forbids discovery to these credentials)", err)
	}
	return &ExitError{Code: ExitScanError, Err: fmt.Errorf("cluster %s: %w", host, err)}
}

func newK8sCmd(g *Globals) *cobra.Command {
	var (
		conn          k8sConn
		kinds         []string
		framework     string
		pssVersion    string
		apply         bool
		includeSystem bool
		showSecrets   bool
		vulnFlags     k8sVulnFlags
	)
	cmd := &cobra.Command{
		Use:         "k8s",
		Annotations: map[string]string{ownScanners: "true"},
		Short:       "Scan a live Kubernetes cluster: workloads, Pod Security, RBAC, network policy, control plane, mesh",
		Long: `K8s reads a running cluster through its API (kubeconfig resolved as kubectl
does: --kubeconfig, the KUBECONFIG list, ~/.kube/config, or the pod's service
account) and reports, for every object, with its apiVersion, kind, namespace,
name, uid and field path:

  misconfig  every manifest check and Pod Security Standards check on the
             workloads that exist (Pods, controllers, CronJobs), each workload
             against its namespace's pod-security.kubernetes.io labels, namespaces
             without an enforce label, control-plane flags of static pods (CIS
             1.2-1.4, 2), anonymous access, kubelet configz, Istio and Linkerd
  rbac       risky grants and escalation paths of the RBAC graph
  network    namespaces without default-deny, pods no policy selects, open
             policies, exposed privileged pods
  secret     secrets in ConfigMaps and in container environment values
  vuln       images of running pods, each digest scanned once (opt-in)

Objects are listed page by page (limit/continue) and checked one at a time.
A kind that RBAC forbids, or an endpoint that fails, is reported and skipped:
the rest is still scanned and the exit code is 3.

--format policyreport writes wgpolicyk8s.io/v1alpha2 PolicyReport (one per
namespace) and ClusterPolicyReport objects; --apply writes them into the
cluster (the PolicyReport CRDs must be installed).`,
		Example: `  ward k8s
  ward k8s --context prod -n shop --scanners misconfig,rbac
  ward k8s --compliance k8s-pss-restricted --format json
  ward k8s --format policyreport --apply
  ward k8s who-can get secrets -n shop
  ward k8s reach shop/web shop/db --port 5432/TCP`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if framework != "" && !compliance.Known(framework) {
				return usagef("--compliance: unknown framework %q (want %s)", framework, strings.Join(compliance.Frameworks(), ", "))
			}
			if apply && g.Format != "policyreport" {
				return usagef("--apply needs --format policyreport")
			}
			if pssVersion != "" {
				if _, err := k8s.NewPSS(pssVersion); err != nil {
					return usagef("--pss-version: %v", err)
				}
			}
			if g.Format != "policyreport" {
				if _, err := report.New(g.Format, g.reportOptions(false)); err != nil {
					return usagef("--format: %v (or policyreport)", err)
				}
			}
			scanners := splitList(g.Scanners)
			for _, s := range scanners {
				if !contains(cluster.Scanners, s) {
					return usagef("--scanners: unknown scanner %q (want %s)", s, strings.Join(cluster.Scanners, ", "))
				}
			}
			cl, target, err := conn.connect()
			if err != nil {
				return err
			}
			opts := cluster.Options{Target: target, IncludeKinds: splitList(kinds), Scanners: scanners,
				PSSVersion: pssVersion, IncludeSystem: includeSystem, Logger: g.Logger}
			if conn.namespace != "" && !conn.allNamespaces {
				opts.Namespaces = []string{conn.namespace}
			}
			if len(scanners) == 0 || contains(scanners, cluster.ScannerSecret) {
				sec, err := secret.New(secret.Options{ShowSecrets: showSecrets, Logger: g.Logger})
				if err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				opts.Secrets = sec
			}
			if contains(scanners, cluster.ScannerVuln) {
				opts.Images = g.imageScanner(&vulnFlags)
			}
			// The findings stream through the collector into the report
			// spool as the scan makes them (PolicyReports: a spool ordered
			// by namespace and object).
			var col *collector
			if g.Format == "policyreport" {
				col, err = g.newPolicyCollector()
			} else {
				col, err = g.newCollector()
			}
			if err != nil {
				return err
			}
			defer col.spool.Close()
			counts := map[string]int{}
			opts.Sink = func(fs []finding.Finding) {
				if framework != "" {
					fs = inFramework(fs, framework)
					compliance.CountUnsuppressed(counts, fs)
				}
				col.Add(fs)
			}
			res, err := cluster.Scan(cmd.Context(), cl, opts)
			if err != nil {
				return clusterError(cl.Host(), err)
			}
			r := g.NewReport(target, "cluster")
			r.Scanners = scanners
			if len(r.Scanners) == 0 {
				r.Scanners = []string{cluster.ScannerMisconfig, cluster.ScannerRBAC, cluster.ScannerNetwork, cluster.ScannerSecret}
			}
			r.Errors = res.Errors
			r.Warnings = res.Warnings
			if framework != "" {
				ctrls, err := compliance.BuildCounts(framework, cluster.Catalog(), counts)
				if err != nil {
					return usagef("--compliance: %v", err)
				}
				r.Compliance = ctrls
			}
			if g.Format == "policyreport" {
				return g.emitPolicyReports(cmd.Context(), cl, col, r, apply)
			}
			return col.Emit(r)
		},
	}
	conn.register(cmd)
	f := cmd.Flags()
	f.StringSliceVar(&kinds, "include-kinds", nil, "only these kinds (Kind or plural, e.g. Pod,deployments,ConfigMap)")
	f.StringVar(&framework, "compliance", "", "only findings of a framework, with a per-control summary: "+strings.Join(compliance.Frameworks(), ", "))
	f.StringVar(&pssVersion, "pss-version", "latest", "Pod Security Standards version for the manifest checks: latest or v1.N")
	f.BoolVar(&apply, "apply", false, "with --format policyreport: write the reports into the cluster (server-side apply)")
	f.BoolVar(&includeSystem, "include-system", false, "also report RBAC grants of the bootstrap system: roles")
	f.BoolVar(&showSecrets, "show-secrets", false, "show found secrets in full instead of redacted")
	vulnFlags.register(f)
	cmd.AddCommand(newK8sWhoCanCmd(g, &conn), newK8sReachCmd(g, &conn))
	addServerFlags(g, cmd)
	return cmd
}

func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// inFramework keeps the findings mapped to a control of framework.
func inFramework(fs []finding.Finding, framework string) []finding.Finding {
	out := fs[:0]
	for _, f := range fs {
		for _, t := range f.Tags {
			if strings.HasPrefix(t, framework+":") {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// imageScanner scans one running image with the image pipeline (vuln
// only), pulled from its registry (never a local path a hostile image
// name could point at), by digest when the kubelet reported one.
func (g *Globals) imageScanner(v *k8sVulnFlags) cluster.ImageScanner {
	return func(ctx context.Context, ref, digest string) (cluster.ImageResult, error) {
		r, err := name.ParseReference(ref)
		if err != nil {
			return cluster.ImageResult{}, fmt.Errorf("not an image reference: %w", err)
		}
		target := r.String()
		if digest != "" {
			target = r.Context().Digest(digest).String()
		}
		res, err := scan.Run(ctx, artifact.PrefixRegistry+target, scan.Options{Scanners: []string{"vuln"}, CacheDir: g.CacheDir,
			Platform: v.platform, InsecureRegistries: v.insecure, DBMaxAge: v.dbMaxAge,
			Vuln:   vuln.Options{IgnoreUnfixed: v.ignoreUnfixed, Logger: g.Logger},
			Logger: g.Logger, Now: g.Now})
		if err != nil {
			return cluster.ImageResult{}, err
		}
		out := cluster.ImageResult{Digest: res.Artifact.Digest, Findings: res.Findings, Errors: res.Errors, Warnings: res.Warnings}
		for _, nr := range res.NotRun {
			if nr.Scanner == "vuln" {
				return out, fmt.Errorf("vulnerability scanning did not run: %s", nr.Reason)
			}
		}
		return out, nil
	}
}

// k8sVulnFlags tune the image scans of --scanners vuln.
type k8sVulnFlags struct {
	platform      string
	insecure      []string
	dbMaxAge      time.Duration
	ignoreUnfixed bool
}

func (v *k8sVulnFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&v.platform, "platform", "", "with --scanners vuln: platform of multi-platform images, os/arch[/variant] (default: linux and this machine's architecture)")
	fl.StringSliceVar(&v.insecure, "insecure-registry", nil, "with --scanners vuln: registry host:port reached over plain HTTP or unverified TLS (repeatable)")
	fl.DurationVar(&v.dbMaxAge, "db-max-age", 7*24*time.Hour, "with --scanners vuln: warn when the vulnerability database is older than this")
	fl.BoolVar(&v.ignoreUnfixed, "ignore-unfixed", false, "with --scanners vuln: report only vulnerabilities that have a fixed version")
}

// newPolicyCollector is newCollector for --format policyreport: the same
// filters, into a spool of PolicyReport results.
func (g *Globals) newPolicyCollector() (*collector, error) {
	keep, err := g.severityFilter()
	if err != nil {
		return nil, err
	}
	ign, err := g.loadIgnore(g.ignoreExplicit)
	if err != nil {
		return nil, err
	}
	c := &collector{g: g, keep: keep, ign: ign, spool: report.NewPolicyReportSpool(report.SpoolOptions{Dir: g.outputDir()}), rules: map[string]int{}}
	if ign != nil {
		c.warnings = ign.Apply(nil, g.Now())
	}
	return c, nil
}

// emitPolicyReports writes the collected findings as PolicyReports, one
// report part at a time, and with apply writes each into the cluster as
// it is written; the exit code is decided as Emit decides it.
func (g *Globals) emitPolicyReports(ctx context.Context, cl *kube.Client, col *collector, r *report.Report, apply bool) error {
	if col.err != nil {
		return &ExitError{Code: ExitScanError, Err: fmt.Errorf("report: %w", col.err)}
	}
	r.Warnings = append(r.Warnings, col.warnings...)
	var (
		errs    []error
		applier *reportApplier
	)
	if apply {
		applier, errs = newReportApplier(ctx, cl)
	}
	each := func(p *report.PolicyReport) {
		if applier != nil {
			if err := applier.apply(ctx, p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := g.writeOutput(func(out io.Writer) error { return report.WritePolicyReports(out, col.spool, g.Now(), each) }); err != nil {
		return &ExitError{Code: ExitScanError, Err: err}
	}
	if !g.Quiet {
		for _, w := range r.Warnings {
			fmt.Fprintln(g.Stderr, "warning: "+termSafe(w, false))
		}
		for _, e := range r.Errors {
			fmt.Fprintln(g.Stderr, "error: "+termSafe(e.Error(), false))
		}
		for _, e := range errs {
			fmt.Fprintln(g.Stderr, "error: "+termSafe(e.Error(), false))
		}
	}
	if len(r.Errors) > 0 || len(errs) > 0 {
		return &ExitError{Code: ExitScanError}
	}
	if g.ExitCode != 0 && col.spool.Failing() > 0 {
		return &ExitError{Code: g.ExitCode}
	}
	return nil
}

// reportApplier writes PolicyReports into the cluster (server-side apply).
type reportApplier struct {
	cl           *kube.Client
	nsRes, clRes kube.Resource
}

func newReportApplier(ctx context.Context, cl *kube.Client) (*reportApplier, []error) {
	cat, err := cl.Discover(ctx)
	if err != nil {
		return nil, []error{err}
	}
	nsRes, ok1 := cat.Lookup("policyreports." + report.PolicyReportGroup)
	clRes, ok2 := cat.Lookup("clusterpolicyreports." + report.PolicyReportGroup)
	if !ok1 || !ok2 {
		return nil, []error{errors.New("--apply: the cluster serves no policyreports/clusterpolicyreports.wgpolicyk8s.io (install the PolicyReport CRDs of kubernetes-sigs/wg-policy-prototypes)")}
	}
	nsRes.Version, clRes.Version = report.PolicyReportVersion, report.PolicyReportVersion
	return &reportApplier{cl: cl, nsRes: nsRes, clRes: clRes}, nil
}

func (a *reportApplier) apply(ctx context.Context, p *report.PolicyReport) error {
	res := a.nsRes
	if p.Kind == "ClusterPolicyReport" {
		res = a.clRes
	}
	return a.cl.Apply(ctx, res, p)
}

// ownScanners marks a command that validates --scanners itself, with names
// beyond the global vuln, secret and misconfig.
const ownScanners = "ward.scanners.own"
