package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// IngestResult is what ingesting one report did.
type IngestResult struct {
	ScanID   string `json:"scan_id"`
	Findings int    `json:"findings"`
	New      int    `json:"new"`
	Fixed    int    `json:"fixed"`
	// Duplicate is true when the idempotency key was already stored; the
	// other fields then describe the original scan and nothing was written.
	Duplicate bool `json:"-"`
}

// findingRow is one finding ready to write.
type findingRow struct {
	fp, kind, severity, rule, namespace string
	fixable                             int
	body                                []byte
}

// existingRow is what the store holds for a fingerprint of the target.
type existingRow struct {
	id, lastSeq, runStart int64
}

const findingCols = 15

// batchRows is the number of rows of cols values per multi-row INSERT.
// modernc's SQLite driver binds each parameter by searching the argument
// list (quadratic in the parameters of one statement), so SQLite batches
// stay near 500 parameters; PostgreSQL takes up to 500 rows (well under
// its 65535 parameters) to save round trips.
func (s *Store) batchRows(cols int) int {
	if s.engine == EnginePostgres {
		return min(500, 65535/cols)
	}
	return max(1, 512/cols)
}

// IngestScan stores rep as one scan of its artifact in a single
// transaction: findings seen before have last_seen updated (a fixed one is
// reopened, a suppressed one stays suppressed until its expiry), new ones
// are inserted, and open findings of the same target absent from rep
// become fixed. The same key again returns the original scan without
// writing anything. When rep carries an inventory (packages or OS) it is
// kept as the target's SBOM for re-matching; compliance controls (from
// rep.Compliance and benchmark findings) replace the target's previous ones
// of the same frameworks.
func (s *Store) IngestScan(ctx context.Context, key string, rep *report.Report, raw []byte) (IngestResult, error) {
	if key == "" {
		return IngestResult{}, invalidf("ingest: empty idempotency key")
	}
	if rep == nil || rep.Artifact.Name == "" {
		return IngestResult{}, invalidf("ingest: report has no artifact.name")
	}
	rows, err := prepareRows(rep)
	if err != nil {
		return IngestResult{}, err
	}
	if raw == nil {
		raw = []byte{}
	}
	sbomBody, err := sbomOf(rep)
	if err != nil {
		return IngestResult{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: %w", err)
	}
	defer tx.Rollback()

	// The target row is locked first (PostgreSQL: row lock of the upsert)
	// so that concurrent uploads of one target, and retries of one key,
	// serialise before the idempotency check.
	var targetID, lastSeq int64
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO targets(name, type, digest) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, type = excluded.type RETURNING id, last_seq`),
		rep.Artifact.Name, rep.Artifact.Type, rep.Artifact.Digest).Scan(&targetID, &lastSeq)
	if err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: target: %w", err)
	}
	var res IngestResult
	err = tx.QueryRowContext(ctx, s.q(`SELECT id, findings, new_findings, fixed_findings FROM scans WHERE idempotency_key = ?`), key).
		Scan(&res.ScanID, &res.Findings, &res.New, &res.Fixed)
	if err == nil {
		res.Duplicate = true
		return res, nil // rollback: nothing written
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return IngestResult{}, fmt.Errorf("store: ingest: %w", err)
	}
	now := s.now()
	nowMS := ms(now)
	expired, err := s.expire(ctx, tx, now)
	if err != nil {
		return IngestResult{}, err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: %w", err)
	}
	res.ScanID = hex.EncodeToString(b[:])
	seq := lastSeq + 1

	existing, err := s.existingFindings(ctx, tx, targetID)
	if err != nil {
		return IngestResult{}, err
	}
	var runs [][3]int64 // closed seen-runs of findings that come back
	for i := range rows {
		e, ok := existing[rows[i].fp]
		if !ok {
			res.New++
			continue
		}
		if e.lastSeq != seq-1 && e.lastSeq > 0 {
			runs = append(runs, [3]int64{e.id, e.runStart, e.lastSeq})
		}
	}
	if err := s.upsertFindings(ctx, tx, targetID, seq, nowMS, res.ScanID, rows); err != nil {
		return IngestResult{}, err
	}
	if err := s.insertRuns(ctx, tx, runs); err != nil {
		return IngestResult{}, err
	}
	res.Findings = len(rep.Findings)
	r, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET status = 'fixed', fixed_at = ? WHERE target_id = ? AND status = 'open' AND last_seq < ?`), nowMS, targetID, seq)
	if err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: fixed: %w", err)
	}
	n, _ := r.RowsAffected()
	res.Fixed = int(n)
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO scans(id, target_id, idempotency_key, tool_version, db_version, created_at, findings, new_findings, fixed_findings, report, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), res.ScanID, targetID, key, rep.Tool.Version, dbVersion(rep), nowMS, res.Findings, res.New, res.Fixed, raw, seq); err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: scan: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE targets SET last_seq = ?, last_scan_at = ?, last_scan = ? WHERE id = ?`), seq, nowMS, res.ScanID, targetID); err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: target: %w", err)
	}
	if err := s.replaceCompliance(ctx, tx, targetID, rep); err != nil {
		return IngestResult{}, err
	}
	if sbomBody != nil {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO sboms(target_id, scan_id, created_at, body) VALUES (?, ?, ?, ?)
			ON CONFLICT(target_id) DO UPDATE SET scan_id = excluded.scan_id, created_at = excluded.created_at, body = excluded.body`),
			targetID, res.ScanID, nowMS, sbomBody); err != nil {
			return IngestResult{}, fmt.Errorf("store: ingest: sbom: %w", err)
		}
	}
	if err := s.recountTargets(ctx, tx, now, append(expired, targetID)...); err != nil {
		return IngestResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: commit: %w", err)
	}
	// The scan is stored; stale statistics only slow queries, so an
	// optimize failure is not the upload's error (the next one retries).
	_ = s.maybeOptimize(ctx)
	return res, nil
}

