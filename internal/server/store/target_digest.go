package store

import (
	"context"
	"database/sql"
	"fmt"
)

// MaxDigestTargets bounds the targets TargetsByDigest answers (one image
// digest stored under very many names).
const MaxDigestTargets = 100

// targetsByDigestQuery reads the targets_digest index (migration 3).
const targetsByDigestQuery = `SELECT id, name, type, digest, last_scan_at, last_scan, last_seq FROM targets
	WHERE digest = ? ORDER BY id DESC LIMIT ?`

// TargetsByDigest returns the targets whose last scan had the image
// digest ("sha256:…", exact), newest first, at most MaxDigestTargets,
// with their open counts. A target appears whether or not its scans
// produced findings, so a scanned, clean image is told from one never
// scanned (an empty answer). A target rescanned under a new digest no
// longer has the old one.
func (s *Store) TargetsByDigest(ctx context.Context, digest string) ([]TargetSummary, error) {
	if !validDigest(digest) {
		return nil, invalidf("digest %q: want ALGORITHM:HEX, e.g. sha256:<64 hex digits>", digest)
	}
	if err := s.expireDue(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(targetsByDigestQuery), digest, MaxDigestTargets)
	if err != nil {
		return nil, fmt.Errorf("store: targets by digest: %w", err)
	}
	defer rows.Close()
	out := []TargetSummary{}
	for rows.Next() {
		var t TargetSummary
		var at sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Type, &t.Digest, &at, &t.LastScanID, &t.Scans); err != nil {
			return nil, fmt.Errorf("store: targets by digest: %w", err)
		}
		t.LastScan = fromMSPtr(at)
		t.Open = emptySeverities()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: targets by digest: %w", err)
	}
	rows.Close()
	if err := s.addDetails(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}
