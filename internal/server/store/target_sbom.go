package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wardsec/ward/pkg/report"
)

// MaxTargetSBOMBytes bounds the stored inventory TargetSBOM reads: a
// larger one is an error, not a read of unbounded size.
const MaxTargetSBOMBytes = 128 << 20

// targetSBOMLimit is MaxTargetSBOMBytes (tests lower it).
var targetSBOMLimit int64 = MaxTargetSBOMBytes

// Target returns one target by name with its open counts (ErrNotFound
// when no target has that name).
func (s *Store) Target(ctx context.Context, name string) (TargetSummary, error) {
	if err := s.expireDue(ctx); err != nil {
		return TargetSummary{}, err
	}
	var t TargetSummary
	var at sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, name, type, digest, last_scan_at, last_scan, last_seq FROM targets WHERE name = ?`), name).
		Scan(&t.ID, &t.Name, &t.Type, &t.Digest, &at, &t.LastScanID, &t.Scans)
	if errors.Is(err, sql.ErrNoRows) {
		return TargetSummary{}, fmt.Errorf("store: target %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return TargetSummary{}, fmt.Errorf("store: target %q: %w", name, err)
	}
	t.LastScan = fromMSPtr(at)
	t.Open = emptySeverities()
	out := []TargetSummary{t}
	if err := s.addDetails(ctx, out); err != nil {
		return TargetSummary{}, err
	}
	return out[0], nil
}

// TargetSBOM returns the package inventory stored for target name from
// its latest scan that had one: a report with artifact, tool, os and
// packages set (no findings). ErrNotFound when the target is unknown or
// no scan of it carried an inventory; an inventory over
// MaxTargetSBOMBytes is an error (it is never read).
func (s *Store) TargetSBOM(ctx context.Context, name string) (*report.Report, error) {
	var size sql.NullInt64
	var body []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT length(b.body), CASE WHEN length(b.body) <= ? THEN b.body END
		FROM targets t JOIN sboms b ON b.target_id = t.id WHERE t.name = ?`), targetSBOMLimit, name).Scan(&size, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: sbom of %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: sbom of %q: %w", name, err)
	}
	if size.Int64 > targetSBOMLimit || body == nil {
		return nil, fmt.Errorf("store: sbom of %q: %d bytes, over the %d-byte limit", name, size.Int64, targetSBOMLimit)
	}
	var rep report.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fmt.Errorf("store: sbom of %q: %w", name, err)
	}
	return &rep, nil
}