// prepareRows encodes the findings outside the transaction; a fingerprint
// given twice keeps its last finding.
func prepareRows(rep *report.Report) ([]findingRow, error) {
	rows := make([]findingRow, 0, len(rep.Findings))
	index := make(map[string]int, len(rep.Findings))
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Fingerprint == "" {
			return nil, invalidf("ingest: findings[%d] (%s) has no fingerprint", i, f.RuleID)
		}
		body, err := json.Marshal(f)
		if err != nil {
			return nil, fmt.Errorf("store: ingest: findings[%d]: %w", i, err)
		}
		fixable := 0
		if f.Vulnerability != nil && len(f.Vulnerability.FixedVersions) > 0 {
			fixable = 1
		}
		row := findingRow{fp: f.Fingerprint, kind: string(f.Kind), severity: f.Severity.String(), rule: f.RuleID,
			namespace: namespaceOf(f), fixable: fixable, body: body}
		if j, ok := index[f.Fingerprint]; ok {
			rows[j] = row
			continue
		}
		index[f.Fingerprint] = len(rows)
		rows = append(rows, row)
	}
	return rows, nil
}

func namespaceOf(f *finding.Finding) string {
	if f.Location.Object != nil && f.Location.Object.Namespace != "" {
		return f.Location.Object.Namespace
	}
	if f.Location.Container != nil {
		return f.Location.Container.PodNamespace
	}
	return ""
}

// dbVersion is the vulnerability DB version a report names in
// extra.db_version (empty when absent).
func dbVersion(rep *report.Report) string {
	if v, ok := rep.Extra["db_version"].(string); ok {
		return v
	}
	return ""
}

// sbomOf encodes the report's package inventory, or nil when it has none.
func sbomOf(rep *report.Report) ([]byte, error) {
	if len(rep.Packages) == 0 && rep.OS == nil {
		return nil, nil
	}
	inv := report.Report{SchemaVersion: rep.SchemaVersion, Tool: rep.Tool, Artifact: rep.Artifact, OS: rep.OS, Packages: rep.Packages}
	b, err := json.Marshal(inv)
	if err != nil {
		return nil, fmt.Errorf("store: ingest: sbom: %w", err)
	}
	return b, nil
}

