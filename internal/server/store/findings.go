package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// Finding statuses.
const (
	StatusOpen       = "open"
	StatusFixed      = "fixed"
	StatusSuppressed = "suppressed"
)

// FindingFilter selects stored findings; zero fields do not filter.
type FindingFilter struct {
	Kind string // vulnerability, misconfiguration, secret, runtime, benchmark
	// Severity is a level name ("HIGH") or a level and above ("HIGH+").
	Severity string
	// Target is a target (artifact) name or its image digest
	// ("sha256:…"), exact.
	Target string
	// Digest is an exact image digest ("sha256:…"): the findings of every
	// target whose last scan had that digest.
	Digest    string
	Namespace string
	Rule      string // rule ID, exact
	Status    string // open, fixed, suppressed
	Fixable   *bool
	// Since keeps findings first seen at or after it.
	Since  time.Time
	Cursor string // from a previous page's next
	Limit  int    // default 100, at most 1000

	// targetIDs are the targets Target and Digest name, resolved before
	// the page query (resolved says so): the query then reads the
	// (target_id, status, id) index instead of letting the planner pick
	// a by-status scan over every target's findings.
	targetIDs []int64
	resolved  bool
}

// maxResolvedTargets bounds the target ids a filter is resolved to; more
// (one digest under very many names) keep the sub-select.
const maxResolvedTargets = 64

