package artifact_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/wardsec/ward/internal/artifact"
	at "github.com/wardsec/ward/internal/artifact/artifacttest"
)

type seen struct {
	Layer   int
	Deleted bool
	Body    string
	Link    string
	Mode    os.FileMode
}

func walkAll(t *testing.T, a artifact.Artifact) (map[string][]seen, []*artifact.LayerError) {
	t.Helper()
	got := map[string][]seen{}
	err := a.Walk(context.Background(), func(f *artifact.File, r io.Reader) error {
		b, _ := io.ReadAll(r) // a short read is reported by the walker
		li := -1
		if f.Layer != nil {
			li = f.Layer.Index
		}
		got[f.Path] = append(got[f.Path], seen{li, f.Deleted, string(b), f.LinkTarget, f.Mode})
		return nil
	})
	problems, fatal := artifact.Problems(err)
	if fatal != nil {
		t.Fatalf("walk: %v", fatal)
	}
	return got, problems
}

// threeLayers: base files, a layer deleting and hiding some, a layer
// overwriting one.
func threeLayers() *at.Image {
	return &at.Image{
		Config:       v1.Config{User: "app", Env: []string{"A=1"}},
		EmptyHistory: []string{"ARG X=1"},
		Layers: []at.Layer{
			at.GzipLayer(at.Tar(
				at.Entry{Name: "etc/"},
				at.Entry{Name: "etc/passwd", Body: "root:x:0:0"},
				at.Entry{Name: "a.txt", Body: "A"},
				at.Entry{Name: "dir/"},
				at.Entry{Name: "dir/x", Body: "X"},
				at.Entry{Name: "keep/k", Body: "K"},
				at.Entry{Name: "usr/bin/su", Body: "su", Mode: 0o4755},
			), "ADD rootfs.tar /"),
			at.GzipLayer(at.Tar(
				at.Entry{Name: ".wh.a.txt"},
				at.Entry{Name: "dir/.wh..wh..opq"},
				at.Entry{Name: "dir/y", Body: "Y"},
			), "RUN rm a.txt"),
			at.GzipLayer(at.Tar(
				at.Entry{Name: "etc/passwd", Body: "root:x:0:0\napp:x:1000"},
				at.Entry{Name: "link", Type: tar.TypeSymlink, Linkname: "/etc/passwd"},
			), "RUN useradd app"),
		},
	}
}

func openAll(t *testing.T, img *at.Image) map[string]artifact.Artifact {
	t.Helper()
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	if err := at.WriteLayout(layout, img); err != nil {
		t.Fatal(err)
	}
	ociTar := filepath.Join(dir, "oci.tar")
	if err := at.WriteOCIArchive(ociTar, img); err != nil {
		t.Fatal(err)
	}
	saveTar := filepath.Join(dir, "save.tar")
	if err := at.WriteDockerSave(saveTar, img, "app:1"); err != nil {
		t.Fatal(err)
	}
	out := map[string]artifact.Artifact{}
	for name, ref := range map[string]string{"layout": layout, "oci-archive": ociTar, "docker-save": saveTar} {
		a, err := artifact.Open(context.Background(), ref, artifact.Options{Platform: "linux/amd64"})
		if err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		t.Cleanup(func() { a.Close() })
		out[name] = a
	}
	return out
}

