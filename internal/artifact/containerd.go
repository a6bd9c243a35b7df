package artifact

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/wardsec/ward/internal/fsutil"
)

// PrefixContainerd names an image in a local containerd store:
// containerd:NAME or containerd:NAMESPACE/NAME is not ambiguous because
// image names hold a registry host, so the namespace is given apart:
// containerd:alpine:3.20 searches the "default" namespace, then "k8s.io"
// (the CRI plugin's, where kubelet's images are), then the others.
const PrefixContainerd = "containerd:"

// maxMetaDBBytes bounds the copy of a containerd metadata database made
// while containerd holds its lock.
const maxMetaDBBytes = 512 << 20

// ContainerdOptions locate a containerd store.
type ContainerdOptions struct {
	// Root is containerd's root directory; default: the root of
	// /etc/containerd/config.toml, else /var/lib/containerd.
	Root string
	// Namespace restricts the search to one namespace.
	Namespace string
}

// ctrdImage is an image record of containerd's metadata database.
type ctrdImage struct {
	namespace, name string
	target          v1.Descriptor
}

// openContainerd opens ref from containerd's content store: the image
// record (metadata database, bbolt) gives the target manifest or index;
// blobs are read from io.containerd.content.v1.content in place.
func openContainerd(nameRef, ref string, co ContainerdOptions, opts *Options) (Artifact, error) {
	if co.Root == "" {
		co.Root = containerdRoot("/etc/containerd/config.toml")
	}
	if strings.TrimSpace(ref) == "" {
		return nil, fmt.Errorf("%s: no image named", nameRef)
	}
	dbPath := filepath.Join(co.Root, "io.containerd.metadata.v1.bolt", "meta.db")
	img, err := findContainerdImage(dbPath, ref, co.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: containerd %s: %w", nameRef, co.Root, err)
	}
	root, err := os.OpenRoot(filepath.Join(co.Root, "io.containerd.content.v1.content"))
	if err != nil {
		return nil, fmt.Errorf("%s: containerd content store: %w", nameRef, err)
	}
	idx, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{img.target}})
	if err != nil {
		root.Close()
		return nil, err
	}
	a, err := openOCI(nameRef, indexedBlobs{blobSource: dirBlobs{root: root}, index: idx}, opts)
	if err != nil {
		root.Close()
		return nil, err
	}
	return a, nil
}

// containerdRoot is the root directory containerd's configuration names,
// else /var/lib/containerd.
func containerdRoot(conf string) string {
	if b, err := readBounded(conf, 1<<20); err == nil {
		var c struct {
			Root string `toml:"root"`
		}
		if _, err := toml.Decode(string(b), &c); err == nil && c.Root != "" {
			return c.Root
		}
	}
	return "/var/lib/containerd"
}

// indexedBlobs serves a synthesized index.json in front of a blob store.
type indexedBlobs struct {
	blobSource
	index []byte
}

func (b indexedBlobs) open(name string) (io.ReadCloser, int64, error) {
	if name == "index.json" {
		return io.NopCloser(bytes.NewReader(b.index)), int64(len(b.index)), nil
	}
	return b.blobSource.open(name)
}

// findContainerdImage reads the image records of the metadata database.
// containerd holds the database's lock while it runs: then a snapshot copy
// is read instead (bbolt's copy-on-write pages and checksummed meta pages
// make a copy consistent or refused).
func findContainerdImage(dbPath, ref, namespace string) (*ctrdImage, error) {
	st, err := os.Stat(dbPath)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", dbPath)
	}
	imgs, err := readContainerdImages(dbPath)
	if errors.Is(err, bolterrors.ErrTimeout) {
		tmp, cerr := snapshotFile(dbPath, maxMetaDBBytes)
		if cerr != nil {
			return nil, fmt.Errorf("%s is locked by a running containerd and could not be copied: %w", dbPath, cerr)
		}
		defer os.Remove(tmp)
		imgs, err = readContainerdImages(tmp)
	}
	if err != nil {
		return nil, err
	}
	want := map[string]bool{ref: true}
	if r, err := name.ParseReference(ref); err == nil {
		want[strings.Replace(r.Name(), name.DefaultRegistry+"/", "docker.io/", 1)] = true
		want[r.Name()] = true
	}
	rank := func(ns string) int {
		switch ns {
		case "default":
			return 0
		case "k8s.io":
			return 1
		}
		return 2
	}
	sort.SliceStable(imgs, func(i, j int) bool { return rank(imgs[i].namespace) < rank(imgs[j].namespace) })
	for i := range imgs {
		if (namespace == "" || imgs[i].namespace == namespace) && want[imgs[i].name] {
			return &imgs[i], nil
		}
	}
	if namespace != "" {
		return nil, fmt.Errorf("no image %q in namespace %q", ref, namespace)
	}
	return nil, fmt.Errorf("no image %q in any namespace", ref)
}

// snapshotFile copies p (at most limit bytes) to a private temporary file.
func snapshotFile(p string, limit int64) (string, error) {
	in, err := fsutil.OpenRegular(p)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp("", "ward-meta-*.db")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(out, io.LimitReader(in, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = fmt.Errorf("larger than %d bytes", limit)
	}
	if err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

// readContainerdImages lists every image record: v1/NS/images/NAME/target.
func readContainerdImages(p string) (imgs []ctrdImage, err error) {
	// bbolt maps its file and trusts it: a damaged one faults on access.
	// Turn faults into panics and panics into an error.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: damaged database: %v", p, r)
		}
	}()
	db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true, Timeout: 300 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%s: damaged database: %v", p, r)
			}
		}()
		top := tx.Bucket([]byte("v1"))
		if top == nil {
			return fmt.Errorf("%s: no v1 bucket (not a containerd metadata database)", p)
		}
		return top.ForEachBucket(func(ns []byte) error {
			ib := top.Bucket(ns).Bucket([]byte("images"))
			if ib == nil {
				return nil
			}
			return ib.ForEachBucket(func(n []byte) error {
				t := ib.Bucket(n).Bucket([]byte("target"))
				if t == nil {
					return nil
				}
				d, err := v1.NewHash(string(t.Get([]byte("digest"))))
				if err != nil {
					return fmt.Errorf("%s: image %s/%s: target digest: %w", p, ns, n, err)
				}
				size, _ := binaryVarint(t.Get([]byte("size")))
				imgs = append(imgs, ctrdImage{namespace: string(ns), name: string(n),
					target: v1.Descriptor{MediaType: types.MediaType(t.Get([]byte("mediatype"))), Digest: d, Size: size}})
				return nil
			})
		})
	})
	return imgs, err
}

// binaryVarint decodes containerd's size encoding (binary.PutVarint).
func binaryVarint(b []byte) (int64, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, errors.New("bad varint")
	}
	return v, nil
}
