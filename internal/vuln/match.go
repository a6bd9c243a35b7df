// Package vuln matches an inventory against the vulnerability database and
// turns advisories into findings: every affected range evaluated with the
// ecosystem's own version rules, OS packages matched on their source
// package and distro release, aliases merged into one finding per package
// and vulnerability, severity taken from the vendor when it gives one.
package vuln

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/vuln/cvss"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/internal/vuln/osv"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// Options tune Match.
type Options struct {
	// IgnoreUnfixed drops vulnerabilities that have no fixed version.
	IgnoreUnfixed bool
	// PreferredIDPrefix picks the ID shown for a vulnerability among its
	// aliases, e.g. "CVE"; the advisory's own ID is used when no alias
	// has the prefix (or when empty).
	PreferredIDPrefix string
	// Target names the scanned artifact in findings (inv.Target if empty).
	Target string
	// Logger receives debug notes (versions that do not parse). Optional.
	Logger *slog.Logger
}

// hit is one affected entry that matched a package.
type hit struct {
	entry db.Entry
	adv   *db.Advisory
	fixed []string
	// via is the package name the advisory names (binary or source).
	via string
}

// Match finds the vulnerabilities of every package of inv in d. Findings
// are of kind vulnerability with Package and Vulnerability filled; they
// come out in inventory order, one per package and vulnerability.
func Match(ctx context.Context, d *db.DB, inv *sbom.Inventory, opts Options) ([]finding.Finding, error) {
	if d == nil || inv == nil {
		return nil, nil
	}
	target := opts.Target
	if target == "" {
		target = inv.Target
	}
	out := make([]finding.Finding, 0, len(inv.Packages)/4)
	cache := map[string]*db.Advisory{}
	cc := &caches{cvss: cvssCache{}, sev: map[string]sevResult{}}
	err := d.View(func(r *db.Reader) error {
		for i := range inv.Packages {
			if i%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			p := &inv.Packages[i]
			hits, err := matchPackage(r, p, cache, opts.Logger)
			if err != nil {
				return err
			}
			for _, g := range groupHits(hits) {
				f, ok := buildFinding(p, g, target, opts, cc)
				if !ok {
					continue
				}
				if err := rateFromAliases(r, &f, g, cache, cc); err != nil {
					return err
				}
				out = append(out, f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("match vulnerabilities: %w", err)
	}
	return out, nil
}

// query is one (name, version) under which a package is looked up.
type query struct{ name, version string }

// queries returns the lookups for a package: Go's standard library under
// "stdlib"; OS packages under their binary and their source name (distro
// advisories name source packages; some, like Red Hat's, binary ones).
func queries(p *sbom.Package) (base, release string, qs []query) {
	base, release = osv.SplitEcosystem(p.Ecosystem)
	release = osv.NormalizeRelease(base, release)
	if base == "Go" && (p.Type == sbom.TypeStdlib || p.Name == "stdlib" || p.Name == "go" || p.Name == "golang") {
		v := strings.TrimPrefix(strings.TrimPrefix(p.Version, "go"), "v")
		return base, release, []query{{"stdlib", v}}
	}
	qs = []query{{p.Name, p.Version}}
	if p.SourceName != "" && p.SourceName != p.Name {
		v := p.SourceVersion
		if v == "" {
			v = p.Version
		}
		qs = append(qs, query{p.SourceName, v})
	}
	return base, release, qs
}

func matchPackage(r *db.Reader, p *sbom.Package, cache map[string]*db.Advisory, log *slog.Logger) ([]hit, error) {
	if p.Ecosystem == "" || p.Version == "" || p.Unpinned {
		return nil, nil
	}
	base, release, qs := queries(p)
	var hits []hit
	seen := map[string]int{} // advisory ID -> index in hits
	for _, q := range qs {
		if q.version == "" || q.version == "(devel)" {
			continue
		}
		inst := osv.NewInstalled(p.Ecosystem, q.version)
		accept := func(eco string) bool {
			_, rel := osv.SplitEcosystem(eco)
			return osv.ReleaseMatches(base, rel, release)
		}
		err := r.EntriesFiltered(base, q.name, accept, func(e db.Entry) error {
			if !accept(e.Ecosystem) {
				return nil
			}
			res, err := inst.Evaluate(e.Ranges, nil)
			if err == nil && !res.Affected && e.NumVersions > 0 {
				if len(e.Ranges) > 0 {
					// A list that comes with ranges enumerates them:
					// only an exact spelling can add a match.
					res.Affected = e.HasVersion(q.version)
				} else {
					res, err = inst.Evaluate(nil, e.LoadVersions())
				}
			}
			if err != nil {
				if log != nil {
					log.Debug("version does not parse", "package", p.Name, "version", q.version, "ecosystem", e.Ecosystem, "err", err)
				}
				return nil
			}
			if !res.Affected {
				return nil
			}
			if j, ok := seen[e.ID]; ok {
				hits[j].fixed = append(hits[j].fixed, res.Fixed...)
				if hits[j].entry.Severity == "" {
					hits[j].entry.Severity, hits[j].entry.SeveritySource = e.Severity, e.SeveritySource
				}
				return nil
			}
			adv, ok := cache[e.ID]
			if !ok {
				a, err := r.Advisory(e.ID)
				if err != nil {
					return err
				}
				if a == nil {
					a = &db.Advisory{ID: e.ID}
				}
				cache[e.ID], adv = a, a
			}
			seen[e.ID] = len(hits)
			hits = append(hits, hit{entry: e, adv: adv, fixed: res.Fixed, via: q.name})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// groupHits merges advisories that share an ID or alias (a GO- advisory
// and the GHSA it aliases, a PYSEC and its CVE...) into one group each.
func groupHits(hits []hit) [][]hit {
	switch len(hits) {
	case 0:
		return nil
	case 1:
		return [][]hit{hits}
	}
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, h := range hits {
		for _, id := range append([]string{h.adv.ID}, h.adv.Aliases...) {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	groups := map[int][]hit{}
	var order []int
	for i, h := range hits {
		root := find(i)
		if _, ok := groups[root]; !ok {
			order = append(order, root)
		}
		groups[root] = append(groups[root], h)
	}
	out := make([][]hit, 0, len(order))
	for _, root := range order {
		g := groups[root]
		sort.SliceStable(g, func(a, b int) bool { return g[a].adv.ID < g[b].adv.ID })
		out = append(out, g)
	}
	return out
}

// idRank orders IDs for display when no prefix is preferred: the
// ecosystem's own advisory first, then GHSA, then CVE.
func idRank(id string) int {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return 2
	case strings.HasPrefix(id, "GHSA-"):
		return 1
	}
	return 0
}

func chooseID(advIDs, all []string, prefix string) string {
	if prefix != "" {
		var best string
		for _, id := range all {
			if strings.HasPrefix(strings.ToUpper(id), strings.ToUpper(prefix)) && (best == "" || id < best) {
				best = id
			}
		}
		if best != "" {
			return best
		}
	}
	best := advIDs[0]
	for _, id := range advIDs[1:] {
		if idRank(id) < idRank(best) || idRank(id) == idRank(best) && id < best {
			best = id
		}
	}
	return best
}

func buildFinding(p *sbom.Package, g []hit, target string, opts Options, cc *caches) (finding.Finding, bool) {
	var advIDs, all, fixed []string
	if len(g) == 1 {
		// The common case, without sets.
		h := &g[0]
		advIDs = []string{h.adv.ID}
		all = make([]string, 0, 1+len(h.adv.Aliases))
		all = append(append(all, h.adv.ID), h.adv.Aliases...)
		for _, f := range h.fixed {
			if !slices.Contains(fixed, f) {
				fixed = append(fixed, f)
			}
		}
	} else {
		idSet := map[string]bool{}
		fixedSet := map[string]bool{}
		for _, h := range g {
			advIDs = append(advIDs, h.adv.ID)
			idSet[h.adv.ID] = true
			for _, a := range h.adv.Aliases {
				idSet[a] = true
			}
			for _, f := range h.fixed {
				if !fixedSet[f] {
					fixedSet[f] = true
					fixed = append(fixed, f)
				}
			}
		}
		all = make([]string, 0, len(idSet))
		for id := range idSet {
			all = append(all, id)
		}
	}
	if opts.IgnoreUnfixed && len(fixed) == 0 {
		return finding.Finding{}, false
	}
	if len(fixed) > 1 {
		sortVersions(g[0].entry.Ecosystem, fixed)
	}
	sort.Strings(all)
	all = slices.Compact(all)
	id := chooseID(advIDs, all, opts.PreferredIDPrefix)
	aliases := make([]string, 0, len(all))
	for _, a := range all {
		if a != id {
			aliases = append(aliases, a)
		}
	}
	if len(aliases) == 0 {
		aliases = nil
	}
	primary := g[0].adv
	for _, h := range g {
		if h.adv.ID == id {
			primary = h.adv
		}
	}
	sev, source, scores := cc.severity(g)

	pkg := &finding.Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
		SourceName: p.SourceName, SourceVersion: p.SourceVersion, Path: p.Path}
	title := primary.Summary
	if title == "" {
		for _, h := range g {
			if h.adv.Summary != "" {
				title = h.adv.Summary
				break
			}
		}
	}
	if title == "" {
		title = id + " in " + p.Name
	}
	msg := p.Name + " " + p.Version + " is affected by " + id
	if via := g[0].via; via != p.Name {
		msg += " (through source package " + via + ")"
	}
	remediation := ""
	if len(fixed) > 0 {
		msg += "; fixed in " + strings.Join(fixed, ", ")
		name := p.Name
		if g[0].via != p.Name {
			name = g[0].via + " (" + p.Name + ")"
		}
		remediation = "Upgrade " + name + " to " + fixed[0] + " or later."
	} else {
		msg += "; no fixed version yet"
	}
	var refs []string
	if len(g) == 1 {
		refs = slices.Clone(g[0].adv.References)
	} else {
		refSet := map[string]bool{}
		for _, h := range g {
			for _, u := range h.adv.References {
				if !refSet[u] {
					refSet[u] = true
					refs = append(refs, u)
				}
			}
		}
	}
	f := finding.Finding{
		Kind:        finding.KindVulnerability,
		RuleID:      id,
		Severity:    sev,
		Title:       title,
		Message:     msg,
		Description: primary.Details,
		Remediation: remediation,
		References:  refs,
		Target:      target,
		Location: finding.Location{
			Path:           p.Path,
			StartLine:      p.Line,
			LayerDigest:    p.LayerDigest,
			LayerDiffID:    p.LayerDiffID,
			LayerCreatedBy: p.LayerCreatedBy,
		},
		Package: pkg,
		Vulnerability: &finding.Vulnerability{
			ID:             id,
			Aliases:        aliases,
			FixedVersions:  fixed,
			CVSS:           scores,
			SeveritySource: source,
			Published:      primary.Published,
			Modified:       primary.Modified,
		},
	}
	// Stable across re-scans, upgrades of the package and a change of
	// preferred ID: the lowest advisory ID of the group.
	stable := advIDs[0]
	for _, a := range advIDs {
		if a < stable {
			stable = a
		}
	}
	f.Fingerprint = finding.Fingerprint(string(finding.KindVulnerability), stable, p.Name, p.Ecosystem, p.Path)
	return f, true
}

func sortVersions(eco string, vs []string) {
	sort.SliceStable(vs, func(i, j int) bool {
		if c, ok := osv.Compare(eco, osv.RangeEcosystem, vs[i], vs[j]); ok {
			return c < 0
		}
		return vs[i] < vs[j]
	})
}

// redHatFamily are the ecosystems whose advisory summaries start with the
// vendor's rating ("Important: openssl security update").
var redHatFamily = map[string]bool{"AlmaLinux": true, "Rocky Linux": true, "Red Hat": true, "Oracle Linux": true, "CentOS": true}

// vendorSeverity maps a vendor's word to a severity.
func vendorSeverity(s string) (finding.Severity, bool) {
	w := strings.ToUpper(strings.TrimSpace(s))
	switch w {
	case "UNIMPORTANT", "NEGLIGIBLE":
		return finding.SeverityLow, true
	case "", "UNKNOWN", "UNTRIAGED", "NOT YET ASSIGNED", "END-OF-LIFE":
		return finding.SeverityUnknown, false
	}
	v, err := finding.ParseSeverity(w)
	if err != nil || v == finding.SeverityUnknown {
		return finding.SeverityUnknown, false
	}
	return v, true
}

// severity picks a finding's severity: the vendor's or ecosystem's own
// rating when one is given (affected-entry severity, then the advisory's
// database_specific severity or vendor severity type, then a Red Hat-family
// summary prefix), else the CVSS base score (newest CVSS version first).
// It returns the severity, where it came from, and every CVSS score.
func severity(g []hit, cc cvssCache) (finding.Severity, string, []finding.CVSS) {
	var scores []finding.CVSS
	seenVec := map[string]bool{}
	for _, h := range g {
		for _, s := range h.adv.Severity {
			if !strings.HasPrefix(s.Type, "CVSS_") || seenVec[s.Score] {
				continue
			}
			seenVec[s.Score] = true
			sc, ok := cc.parse(s.Score)
			if !ok {
				continue
			}
			scores = append(scores, finding.CVSS{Version: sc.Version, Vector: sc.Vector, Score: sc.Base, Source: h.adv.ID})
		}
	}
	best := func(cands []struct {
		sev finding.Severity
		src string
	}) (finding.Severity, string, bool) {
		var out finding.Severity
		src := ""
		for _, c := range cands {
			if src == "" || c.sev > out {
				out, src = c.sev, c.src
			}
		}
		return out, src, src != ""
	}
	type cand = struct {
		sev finding.Severity
		src string
	}
	var lvl []cand
	for _, h := range g {
		if v, ok := vendorSeverity(h.entry.Severity); ok {
			lvl = append(lvl, cand{v, fmt.Sprintf("%s affected[].%s", h.adv.ID, h.entry.SeveritySource)})
		}
	}
	if s, src, ok := best(lvl); ok {
		return s, src, scores
	}
	lvl = lvl[:0]
	for _, h := range g {
		if v, ok := vendorSeverity(h.adv.DatabaseSeverity); ok {
			lvl = append(lvl, cand{v, h.adv.ID + " database_specific.severity"})
		}
		for _, s := range h.adv.Severity {
			if !strings.HasPrefix(s.Type, "CVSS_") {
				if v, ok := vendorSeverity(s.Score); ok {
					lvl = append(lvl, cand{v, h.adv.ID + " severity " + s.Type})
				}
			}
		}
		base, _ := osv.SplitEcosystem(h.entry.Ecosystem)
		if redHatFamily[base] {
			if word, _, ok := strings.Cut(h.adv.Summary, ":"); ok {
				if v, ok := vendorSeverity(word); ok {
					lvl = append(lvl, cand{v, h.adv.ID + " " + base + " rating"})
				}
			}
		}
	}
	if s, src, ok := best(lvl); ok {
		return s, src, scores
	}
	rank := map[string]int{"4.0": 4, "3.1": 3, "3.0": 2, "2.0": 1}
	var pick *finding.CVSS
	for i := range scores {
		s := &scores[i]
		if pick == nil || rank[s.Version] > rank[pick.Version] || rank[s.Version] == rank[pick.Version] && s.Score > pick.Score {
			pick = s
		}
	}
	if pick == nil {
		return finding.SeverityUnknown, "", scores
	}
	sev := finding.SeverityFromScore(pick.Score)
	if pick.Version == "2.0" {
		// v2 has no Critical band.
		switch {
		case pick.Score >= 7:
			sev = finding.SeverityHigh
		case pick.Score >= 4:
			sev = finding.SeverityMedium
		case pick.Score > 0:
			sev = finding.SeverityLow
		}
	}
	return sev, fmt.Sprintf("%s CVSS:%s", pick.Source, pick.Version), scores
}

// cvssCache remembers scored vectors within one Match.
type cvssCache map[string]*cvss.Score

func (c cvssCache) parse(vector string) (cvss.Score, bool) {
	if s, ok := c[vector]; ok {
		if s == nil {
			return cvss.Score{}, false
		}
		return *s, true
	}
	s, err := cvss.Parse(vector)
	if err != nil {
		c[vector] = nil
		return cvss.Score{}, false
	}
	c[vector] = &s
	return s, true
}

type sevResult struct {
	sev    finding.Severity
	source string
	scores []finding.CVSS
}

// caches hold what one Match computes once: CVSS scores by vector and the
// severity of single-advisory findings.
type caches struct {
	cvss cvssCache
	sev  map[string]sevResult
}

func (c *caches) severity(g []hit) (finding.Severity, string, []finding.CVSS) {
	if len(g) != 1 {
		return severity(g, c.cvss)
	}
	h := &g[0]
	key := h.adv.ID + "\x00" + h.entry.Severity + "\x00" + h.entry.SeveritySource + "\x00" + h.entry.Ecosystem
	if r, ok := c.sev[key]; ok {
		return r.sev, r.source, slices.Clone(r.scores)
	}
	sev, src, scores := severity(g, c.cvss)
	c.sev[key] = sevResult{sev, src, scores}
	return sev, src, slices.Clone(scores)
}
