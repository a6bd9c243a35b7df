package signing

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/wardsec/ward/internal/testutil/registry"
)

// cosignVersion is the cosign release scripts/deps-cosign.sh builds.
const cosignVersion = "v3.1.3"

// cosignBin returns the real cosign CLI or skips.
func cosignBin(t testing.TB) string {
	t.Helper()
	p := os.Getenv("WARD_COSIGN")
	if p == "" {
		p = filepath.Join("/var/cache/ward-test", "cosign-"+cosignVersion, "cosign")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("cosign %s not built (scripts/deps-cosign.sh): %v", cosignVersion, err)
	}
	return p
}

// runCosign runs cosign with a scratch HOME and returns combined output.
func runCosign(t testing.TB, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cosignBin(t), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+home, "TUF_ROOT="+filepath.Join(home, "tuf"), "SIGSTORE_NO_CACHE=1")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// testImage starts a registry and pushes a random image to repo:tag.
func testImage(t testing.TB, repoTag string) (*registry.Registry, Registry, string) {
	t.Helper()
	r := registry.Start(t, registry.Options{})
	reg := Registry{Insecure: []string{r.Host}}
	ref := pushRandom(t, reg, r.Ref(repoTag))
	return r, reg, ref
}

func pushRandom(t testing.TB, reg Registry, ref string) string {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	n, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(n, img, reg.options(context.Background(), n.Context().Registry)...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// testKey writes a Ward key pair (password "pw") to dir and returns the
// paths and the private key.
func testKey(t testing.TB, dir string) (keyPath, pubPath string, priv crypto.Signer) {
	t.Helper()
	kp, err := GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	keyPath, pubPath = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	if err := os.WriteFile(keyPath, kp.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, kp.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	priv, err = DecryptPrivateKey(kp.PrivatePEM, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	return keyPath, pubPath, priv
}

func readPub(t testing.TB, path string) crypto.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustCompile(t testing.TB, tr Trust) *compiledTrust {
	t.Helper()
	ct, err := tr.compile()
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func mustSigner(t testing.TB, k crypto.Signer) signature.SignerVerifier {
	t.Helper()
	sv, err := signature.LoadSignerVerifier(k, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

func signB64(t testing.TB, sv signature.SignerVerifier, b []byte) string {
	t.Helper()
	sig, err := sv.SignMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