// resolveTargets fills f.targetIDs from f.Target and f.Digest. It reports
// false when they name no target (the page is empty).
func (s *Store) resolveTargets(ctx context.Context, f *FindingFilter) (bool, error) {
	if f.Target == "" && f.Digest == "" {
		return true, nil
	}
	if f.Digest != "" && !validDigest(f.Digest) {
		return false, invalidf("digest %q: want ALGORITHM:HEX, e.g. sha256:<64 hex digits>", f.Digest)
	}
	var where []string
	var args []any
	if f.Target != "" {
		where, args = append(where, "(name = ? OR digest = ?)"), append(args, f.Target, f.Target)
	}
	if f.Digest != "" {
		where, args = append(where, "digest = ?"), append(args, f.Digest)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM targets WHERE `+strings.Join(where, " AND ")+` LIMIT ?`), append(args, maxResolvedTargets+1)...)
	if err != nil {
		return false, fmt.Errorf("store: findings: targets: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return false, fmt.Errorf("store: findings: targets: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("store: findings: targets: %w", err)
	}
	if len(ids) > maxResolvedTargets {
		return true, nil // the sub-selects stay
	}
	f.targetIDs, f.resolved = ids, true
	return len(ids) > 0, nil
}

// Suppression is why and until when a stored finding is suppressed.
type Suppression struct {
	Reason string     `json:"reason"`
	By     string     `json:"by"`
	At     time.Time  `json:"at"`
	Until  *time.Time `json:"until,omitempty"`
}

// StoredFinding is a finding with its lifecycle.
type StoredFinding struct {
	ID         int64  `json:"id"`
	Target     string `json:"target"`
	TargetType string `json:"target_type"`
	// Finding is the finding as the report had it (pkg/finding JSON).
	Finding     json.RawMessage `json:"finding"`
	Status      string          `json:"status"`
	FirstSeen   time.Time       `json:"first_seen"`
	LastSeen    time.Time       `json:"last_seen"`
	FixedAt     *time.Time      `json:"fixed_at,omitempty"`
	Suppression *Suppression    `json:"suppression,omitempty"`
}

// ScanRef is one scan that saw a finding.
type ScanRef struct {
	ScanID      string    `json:"scan_id"`
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	ToolVersion string    `json:"tool_version"`
	DBVersion   string    `json:"db_version,omitempty"`
}

const (
	defaultLimit = 100
	maxLimit     = 1000
)

func pageLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, invalidf("limit %d is negative", n)
	case n == 0:
		return defaultLimit, nil
	case n > maxLimit:
		return maxLimit, nil
	}
	return n, nil
}

// severityNames resolves a severity filter to the level names it keeps.
func severityNames(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	plus := strings.HasSuffix(v, "+")
	name := strings.TrimSuffix(v, "+")
	if name == "" {
		return nil, invalidf("severity %q: want a level (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL) or LEVEL+", v)
	}
	sev, err := finding.ParseSeverity(name)
	if err != nil {
		return nil, invalidf("severity: %v", err)
	}
	if !plus {
		return []string{sev.String()}, nil
	}
	var out []string
	for _, s := range finding.Severities {
		if s >= sev {
			out = append(out, s.String())
		}
	}
	return out, nil
}

func validKind(k string) bool {
	for _, x := range finding.Kinds {
		if string(x) == k {
			return true
		}
	}
	return false
}

// validDigest reports whether d has the OCI digest shape algorithm:encoded
// (sha256 and sha512 must be lowercase hex of their length).
func validDigest(d string) bool {
	alg, enc, ok := strings.Cut(d, ":")
	if !ok || alg == "" || enc == "" {
		return false
	}
	for _, r := range alg {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	hexOnly := true
	for _, r := range enc {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
		case r >= 'A' && r <= 'Z', r >= 'g' && r <= 'z', r == '=', r == '_', r == '-':
			hexOnly = false
		default:
			return false
		}
	}
	switch alg {
	case "sha256":
		return hexOnly && len(enc) == 64
	case "sha512":
		return hexOnly && len(enc) == 128
	}
	return true
}

func validStatus(st string) bool {
	return st == StatusOpen || st == StatusFixed || st == StatusSuppressed
}

// inList renders "col IN (?,?)" and appends the values.
func inList(col string, vals []string, args []any) (string, []any) {
	ph := strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
	for _, v := range vals {
		args = append(args, v)
	}
	return col + " IN (" + ph + ")", args
}

const storedFindingCols = `f.id, t.name, t.type, f.body, f.status, f.first_seen, f.last_seen, f.fixed_at,
	f.suppress_reason, f.suppress_by, f.suppress_at, f.suppress_until`

func scanStoredFinding(sc interface{ Scan(...any) error }) (StoredFinding, error) {
	var f StoredFinding
	var body []byte
	var first, last int64
	var fixed, supAt, supUntil sql.NullInt64
	var reason, by string
	if err := sc.Scan(&f.ID, &f.Target, &f.TargetType, &body, &f.Status, &first, &last, &fixed, &reason, &by, &supAt, &supUntil); err != nil {
		return f, err
	}
	f.Finding = json.RawMessage(body)
	f.FirstSeen, f.LastSeen, f.FixedAt = fromMS(first), fromMS(last), fromMSPtr(fixed)
	if f.Status == StatusSuppressed {
		sup := &Suppression{Reason: reason, By: by, Until: fromMSPtr(supUntil)}
		if supAt.Valid {
			sup.At = fromMS(supAt.Int64)
		}
		f.Suppression = sup
	}
	return f, nil
}

// Findings returns one page of stored findings matching f, newest first
// (keyset on id), and the cursor of the next page ("" on the last page).
func (s *Store) Findings(ctx context.Context, f FindingFilter) ([]StoredFinding, string, error) {
	found, err := s.resolveTargets(ctx, &f)
	if err != nil {
		return nil, "", err
	}
	if !found {
		if _, _, _, err := s.findingsQuery(f); err != nil {
			return nil, "", err // a bad filter is still refused
		}
		return []StoredFinding{}, "", nil
	}
	query, args, limit, err := s.findingsQuery(f)
	if err != nil {
		return nil, "", err
	}
	if err := s.expireDue(ctx); err != nil {
		return nil, "", err
	}
	return s.findingsPage(ctx, "findings", query, args, limit, nil)
}

// findingsPage runs a page query of stored findings (storedFindingCols,
// newest first, at most limit+1 rows) and returns up to limit of them that
// keep accepts (nil: all) with the cursor of the next page.
func (s *Store) findingsPage(ctx context.Context, what, query string, args []any, limit int, keep func(StoredFinding) bool) ([]StoredFinding, string, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := make([]StoredFinding, 0, min(limit, 128))
	next := ""
	for rows.Next() {
		if len(out) == limit {
			next = encodeCursor(out[len(out)-1].ID)
			break
		}
		sf, err := scanStoredFinding(rows)
		if err != nil {
			return nil, "", fmt.Errorf("store: %s: %w", what, err)
		}
		if keep != nil && !keep(sf) {
			continue
		}
		out = append(out, sf)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: %s: %w", what, err)
	}
	return out, next, nil
}

// findingsQuery builds the page query of f (engine placeholders) and its
// arguments. A filter on several severities (LEVEL+) becomes a UNION ALL
// of one page per severity, each read in id order from the
// (status, severity, id) or (severity, id) index, then merged: an IN list
// would make either engine sort every matching row.
func (s *Store) findingsQuery(f FindingFilter) (string, []any, int, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return "", nil, 0, err
	}
	var where []string
	var args []any
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		where, args = append(where, "f.id < ?"), append(args, id)
	}
	if f.Kind != "" {
		if !validKind(f.Kind) {
			return "", nil, 0, invalidf("kind %q: want vulnerability, misconfiguration, secret, runtime or benchmark", f.Kind)
		}
		where, args = append(where, "f.kind = ?"), append(args, f.Kind)
	}
	var sevs []string
	if f.Severity != "" {
		if sevs, err = severityNames(f.Severity); err != nil {
			return "", nil, 0, err
		}
	}
	switch {
	case f.resolved && len(f.targetIDs) == 1:
		where, args = append(where, "f.target_id = ?"), append(args, f.targetIDs[0])
	case f.resolved:
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(f.targetIDs)), ", ")
		where = append(where, "f.target_id IN ("+ph+")")
		for _, id := range f.targetIDs {
			args = append(args, id)
		}
	case f.Target != "":
		where, args = append(where, "f.target_id IN (SELECT id FROM targets WHERE name = ? OR digest = ?)"), append(args, f.Target, f.Target)
	}
	if f.Digest != "" && !f.resolved {
		if !validDigest(f.Digest) {
			return "", nil, 0, invalidf("digest %q: want ALGORITHM:HEX, e.g. sha256:<64 hex digits>", f.Digest)
		}
		where, args = append(where, "f.target_id IN (SELECT id FROM targets WHERE digest = ?)"), append(args, f.Digest)
	}
	if f.Namespace != "" {
		where, args = append(where, "f.namespace = ?"), append(args, f.Namespace)
	}
	if f.Rule != "" {
		where, args = append(where, "f.rule_id = ?"), append(args, f.Rule)
	}
	if f.Status != "" {
		if !validStatus(f.Status) {
			return "", nil, 0, invalidf("status %q: want open, fixed or suppressed", f.Status)
		}
		where, args = append(where, "f.status = ?"), append(args, f.Status)
	}
	if f.Fixable != nil {
		v := 0
		if *f.Fixable {
			v = 1
		}
		where, args = append(where, "f.fixable = ?"), append(args, v)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "f.first_seen >= ?"), append(args, ms(f.Since))
	}
	page := func(where []string) string {
		// CROSS JOIN keeps findings the outer loop on SQLite (its planner
		// otherwise may scan targets and sort every match); PostgreSQL
		// plans it as the inner join it is.
		q := `SELECT ` + storedFindingCols + ` FROM findings f CROSS JOIN targets t WHERE t.id = f.target_id`
		if len(where) > 0 {
			q += " AND " + strings.Join(where, " AND ")
		}
		return q + " ORDER BY f.id DESC LIMIT ?"
	}
	if len(sevs) <= 1 {
		if len(sevs) == 1 {
			where, args = append(where, "f.severity = ?"), append(args, sevs[0])
		}
		return s.q(page(where)), append(args, limit+1), limit, nil
	}
	arms := make([]string, len(sevs))
	all := make([]any, 0, len(sevs)*(len(args)+2)+1)
	for i, sev := range sevs {
		arms[i] = fmt.Sprintf("SELECT * FROM (%s) s%d", page(append(where[:len(where):len(where)], "f.severity = ?")), i)
		all = append(append(all, args...), sev, limit+1)
	}
	return s.q(strings.Join(arms, " UNION ALL ") + " ORDER BY 1 DESC LIMIT ?"), append(all, limit+1), limit, nil
}

// maxHistory bounds the scans Finding returns (newest first).
const maxHistory = 1000

// Finding returns one stored finding and the scans that saw it, newest
// first (at most 1000); ErrNotFound when id does not exist.
func (s *Store) Finding(ctx context.Context, id int64) (StoredFinding, []ScanRef, error) {
	if err := s.expireDue(ctx); err != nil {
		return StoredFinding{}, nil, err
	}
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+storedFindingCols+`, f.target_id, f.run_start, f.last_seq
		FROM findings f JOIN targets t ON t.id = f.target_id WHERE f.id = ?`), id)
	var targetID, runStart, lastSeq int64
	sf, err := scanStoredFinding(scanFunc(func(dest ...any) error {
		return row.Scan(append(dest, &targetID, &runStart, &lastSeq)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return StoredFinding{}, nil, fmt.Errorf("%w: finding %d", ErrNotFound, id)
	}
	if err != nil {
		return StoredFinding{}, nil, fmt.Errorf("store: finding %d: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT s.id, s.seq, s.created_at, s.tool_version, s.db_version FROM scans s
		WHERE s.target_id = ? AND ((s.seq >= ? AND s.seq <= ?)
			OR EXISTS (SELECT 1 FROM finding_runs r WHERE r.finding_id = ? AND s.seq >= r.from_seq AND s.seq <= r.to_seq))
		ORDER BY s.seq DESC LIMIT ?`), targetID, runStart, lastSeq, id, maxHistory)
	if err != nil {
		return StoredFinding{}, nil, fmt.Errorf("store: finding %d: history: %w", id, err)
	}
	defer rows.Close()
	var hist []ScanRef
	for rows.Next() {
		var r ScanRef
		var at int64
		if err := rows.Scan(&r.ScanID, &r.Seq, &at, &r.ToolVersion, &r.DBVersion); err != nil {
			return StoredFinding{}, nil, fmt.Errorf("store: finding %d: history: %w", id, err)
		}
		r.At = fromMS(at)
		hist = append(hist, r)
	}
	if err := rows.Err(); err != nil {
		return StoredFinding{}, nil, fmt.Errorf("store: finding %d: history: %w", id, err)
	}
	return sf, hist, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Suppress marks finding id suppressed with a reason, optionally until a
