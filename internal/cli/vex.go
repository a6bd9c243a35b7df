package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/vuln/vex"
	"github.com/wardsec/ward/pkg/report"
)

// newVexCmd is `ward vex`: write an OpenVEX document for vulnerabilities
// the user marks, for products named directly or taken from a JSON report.
func newVexCmd(g *Globals) *cobra.Command {
	var (
		vulns, products          []string
		status, justification    string
		impact, author, id, from string
	)
	cmd := &cobra.Command{
		Use:   "vex",
		Short: "Write an OpenVEX document marking vulnerabilities (not_affected, fixed, ...)",
		Long: `Write an OpenVEX v0.2.0 document with one statement per vulnerability given
with --vuln. Products are the PURLs or image references given with --product;
with --from-report, the packages of the report's findings for each
vulnerability (matched by ID or alias) are added. Use the document with
"--vex FILE" on scans to suppress those findings (see --show-suppressed).

Justifications for not_affected: ` + strings.Join(vex.Justifications, ", ") + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(vulns) == 0 {
				return usagef("--vuln is required")
			}
			st := vex.Status(status)
			switch st {
			case vex.NotAffected:
				if justification == "" && impact == "" {
					return usagef("status not_affected needs --justification or --impact-statement")
				}
				if justification != "" && !contains(vex.Justifications, justification) {
					return usagef("unknown --justification %q (want one of %s)", justification, strings.Join(vex.Justifications, ", "))
				}
			case vex.Affected, vex.Fixed, vex.UnderInvestigation:
			default:
				return usagef("unknown --status %q (want not_affected, affected, fixed, under_investigation)", status)
			}
			perVuln := map[string][]string{}
			aliases := map[string][]string{}
			if from != "" {
				rep, err := readReport(from)
				if err != nil {
					return usagef("--from-report: %v", err)
				}
				for _, f := range rep.Findings {
					if f.Vulnerability == nil || f.Package == nil {
						continue
					}
					ids := append([]string{f.Vulnerability.ID}, f.Vulnerability.Aliases...)
					for _, v := range vulns {
						if containsFold(ids, v) {
							p := f.Package.PURL
							if p == "" {
								p = f.Target
							}
							if p != "" && !contains(perVuln[v], p) {
								perVuln[v] = append(perVuln[v], p)
							}
							for _, a := range ids {
								if !strings.EqualFold(a, v) && !contains(aliases[v], a) {
									aliases[v] = append(aliases[v], a)
								}
							}
						}
					}
				}
			}
			doc := &vex.Document{Author: author, Timestamp: g.Now(), Tooling: "ward " + g.Info.Version}
			for _, v := range vulns {
				prods := append(append([]string(nil), products...), perVuln[v]...)
				if len(prods) == 0 {
					return usagef("no product for %s: give --product or a --from-report that has it", v)
				}
				sort.Strings(aliases[v])
				doc.Statements = append(doc.Statements, vex.Statement{Vulnerability: v, Aliases: aliases[v], Products: prods,
					Status: st, Justification: justification, ImpactStatement: impact, Timestamp: g.Now()})
			}
			doc.ID = id
			if doc.ID == "" {
				h := sha256.New()
				for _, s := range doc.Statements {
					fmt.Fprintf(h, "%s|%s|%s\n", s.Vulnerability, strings.Join(s.Products, ","), s.Status)
				}
				doc.ID = "https://openvex.dev/docs/public/ward-" + hex.EncodeToString(h.Sum(nil))[:16]
			}
			var w io.Writer = g.Stdout
			if g.Output != "" {
				f, err := os.Create(g.Output)
				if err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				defer f.Close()
				w = f
			}
			if err := vex.WriteOpenVEX(w, doc); err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&vulns, "vuln", nil, "vulnerability IDs to mark (CVE-..., GHSA-..., GO-...)")
	f.StringSliceVar(&products, "product", nil, "products: PURLs (pkg:npm/lodash@4.17.20, version optional) or image references")
	f.StringVar(&status, "status", "not_affected", "not_affected, affected, fixed or under_investigation")
	f.StringVar(&justification, "justification", "", "why not_affected ("+strings.Join(vex.Justifications, ", ")+")")
	f.StringVar(&impact, "impact-statement", "", "free-text explanation")
	f.StringVar(&author, "author", "unknown", "document author")
	f.StringVar(&id, "id", "", "document @id (default: derived from the statements)")
	f.StringVar(&from, "from-report", "", "a Ward JSON report whose findings give the products")
	return cmd
}

func readReport(path string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r report.Report
	dec := json.NewDecoder(io.LimitReader(f, 512<<20))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
