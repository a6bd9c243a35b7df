package admission

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// VulnPolicy is the admission.vulnerabilities section: refuse images whose
// latest Ward report has vulnerabilities above MaxSeverity, except
// allow-listed IDs until their expiry.
type VulnPolicy struct {
	// MaxSeverity is the highest severity tolerated (LOW, MEDIUM, HIGH,
	// CRITICAL); a vulnerability above it refuses the image.
	MaxSeverity string `yaml:"maxSeverity"`
	// Reports is a directory of `ward image --format json` reports,
	// relative to the policy file; the newest report per image digest wins.
	Reports string `yaml:"reports"`
	// Server asks a ward server instead of a directory (vulnserver.go).
	Server *VulnServer `yaml:"server"`
	// RequireReport refuses images no report covers (default: admitted).
	RequireReport bool        `yaml:"requireReport"`
	Allow         []VulnAllow `yaml:"allow"`
	Mode          Mode        `yaml:"mode"`
}

// VulnAllow allows one vulnerability ID (or alias) until Expires.
type VulnAllow struct {
	ID      string `yaml:"id"`
	Expires string `yaml:"expires"` // YYYY-MM-DD, inclusive (UTC)
	Reason  string `yaml:"reason"`

	until time.Time
}

// Limits of the report directory.
const (
	MaxReportBytes = 64 << 20
	MaxReports     = 10000
	// reportRecheck is how often the directory is looked at for changes.
	reportRecheck = 2 * time.Second
)

type vulnGate struct {
	max    finding.Severity
	allow  []VulnAllow
	src    *ReportDir    // reports directory, or
	server *serverSource // a ward server
	req    bool
	mode   Mode
	now    func() time.Time
}

func compileVuln(path string, v *VulnPolicy) (*vulnGate, error) {
	if v.MaxSeverity == "" {
		return nil, fmt.Errorf("%s: vulnerabilities.maxSeverity: required", path)
	}
	max, err := finding.ParseSeverity(v.MaxSeverity)
	if err != nil {
		return nil, fmt.Errorf("%s: vulnerabilities.maxSeverity: %w", path, err)
	}
	g := &vulnGate{max: max, req: v.RequireReport, mode: v.Mode, now: time.Now}
	switch {
	case v.Reports != "" && v.Server != nil:
		return nil, fmt.Errorf("%s: vulnerabilities: give reports or server, not both", path)
	case v.Server != nil:
		if g.server, err = compileServer(path, v, max); err != nil {
			return nil, err
		}
	case v.Reports != "":
		dir := v.Reports
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(path), dir)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%s: vulnerabilities.reports: %s is not a directory", path, dir)
		}
		g.src = NewReportDir(dir)
	default:
		return nil, fmt.Errorf("%s: vulnerabilities: give reports (a directory of ward image --format json reports) or server (a ward server)", path)
	}
	for i, a := range v.Allow {
		if a.ID == "" {
			return nil, fmt.Errorf("%s: vulnerabilities.allow[%d]: id is required", path, i)
		}
		if a.Reason == "" {
			return nil, fmt.Errorf("%s: vulnerabilities.allow[%d] (%s): reason is required", path, i, a.ID)
		}
		t, err := time.Parse("2006-01-02", a.Expires)
		if err != nil {
			return nil, fmt.Errorf("%s: vulnerabilities.allow[%d] (%s): expires %q: want YYYY-MM-DD", path, i, a.ID, a.Expires)
		}
		a.until = t.Add(24 * time.Hour) // the whole expiry day
		g.allow = append(g.allow, a)
	}
	return g, nil
}

// allowed reports whether an allow-list entry in force covers v.
func (g *vulnGate) allowed(v vulnRecord, now time.Time) bool {
	for _, a := range g.allow {
		if !now.Before(a.until) {
			continue
		}
		if strings.EqualFold(a.ID, v.ID) {
			return true
		}
		for _, al := range v.Aliases {
			if strings.EqualFold(a.ID, al) {
				return true
			}
		}
	}
	return false
}

// check returns the violation for an image digest, "" when admitted.
func (g *vulnGate) check(digest string) (string, error) {
	rep, err := g.src.Lookup(digest)
	if err != nil {
		return "", err
	}
	if rep == nil {
		if g.req {
			return "no vulnerability report for " + digest + " (requireReport)", nil
		}
		return "", nil
	}
	return g.violation(rep.vulns, "in report "+rep.file, false), nil
}