// time (then it is open again); audited.
func (s *Store) Suppress(ctx context.Context, id int64, reason, actor string, until *time.Time) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return invalidf("suppress finding %d: empty reason", id)
	}
	now := s.now()
	var untilMS sql.NullInt64
	if until != nil {
		if !until.After(now) {
			return invalidf("suppress finding %d: until %s is not in the future", id, until.UTC().Format(time.RFC3339))
		}
		untilMS = sql.NullInt64{Int64: ms(*until), Valid: true}
	}
	return s.setSuppression(ctx, id, now, func(tx *sql.Tx, targetID int64) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET status = 'suppressed', suppress_reason = ?, suppress_by = ?, suppress_at = ?, suppress_until = ? WHERE id = ?`),
			reason, actor, ms(now), untilMS, id); err != nil {
			return err
		}
		detail := fmt.Sprintf("finding=%d reason=%q", id, reason)
		if until != nil {
			detail += " until=" + until.UTC().Format(time.RFC3339)
		}
		return audit(ctx, s, tx, now.Unix(), actor, "finding.suppress", detail)
	})
}

// Unsuppress reopens a suppressed finding (the next scan of its target
// fixes it if it is gone); audited. A finding that is not suppressed is
// left alone.
func (s *Store) Unsuppress(ctx context.Context, id int64, actor string) error {
	now := s.now()
	return s.setSuppression(ctx, id, now, func(tx *sql.Tx, targetID int64) error {
		r, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET status = 'open', suppress_reason = '', suppress_by = '', suppress_at = NULL, suppress_until = NULL
			WHERE id = ? AND status = 'suppressed'`), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		return audit(ctx, s, tx, now.Unix(), actor, "finding.unsuppress", fmt.Sprintf("finding=%d", id))
	})
}

