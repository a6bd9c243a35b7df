package artifact

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vbatts/tar-split/tar/storage"

	"github.com/wardsec/ward/internal/fsutil"
)

// Prefixes of images in a local containers/storage store (Podman, Buildah,
// CRI-O), read in place: no daemon, no socket, no podman binary.
const (
	PrefixPodman            = "podman:"
	PrefixContainersStorage = "containers-storage:"
)

// Bounds of the store's metadata files.
const (
	maxStoreIndexBytes = 64 << 20 // images.json, layers.json
	maxLayerChain      = 500      // layers of one image
)

// StorageOptions locate a containers/storage store.
type StorageOptions struct {
	// Root is the store's graph root; default: the graphroot of
	// storage.conf (CONTAINERS_STORAGE_CONF, /etc/containers/storage.conf),
	// else /var/lib/containers/storage.
	Root string
	// Driver is the graph driver: overlay or vfs; default: storage.conf's
	// driver, else overlay.
	Driver string
}

// storageConf is the part of storage.conf that locates the store.
type storageConf struct {
	Storage struct {
		Driver    string `toml:"driver"`
		GraphRoot string `toml:"graphroot"`
	} `toml:"storage"`
}

func (o StorageOptions) resolve() (StorageOptions, error) {
	conf := os.Getenv("CONTAINERS_STORAGE_CONF")
	if conf == "" {
		conf = "/etc/containers/storage.conf"
	}
	if o.Root == "" || o.Driver == "" {
		if b, err := readBounded(conf, 1<<20); err == nil {
			var c storageConf
			if _, err := toml.Decode(string(b), &c); err != nil {
				return o, fmt.Errorf("%s: %w", conf, err)
			}
			if o.Root == "" {
				o.Root = c.Storage.GraphRoot
			}
			if o.Driver == "" {
				o.Driver = c.Storage.Driver
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return o, fmt.Errorf("%s: %w", conf, err)
		}
	}
	if o.Root == "" {
		o.Root = "/var/lib/containers/storage"
	}
	if o.Driver == "" {
		o.Driver = "overlay"
	}
	if o.Driver != "overlay" && o.Driver != "vfs" {
		return o, fmt.Errorf("containers storage %s: graph driver %q is not supported (overlay, vfs)", o.Root, o.Driver)
	}
	return o, nil
}

// readBounded reads a regular file of at most limit bytes.
func readBounded(p string, limit int64) ([]byte, error) {
	f, err := fsutil.OpenRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

type storeImage struct {
	ID     string   `json:"id"`
	Digest string   `json:"digest"`
	Names  []string `json:"names"`
	Layer  string   `json:"layer"`
}

type storeLayer struct {
	ID         string `json:"id"`
	Parent     string `json:"parent"`
	DiffDigest string `json:"diff-digest"`
	DiffSize   int64  `json:"diff-size"`
}

// openStorage opens ref (a name such as alpine:3.20 or
// docker.io/library/alpine:3.20, or an image ID or unique ID prefix) from a
// containers/storage store.
func openStorage(nameRef, ref string, so StorageOptions, opts *Options) (Artifact, error) {
	so, err := so.resolve()
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(so.Root)
	if err != nil {
		return nil, fmt.Errorf("%s: containers storage: %w", nameRef, err)
	}
	st := &storeBlobs{root: root, driver: so.Driver, layers: map[string]storeLayer{}}
	fail := func(err error) (Artifact, error) {
		root.Close()
		return nil, fmt.Errorf("%s: containers storage %s: %w", nameRef, so.Root, err)
	}
	var images []storeImage
	if err := st.readJSON(so.Driver+"-images/images.json", &images); err != nil {
		return fail(err)
	}
	img, err := findStoreImage(images, ref)
	if err != nil {
		return fail(err)
	}
	var layers []storeLayer
	if err := st.readJSON(so.Driver+"-layers/layers.json", &layers); err != nil {
		return fail(err)
	}
	for _, l := range layers {
		st.layers[l.ID] = l
	}
	// The image's layers, base first: follow parents from the top layer.
	var chain []storeLayer
	seen := map[string]bool{}
	for id := img.Layer; id != ""; id = st.layers[id].Parent {
		l, ok := st.layers[id]
		if !ok {
			return fail(fmt.Errorf("image %s: layer %s is not in layers.json", shortID(img.ID), shortID(id)))
		}
		if seen[id] || len(chain) == maxLayerChain {
			return fail(fmt.Errorf("image %s: layer chain loops or exceeds %d layers", shortID(img.ID), maxLayerChain))
		}
		seen[id] = true
		chain = append(chain, l)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	cb, err := st.bigData(img.ID, "sha256:"+img.ID)
	if err != nil {
		return fail(fmt.Errorf("image %s: config: %w", shortID(img.ID), err))
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cb))
	if err != nil {
		return fail(fmt.Errorf("image %s: config: %w", shortID(img.ID), err))
	}
	if len(cf.RootFS.DiffIDs) != len(chain) {
		return fail(fmt.Errorf("image %s: %d layers in the store but the config lists %d diff IDs", shortID(img.ID), len(chain), len(cf.RootFS.DiffIDs)))
	}
	paths := make([]string, len(chain))
	digests := make([]string, len(chain))
	sizes := make([]int64, len(chain))
	for i, l := range chain {
		paths[i], sizes[i] = l.ID, l.DiffSize
		// The store keeps layers uncompressed: the blob is the diff.
		digests[i] = cf.RootFS.DiffIDs[i].String()
		if l.DiffDigest != "" && l.DiffDigest != digests[i] {
			return fail(fmt.Errorf("image %s: layer %d (%s) has diff digest %s but the config says %s", shortID(img.ID), i, shortID(l.ID), l.DiffDigest, digests[i]))
		}
	}
	digest := img.Digest
	if digest == "" {
		digest = "sha256:" + img.ID
	}
	return newArchiveImage(nameRef, digest, st, paths, digests, sizes, cf, opts)
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// findStoreImage picks the image named ref: an exact name, the name with
// the registry defaults applied (alpine -> docker.io/library/alpine:latest,
// and localhost/ for unqualified local builds), or an ID prefix.
func findStoreImage(images []storeImage, ref string) (*storeImage, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, errors.New("no image named")
	}
	want := map[string]bool{ref: true}
	if r, err := name.ParseReference(ref); err == nil {
		// Podman records Docker Hub names as docker.io/library/NAME:TAG.
		want[strings.Replace(r.Name(), name.DefaultRegistry+"/", "docker.io/", 1)] = true
		want[r.Name()] = true
		if !strings.Contains(ref, "/") {
			// An unqualified local build: localhost/NAME:TAG.
			local := ref
			if _, ok := r.(name.Tag); ok && !strings.Contains(ref, ":") {
				local += ":latest"
			}
			want["localhost/"+local] = true
		}
	}
	for i := range images {
		for _, n := range images[i].Names {
			if want[n] {
				return &images[i], nil
			}
		}
	}
	id := strings.TrimPrefix(ref, "sha256:")
	if len(id) >= 4 && strings.Trim(id, "0123456789abcdef") == "" {
		var hit *storeImage
		for i := range images {
			if strings.HasPrefix(images[i].ID, id) {
				if hit != nil {
					return nil, fmt.Errorf("image ID prefix %s is ambiguous", id)
				}
				hit = &images[i]
			}
		}
		if hit != nil {
			return hit, nil
		}
	}
	return nil, fmt.Errorf("no image %q in the store", ref)
}

// storeBlobs serves an image's layers from the store: each layer's tar
// stream is assembled from its tar-split metadata and the files of its diff
// directory, so it is byte for byte the layer that was pulled (its digest
// is the diff ID).
type storeBlobs struct {
	root   *os.Root
	driver string
	layers map[string]storeLayer
}

func (s *storeBlobs) Close() error { return s.root.Close() }

func (s *storeBlobs) readJSON(p string, v any) error {
	f, err := fsutil.OpenRegularIn(s.root, p)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStoreIndexBytes+1))
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if len(b) > maxStoreIndexBytes {
		return fmt.Errorf("%s: larger than %d bytes", p, maxStoreIndexBytes)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// bigData reads an image's big-data item, stored under a name that is the
// key itself when it is a plain name, else "=" + base64(key).
func (s *storeBlobs) bigData(id, key string) ([]byte, error) {
	dir := s.driver + "-images/" + id
	for _, n := range []string{"=" + base64.StdEncoding.EncodeToString([]byte(key)), key} {
		if strings.ContainsAny(n, "/\x00") || n == ".." {
			continue
		}
		f, err := fsutil.OpenRegularIn(s.root, dir+"/"+n)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, maxMetaBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		if len(b) > maxMetaBytes {
			return nil, fmt.Errorf("%s: larger than %d bytes", key, maxMetaBytes)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s: not in %s", key, dir)
}

func (s *storeBlobs) diffDir(id string) string {
	if s.driver == "vfs" {
		return "vfs/dir/" + id
	}
	return "overlay/" + id + "/diff"
}

// open assembles layer id's tar stream.
func (s *storeBlobs) open(id string) (io.ReadCloser, int64, error) {
	l, ok := s.layers[id]
	if !ok || strings.ContainsAny(id, "/\\") || id == ".." || id == "." {
		return nil, 0, fmt.Errorf("layer %s: not in the store", id)
	}
	ts, err := fsutil.OpenRegularIn(s.root, s.driver+"-layers/"+id+".tar-split.gz")
	if err != nil {
		return nil, 0, fmt.Errorf("layer %s: tar-split: %w", shortID(id), err)
	}
	zr, err := gzip.NewReader(ts)
	if err != nil {
		ts.Close()
		return nil, 0, fmt.Errorf("layer %s: tar-split: %w", shortID(id), err)
	}
	diff, err := s.root.OpenRoot(filepath.FromSlash(s.diffDir(id)))
	if err != nil {
		ts.Close()
		return nil, 0, fmt.Errorf("layer %s: %w", shortID(id), err)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(assembleLayer(pw, storage.NewJSONUnpacker(zr), diff))
	}()
	return &storeLayerReader{PipeReader: pr, done: done, closers: []io.Closer{diff, ts}}, l.DiffSize, nil
}

// storeLayerReader is an assembled layer; Close stops the assembly and
// waits for it before closing its files.
type storeLayerReader struct {
	*io.PipeReader
	done    chan struct{}
	closers []io.Closer
}

func (r *storeLayerReader) Close() error {
	r.PipeReader.CloseWithError(errors.New("layer reader closed"))
	<-r.done
	for _, c := range r.closers {
		c.Close()
	}
	return nil
}

// maxSegmentBytes bounds one raw tar segment of a tar-split entry (headers
// and padding are a few KiB; PAX headers more).
const maxSegmentBytes = 16 << 20

// assembleLayer writes the tar stream described by up, taking file
// contents from diff (confined to it: names that leave it are refused).
// Each file must have exactly the size and CRC-64 the metadata records.
func assembleLayer(w io.Writer, up storage.Unpacker, diff *os.Root) error {
	crc := crc64.New(storage.CRCTable)
	buf := make([]byte, 32<<10)
	for {
		e, err := up.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar-split: %w", err)
		}
		switch e.Type {
		case storage.SegmentType:
			if len(e.Payload) > maxSegmentBytes {
				return fmt.Errorf("tar-split: segment of %d bytes", len(e.Payload))
			}
			if _, err := w.Write(e.Payload); err != nil {
				return err
			}
		case storage.FileType:
			if e.Size == 0 {
				continue
			}
			if e.Size < 0 {
				return fmt.Errorf("tar-split: %s: negative size", e.GetName())
			}
			n := filepath.Clean(strings.TrimPrefix(e.GetName(), "/"))
			f, err := fsutil.OpenRegularIn(diff, n)
			if err != nil {
				return fmt.Errorf("%s: %w", e.GetName(), err)
			}
			crc.Reset()
			copied, err := io.CopyBuffer(io.MultiWriter(w, crc), io.LimitReader(f, e.Size), buf)
			f.Close()
			if err != nil {
				return err
			}
			if copied != e.Size {
				return fmt.Errorf("%s: %d bytes in the layer directory, the layer records %d", e.GetName(), copied, e.Size)
			}
			if !bytes.Equal(crc.Sum(nil), e.Payload) {
				return fmt.Errorf("%s: content differs from the layer's checksum", e.GetName())
			}
		default:
			return fmt.Errorf("tar-split: unknown entry type %d", e.Type)
		}
	}
}
