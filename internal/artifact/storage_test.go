package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

type tfile struct {
	name, body string
	dir        bool
}

func layerTar(t *testing.T, files []tfile) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}
		if f.dir {
			h = &tar.Header{Name: f.name, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// fakeStore lays out a containers/storage overlay store as podman does:
// images.json, layers.json, the config as big data, and per layer a
// tar-split file and a diff directory holding the files.
type fakeStore struct {
	t    *testing.T
	root string
}

func newFakeStore(t *testing.T) *fakeStore {
	root := t.TempDir()
	for _, d := range []string{"overlay-images", "overlay-layers", "overlay"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return &fakeStore{t: t, root: root}
}

// addLayer stores tarball as a layer and returns its ID (= diff digest hex).
func (s *fakeStore) addLayer(tarball []byte) string {
	t := s.t
	id := hexSum(tarball)
	var meta bytes.Buffer
	zw := gzip.NewWriter(&meta)
	r, done, err := asm.NewInputTarStreamWithDone(bytes.NewReader(tarball), storage.NewJSONPacker(zw), storage.NewDiscardFilePutter())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(filepath.Join(s.root, "overlay-layers", id+".tar-split.gz"), meta.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	diff := filepath.Join(s.root, "overlay", id, "diff")
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(diff, h.Name)
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(diff, 0o755)
	return id
}

// addImage writes the image's records for layers (base first).
func (s *fakeStore) addImage(names []string, layers []string, tarballs [][]byte) string {
	t := s.t
	var diffIDs []string
	for _, tb := range tarballs {
		diffIDs = append(diffIDs, "sha256:"+hexSum(tb))
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"config": map[string]any{"User": "1000"}, "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	id := hexSum(cfg)
	dir := filepath.Join(s.root, "overlay-images", id)
	os.MkdirAll(dir, 0o700)
	key := "=" + base64.StdEncoding.EncodeToString([]byte("sha256:"+id))
	if err := os.WriteFile(filepath.Join(dir, key), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	var ls []map[string]any
	for i, l := range layers {
		m := map[string]any{"id": l, "diff-digest": diffIDs[i], "diff-size": len(tarballs[i])}
		if i > 0 {
			m["parent"] = layers[i-1]
		}
		ls = append(ls, m)
	}
	s.writeJSON("overlay-layers/layers.json", ls)
	s.writeJSON("overlay-images/images.json", []map[string]any{{"id": id, "digest": "sha256:" + strings.Repeat("ab", 32), "names": names, "layer": layers[len(layers)-1]}})
	return id
}

func (s *fakeStore) writeJSON(p string, v any) {
	b, _ := json.Marshal(v)
	if err := os.WriteFile(filepath.Join(s.root, p), b, 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func walkAll(t *testing.T, a Artifact) (map[string]string, []string, error) {
	t.Helper()
	live := map[string]string{}
	var deleted []string
	err := a.Walk(context.Background(), func(f *File, r io.Reader) error {
		if f.Deleted {
			deleted = append(deleted, f.Path)
			return nil
		}
		if f.Mode.IsRegular() {
			b, _ := io.ReadAll(r)
			live[f.Path] = string(b)
		}
		return nil
	})
	sort.Strings(deleted)
	return live, deleted, err
}

func TestContainersStorage(t *testing.T) {
	s := newFakeStore(t)
	base := layerTar(t, []tfile{{name: "etc/", dir: true}, {name: "etc/os-release", body: "ID=alpine\nVERSION_ID=3.20.0\n"}, {name: "etc/secret.txt", body: "old"}, {name: "app/", dir: true}, {name: "app/a", body: "a"}})
	top := layerTar(t, []tfile{{name: "etc/", dir: true}, {name: "etc/.wh.secret.txt"}, {name: "app/", dir: true}, {name: "app/b", body: "bee"}})
	l1, l2 := s.addLayer(base), s.addLayer(top)
	id := s.addImage([]string{"localhost/app:1", "docker.io/library/alpine:3.20"}, []string{l1, l2}, [][]byte{base, top})
	opts := Options{Storage: StorageOptions{Root: s.root, Driver: "overlay"}}

	for _, ref := range []string{"podman:localhost/app:1", "podman:app:1", "containers-storage:alpine:3.20", "podman:docker.io/library/alpine:3.20", "podman:" + id[:12], "podman:sha256:" + id} {
		t.Run(ref, func(t *testing.T) {
			a, err := Open(context.Background(), ref, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.Type() != TypeImage || len(a.Layers()) != 2 {
				t.Fatalf("type %s, %d layers", a.Type(), len(a.Layers()))
			}
			if got := a.Layers()[1].DiffID; got != "sha256:"+hexSum(top) {
				t.Errorf("layer 1 diff ID %s", got)
			}
			if a.Config() == nil || a.Config().User != "1000" {
				t.Errorf("config %+v", a.Config())
			}
			live, deleted, err := walkAll(t, a)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"etc/os-release": "ID=alpine\nVERSION_ID=3.20.0\n", "app/a": "a", "app/b": "bee"}
			for k, v := range want {
				if live[k] != v {
					t.Errorf("%s = %q, want %q", k, live[k], v)
				}
			}
			if len(live) != len(want) || len(deleted) != 1 || deleted[0] != "etc/secret.txt" {
				t.Errorf("live %v, deleted %v", live, deleted)
			}
		})
	}
	for _, tc := range []struct{ ref, want string }{
		{"podman:nope:1", `no image "nope:1"`},
		{"podman:", "no image named"},
	} {
		if _, err := Open(context.Background(), tc.ref, opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.ref, err, tc.want)
		}
	}
	if _, err := Open(context.Background(), "podman:app:1", Options{Storage: StorageOptions{Root: s.root, Driver: "btrfs"}}); err == nil || !strings.Contains(err.Error(), `graph driver "btrfs"`) {
		t.Errorf("btrfs driver: %v", err)
	}
}

// TestContainersStorageHostile: a store whose metadata or files lie is
// refused with the layer and the reason, never read outside the store.
func TestContainersStorageHostile(t *testing.T) {
	setup := func(t *testing.T) (*fakeStore, string, string, Options) {
		s := newFakeStore(t)
		base := layerTar(t, []tfile{{name: "etc/", dir: true}, {name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n"}})
		l := s.addLayer(base)
		s.addImage([]string{"localhost/bad:1"}, []string{l}, [][]byte{base})
		return s, l, filepath.Join(s.root, "overlay", l, "diff"), Options{Storage: StorageOptions{Root: s.root}}
	}
	walkErr := func(t *testing.T, opts Options) error {
		a, err := Open(context.Background(), "podman:bad:1", opts)
		if err != nil {
			return err
		}
		defer a.Close()
		_, _, err = walkAll(t, a)
		return err
	}
	t.Run("changed file", func(t *testing.T) {
		_, _, diff, opts := setup(t)
		os.WriteFile(filepath.Join(diff, "etc/passwd"), []byte("root:x:0:0::/root:/bin/bash\n"), 0o644)
		if err := walkErr(t, opts); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("truncated file", func(t *testing.T) {
		_, _, diff, opts := setup(t)
		os.WriteFile(filepath.Join(diff, "etc/passwd"), []byte("root"), 0o644)
		if err := walkErr(t, opts); err == nil || !strings.Contains(err.Error(), "bytes in the layer directory") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("symlink out of the layer", func(t *testing.T) {
		_, _, diff, opts := setup(t)
		os.Remove(filepath.Join(diff, "etc/passwd"))
		os.Symlink("/etc/passwd", filepath.Join(diff, "etc/passwd"))
		if err := walkErr(t, opts); err == nil {
			t.Error("a symlink out of the diff directory was followed")
		}
	})
	t.Run("fifo", func(t *testing.T) {
		_, _, diff, opts := setup(t)
		os.Remove(filepath.Join(diff, "etc/passwd"))
		if err := mkfifo(filepath.Join(diff, "etc/passwd")); err != nil {
			t.Skip(err)
		}
		if err := walkErr(t, opts); err == nil || !strings.Contains(err.Error(), "regular") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("layer loop", func(t *testing.T) {
		s, l, _, opts := setup(t)
		s.writeJSON("overlay-layers/layers.json", []map[string]any{{"id": l, "parent": l}})
		if err := walkErr(t, opts); err == nil || !strings.Contains(err.Error(), "loops") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("missing layer", func(t *testing.T) {
		s, _, _, opts := setup(t)
		s.writeJSON("overlay-layers/layers.json", []map[string]any{})
		if err := walkErr(t, opts); err == nil || !strings.Contains(err.Error(), "not in layers.json") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("garbage images.json", func(t *testing.T) {
		s, _, _, opts := setup(t)
		os.WriteFile(filepath.Join(s.root, "overlay-images/images.json"), []byte("[{"), 0o600)
		if err := walkErr(t, opts); err == nil || !strings.Contains(err.Error(), "images.json") {
			t.Errorf("error %v", err)
		}
	})
}

// TestPodmanStore reads an image that the real podman imported into a
// store of its own.
func TestPodmanStore(t *testing.T) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman not installed (scripts/deps-runtime.sh installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("podman with a private store needs root here")
	}
	dir := t.TempDir()
	root, run := filepath.Join(dir, "root"), filepath.Join(dir, "run")
	tb := layerTar(t, []tfile{{name: "etc/", dir: true}, {name: "etc/os-release", body: "ID=debian\nVERSION_ID=\"12\"\n"}, {name: "srv/", dir: true}, {name: "srv/config.env", body: "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"}})
	tarPath := filepath.Join(dir, "layer.tar")
	os.WriteFile(tarPath, tb, 0o644)
	pm := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(podman, append([]string{"--root", root, "--runroot", run, "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("podman %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	pm("import", tarPath, "localhost/ward-store-test:1")
	t.Cleanup(func() {
		exec.Command(podman, "--root", root, "--runroot", run, "--storage-driver", "overlay", "system", "reset", "-f").Run()
	})
	a, err := Open(context.Background(), "podman:ward-store-test:1", Options{Storage: StorageOptions{Root: root, Driver: "overlay"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	live, _, err := walkAll(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(live["srv/config.env"], "AWS_SECRET_ACCESS_KEY") || !strings.Contains(live["etc/os-release"], "debian") {
		t.Errorf("files read from the podman store: %v", live)
	}
	if got := a.Layers()[0].DiffID; got != "sha256:"+hexSum(tb) {
		t.Errorf("diff ID %s, want the imported tar's digest", got)
	}
}

// FuzzAssembleLayer: any tar-split metadata assembles or fails cleanly,
// never reading outside the diff directory.
func FuzzAssembleLayer(f *testing.F) {
	f.Add([]byte(`{"type":2,"payload":"aGVsbG8=","position":0}` + "\n" + `{"type":1,"name":"etc/passwd","size":5,"payload":"AAAAAAAAAAA=","position":1}`))
	f.Add([]byte(`{"type":1,"name":"../../../etc/shadow","size":3,"position":0}`))
	f.Add([]byte(`{"type":1,"name":"a","size":-1}`))
	f.Add([]byte(`{"type":7}`))
	f.Fuzz(func(t *testing.T, meta []byte) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
		os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("hello"), 0o644)
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		var out bytes.Buffer
		_ = assembleLayer(&out, storage.NewJSONUnpacker(bytes.NewReader(meta)), root)
		if out.Len() > len(meta)+5 {
			t.Fatalf("assembled %d bytes from %d bytes of metadata", out.Len(), len(meta))
		}
	})
}
