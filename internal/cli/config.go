package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/misconfig"
	"github.com/wardsec/ward/internal/misconfig/compliance"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// newConfigCmd is `ward config PATH...`: misconfiguration scanning of
// Kubernetes manifests, Helm charts, Kustomize directories, Dockerfiles,
// Compose files and Terraform.
func newConfigCmd(g *Globals) *cobra.Command {
	var (
		helmValues []string
		helmSet    []string
		helmNS     string
		pssVersion string
		policyDirs []string
		framework  string
		listChecks bool
		skip       skipFlags
	)
	cmd := &cobra.Command{
		Use:   "config [flags] PATH...",
		Short: "Find insecure configuration in Kubernetes, Helm, Kustomize, Dockerfile, Compose and Terraform files",
		Long: `Scan configuration files for misconfigurations before they are deployed.

PATH may be a file, a directory (walked recursively; Helm charts and
Kustomize directories are rendered/built), a packaged chart (.tgz), or "-"
for standard input. Document types are detected by content, not only by
file name. Every finding names the file, line and column of the offending
field, the object (kind/namespace/name) and a remediation.

Suppress a finding inline with the annotation
  ward.dev/ignore: "WARD-K8S-001,WARD-PSS-PRIVILEGED reason"
on a Kubernetes object, or "# ward:ignore ID reason" comments in
Dockerfile, Compose and Terraform files. Suppressed findings are reported
only with --show-suppressed.

--compliance prints a per-control pass/fail summary for k8s-pss-baseline,
k8s-pss-restricted, k8s-cis, k8s-nsa or docker-cis.`,
		Example: `  ward config ./deploy
  helm template my ./chart | ward config -
  ward config --compliance k8s-cis --format json ./manifests
  ward config --helm-values prod.yaml --set image.tag=1.2.3 ./chart`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listChecks {
				return printChecks(g)
			}
			if len(args) == 0 {
				return usagef("config: at least one PATH is required (use - for standard input)")
			}
			if _, err := k8s.NewPSS(pssVersion); err != nil {
				return usagef("--pss-version: %v", err)
			}
			if framework != "" && !compliance.Known(framework) {
				return usagef("--compliance: unknown framework %q (want %s)", framework, strings.Join(compliance.Frameworks(), ", "))
			}
			pathSkip, err := skip.pathSkip()
			if err != nil {
				return err
			}
			col, err := g.newCollector()
			if err != nil {
				return err
			}
			_, errs := misconfig.Scan(cmd.Context(), strings.Join(args, ","), args, misconfig.Options{
				HelmValues:    helmValues,
				HelmSet:       helmSet,
				HelmNamespace: helmNS,
				PSSVersion:    pssVersion,
				PolicyDirs:    policyDirs,
				Logger:        g.Logger,
				Stdin:         g.Stdin,
				Sink:          col.Add,
				Skip:          pathSkip,
			})
			r := g.NewReport(strings.Join(args, ","), "config")
			r.Scanners = []string{"misconfig"}
			r.Errors = errs
			r.Rules = map[string]report.RuleMeta{}
			cat := misconfig.Catalog()
			for _, m := range cat {
				help := ""
				if len(m.References) > 0 {
					help = m.References[0]
				}
				r.Rules[m.ID] = report.RuleMeta{ID: m.ID, Title: m.Title, Description: m.Description, Severity: m.Severity, HelpURI: help, Kind: finding.KindMisconfiguration}
			}
			if framework != "" {
				ctrls, err := compliance.BuildCounts(framework, cat, col.rules)
				if err != nil {
					col.spool.Close()
					return usagef("--compliance: %v", err)
				}
				r.Compliance = ctrls
			}
			return col.Emit(r)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&helmValues, "helm-values", nil, "extra Helm values file for charts (repeatable)")
	f.StringArrayVar(&helmSet, "set", nil, "Helm --set key=value for charts (repeatable)")
	f.StringVar(&helmNS, "helm-namespace", "", "namespace charts are rendered for (default \"default\")")
	f.StringVar(&pssVersion, "pss-version", "latest", "Pod Security Standards version: latest or v1.N")
	f.StringArrayVar(&policyDirs, "policy", nil, "directory or file of custom checks (YAML with CEL expressions; repeatable; see docs/custom-checks.md)")
	f.StringVar(&framework, "compliance", "", "compliance view: "+strings.Join(compliance.Frameworks(), ", "))
	f.BoolVar(&listChecks, "list-checks", false, "list every built-in check and exit")
	skip.register(f)
	addServerFlags(g, cmd)
	return cmd
}

// printChecks writes the check catalogue as a table.
func printChecks(g *Globals) error {
	cat := misconfig.Catalog()
	sort.SliceStable(cat, func(i, j int) bool { return cat[i].ID < cat[j].ID })
	return g.writeOutput(func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTYPE\tSEVERITY\tTITLE")
		for _, m := range cat {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.DocType, m.Severity, m.Title)
		}
		return tw.Flush()
	})
}
