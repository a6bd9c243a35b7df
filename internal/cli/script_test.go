package cli

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"strings"

	"context"
	"errors"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wardsec/ward/internal/misconfig"
)

// wardMain runs Ward in-process as the testscript "ward" command.
func wardMain() {
	g := &Globals{
		Info:   BuildInfo{Version: "test", Commit: "test"},
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		Now:    time.Now,
	}
	os.Exit(Run(context.Background(), g, os.Args[1:]))
}

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"ward": wardMain})
}

// TestScripts runs the CLI end-to-end scripts in testdata/script. Scripts
// see $SHARED (the shared reference data, possibly absent) and $REPO.
func TestScripts(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	shared := os.Getenv("WARD_SHARED")
	if shared == "" {
		shared = filepath.Join(repo, "..", "shared")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			env.Setenv("SHARED", shared)
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "shared":
				_, err := os.Stat(shared)
				return err == nil, nil
			case "root":
				return os.Geteuid() == 0, nil
			case "helm":
				return misconfig.DefaultHelm() != nil, nil
			case "kustomize":
				return misconfig.DefaultKustomize() != nil, nil
			case "kube":
				return kubeAvailable(), nil // k8s_script_test.go
			}
			return false, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":    cmdExitCode,
			"mkimage":     cmdMkimage,
			"kubecluster": cmdKubeCluster, // k8s_script_test.go
			"kubens":      cmdKubeNS,      // k8s_script_test.go
			"registry":    cmdRegistry,    // sign_script_test.go
			"pushimage":   cmdPushImage,   // sign_script_test.go
			"pushtar":     cmdPushTar,     // sign_script_test.go
		},
	})
}

// cmdExitCode runs "exitcode N prog args..." and checks that prog exits
// with status N (stdout and stderr are kept for later stdout/stderr checks).
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Logf("stdout:\n%s\nstderr:\n%s", ts.ReadFile("stdout"), ts.ReadFile("stderr"))
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdMkimage builds a docker-save tarball: "mkimage OUT.tar REF DIR..."
// makes one layer of each directory (in order; files named .wh.NAME are
// whiteouts), with env from the file DIR/../image.env if present.
func cmdMkimage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: mkimage OUT.tar REF DIR...")
	}
	var layers []v1.Layer
	for _, d := range args[2:] {
		dir := ts.MkAbs(d)
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		})
		ts.Check(err)
		ts.Check(tw.Close())
		b := buf.Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		ts.Check(err)
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	ts.Check(err)
	if env, err := os.ReadFile(ts.MkAbs("image.env")); err == nil {
		img, err = mutate.Config(img, v1.Config{Env: strings.Fields(string(env))})
		ts.Check(err)
	}
	ref, err := name.ParseReference(args[1])
	ts.Check(err)
	ts.Check(tarball.WriteToFile(ts.MkAbs(args[0]), ref, img))
}
