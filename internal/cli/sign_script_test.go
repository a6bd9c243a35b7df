package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wardsec/ward/internal/testutil/registry"
)

// scriptTB adapts a testscript to the testing.TB the registry helper
// takes (the embedded nil TB is never called: the helper uses only the
// methods below). Scripts guard with [!exec:docker-registry] skip.
type scriptTB struct {
	testing.TB
	ts *testscript.TestScript
	n  int
}

func (s *scriptTB) Helper()                   {}
func (s *scriptTB) Cleanup(f func())          { s.ts.Defer(f) }
func (s *scriptTB) Fatalf(f string, a ...any) { s.ts.Fatalf(f, a...) }
func (s *scriptTB) Fatal(a ...any)            { s.ts.Fatalf("%s", fmt.Sprint(a...)) }
func (s *scriptTB) Skipf(f string, a ...any)  { s.ts.Fatalf("cannot run: "+f, a...) }
func (s *scriptTB) Skip(a ...any)             { s.ts.Fatalf("cannot run: %s", fmt.Sprint(a...)) }
func (s *scriptTB) TempDir() string {
	s.n++
	d := s.ts.MkAbs(fmt.Sprintf(".registry-%d", s.n))
	if err := os.MkdirAll(d, 0o755); err != nil {
		s.ts.Fatalf("%v", err)
	}
	return d
}

// cmdRegistry starts a registry on 127.0.0.1 for the script: `registry`
// or `registry -auth USER:PASS` (htpasswd basic auth; it then writes
// $WORK/.docker/config.json with the credentials and sets DOCKER_CONFIG).
// It sets $REGISTRY to host:port.
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! registry")
	}
	var opts registry.Options
	if len(args) == 2 && args[0] == "-auth" {
		u, p, ok := strings.Cut(args[1], ":")
		if !ok {
			ts.Fatalf("usage: registry [-auth user:pass]")
		}
		opts.User, opts.Password = u, p
	} else if len(args) != 0 {
		ts.Fatalf("usage: registry [-auth user:pass]")
	}
	r := registry.Start(&scriptTB{ts: ts}, opts)
	ts.Setenv("REGISTRY", r.Host)
	if opts.User != "" {
		dir := ts.MkAbs(".docker")
		auth := base64.StdEncoding.EncodeToString([]byte(opts.User + ":" + opts.Password))
		cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, r.Host, auth)
		ts.Check(os.MkdirAll(dir, 0o700))
		ts.Check(os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
		ts.Setenv("DOCKER_CONFIG", dir)
	}
}

// cmdPushImage pushes a random image: `pushimage VAR REF` sets $VAR to
// REF's repository@digest. Credentials come from DOCKER_CONFIG.
func cmdPushImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pushimage VAR REF")
	}
	img, err := random.Image(256, 1)
	ts.Check(err)
	ref, err := name.ParseReference(args[1], name.Insecure)
	ts.Check(err)
	kc := authn.NewMultiKeychain(dockerConfigKeychain{dir: ts.Getenv("DOCKER_CONFIG")})
	ts.Check(remote.Write(ref, img, remote.WithAuthFromKeychain(kc)))
	d, err := img.Digest()
	ts.Check(err)
	ts.Setenv(args[0], ref.Context().Digest(d.String()).String())
}

// cmdPushTar pushes a docker-save tarball (from mkimage): "pushtar VAR
// TARBALL REF" sets VAR to REF's repository@digest.
func cmdPushTar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: pushtar VAR TARBALL REF")
	}
	img, err := tarball.ImageFromPath(ts.MkAbs(args[1]), nil)
	ts.Check(err)
	ref, err := name.ParseReference(args[2], name.Insecure)
	ts.Check(err)
	ts.Check(remote.Write(ref, img))
	d, err := img.Digest()
	ts.Check(err)
	ts.Setenv(args[0], ref.Context().Digest(d.String()).String())
}

// dockerConfigKeychain reads the script's DOCKER_CONFIG (the test
// process's own environment is not the script's).
type dockerConfigKeychain struct{ dir string }

func (k dockerConfigKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if k.dir == "" {
		return authn.Anonymous, nil
	}
	b, err := os.ReadFile(filepath.Join(k.dir, "config.json"))
	if err != nil {
		return authn.Anonymous, nil
	}
	var cfg struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, err
	}
	a, ok := cfg.Auths[r.RegistryStr()]
	if !ok {
		return authn.Anonymous, nil
	}
	dec, err := base64.StdEncoding.DecodeString(a.Auth)
	if err != nil {
		return nil, err
	}
	u, p, _ := strings.Cut(string(dec), ":")
	return &authn.Basic{Username: u, Password: p}, nil
}
