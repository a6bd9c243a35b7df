package signing

import (
	"context"
	"crypto"
	"strings"
	"testing"
)

func TestSignVerifyLayouts(t *testing.T) {
	_, reg, ref := testImage(t, "app/web:1.0")
	_, pubPath, priv := testKey(t, t.TempDir())
	pub := readPub(t, pubPath)
	ctx := context.Background()
	for _, layout := range []Layout{LayoutLegacy, LayoutBundle} {
		if _, err := Sign(ctx, ref, SignOptions{Registry: reg, Key: priv, Layout: layout, Annotations: map[string]string{"env": "prod"}}); err != nil {
			t.Fatalf("sign layout %d: %v", layout, err)
		}
	}
	v, err := NewVerifier(VerifyOptions{Registry: reg, Trust: Trust{Keys: []crypto.PublicKey{pub}}, Annotations: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	sources := map[string]int{}
	for _, s := range res.Valid() {
		sources[s.Source]++
		if !strings.HasPrefix(s.Signer, "key sha256:") {
			t.Errorf("signer %q", s.Signer)
		}
	}
	if sources[SourceSigTag] != 1 || sources[SourceBundle] != 1 {
		t.Fatalf("valid signatures by source %v, want one legacy and one bundle; %+v", sources, res.Signatures)
	}
}
