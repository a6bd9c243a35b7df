package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestFindingsByDigest: Target matches a name or a digest; Digest matches
// only a digest, exactly, across every target that has it.
func TestFindingsByDigest(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		dA := "sha256:" + strings.Repeat("a", 64)
		dB := "sha256:" + strings.Repeat("b", 64)
		ingest := func(key, name, digest string, fps ...string) {
			t.Helper()
			r := rep(fps...)
			r.Artifact.Name, r.Artifact.Digest = name, digest
			if _, err := s.IngestScan(ctx, key, r, []byte("{}")); err != nil {
				t.Fatal(err)
			}
		}
		ingest("k1", "app:1", dA, "a1", "a2")
		ingest("k2", "app:latest", dA, "l1") // same image under a second name
		ingest("k3", "db:9", dB, "b1", "b2", "b3")
		ingest("k4", "repo", "", "r1") // no digest: never matched by one
		for _, tc := range []struct {
			name string
			f    FindingFilter
			want int
		}{
			{"target by name", FindingFilter{Target: "app:1"}, 2},
			{"target by digest", FindingFilter{Target: dA}, 3},
			{"target by other digest", FindingFilter{Target: dB}, 3},
			{"target unknown digest", FindingFilter{Target: "sha256:" + strings.Repeat("c", 64)}, 0},
			{"digest", FindingFilter{Digest: dA}, 3},
			{"digest and target name", FindingFilter{Digest: dA, Target: "app:latest"}, 1},
			{"digest and other target", FindingFilter{Digest: dA, Target: "db:9"}, 0},
			{"digest is not a name", FindingFilter{Digest: "sha512:" + strings.Repeat("0", 128)}, 0},
			{"digest with status", FindingFilter{Digest: dB, Status: "open", Severity: "HIGH+"}, 3},
			{"digest with kind", FindingFilter{Digest: dB, Kind: "secret"}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				items, _, err := s.Findings(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if len(items) != tc.want {
					t.Errorf("%+v: %d findings, want %d", tc.f, len(items), tc.want)
				}
			})
		}
		// A rescan of db:9 with a new digest moves it off dB.
		ingest("k5", "db:9", dA, "b1")
		if items, _, _ := s.Findings(ctx, FindingFilter{Digest: dB}); len(items) != 0 {
			t.Errorf("old digest still matches %d findings", len(items))
		}
		if items, _, _ := s.Findings(ctx, FindingFilter{Digest: dA, Status: "open"}); len(items) != 4 {
			t.Errorf("new digest: %d open findings, want 4", len(items))
		}
		for _, bad := range []string{"abc", "sha256:", ":abc", "sha256:" + strings.Repeat("a", 63), "sha256:" + strings.Repeat("A", 64), "sha256:zz", "SHA256:" + strings.Repeat("a", 64), "sha256:a b"} {
			if _, _, err := s.Findings(ctx, FindingFilter{Digest: bad}); !errors.Is(err, ErrInvalid) {
				t.Errorf("digest %q: error %v, want ErrInvalid", bad, err)
			}
		}
	})
}

// TestAlertByID: one alert by id, ErrNotFound for an unknown one.
func TestAlertByID(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		raw := json.RawMessage(`{"rule":"Terminal shell","priority":"notice","time":"2026-12-07T08:00:00.5Z","output":"x"}`)
		if acc, _, err := s.IngestAlerts(ctx, "n1", "s1", 7, []json.RawMessage{raw}); err != nil || acc != 1 {
			t.Fatalf("ingest: %d %v", acc, err)
		}
		page, _, err := s.Alerts(ctx, AlertFilter{})
		if err != nil || len(page) != 1 {
			t.Fatalf("alerts: %v %v", page, err)
		}
		a, err := s.Alert(ctx, page[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != page[0].ID || a.Node != "n1" || a.SensorID != "s1" || a.Seq != 7 || a.Rule != "Terminal shell" || a.Priority != "Notice" ||
			!a.At.Equal(page[0].At) || a.At.UnixMilli()%1000 != 500 || string(a.Alert) != string(raw) {
			t.Errorf("alert %+v", a)
		}
		for _, id := range []int64{0, -1, page[0].ID + 1} {
			if _, err := s.Alert(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("alert %d: %v, want ErrNotFound", id, err)
			}
		}
	})
}
