package signing

import (
	"context"
	"crypto"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkVerify: one image signed in both layouts (a .sig tag layer and a
// bundle referrer behind the referrers fallback tag), verified against the
// local registry with a reused Verifier (warm connections).
func BenchmarkVerify(b *testing.B) {
	_, reg, ref := testImage(b, "bench/app:1")
	ctx := context.Background()
	_, pubPath, priv := testKey(b, b.TempDir())
	res, err := Sign(ctx, ref, SignOptions{Registry: reg, Key: priv})
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewVerifier(VerifyOptions{Registry: reg, Trust: Trust{Keys: []crypto.PublicKey{readPub(b, pubPath)}}})
	if err != nil {
		b.Fatal(err)
	}
	d := res.Digest
	if r, err := v.VerifyDigest(ctx, d); err != nil || len(r.Valid()) != 2 {
		b.Fatalf("warm-up: %v %+v", err, r)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := v.VerifyDigest(ctx, d)
		if err != nil || len(r.Valid()) != 2 {
			b.Fatal(err)
		}
	}
}

// BenchmarkPolicyEvaluate: a supply policy requiring a signature, uncached
// (every call verifies) and cached (repeats are memory look-ups).
func BenchmarkPolicyEvaluate(b *testing.B) {
	_, reg, ref := testImage(b, "prod/app:1")
	ctx := context.Background()
	dir := b.TempDir()
	_, pubPath, priv := testKey(b, dir)
	res, err := Sign(ctx, ref, SignOptions{Registry: reg, Key: priv})
	if err != nil {
		b.Fatal(err)
	}
	pol := "apiVersion: ward.dev/v1\nkind: SupplyPolicy\nrequireDigest: true\nrules:\n  - images: ['**']\n    signers: [{key: " + filepath.Base(pubPath) + "}]\n"
	polPath := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(polPath, []byte(pol), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, cached := range []bool{false, true} {
		name := "uncached"
		opts := PolicyOptions{Registry: reg}
		if cached {
			name = "cached"
			opts.Cache = NewCache(1024, time.Hour)
		}
		b.Run(name, func(b *testing.B) {
			p, err := LoadPolicy(polPath, opts)
			if err != nil {
				b.Fatal(err)
			}
			if d, err := p.Evaluate(ctx, res.Digest.String()); err != nil || !d.Allowed {
				b.Fatalf("warm-up: %v %+v", err, d)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, err := p.Evaluate(ctx, res.Digest.String())
				if err != nil || !d.Allowed || d.Cached != cached {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCacheGet(b *testing.B) {
	c := NewCache(10000, time.Hour)
	c.Put("k", &Decision{Allowed: true})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := c.Get("k"); !ok {
			b.Fatal("miss")
		}
	}
}
