package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/report"
)

// TestImageSignatures: a check's result is stored per digest and shown on
// every target of that digest (list, by name, by digest); a recheck
// replaces it; the images due for a check are those never checked or
// checked before the staleness bound, container images only; bad input
// is ErrInvalid.
func TestImageSignatures(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		setClock(s, &now)
		signed := "sha256:" + strings.Repeat("a", 64)
		plain := "sha256:" + strings.Repeat("b", 64)
		ingest := func(key, name, typ, digest string) {
			t.Helper()
			r := rep("f-" + key)
			r.Artifact = report.Artifact{Name: name, Type: typ, Digest: digest}
			if _, err := s.IngestScan(ctx, key, r, []byte("{}")); err != nil {
				t.Fatal(err)
			}
		}
		ingest("k1", "reg/app:1", "container_image", signed)
		ingest("k2", "reg/app:latest", "container_image", signed)
		ingest("k3", "reg/other:1", "container_image", plain)
		ingest("k4", "/src", "filesystem", "")
		ingest("k5", "host1", "host", "sha256:"+strings.Repeat("c", 64)) // not an image

		due, err := s.SignaturesDue(ctx, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 3 || due[0].Name != "reg/app:1" || due[0].Digest != signed || due[2].Name != "reg/other:1" {
			t.Fatalf("due before any check: %+v, want the three images", due)
		}
		if _, err := s.ImageSignatureOf(ctx, signed); !errors.Is(err, ErrNotFound) {
			t.Errorf("never checked: %v, want ErrNotFound", err)
		}
		if err := s.SetImageSignature(ctx, ImageSignature{Digest: signed, State: SignatureVerified, Signer: "key sha256:1234",
			Ref: "reg/app@" + signed}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetImageSignature(ctx, ImageSignature{Digest: plain, State: SignatureUnverified, Detail: "1 signature, no trusted key",
			Ref: "reg/other@" + plain}); err != nil {
			t.Fatal(err)
		}
		ts, _, err := s.Targets(ctx, "container_image", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tg := range ts {
			if tg.Signature != nil {
				got[tg.Name] = tg.Signature.State + "/" + tg.Signature.Signer
			}
		}
		want := map[string]string{"reg/app:1": "verified/key sha256:1234", "reg/app:latest": "verified/key sha256:1234", "reg/other:1": "signed/"}
		if len(got) != len(want) {
			t.Errorf("signatures in the list: %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q", k, got[k], v)
			}
		}
		one, err := s.Target(ctx, "reg/other:1")
		if err != nil || one.Signature == nil || one.Signature.Detail != "1 signature, no trusted key" || !one.Signature.CheckedAt.Equal(now) {
			t.Errorf("Target: %+v %v", one.Signature, err)
		}
		byDigest, err := s.TargetsByDigest(ctx, signed)
		if err != nil || len(byDigest) != 2 || byDigest[0].Signature == nil || byDigest[0].Signature.State != SignatureVerified {
			t.Errorf("TargetsByDigest: %+v %v", byDigest, err)
		}
		fs, err := s.Target(ctx, "/src")
		if err != nil || fs.Signature != nil {
			t.Errorf("filesystem target: %+v %v, want no signature", fs.Signature, err)
		}
		// Nothing due until the checks are older than the bound.
		if due, err := s.SignaturesDue(ctx, now, 10); err != nil || len(due) != 0 {
			t.Errorf("due right after the checks: %+v %v", due, err)
		}
		now = now.Add(time.Hour)
		if err := s.SetImageSignature(ctx, ImageSignature{Digest: plain, State: SignatureInvalid, Detail: "wrong key"}); err != nil {
			t.Fatal(err)
		}
		due, err = s.SignaturesDue(ctx, now.Add(-time.Minute), 10)
		if err != nil || len(due) != 2 || due[0].Digest != signed {
			t.Errorf("due after an hour: %+v %v, want the two tags of the digest checked an hour ago", due, err)
		}
		if sig, err := s.ImageSignatureOf(ctx, plain); err != nil || sig.State != SignatureInvalid || sig.Detail != "wrong key" || !sig.CheckedAt.Equal(now) {
			t.Errorf("recheck: %+v %v", sig, err)
		}
		// Long text is bounded, on a rune boundary.
		long := strings.Repeat("é", maxSignatureText)
		if err := s.SetImageSignature(ctx, ImageSignature{Digest: plain, State: SignatureError, Detail: long}); err != nil {
			t.Fatal(err)
		}
		if sig, _ := s.ImageSignatureOf(ctx, plain); len(sig.Detail) > maxSignatureText || !strings.HasPrefix(long, sig.Detail) {
			t.Errorf("long detail stored as %d bytes", len(sig.Detail))
		}
		for _, bad := range []ImageSignature{{Digest: "latest", State: SignatureUnsigned}, {Digest: signed, State: "maybe"}, {Digest: signed}} {
			if err := s.SetImageSignature(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("SetImageSignature(%+v): %v, want ErrInvalid", bad, err)
			}
		}
		for _, n := range []int{0, -1, MaxSignatureChecks + 1} {
			if _, err := s.SignaturesDue(ctx, now, n); !errors.Is(err, ErrInvalid) {
				t.Errorf("SignaturesDue limit %d: %v, want ErrInvalid", n, err)
			}
		}
	})
}
