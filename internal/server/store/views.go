package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// Counts summarises the store for a dashboard's front page.
type Counts struct {
	Open           int            `json:"open"`
	OpenBySeverity map[string]int `json:"open_by_severity"`
	OpenByKind     map[string]int `json:"open_by_kind"`
	Fixable        int            `json:"open_fixable"`
	Suppressed     int            `json:"suppressed"`
	Targets        int            `json:"targets"`
	Scans          int            `json:"scans"`
	NewestScan     *time.Time     `json:"newest_scan,omitempty"`
	// DBVersion is the vulnerability DB version the newest scan named.
	DBVersion string `json:"db_version,omitempty"`
}

func emptySeverities() map[string]int {
	m := make(map[string]int, len(finding.Severities))
	for _, s := range finding.Severities {
		m[s.String()] = 0
	}
	return m
}

// Counts returns open findings by severity and kind, totals and the
// newest scan (from the materialised per-target counts).
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	if err := s.expireDue(ctx); err != nil {
		return Counts{}, err
	}
	c := Counts{OpenBySeverity: emptySeverities(), OpenByKind: map[string]int{}}
	rows, err := s.db.QueryContext(ctx, `SELECT severity, kind, fixable, SUM(n) FROM target_counts GROUP BY severity, kind, fixable`)
	if err != nil {
		return c, fmt.Errorf("store: counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sev, kind string
		var fixable int
		var n int64
		if err := rows.Scan(&sev, &kind, &fixable, &n); err != nil {
			return c, fmt.Errorf("store: counts: %w", err)
		}
		c.Open += int(n)
		c.OpenBySeverity[sev] += int(n)
		c.OpenByKind[kind] += int(n)
		if fixable == 1 {
			c.Fixable += int(n)
		}
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("store: counts: %w", err)
	}
	rows.Close()
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM findings WHERE status = 'suppressed'`).Scan(&c.Suppressed); err != nil {
		return c, fmt.Errorf("store: counts: %w", err)
	}
	var scans sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(last_seq) FROM targets`).Scan(&c.Targets, &scans); err != nil {
		return c, fmt.Errorf("store: counts: %w", err)
	}
	c.Scans = int(scans.Int64)
	var at int64
	err = s.db.QueryRowContext(ctx, `SELECT created_at, db_version FROM scans ORDER BY created_at DESC LIMIT 1`).Scan(&at, &c.DBVersion)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return c, fmt.Errorf("store: counts: %w", err)
	default:
		t := fromMS(at)
		c.NewestScan = &t
	}
	return c, nil
}

// TrendPoint is the number of open findings by severity at the end of a
// UTC day (the last change that day; days without a change carry the
// previous day's numbers).
type TrendPoint struct {
	Day  time.Time      `json:"day"`
	Open map[string]int `json:"open"`
}