func (s *Store) setSuppression(ctx context.Context, id int64, now time.Time, change func(tx *sql.Tx, targetID int64) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: finding %d: %w", id, err)
	}
	defer tx.Rollback()
	var targetID int64
	err = tx.QueryRowContext(ctx, s.q(`SELECT target_id FROM findings WHERE id = ?`), id).Scan(&targetID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: finding %d", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("store: finding %d: %w", id, err)
	}
	expired, err := s.expire(ctx, tx, now)
	if err != nil {
		return err
	}
	if err := change(tx, targetID); err != nil {
		return fmt.Errorf("store: finding %d: %w", id, err)
	}
	if err := s.recountTargets(ctx, tx, now, append(expired, targetID)...); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: finding %d: %w", id, err)
	}
	return nil
}

// expireDue reopens findings whose suppression has expired, when there
// are any (an index probe otherwise).
func (s *Store) expireDue(ctx context.Context) error {
	now := s.now()
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM findings WHERE status = 'suppressed' AND suppress_until <= ? LIMIT 1`), ms(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: suppression expiry: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: suppression expiry: %w", err)
	}
	defer tx.Rollback()
	ids, err := s.expire(ctx, tx, now)
	if err != nil {
		return err
	}
	if err := s.recountTargets(ctx, tx, now, ids...); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: suppression expiry: %w", err)
	}
	return nil
}

// expire reopens findings whose suppression ended at or before now and
// returns their targets (to recount); audited.
func (s *Store) expire(ctx context.Context, tx *sql.Tx, now time.Time) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, target_id FROM findings WHERE status = 'suppressed' AND suppress_until <= ?`), ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: suppression expiry: %w", err)
	}
	var ids []int64
	seen := map[int64]bool{}
	var targets []int64
	for rows.Next() {
		var id, t int64
		if err := rows.Scan(&id, &t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: suppression expiry: %w", err)
		}
		ids = append(ids, id)
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: suppression expiry: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET status = 'open', suppress_reason = '', suppress_by = '', suppress_at = NULL, suppress_until = NULL WHERE id = ?`), id); err != nil {
			return nil, fmt.Errorf("store: suppression expiry: %w", err)
		}
		if err := audit(ctx, s, tx, now.Unix(), "system", "finding.suppress.expired", fmt.Sprintf("finding=%d", id)); err != nil {
			return nil, err
		}
	}
	return targets, nil
}