func TestImageWalkAppliesWhiteoutsAndOrder(t *testing.T) {
	for name, a := range openAll(t, threeLayers()) {
		t.Run(name, func(t *testing.T) {
			if a.Type() != artifact.TypeImage {
				t.Fatalf("type %q", a.Type())
			}
			ls := a.Layers()
			if len(ls) != 3 || ls[2].CreatedBy != "RUN useradd app" || ls[0].DiffID == "" || ls[0].Digest == "" {
				t.Fatalf("layers: %+v", ls)
			}
			cfg := a.Config()
			if cfg == nil || cfg.User != "app" || len(cfg.History) != 4 || cfg.History[0].LayerIndex != -1 || cfg.History[3].LayerIndex != 2 {
				t.Fatalf("config: %+v", cfg)
			}
			got, problems := walkAll(t, a)
			if len(problems) != 0 {
				t.Fatalf("problems: %v", problems)
			}
			want := map[string][]seen{
				"a.txt":      {{0, true, "A", "", 0o644}},
				"dir/x":      {{0, true, "X", "", 0o644}},
				"dir/y":      {{1, false, "Y", "", 0o644}},
				"keep/k":     {{0, false, "K", "", 0o644}},
				"etc/passwd": {{0, true, "root:x:0:0", "", 0o644}, {2, false, "root:x:0:0\napp:x:1000", "", 0o644}},
				"usr/bin/su": {{0, false, "su", "", 0o755 | os.ModeSetuid}},
				"link":       {{2, false, "", "/etc/passwd", 0o644 | os.ModeSymlink}},
			}
			for p, w := range want {
				g := got[p]
				if len(g) != len(w) {
					t.Errorf("%s: got %+v, want %+v", p, g, w)
					continue
				}
				for i := range w {
					if g[i] != w[i] {
						t.Errorf("%s[%d]: got %+v, want %+v", p, i, g[i], w[i])
					}
				}
			}
			// Whiteout and opaque markers are never visited by Walk.
			for p := range got {
				if strings.Contains(p, ".wh.") {
					t.Errorf("whiteout visited: %s", p)
				}
			}
			// Layer order: every visit of layer i comes before layer i+1.
			last := -1
			_ = a.Walk(context.Background(), func(f *artifact.File, _ io.Reader) error {
				if f.Layer.Index < last {
					t.Errorf("layer %d after %d", f.Layer.Index, last)
				}
				last = f.Layer.Index
				return nil
			})
		})
	}
}