func (s *Store) existingFindings(ctx context.Context, tx *sql.Tx, targetID int64) (map[string]existingRow, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT fingerprint, id, last_seq, run_start FROM findings WHERE target_id = ?`), targetID)
	if err != nil {
		return nil, fmt.Errorf("store: ingest: known findings: %w", err)
	}
	defer rows.Close()
	out := map[string]existingRow{}
	for rows.Next() {
		var fp string
		var e existingRow
		if err := rows.Scan(&fp, &e.id, &e.lastSeq, &e.runStart); err != nil {
			return nil, fmt.Errorf("store: ingest: known findings: %w", err)
		}
		out[fp] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: ingest: known findings: %w", err)
	}
	return out, nil
}

// upsertSQL builds the multi-row upsert for n findings. In ON CONFLICT
// … DO UPDATE both engines evaluate every SET expression on the old row.
func (s *Store) upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO findings(target_id, fingerprint, kind, severity, rule_id, namespace, fixable, status, first_seen, last_seen, first_scan, last_scan, last_seq, run_start, body) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(` ON CONFLICT(target_id, fingerprint) DO UPDATE SET
		kind = excluded.kind, severity = excluded.severity, rule_id = excluded.rule_id, namespace = excluded.namespace,
		fixable = excluded.fixable, last_seen = excluded.last_seen, last_scan = excluded.last_scan, body = excluded.body,
		status = CASE WHEN findings.status = 'fixed' THEN 'open' ELSE findings.status END,
		fixed_at = NULL,
		run_start = CASE WHEN findings.last_seq = excluded.last_seq - 1 THEN findings.run_start ELSE excluded.last_seq END,
		last_seq = excluded.last_seq`)
	return s.q(b.String())
}

func (s *Store) upsertFindings(ctx context.Context, tx *sql.Tx, targetID, seq, nowMS int64, scanID string, rows []findingRow) error {
	if len(rows) == 0 {
		return nil
	}
	ingestBatch := s.batchRows(findingCols)
	var full *sql.Stmt
	if len(rows) >= ingestBatch {
		st, err := tx.PrepareContext(ctx, s.upsertSQL(ingestBatch))
		if err != nil {
			return fmt.Errorf("store: ingest: %w", err)
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, ingestBatch*findingCols)
	for start := 0; start < len(rows); start += ingestBatch {
		end := min(start+ingestBatch, len(rows))
		args = args[:0]
		for i := start; i < end; i++ {
			r := &rows[i]
			args = append(args, targetID, r.fp, r.kind, r.severity, r.rule, r.namespace, r.fixable, "open",
				nowMS, nowMS, scanID, scanID, seq, seq, r.body)
		}
		var err error
		if end-start == ingestBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, s.upsertSQL(end-start), args...)
		}
		if err != nil {
			return fmt.Errorf("store: ingest: findings %d-%d: %w", start, end-1, err)
		}
	}
	return nil
}

func (s *Store) insertRuns(ctx context.Context, tx *sql.Tx, runs [][3]int64) error {
	per := s.batchRows(3)
	for start := 0; start < len(runs); start += per {
		end := min(start+per, len(runs))
		var b strings.Builder
		b.WriteString(`INSERT INTO finding_runs(finding_id, from_seq, to_seq) VALUES `)
		args := make([]any, 0, (end-start)*3)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?)")
			args = append(args, runs[i][0], runs[i][1], runs[i][2])
		}
		b.WriteString(` ON CONFLICT(finding_id, from_seq) DO UPDATE SET to_seq = excluded.to_seq`)
		if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return fmt.Errorf("store: ingest: history: %w", err)
		}
	}
	return nil
}

// replaceCompliance keeps the target's compliance controls of this scan
// (report controls, then benchmark findings' pass/fail per control),
// replacing the target's earlier results of the same frameworks.
func (s *Store) replaceCompliance(ctx context.Context, tx *sql.Tx, targetID int64, rep *report.Report) error {
	type key struct{ fw, ctl string }
	ctl := map[key]string{}
	var order []key
	add := func(k key, st string) {
		if _, ok := ctl[k]; !ok {
			order = append(order, k)
		}
		ctl[k] = st
	}
	for _, c := range rep.Compliance {
		if c.Framework == "" || c.Control == "" {
			continue
		}
		switch strings.ToLower(c.Status) {
		case "pass", "fail":
			add(key{c.Framework, c.Control}, strings.ToLower(c.Status))
		}
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Benchmark == nil || f.Benchmark.Benchmark == "" {
			continue
		}
		switch f.Benchmark.Status {
		case finding.StatusPass, finding.StatusFail:
			add(key{f.Benchmark.Benchmark, f.RuleID}, string(f.Benchmark.Status))
		}
	}
	if len(order) == 0 {
		return nil
	}
	// Only the frameworks this scan evaluated are replaced: a target
	// scanned once per framework (ward config --compliance k8s-cis, then
	// k8s-nsa) keeps each framework's latest results.
	var fws []string
	seenFW := map[string]bool{}
	for _, k := range order {
		if !seenFW[k.fw] {
			seenFW[k.fw] = true
			fws = append(fws, k.fw)
		}
	}
	cond, dargs := inList("framework", fws, []any{targetID})
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM compliance WHERE target_id = ? AND `+cond), dargs...); err != nil {
		return fmt.Errorf("store: ingest: compliance: %w", err)
	}
	per := s.batchRows(4)
	for start := 0; start < len(order); start += per {
		end := min(start+per, len(order))
		var b strings.Builder
		b.WriteString(`INSERT INTO compliance(target_id, framework, control, status) VALUES `)
		args := make([]any, 0, (end-start)*4)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?)")
			k := order[i]
			args = append(args, targetID, k.fw, k.ctl, ctl[k])
		}
		if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return fmt.Errorf("store: ingest: compliance: %w", err)
		}
	}
	return nil
}

