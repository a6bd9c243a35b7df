package db

import (
	"archive/tar"
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BundleFormat identifies a Ward database bundle.
const BundleFormat = "ward-vulndb-bundle"

// bundleVersion is the bundle layout version.
const bundleVersion = 1

// maxManifest bounds the manifest read from an untrusted bundle.
const maxManifest = 4 << 20

// maxBundleFile bounds one source archive inside a bundle.
const maxBundleFile = 8 << 30

// Manifest is the first file of a bundle: what it holds and the checksum
// of every other file.
type Manifest struct {
	Format  string         `json:"format"`
	Version int            `json:"version"`
	Created time.Time      `json:"created"`
	Built   time.Time      `json:"built"`
	Sources []BundleSource `json:"sources"`
}

// BundleSource is one source archive in a bundle.
type BundleSource struct {
	File   string       `json:"file"`
	Size   int64        `json:"size"`
	SHA256 string       `json:"sha256"`
	Status SourceStatus `json:"status"`
}

// Export writes the database in dir as a bundle to w: an uncompressed tar
// whose first member is manifest.json, followed by one OSV zip archive per
// source (the original advisory documents). Import verifies every size
// and SHA-256 before using any of it.
func Export(ctx context.Context, dir string, w io.Writer) (*Manifest, error) {
	d, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	tmp, err := os.MkdirTemp("", "ward-export-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	m := &Manifest{Format: BundleFormat, Version: bundleVersion, Created: time.Now().UTC().Truncate(time.Second), Built: d.Status().Built}
	for i, st := range d.Status().Sources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("sources/%03d.zip", i)
		path := filepath.Join(tmp, fmt.Sprintf("%03d.zip", i))
		size, sum, err := writeSourceZip(d, st.Name, path)
		if err != nil {
			return nil, fmt.Errorf("export source %s: %w", st.Name, err)
		}
		st.SHA256 = ""
		m.Sources = append(m.Sources, BundleSource{File: name, Size: size, SHA256: sum, Status: st})
	}
	man, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	now := m.Created
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(man)), ModTime: now, Format: tar.FormatUSTAR}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(man); err != nil {
		return nil, err
	}
	for i, s := range m.Sources {
		f, err := os.Open(filepath.Join(tmp, fmt.Sprintf("%03d.zip", i)))
		if err != nil {
			return nil, err
		}
		err = tw.WriteHeader(&tar.Header{Name: s.File, Mode: 0o644, Size: s.Size, ModTime: now, Format: tar.FormatUSTAR})
		if err == nil {
			_, err = io.Copy(tw, f)
		}
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("write bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	return m, nil
}

func writeSourceZip(d *DB, source, path string) (int64, string, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, "", err
	}
	zw := zip.NewWriter(f)
	err = d.View(func(r *Reader) error {
		return r.SourceIDs(source, func(id string) error {
			raw := r.Raw(id)
			if raw == nil {
				return nil
			}
			name := strings.NewReplacer("/", "_", "\\", "_").Replace(id) + ".json"
			w, err := zw.Create(name)
			if err != nil {
				return err
			}
			_, err = w.Write(raw)
			return err
		})
	})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", err
	}
	return hashFile(path)
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// readBundle verifies a bundle and unpacks its source archives into a
// temporary directory next to the database (removed by the cleanup).
func readBundle(dbDir, path string) ([]source, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return nil, nil, err
	}
	tmp, err := os.MkdirTemp(dbDir, ".bundle-*")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	fail := func(format string, args ...any) ([]source, func(), error) {
		return nil, cleanup, fmt.Errorf("bundle %s: "+format, append([]any{path}, args...)...)
	}
	tr := tar.NewReader(f)
	hdr, err := tr.Next()
	if err != nil {
		return fail("%v", err)
	}
	if hdr.Name != "manifest.json" {
		return fail("first member is %q, want manifest.json", hdr.Name)
	}
	raw, err := io.ReadAll(io.LimitReader(tr, maxManifest+1))
	if err != nil {
		return fail("manifest: %v", err)
	}
	if len(raw) > maxManifest {
		return fail("manifest larger than %d bytes", maxManifest)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fail("manifest: %v", err)
	}
	if m.Format != BundleFormat {
		return fail("format %q, want %q", m.Format, BundleFormat)
	}
	if m.Version != bundleVersion {
		return fail("bundle version %d, this Ward reads version %d", m.Version, bundleVersion)
	}
	want := map[string]*BundleSource{}
	for i := range m.Sources {
		s := &m.Sources[i]
		if s.File == "" || strings.Contains(s.File, "..") || filepath.IsAbs(s.File) {
			return fail("invalid file name %q in manifest", s.File)
		}
		if s.Status.Name == "" {
			return fail("source %s has no name", s.File)
		}
		want[s.File] = s
	}
	got := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail("%v", err)
		}
		s, ok := want[hdr.Name]
		if !ok {
			return fail("member %q is not in the manifest", hdr.Name)
		}
		if _, dup := got[hdr.Name]; dup {
			return fail("member %q appears twice", hdr.Name)
		}
		if hdr.Size != s.Size || s.Size > maxBundleFile {
			return fail("%s: size %d, manifest says %d", hdr.Name, hdr.Size, s.Size)
		}
		out := filepath.Join(tmp, fmt.Sprintf("%d.zip", len(got)))
		w, err := os.Create(out)
		if err != nil {
			return fail("%v", err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(tr, s.Size))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail("%s: %v", hdr.Name, err)
		}
		if n != s.Size {
			return fail("%s: truncated (%d of %d bytes)", hdr.Name, n, s.Size)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); sum != s.SHA256 {
			return fail("%s: checksum mismatch (sha256 %s, manifest says %s)", hdr.Name, sum, s.SHA256)
		}
		got[hdr.Name] = out
	}
	var srcs []source
	for _, s := range m.Sources {
		out, ok := got[s.File]
		if !ok {
			return fail("%s listed in the manifest is missing", s.File)
		}
		src := zipSource(out, s.Status.Name, s.Status.Origin)
		st := s.Status
		st.SHA256 = s.SHA256
		src.status = st
		srcs = append(srcs, src)
	}
	return srcs, cleanup, nil
}