// violation lists the vulnerabilities above the maximum that no
// allow-list entry covers, "" when there are none; more says the source
// held further findings not read.
func (g *vulnGate) violation(vulns []vulnRecord, where string, more bool) string {
	now := g.now()
	var bad []string
	for _, v := range vulns {
		if v.Severity <= g.max || g.allowed(v, now) {
			continue
		}
		s := v.ID + " (" + v.Severity.String()
		if v.Package != "" {
			s += ", " + v.Package
		}
		bad = append(bad, s+")")
	}
	if len(bad) == 0 {
		return ""
	}
	sort.Strings(bad)
	n, tail := len(bad), ""
	if n > 10 {
		tail = fmt.Sprintf(" and %d more", n-10)
		bad = bad[:10]
	}
	count := fmt.Sprint(n)
	if more {
		count = "at least " + count
	}
	return fmt.Sprintf("%s vulnerabilities above %s %s: %s%s", count, g.max, where, strings.Join(bad, ", "), tail)
}

// vulnRecord is what the gate keeps of one vulnerability finding.
type vulnRecord struct {
	ID       string
	Aliases  []string
	Severity finding.Severity
	Package  string
}

type reportSummary struct {
	file  string
	mod   time.Time
	vulns []vulnRecord
}

// ReportDir indexes a directory of Ward JSON reports by artifact digest,
// re-reading it when a file is added, changed or removed (looked at most
// every two seconds). Only the vulnerability findings are kept.
type ReportDir struct {
	dir     string
	mu      sync.Mutex
	checked time.Time
	stamp   string
	byDig   map[string]*reportSummary
}

// NewReportDir returns an index of dir, loaded on first use.
func NewReportDir(dir string) *ReportDir { return &ReportDir{dir: dir} }

// Lookup returns the newest report for digest (sha256:…), nil when none.
func (r *ReportDir) Lookup(digest string) (*reportSummary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byDig == nil || time.Since(r.checked) >= reportRecheck {
		r.checked = time.Now()
		if err := r.reload(); err != nil {
			// Keep serving the last good index; report when there is none.
			if r.byDig == nil {
				return nil, err
			}
		}
	}
	return r.byDig[digest], nil
}

func (r *ReportDir) reload() error {
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("vulnerability reports %s: %w", r.dir, err)
	}
	type file struct {
		path string
		mod  time.Time
		size int64
	}
	var files []file
	var stamp strings.Builder
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, file{filepath.Join(r.dir, e.Name()), fi.ModTime(), fi.Size()})
		fmt.Fprintf(&stamp, "%s\x00%d\x00%d\n", e.Name(), fi.ModTime().UnixNano(), fi.Size())
		if len(files) > MaxReports {
			return fmt.Errorf("vulnerability reports %s: more than %d files", r.dir, MaxReports)
		}
	}
	if r.byDig != nil && stamp.String() == r.stamp {
		return nil
	}
	idx := map[string]*reportSummary{}
	for _, f := range files {
		s, dig, err := readReport(f.path, f.size)
		if err != nil || dig == "" {
			continue // not a Ward image report; other files may share the directory
		}
		s.mod = f.mod
		if old := idx[dig]; old == nil || f.mod.After(old.mod) || (f.mod.Equal(old.mod) && f.path > old.file) {
			idx[dig] = s
		}
	}
	r.byDig, r.stamp = idx, stamp.String()
	return nil
}

// readReport decodes one report, keeping its artifact digest and the
// vulnerability findings.
func readReport(path string, size int64) (*reportSummary, string, error) {
	if size > MaxReportBytes {
		return nil, "", fmt.Errorf("%s: larger than %d bytes", path, MaxReportBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	return parseReport(filepath.Base(path), f)
}

// parseReport decodes a Ward JSON report from r (at most MaxReportBytes).
func parseReport(name string, r io.Reader) (*reportSummary, string, error) {
	var rep struct {
		Artifact struct {
			Type   string `json:"type"`
			Digest string `json:"digest"`
		} `json:"artifact"`
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.NewDecoder(io.LimitReader(r, MaxReportBytes)).Decode(&rep); err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	s := &reportSummary{file: name}
	for _, fd := range rep.Findings {
		if fd.Kind != finding.KindVulnerability || fd.Suppressed != nil {
			continue
		}
		v := vulnRecord{ID: fd.RuleID, Severity: fd.Severity}
		if fd.Vulnerability != nil {
			if fd.Vulnerability.ID != "" {
				v.ID = fd.Vulnerability.ID
			}
			v.Aliases = fd.Vulnerability.Aliases
		}
		if fd.Package != nil {
			v.Package = fd.Package.Name + "@" + fd.Package.Version
		}
		s.vulns = append(s.vulns, v)
	}
	return s, rep.Artifact.Digest, nil
}
