package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/signing"
)

// TestSignatureCheckerKeys: jobs.signatures.keys are read as cosign
// public keys; a missing or malformed one is an error naming it.
func TestSignatureCheckerKeys(t *testing.T) {
	dir := t.TempDir()
	kp, err := signing.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	good, bad := filepath.Join(dir, "cosign.pub"), filepath.Join(dir, "bad.pub")
	if err := os.WriteFile(good, kp.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	if _, err := signatureChecker(&SignaturesJob{Keys: []string{good}}, st, log); err != nil {
		t.Errorf("good key: %v", err)
	}
	if _, err := signatureChecker(&SignaturesJob{}, st, log); err != nil {
		t.Errorf("no key (signed, not verified): %v", err)
	}
	for _, keys := range [][]string{{filepath.Join(dir, "missing.pub")}, {good, bad}} {
		_, err := signatureChecker(&SignaturesJob{Keys: keys}, st, log)
		if err == nil || !strings.Contains(err.Error(), "jobs.signatures.keys[") {
			t.Errorf("keys %v: %v, want an error naming the key", keys, err)
		}
	}
}
