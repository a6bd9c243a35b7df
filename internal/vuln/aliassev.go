package vuln

import (
	"slices"

	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/finding"
)

// maxAliasLookups bounds the records read for one finding's aliases, so a
// hostile record with thousands of aliases costs a bounded number of reads.
const maxAliasLookups = 16

// aliasSeverity rates a finding whose own records give no severity (GO-
// and PYSEC- records carry none) from the records its aliases name in the
// DB: a GHSA record's CVSS vectors or database rating, a CVE record's
// vectors. It uses the same order as the records' own rating (vendor or
// ecosystem rating, then the newest CVSS version) and says where the
// severity came from: "GHSA-... CVSS:3.1 (alias of GO-...)". It returns
// SeverityUnknown when no alias in the DB rates the vulnerability either.
func aliasSeverity(r *db.Reader, g []hit, cache map[string]*db.Advisory, cc *caches) (finding.Severity, string, []finding.CVSS, error) {
	own := make(map[string]bool, len(g))
	for _, h := range g {
		own[h.adv.ID] = true
	}
	var aliasHits []hit
	var of []string // the record that names each alias
	lookups := 0
	for _, h := range g {
		for _, a := range h.adv.Aliases {
			if own[a] || lookups == maxAliasLookups {
				continue
			}
			own[a] = true
			lookups++
			adv, ok := cache[a]
			if !ok {
				var err error
				if adv, err = r.Advisory(a); err != nil {
					return finding.SeverityUnknown, "", nil, err
				}
				cache[a] = adv // nil too: absent aliases are looked up once
			}
			if adv == nil {
				continue
			}
			aliasHits = append(aliasHits, hit{entry: db.Entry{ID: adv.ID}, adv: adv})
			of = append(of, h.adv.ID)
		}
	}
	if len(aliasHits) == 0 {
		return finding.SeverityUnknown, "", nil, nil
	}
	sev, src, scores := severity(aliasHits, cc.cvss)
	if sev == finding.SeverityUnknown {
		return sev, "", scores, nil
	}
	for i, h := range aliasHits {
		if len(src) >= len(h.adv.ID) && src[:len(h.adv.ID)] == h.adv.ID {
			src += " (alias of " + of[i] + ")"
			break
		}
	}
	return sev, src, scores, nil
}

// rateFromAliases fills the severity of f from its aliases' records when
// its own records left it unknown, keeping every CVSS score once.
func rateFromAliases(r *db.Reader, f *finding.Finding, g []hit, cache map[string]*db.Advisory, cc *caches) error {
	if f.Severity != finding.SeverityUnknown || f.Vulnerability == nil {
		return nil
	}
	sev, src, scores, err := aliasSeverity(r, g, cache, cc)
	if err != nil {
		return err
	}
	for _, s := range scores {
		if !slices.ContainsFunc(f.Vulnerability.CVSS, func(c finding.CVSS) bool { return c.Vector == s.Vector }) {
			f.Vulnerability.CVSS = append(f.Vulnerability.CVSS, s)
		}
	}
	if sev != finding.SeverityUnknown {
		f.Severity, f.Vulnerability.SeveritySource = sev, src
	}
	return nil
}
