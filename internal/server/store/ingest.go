package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// IngestScan stores rep as one scan of its artifact in a single
// transaction: findings seen before have last_seen updated (a fixed one is
// reopened), new ones are inserted, and open findings of the same target
// absent from rep become fixed. The same key again returns the original
// scan without writing anything.
func (s *Store) IngestScan(ctx context.Context, key string, rep *report.Report, raw []byte) (IngestResult, error) {
	if key == "" {
		return IngestResult{}, errors.New("store: ingest: empty idempotency key")
	}
	if rep.Artifact.Name == "" {
		return IngestResult{}, errors.New("store: ingest: report has no artifact.name")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: %w", err)
	}
	defer tx.Rollback()
	var res IngestResult
	err = tx.QueryRowContext(ctx, `SELECT id, findings, new_findings, fixed_findings FROM scans WHERE idempotency_key = ?`, key).
		Scan(&res.ScanID, &res.Findings, &res.New, &res.Fixed)
	if err == nil {
		res.Duplicate = true
		return res, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return IngestResult{}, fmt.Errorf("store: ingest: %w", err)
	}
	var targetID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO targets(name, type, digest) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET digest = excluded.digest RETURNING id`,
		rep.Artifact.Name, rep.Artifact.Type, rep.Artifact.Digest).Scan(&targetID)
	if err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: target: %w", err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: %w", err)
	}
	res.ScanID = hex.EncodeToString(b[:])
	now := time.Now().UnixMilli()
	up, err := tx.PrepareContext(ctx, `INSERT INTO findings(target_id, fingerprint, kind, severity, rule_id, namespace, fixable, status, first_seen, last_seen, first_scan, last_scan, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)
		ON CONFLICT(target_id, fingerprint) DO UPDATE SET
			last_seen = excluded.last_seen, last_scan = excluded.last_scan, body = excluded.body,
			severity = excluded.severity, fixable = excluded.fixable,
			status = CASE WHEN findings.status = 'fixed' THEN 'open' ELSE findings.status END,
			fixed_at = CASE WHEN findings.status = 'fixed' THEN NULL ELSE findings.fixed_at END
		RETURNING first_scan`)
	if err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: %w", err)
	}
	defer up.Close()
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Fingerprint == "" {
			return IngestResult{}, fmt.Errorf("store: ingest: findings[%d] (%s) has no fingerprint", i, f.RuleID)
		}
		body, err := json.Marshal(f)
		if err != nil {
			return IngestResult{}, fmt.Errorf("store: ingest: findings[%d]: %w", i, err)
		}
		ns := ""
		if f.Location.Object != nil {
			ns = f.Location.Object.Namespace
		}
		fixable := f.Vulnerability != nil && len(f.Vulnerability.FixedVersions) > 0
		var first string
		if err := up.QueryRowContext(ctx, targetID, f.Fingerprint, string(f.Kind), f.Severity.String(), f.RuleID, ns, fixable, now, now, res.ScanID, res.ScanID, body).Scan(&first); err != nil {
			return IngestResult{}, fmt.Errorf("store: ingest: findings[%d]: %w", i, err)
		}
		if first == res.ScanID {
			res.New++
		}
	}
	res.Findings = len(rep.Findings)
	r, err := tx.ExecContext(ctx, `UPDATE findings SET status = 'fixed', fixed_at = ? WHERE target_id = ? AND status = 'open' AND last_scan <> ?`, now, targetID, res.ScanID)
	if err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: fixed: %w", err)
	}
	n, _ := r.RowsAffected()
	res.Fixed = int(n)
	if _, err := tx.ExecContext(ctx, `INSERT INTO scans(id, target_id, idempotency_key, tool_version, created_at, findings, new_findings, fixed_findings, report)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, res.ScanID, targetID, key, rep.Tool.Version, now, res.Findings, res.New, res.Fixed, raw); err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: scan: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return IngestResult{}, fmt.Errorf("store: ingest: commit: %w", err)
	}
	return res, nil
}

// FindingStatus is a stored finding's lifecycle state.
type FindingStatus struct {
	Target      string `json:"target"`
	Fingerprint string `json:"fingerprint"`
	Status      string `json:"status"`
	FirstSeen   int64  `json:"first_seen"`
	LastSeen    int64  `json:"last_seen"`
	FixedAt     *int64 `json:"fixed_at,omitempty"`
}

// FindingsAfter returns up to limit findings with row id > after, in id
// order (keyset pagination), optionally restricted to one status; the second
// result is the id to pass for the next page (0 when done).
func (s *Store) FindingsAfter(ctx context.Context, status string, after int64, limit int) ([]FindingStatus, int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.id, t.name, f.fingerprint, f.status, f.first_seen, f.last_seen, f.fixed_at
		FROM findings f JOIN targets t ON t.id = f.target_id
		WHERE f.id > ? AND (? = '' OR f.status = ?) ORDER BY f.id LIMIT ?`, after, status, status, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("store: findings: %w", err)
	}
	defer rows.Close()
	var out []FindingStatus
	var last, next int64
	for rows.Next() {
		var id int64
		var f FindingStatus
		if err := rows.Scan(&id, &f.Target, &f.Fingerprint, &f.Status, &f.FirstSeen, &f.LastSeen, &f.FixedAt); err != nil {
			return nil, 0, fmt.Errorf("store: findings: %w", err)
		}
		if len(out) == limit {
			next = last
			break
		}
		out = append(out, f)
		last = id
	}
	return out, next, rows.Err()
}