func TestWalkLayerRawEntries(t *testing.T) {
	a := openAll(t, threeLayers())["layout"]
	var marks []string
	err := a.WalkLayer(context.Background(), 1, func(f *artifact.File, _ io.Reader) error {
		switch {
		case f.Whiteout:
			marks = append(marks, "whiteout:"+f.Path)
		case f.Opaque:
			marks = append(marks, "opaque:"+f.Path)
		default:
			marks = append(marks, f.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"whiteout:a.txt", "opaque:dir", "dir/y"}
	if strings.Join(marks, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", marks, want)
	}
	if err := a.WalkLayer(context.Background(), 3, func(*artifact.File, io.Reader) error { return nil }); err == nil {
		t.Fatal("layer 3 of 3: no error")
	}
}

func TestHostileEntriesRefusedRestWalked(t *testing.T) {
	img := &at.Image{Layers: []at.Layer{at.GzipLayer(at.Tar(
		at.Entry{Name: "ok/1", Body: "1"},
		at.Entry{Name: "../../etc/evil", Body: "x"},
		at.Entry{Name: "/abs/evil", Body: "x"},
		at.Entry{Name: "a/../../evil", Body: "x"},
		at.Entry{Name: "esc", Type: tar.TypeSymlink, Linkname: "../../../etc/shadow"},
		at.Entry{Name: "sub/esc2", Type: tar.TypeSymlink, Linkname: "../.."},
		at.Entry{Name: "fine", Type: tar.TypeSymlink, Linkname: "sub/../ok/1"},
		at.Entry{Name: "etcdir", Type: tar.TypeSymlink, Linkname: "/etc"},
		at.Entry{Name: "etcdir/passwd", Body: "through the link"},
		at.Entry{Name: "hl", Type: tar.TypeLink, Linkname: "../outside"},
		at.Entry{Name: "hl2", Type: tar.TypeLink, Linkname: "ok/1"},
		at.Entry{Name: "ok/2", Body: "2"},
	), "ADD evil.tar /")}}
	a := openAll(t, img)["layout"]
	got, problems := walkAll(t, a)
	for _, p := range []string{"ok/1", "ok/2", "fine", "etcdir", "hl2"} {
		if len(got[p]) != 1 {
			t.Errorf("%s not visited once: %v", p, got[p])
		}
	}
	for p := range got {
		if strings.Contains(p, "evil") || p == "esc" || p == "sub/esc2" || p == "etcdir/passwd" || p == "hl" {
			t.Errorf("hostile entry visited: %s", p)
		}
	}
	if len(problems) != 7 {
		t.Fatalf("want 7 problems, got %d: %v", len(problems), problems)
	}
	for _, p := range problems {
		if !errors.Is(p, artifact.ErrPathEscape) {
			t.Errorf("problem not ErrPathEscape: %v", p)
		}
		if p.Layer == nil || !strings.Contains(p.Error(), "layer 0 (sha256:") {
			t.Errorf("problem does not name the layer: %v", p)
		}
	}
}

func TestCorruptLayerReportedOthersWalked(t *testing.T) {
	good := at.GzipLayer(at.Tar(at.Entry{Name: "good", Body: "g"}), "good")
	full := at.GzipLayer(at.Tar(at.Entry{Name: "big", Body: strings.Repeat("z", 100000)}, at.Entry{Name: "after", Body: "a"}), "truncated")
	trunc := full
	trunc.Blob = full.Blob[:len(full.Blob)/2]
	garbage := at.Layer{Blob: []byte("this is not a tar or gzip stream at all, just text"), DiffID: at.Digest([]byte("x")), CreatedBy: "garbage"}
	last := at.GzipLayer(at.Tar(at.Entry{Name: "last", Body: "l"}), "last")
	a := openAll(t, &at.Image{Layers: []at.Layer{good, trunc, garbage, last}})["layout"]
	got, problems := walkAll(t, a)
	if len(got["good"]) != 1 || len(got["last"]) != 1 {
		t.Fatalf("good layers not walked: %v", got)
	}
	if len(problems) != 2 {
		t.Fatalf("want 2 problems, got %v", problems)
	}
	if problems[0].Layer.Index != 1 || !strings.Contains(problems[0].Error(), "layer 1") {
		t.Errorf("truncated layer: %v", problems[0])
	}
	if problems[1].Layer.Index != 2 || !strings.Contains(problems[1].Error(), "corrupt") {
		t.Errorf("garbage layer: %v", problems[1])
	}
}

func TestGzipBombStopped(t *testing.T) {
	// 96 MiB of zeros compress ~1000:1; the ratio guard (200) trips after
	// the 64 MiB floor.
	zeros := make([]byte, 96<<20)
	bomb := at.GzipLayer(at.Tar(at.Entry{Name: "zeros", Body: string(zeros)}, at.Entry{Name: "after", Body: "x"}), "bomb")
	ok := at.GzipLayer(at.Tar(at.Entry{Name: "ok", Body: "x"}), "ok")
	a := openAll(t, &at.Image{Layers: []at.Layer{bomb, ok}})["layout"]
	got, problems := walkAll(t, a)
	if len(got["ok"]) != 1 {
		t.Fatalf("layer after the bomb not walked")
	}
	if len(problems) == 0 || !errors.Is(problems[0], artifact.ErrLayerTooBig) || problems[0].Layer.Index != 0 {
		t.Fatalf("bomb not reported: %v", problems)
	}
	// An absolute cap applies to uncompressed layers too.
	a2, err := artifact.Open(context.Background(), "oci:"+layoutOf(t, &at.Image{Layers: []at.Layer{{Blob: at.Tar(at.Entry{Name: "f", Body: strings.Repeat("a", 1<<20)}), DiffID: at.Digest(nil)}}}), artifact.Options{MaxLayerBytes: 1 << 19})
	if err != nil {
		t.Fatal(err)
	}
	_, problems = walkAll(t, a2)
	if len(problems) == 0 || !errors.Is(problems[0], artifact.ErrLayerTooBig) {
		t.Fatalf("cap not enforced: %v", problems)
	}
}

func layoutOf(t *testing.T, img ...*at.Image) string {
	dir := filepath.Join(t.TempDir(), "layout")
	if err := at.WriteLayout(dir, img...); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestHugeFileTruncatedStream(t *testing.T) {
	// A header announcing 2 GiB with only a few bytes behind it: the walk
	// reports the truncation naming the path and does not allocate it.
	raw := at.Tar(at.Entry{Name: "first", Body: "1"})
	raw = raw[:len(raw)-1024] // drop the end-of-archive blocks
	h, _ := tar.NewReader(strings.NewReader(string(at.Tar(at.Entry{Name: "huge", Body: ""})))).Next()
	h.Size = 2 << 30
	var buf strings.Builder
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(h)
	tw.Flush()
	huge := []byte(buf.String())
	stream := append(append(raw, huge...), []byte("only a few bytes")...)
	a := openAll(t, &at.Image{Layers: []at.Layer{at.GzipLayer(stream, "huge")}})["layout"]
	var sizes []int64
	err := a.Walk(context.Background(), func(f *artifact.File, r io.Reader) error {
		sizes = append(sizes, f.Size)
		_, err := io.Copy(io.Discard, r)
		_ = err // the consumer sees the short read; the walker reports it
		return nil
	})
	problems, fatal := artifact.Problems(err)
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(sizes) != 2 || sizes[1] != 2<<30 {
		t.Fatalf("sizes %v", sizes)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "huge") {
		t.Fatalf("problems %v", problems)
	}
}

func TestPlatformSelection(t *testing.T) {
	amd := &at.Image{Arch: "amd64", Layers: []at.Layer{at.GzipLayer(at.Tar(at.Entry{Name: "amd", Body: "a"}), "amd")}}
	arm := &at.Image{Arch: "arm64", Layers: []at.Layer{at.GzipLayer(at.Tar(at.Entry{Name: "arm", Body: "a"}), "arm")}}
	dir := layoutOf(t, amd, arm)
	for plat, file := range map[string]string{"linux/amd64": "amd", "linux/arm64": "arm"} {
		a, err := artifact.Open(context.Background(), dir, artifact.Options{Platform: plat})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := walkAll(t, a)
		if len(got[file]) != 1 {
			t.Errorf("%s: got %v", plat, got)
		}
		a.Close()
	}
	_, err := artifact.Open(context.Background(), dir, artifact.Options{Platform: "linux/s390x"})
	if !errors.Is(err, artifact.ErrNoPlatform) || !strings.Contains(err.Error(), "linux/arm64") {
		t.Fatalf("want ErrNoPlatform listing platforms, got %v", err)
	}
}

func TestDirectoryWalk(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a/b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a/b/f.txt"), []byte("hello"), 0o600)
	os.Symlink("/etc/passwd", filepath.Join(dir, "a/abs"))
	os.Symlink("../../../../outside", filepath.Join(dir, "a/rel"))
	a, err := artifact.Open(context.Background(), dir, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Type() != artifact.TypeFilesystem || a.Layers() != nil || a.Config() != nil {
		t.Fatalf("dir artifact: %s %v", a.Type(), a.Layers())
	}
	got, problems := walkAll(t, a)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if strings.Join(paths, ",") != "a,a/abs,a/b,a/b/f.txt,a/rel" {
		t.Fatalf("paths %v", paths)
	}
	if got["a/b/f.txt"][0].Body != "hello" || got["a/b/f.txt"][0].Layer != -1 || got["a/abs"][0].Link != "/etc/passwd" {
		t.Fatalf("entries %+v", got)
	}
	r, err := artifact.Open(context.Background(), dir, artifact.Options{Rootfs: true})
	if err != nil || r.Type() != artifact.TypeRootfs {
		t.Fatalf("rootfs: %v %v", r, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notTar := filepath.Join(dir, "x.tar")
	os.WriteFile(notTar, []byte("plain text"), 0o644)
	if _, err := artifact.Open(ctx, notTar, artifact.Options{}); err == nil {
		t.Error("plain text file opened as archive")
	}
	emptyTar := filepath.Join(dir, "e.tar")
	os.WriteFile(emptyTar, at.Tar(at.Entry{Name: "hello", Body: "x"}), 0o644)
	if _, err := artifact.Open(ctx, emptyTar, artifact.Options{}); !errors.Is(err, artifact.ErrNotSupported) {
		t.Errorf("tar without manifest: %v", err)
	}
	if _, err := artifact.Open(ctx, "./does/not/exist", artifact.Options{}); err == nil {
		t.Error("missing path opened")
	}
	if _, err := artifact.Open(ctx, "registry:UPPER/Case::bad", artifact.Options{}); err == nil {
		t.Error("bad reference parsed")
	}
}

func TestCacheDirIndexes(t *testing.T) {
	cache := t.TempDir()
	dir := layoutOf(t, threeLayers())
	a, err := artifact.Open(context.Background(), dir, artifact.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := walkAll(t, a)
	ents, _ := os.ReadDir(filepath.Join(cache, artifact.IndexCacheSubdir))
	if len(ents) != 2 { // layers 1 and 2
		t.Fatalf("cached indexes: %d", len(ents))
	}
	second, _ := walkAll(t, a)
	if len(first) != len(second) || second["a.txt"][0].Deleted != true {
		t.Fatalf("cached walk differs")
	}
}

// TestLegacyDockerSave reads the pre-OCI `docker save` layout:
// <id>/layer.tar plain tars and <id>.json configs.
func TestLegacyDockerSave(t *testing.T) {
	l0 := at.Tar(at.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.19.1\n"}, at.Entry{Name: "a", Body: "1"})
	l1 := at.Tar(at.Entry{Name: ".wh.a"}, at.Entry{Name: "b", Body: "2"})
	cfg := fmt.Sprintf(`{"architecture":"amd64","os":"linux","config":{"User":"nobody"},"rootfs":{"type":"layers","diff_ids":[%q,%q]},"history":[{"created_by":"ADD rootfs /"},{"created_by":"RUN rm a"}]}`, at.Digest(l0), at.Digest(l1))
	archive := at.Tar(
		at.Entry{Name: "abc/layer.tar", Body: string(l0)},
		at.Entry{Name: "def/layer.tar", Body: string(l1)},
		at.Entry{Name: "cfg.json", Body: cfg},
		at.Entry{Name: "manifest.json", Body: `[{"Config":"cfg.json","RepoTags":["old:1"],"Layers":["abc/layer.tar","def/layer.tar"]}]`},
	)
	p := filepath.Join(t.TempDir(), "old.tar")
	if err := os.WriteFile(p, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Open(context.Background(), "docker-archive:"+p, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ls := a.Layers()
	if len(ls) != 2 || ls[0].Digest != at.Digest(l0) || ls[0].DiffID != at.Digest(l0) || ls[1].CreatedBy != "RUN rm a" || a.Config().User != "nobody" {
		t.Fatalf("layers %+v config %+v", ls, a.Config())
	}
	got, problems := walkAll(t, a)
	if len(problems) != 0 || !got["a"][0].Deleted || got["b"][0].Deleted || got["etc/os-release"][0].Body == "" {
		t.Fatalf("%v %+v", problems, got)
	}
	// An archive member with ".." is refused as a whole.
	bad := filepath.Join(t.TempDir(), "bad.tar")
	os.WriteFile(bad, at.Tar(at.Entry{Name: "../manifest.json", Body: "[]"}), 0o644)
	if _, err := artifact.Open(context.Background(), bad, artifact.Options{}); !errors.Is(err, artifact.ErrPathEscape) {
		t.Fatalf("archive with ..: %v", err)
	}
}
