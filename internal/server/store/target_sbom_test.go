package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// TestTargetSBOM: the latest inventory of one target is returned (not
// another target's, no findings), an unknown target or one scanned
// without an inventory is ErrNotFound, and an inventory over the bound is
// an error, never read.
func TestTargetSBOM(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		x := newRep("shop/app:1", "container_image").vuln("a", finding.SeverityHigh, true)
		x.r.Artifact.Digest = "sha256:aaaa"
		x.r.OS = &sbom.OS{Family: "Debian", Version: "12"}
		x.r.Packages = []sbom.Package{
			{ID: "p1", Name: "openssl", Version: "3.0.1", Ecosystem: "Debian:12", LayerDiffID: "sha256:l1"},
			{ID: "p2", Name: "zlib", Version: "1.2", Ecosystem: "Debian:12", LayerDiffID: "sha256:l2"},
		}
		x.ingest(t, s, "k1")
		y := newRep("shop/other:1", "container_image")
		y.r.Packages = []sbom.Package{{ID: "q", Name: "busybox", Version: "1.36"}}
		y.ingest(t, s, "k2")
		newRep("repo", "repository").vuln("b", finding.SeverityLow, false).ingest(t, s, "k3") // no inventory
		// A rescan of the app replaces its inventory.
		z := newRep("shop/app:1", "container_image").vuln("a", finding.SeverityHigh, true)
		z.r.Artifact.Digest = "sha256:aaaa"
		z.r.OS = x.r.OS
		z.r.Packages = append(x.r.Packages, sbom.Package{ID: "p3", Name: "curl", Version: "8.0", LayerDiffID: "sha256:l2"})
		z.ingest(t, s, "k4")

		got, err := s.TargetSBOM(ctx, "shop/app:1")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range got.Packages {
			names = append(names, p.Name)
		}
		if strings.Join(names, ",") != "openssl,zlib,curl" || got.OS == nil || got.OS.Family != "Debian" ||
			got.Artifact.Digest != "sha256:aaaa" || len(got.Findings) != 0 || got.Packages[2].LayerDiffID != "sha256:l2" {
			t.Errorf("inventory of shop/app:1: %+v", got)
		}
		for _, name := range []string{"repo", "nope", ""} {
			if _, err := s.TargetSBOM(ctx, name); !errors.Is(err, ErrNotFound) {
				t.Errorf("TargetSBOM(%q): %v, want ErrNotFound", name, err)
			}
		}

		tg, err := s.Target(ctx, "shop/app:1")
		if err != nil {
			t.Fatal(err)
		}
		if tg.Type != "container_image" || tg.Digest != "sha256:aaaa" || tg.Scans != 2 || tg.LastScan == nil ||
			tg.OpenTotal != 1 || tg.Open["HIGH"] != 1 || tg.Fixable != 1 {
			t.Errorf("Target: %+v", tg)
		}
		if _, err := s.Target(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Target(nope): %v, want ErrNotFound", err)
		}

		old := targetSBOMLimit
		targetSBOMLimit = 10
		defer func() { targetSBOMLimit = old }()
		if _, err := s.TargetSBOM(ctx, "shop/app:1"); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "limit") {
			t.Errorf("over the bound: %v", err)
		}
	})
}
