package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestTargetsByDigest: a scanned image is found by its digest whether or
// not its scans produced findings; an unknown digest is not; a bad one is
// ErrInvalid.
func TestTargetsByDigest(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		clean := "sha256:" + strings.Repeat("c", 64)
		dirty := "sha256:" + strings.Repeat("d", 64)
		ingest := func(key, name, digest string, fps ...string) {
			t.Helper()
			r := rep(fps...)
			r.Artifact.Name, r.Artifact.Digest = name, digest
			if _, err := s.IngestScan(ctx, key, r, []byte("{}")); err != nil {
				t.Fatal(err)
			}
		}
		ingest("k1", "clean:1", clean) // zero findings
		ingest("k2", "app:1", dirty, "a1", "a2")
		ingest("k3", "app:latest", dirty, "l1")
		ingest("k4", "repo", "") // no digest: never matched

		ts, err := s.TargetsByDigest(ctx, clean)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 1 || ts[0].Name != "clean:1" || ts[0].Digest != clean || ts[0].Scans != 1 || ts[0].OpenTotal != 0 ||
			ts[0].LastScan == nil || ts[0].LastScanID == "" {
			t.Errorf("clean image: %+v, want one target with one scan and no open findings", ts)
		}
		ts, err = s.TargetsByDigest(ctx, dirty)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, tg := range ts {
			got[tg.Name] = tg.OpenTotal
		}
		if fmt.Sprint(got) != "map[app:1:2 app:latest:1]" {
			t.Errorf("dirty image: open by target %v, want app:1:2 app:latest:1", got)
		}
		if len(ts) == 2 && ts[0].ID < ts[1].ID {
			t.Errorf("not newest first: %d before %d", ts[0].ID, ts[1].ID)
		}
		for _, d := range []string{"sha256:" + strings.Repeat("e", 64), "sha512:" + strings.Repeat("c", 128)} {
			if ts, err := s.TargetsByDigest(ctx, d); err != nil || ts == nil || len(ts) != 0 {
				t.Errorf("unknown digest %s: %v, %v; want an empty list", d, ts, err)
			}
		}
		// A rescan under a new digest moves the target off the old one.
		ingest("k5", "clean:1", dirty)
		if ts, err := s.TargetsByDigest(ctx, clean); err != nil || len(ts) != 0 {
			t.Errorf("old digest after a rescan: %v, %v; want none", ts, err)
		}
		for _, bad := range []string{"", "abc", "clean:1.0", "sha256:", ":abc", "sha256:" + strings.Repeat("a", 63), "sha256:" + strings.Repeat("A", 64), "SHA256:" + strings.Repeat("a", 64), "sha256:a b"} {
			if _, err := s.TargetsByDigest(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("digest %q: error %v, want ErrInvalid", bad, err)
			}
		}
	})
}

// TestTargetsByDigestBounded: one digest under more names than
// MaxDigestTargets answers MaxDigestTargets, the newest.
func TestTargetsByDigestBounded(t *testing.T) {
	ctx := context.Background()
	s := testEngines[0].open(t)
	d := "sha256:" + strings.Repeat("f", 64)
	for i := range MaxDigestTargets + 5 {
		r := rep()
		r.Artifact.Name, r.Artifact.Digest = fmt.Sprintf("img:%d", i), d
		if _, err := s.IngestScan(ctx, fmt.Sprint("k", i), r, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := s.TargetsByDigest(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != MaxDigestTargets || ts[0].Name != fmt.Sprintf("img:%d", MaxDigestTargets+4) {
		t.Errorf("%d targets, first %q; want %d, newest first", len(ts), ts[0].Name, MaxDigestTargets)
	}
}

// TestTargetsByDigestPlan: SQLite answers the lookup from the
// targets_digest index, not a scan of every target.
func TestTargetsByDigestPlan(t *testing.T) {
	s := testEngines[0].open(t)
	rows, err := s.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+s.q(targetsByDigestQuery), "sha256:"+strings.Repeat("a", 64), MaxDigestTargets)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX targets_digest") {
		t.Errorf("plan %q does not use targets_digest", p)
	}
}