// Trends returns one point per UTC day for the last days days (1-366),
// oldest first, ending today.
func (s *Store) Trends(ctx context.Context, days int) ([]TrendPoint, error) {
	if days < 1 || days > 366 {
		return nil, invalidf("trend of %d days: want 1 to 366", days)
	}
	if err := s.expireDue(ctx); err != nil {
		return nil, err
	}
	today := dayOf(s.now())
	first := today - int64(days) + 1
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT day, severity, n FROM trend_daily
		WHERE day >= COALESCE((SELECT MAX(day) FROM trend_daily WHERE day < ?), ?) AND day <= ? ORDER BY day`), first, first, today)
	if err != nil {
		return nil, fmt.Errorf("store: trends: %w", err)
	}
	defer rows.Close()
	byDay := map[int64]map[string]int{}
	var known []int64
	for rows.Next() {
		var day, n int64
		var sev string
		if err := rows.Scan(&day, &sev, &n); err != nil {
			return nil, fmt.Errorf("store: trends: %w", err)
		}
		m, ok := byDay[day]
		if !ok {
			m = emptySeverities()
			byDay[day] = m
			known = append(known, day)
		}
		m[sev] = int(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: trends: %w", err)
	}
	out := make([]TrendPoint, 0, days)
	cur := emptySeverities()
	k := 0
	for d := first; d <= today; d++ {
		for k < len(known) && known[k] <= d {
			cur = byDay[known[k]]
			k++
		}
		m := make(map[string]int, len(cur))
		for sev, n := range cur {
			m[sev] = n
		}
		out = append(out, TrendPoint{Day: time.Unix(d*86400, 0).UTC(), Open: m})
	}
	return out, nil
}

// TargetSummary is one scanned artifact (image, repository, cluster, host…).
type TargetSummary struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Digest     string         `json:"digest,omitempty"`
	LastScan   *time.Time     `json:"last_scan,omitempty"`
	LastScanID string         `json:"last_scan_id,omitempty"`
	Scans      int64          `json:"scans"`
	Open       map[string]int `json:"open"`
	OpenTotal  int            `json:"open_total"`
	Fixable    int            `json:"fixable"`
	// Signature is the image digest's signature state when the server
	// checked it (nil: not checked, or not an image).
	Signature *ImageSignature `json:"signature,omitempty"`
}

// Targets returns one page of targets, newest first, optionally of one
// artifact type ("container_image", "filesystem", "config", "host", …),
// with their open counts, and the next page's cursor.
func (s *Store) Targets(ctx context.Context, typ, cursor string, limit int) ([]TargetSummary, string, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, "", err
	}
	if err := s.expireDue(ctx); err != nil {
		return nil, "", err
	}
	var where []string
	var args []any
	if cursor != "" {
		id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, "id < ?"), append(args, id)
	}
	if typ != "" {
		where, args = append(where, "type = ?"), append(args, typ)
	}
	query := `SELECT id, name, type, digest, last_scan_at, last_scan, last_seq FROM targets`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: targets: %w", err)
	}
	defer rows.Close()
	var out []TargetSummary
	next := ""
	for rows.Next() {
		if len(out) == limit {
			next = encodeCursor(out[len(out)-1].ID)
			break
		}
		var t TargetSummary
		var at sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Type, &t.Digest, &at, &t.LastScanID, &t.Scans); err != nil {
			return nil, "", fmt.Errorf("store: targets: %w", err)
		}
		t.LastScan = fromMSPtr(at)
		t.Open = emptySeverities()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: targets: %w", err)
	}
	rows.Close()
	if err := s.addDetails(ctx, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// addOpenCounts fills the open counts of out (at most a page of targets)
// from target_counts.
func (s *Store) addOpenCounts(ctx context.Context, out []TargetSummary) error {
	if len(out) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(out))
	ph := make([]string, len(out))
	cargs := make([]any, len(out))
	for i := range out {
		idx[out[i].ID] = i
		ph[i] = "?"
		cargs[i] = out[i].ID
	}
	crows, err := s.db.QueryContext(ctx, s.q(`SELECT target_id, severity, fixable, SUM(n) FROM target_counts
		WHERE target_id IN (`+strings.Join(ph, ",")+`) GROUP BY target_id, severity, fixable`), cargs...)
	if err != nil {
		return fmt.Errorf("store: targets: open counts: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var id, n int64
		var sev string
		var fixable int
		if err := crows.Scan(&id, &sev, &fixable, &n); err != nil {
			return fmt.Errorf("store: targets: open counts: %w", err)
		}
		t := &out[idx[id]]
		t.Open[sev] += int(n)
		t.OpenTotal += int(n)
		if fixable == 1 {
			t.Fixable += int(n)
		}
	}
	if err := crows.Err(); err != nil {
		return fmt.Errorf("store: targets: open counts: %w", err)
	}
	return nil
}

// NamespaceSummary is the open findings of one Kubernetes namespace.
type NamespaceSummary struct {
	Namespace string         `json:"namespace"`
	Open      map[string]int `json:"open"` // by severity
	ByKind    map[string]int `json:"by_kind"`
	Total     int            `json:"total"`
}

// Namespaces returns the open findings per namespace, by name.
func (s *Store) Namespaces(ctx context.Context) ([]NamespaceSummary, error) {
	if err := s.expireDue(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT namespace, severity, kind, SUM(n) FROM target_counts
		WHERE namespace <> '' GROUP BY namespace, severity, kind ORDER BY namespace`)
	if err != nil {
		return nil, fmt.Errorf("store: namespaces: %w", err)
	}
	defer rows.Close()
	var out []NamespaceSummary
	for rows.Next() {
		var ns, sev, kind string
		var n int64
		if err := rows.Scan(&ns, &sev, &kind, &n); err != nil {
			return nil, fmt.Errorf("store: namespaces: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Namespace != ns {
			out = append(out, NamespaceSummary{Namespace: ns, Open: emptySeverities(), ByKind: map[string]int{}})
		}
		e := &out[len(out)-1]
		e.Open[sev] += int(n)
		e.ByKind[kind] += int(n)
		e.Total += int(n)
	}
	return out, rows.Err()
}

// ComplianceScore is one framework's controls over every target's latest
// compliance results (report compliance controls and benchmark findings).
type ComplianceScore struct {
	Framework string  `json:"framework"`
	Passed    int     `json:"passed"`
	Failed    int     `json:"failed"`
	Targets   int     `json:"targets"`
	Score     float64 `json:"score"` // passed / (passed+failed) × 100, one decimal
}

// Compliance returns a score per framework, by name.
func (s *Store) Compliance(ctx context.Context) ([]ComplianceScore, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT framework,
		SUM(CASE WHEN status = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'fail' THEN 1 ELSE 0 END),
		COUNT(DISTINCT target_id) FROM compliance GROUP BY framework ORDER BY framework`)
	if err != nil {
		return nil, fmt.Errorf("store: compliance: %w", err)
	}
	defer rows.Close()
	var out []ComplianceScore
	for rows.Next() {
		var c ComplianceScore
		var pass, fail int64
		if err := rows.Scan(&c.Framework, &pass, &fail, &c.Targets); err != nil {
			return nil, fmt.Errorf("store: compliance: %w", err)
		}
		c.Passed, c.Failed = int(pass), int(fail)
		if total := pass + fail; total > 0 {
			c.Score = math.Round(float64(pass)*1000/float64(total)) / 10
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SBOMs calls fn with every stored package inventory (the latest of each
// target: a report with artifact, tool, os and packages set), in target
// order; fn's error stops the walk and is returned. No query is open while
// fn runs, so it may use the store.
func (s *Store) SBOMs(ctx context.Context, fn func(target string, rep *report.Report) error) error {
	const page = 32
	after := int64(0)
	for {
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT b.target_id, t.name, b.body FROM sboms b JOIN targets t ON t.id = b.target_id
			WHERE b.target_id > ? ORDER BY b.target_id LIMIT ?`), after, page)
		if err != nil {
			return fmt.Errorf("store: sboms: %w", err)
		}
		type item struct {
			name string
			body []byte
		}
		var items []item
		for rows.Next() {
			var it item
			if err := rows.Scan(&after, &it.name, &it.body); err != nil {
				rows.Close()
				return fmt.Errorf("store: sboms: %w", err)
			}
			items = append(items, it)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("store: sboms: %w", err)
		}
		for _, it := range items {
			var rep report.Report
			if err := json.Unmarshal(it.body, &rep); err != nil {
				return fmt.Errorf("store: sbom of %s: %w", it.name, err)
			}
			if err := fn(it.name, &rep); err != nil {
				return err
			}
		}
		if len(items) < page {
			return nil
		}
	}
}