// recountTargets rebuilds the materialised open counts of the given
// targets and today's trend point.
func (s *Store) recountTargets(ctx context.Context, tx *sql.Tx, now time.Time, targetIDs ...int64) error {
	for _, id := range targetIDs {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM target_counts WHERE target_id = ?`), id); err != nil {
			return fmt.Errorf("store: counts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO target_counts(target_id, namespace, kind, severity, fixable, n)
			SELECT target_id, namespace, kind, severity, fixable, COUNT(*) FROM findings
			WHERE target_id = ? AND status = 'open' GROUP BY target_id, namespace, kind, severity, fixable`), id); err != nil {
			return fmt.Errorf("store: counts: %w", err)
		}
	}
	return s.updateTrend(ctx, tx, now)
}

// recountAll rebuilds every target's counts (migration backfill).
func (s *Store) recountAll(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM target_counts`); err != nil {
		return fmt.Errorf("store: counts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO target_counts(target_id, namespace, kind, severity, fixable, n)
		SELECT target_id, namespace, kind, severity, fixable, COUNT(*) FROM findings
		WHERE status = 'open' GROUP BY target_id, namespace, kind, severity, fixable`); err != nil {
		return fmt.Errorf("store: counts: %w", err)
	}
	return s.updateTrend(ctx, tx, s.now())
}

// dayOf is the UTC day number of t.
func dayOf(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// updateTrend writes today's open counts by severity (every severity, so
// a level that dropped to zero reads zero).
func (s *Store) updateTrend(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if err := s.lockTrendRow(ctx, tx); err != nil {
		return err
	}
	bySev, err := openBySeverity(ctx, tx)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO trend_daily(day, severity, n) VALUES `)
	args := make([]any, 0, 3*len(finding.Severities))
	for i, sev := range finding.Severities {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?)")
		args = append(args, dayOf(now), sev.String(), bySev[sev.String()])
	}
	b.WriteString(` ON CONFLICT(day, severity) DO UPDATE SET n = excluded.n`)
	if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
		return fmt.Errorf("store: trend: %w", err)
	}
	return nil
}

func openBySeverity(ctx context.Context, q querier) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT severity, SUM(n) FROM target_counts GROUP BY severity`)
	if err != nil {
		return nil, fmt.Errorf("store: counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sev string
		var n int64
		if err := rows.Scan(&sev, &n); err != nil {
			return nil, fmt.Errorf("store: counts: %w", err)
		}
		out[sev] = int(n)
	}
	return out, rows.Err()
}
