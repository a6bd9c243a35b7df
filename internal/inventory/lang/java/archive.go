package java

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// ArchiveLimits bound the work done on one top-level archive.
type ArchiveLimits struct {
	// MaxSize of the top-level archive, buffered for random access
	// (default 256 MiB).
	MaxSize int64
	// MaxNestedSize of one nested archive, inflated into memory
	// (default 64 MiB).
	MaxNestedSize int64
	// MaxInflated is the total number of bytes inflated across the whole
	// archive tree (default 512 MiB): a zip bomb stops there.
	MaxInflated int64
	// MaxEntries per archive, checked from the end-of-central-directory
	// record before the directory is read (default 100,000).
	MaxEntries int
	// MaxDepth of nesting (default 4: EAR > WAR > JAR > shaded JAR).
	MaxDepth int
}

func (l ArchiveLimits) withDefaults() ArchiveLimits {
	if l.MaxSize <= 0 {
		l.MaxSize = langutil.MaxBinarySize
	}
	if l.MaxNestedSize <= 0 {
		l.MaxNestedSize = 64 << 20
	}
	if l.MaxInflated <= 0 {
		l.MaxInflated = 512 << 20
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 100_000
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 4
	}
	return l
}

// maxMetaFile bounds one pom.properties or MANIFEST.MF (1 MiB).
const maxMetaFile = 1 << 20

// Archive reads Java archives (.jar, .war, .ear, .par, .sar, Jenkins
// .jpi/.hpi) and the archives nested in them. For each archive, the
// packages are the META-INF/maven/**/pom.properties it holds (a shaded
// JAR holds several); failing those, MANIFEST.MF (Implementation-* or
// Bundle-* headers, group from Implementation-Vendor-Id) and the file name
// ("name-1.2.3.jar"). A nested archive's Path is "outer.war!/WEB-INF/lib/x.jar".
type Archive struct {
	Limits ArchiveLimits
}

// Name implements inventory.Extractor.
func (Archive) Name() string { return "java/archive" }

// Version implements inventory.Extractor.
func (Archive) Version() int { return 1 }

var archiveExts = []string{".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi"}

func isArchiveName(p string) bool {
	for _, ext := range archiveExts {
		if langutil.HasSuffixFold(p, ext) {
			return true
		}
	}
	return false
}

// Required implements inventory.Extractor.
func (Archive) Required(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && isArchiveName(p)
}

// ErrArchiveLimit is wrapped by errors from the archive limits.
var ErrArchiveLimit = errors.New("archive limit exceeded")

type archiveWalker struct {
	ctx      context.Context
	lim      ArchiveLimits
	inflated int64
	pkgs     []sbom.Package
}

// Extract implements inventory.Extractor.
func (a Archive) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	lim := a.Limits.withDefaults()
	w := &archiveWalker{ctx: ctx, lim: lim}
	if ra, ok := in.Reader.(io.ReaderAt); ok && in.Size > 0 {
		// A file on disk: read the directory and entries in place.
		if err := w.walk(ra, in.Size, in.Path, 1); err != nil {
			return nil, err
		}
		return langutil.Finish(w.pkgs), nil
	}
	data, err := langutil.ReadAll(in, lim.MaxSize)
	if err != nil {
		return nil, err
	}
	if err := w.walk(bytes.NewReader(data), int64(len(data)), in.Path, 1); err != nil {
		return nil, err
	}
	return langutil.Finish(w.pkgs), nil
}

func (w *archiveWalker) read(f *zip.File, max int64, where string) ([]byte, error) {
	if int64(f.UncompressedSize64) > max {
		return nil, &langutil.Error{Path: where, Err: fmt.Errorf("%w: entry of %d bytes, limit %d", ErrArchiveLimit, f.UncompressedSize64, max)}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, &langutil.Error{Path: where, Err: err}
	}
	defer rc.Close()
	budget := w.lim.MaxInflated - w.inflated
	if budget < max {
		max = budget
	}
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	w.inflated += int64(len(b))
	if err != nil {
		return nil, &langutil.Error{Path: where, Err: err}
	}
	if int64(len(b)) > max {
		return nil, &langutil.Error{Path: where, Err: fmt.Errorf("%w: more than %d bytes inflated (declared %d)", ErrArchiveLimit, max, f.UncompressedSize64)}
	}
	return b, nil
}

func (w *archiveWalker) walk(ra io.ReaderAt, size int64, where string, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if n, err := zipEntryCount(ra, size); err != nil {
		return &langutil.Error{Path: where, Err: fmt.Errorf("not a zip archive: %w", err)}
	} else if n > uint64(w.lim.MaxEntries) {
		return &langutil.Error{Path: where, Err: fmt.Errorf("%w: %d entries, limit %d", ErrArchiveLimit, n, w.lim.MaxEntries)}
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return &langutil.Error{Path: where, Err: fmt.Errorf("not a zip archive: %w", err)}
	}
	files := append([]*zip.File(nil), zr.File...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	var poms []sbom.Package
	var manifest *zip.File
	var nested []*zip.File
	for _, f := range files {
		name := f.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			b, err := w.read(f, maxMetaFile, where+"!/"+name)
			if err != nil {
				return err
			}
			if p, ok := parsePomProperties(b, where); ok {
				poms = append(poms, p)
			}
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			manifest = f
		case isArchiveName(name) && !f.FileInfo().IsDir():
			nested = append(nested, f)
		}
	}
	switch {
	case len(poms) > 0:
		w.pkgs = append(w.pkgs, poms...)
	default:
		var hdr map[string]string
		if manifest != nil {
			b, err := w.read(manifest, maxMetaFile, where+"!/"+manifest.Name)
			if err != nil {
				return err
			}
			hdr = parseManifest(b)
		}
		if p, ok := fromManifestAndName(hdr, where); ok {
			w.pkgs = append(w.pkgs, p)
		}
	}
	for _, f := range nested {
		inner := where + "!/" + f.Name
		if depth >= w.lim.MaxDepth {
			return &langutil.Error{Path: inner, Err: fmt.Errorf("%w: archives nested deeper than %d", ErrArchiveLimit, w.lim.MaxDepth)}
		}
		b, err := w.read(f, w.lim.MaxNestedSize, inner)
		if err != nil {
			return err
		}
		if err := w.walk(bytes.NewReader(b), int64(len(b)), inner, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// zipEntryCount reads the entry count from the end-of-central-directory
// record (zip64 aware), so that a forged directory with millions of
// entries is refused before archive/zip allocates them.
func zipEntryCount(ra io.ReaderAt, fileSize int64) (uint64, error) {
	const eocdLen = 22
	if fileSize < eocdLen {
		return 0, errors.New("too short")
	}
	// The EOCD record is in the last 64 KiB + 22 bytes.
	start := fileSize - eocdLen - 65535
	if start < 0 {
		start = 0
	}
	tail := make([]byte, fileSize-start)
	if _, err := ra.ReadAt(tail, start); err != nil && err != io.EOF {
		return 0, err
	}
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 {
		return 0, errors.New("no end of central directory")
	}
	if i+eocdLen > len(tail) {
		return 0, errors.New("truncated end of central directory")
	}
	data := tail
	n := uint64(binary.LittleEndian.Uint16(data[i+10:]))
	size := uint64(binary.LittleEndian.Uint32(data[i+12:]))
	if n == 0xffff || size == 0xffffffff {
		// zip64: the locator sits just before the EOCD record.
		if i < 20 || string(data[i-20:i-16]) != "PK\x06\x07" {
			return 0, errors.New("zip64 locator missing")
		}
		off := binary.LittleEndian.Uint64(data[i-12:])
		rec := make([]byte, 56)
		if fileSize < 56 || off > uint64(fileSize-56) {
			return 0, errors.New("bad zip64 end of central directory offset")
		}
		if _, err := ra.ReadAt(rec, int64(off)); err != nil && err != io.EOF {
			return 0, err
		}
		if string(rec[:4]) != "PK\x06\x06" {
			return 0, errors.New("bad zip64 end of central directory")
		}
		n = binary.LittleEndian.Uint64(rec[32:])
		size = binary.LittleEndian.Uint64(rec[40:])
	}
	// A central directory entry is at least 46 bytes.
	if size/46 < n {
		return 0, fmt.Errorf("central directory of %d bytes cannot hold %d entries", size, n)
	}
	return n, nil
}

func parsePomProperties(b []byte, where string) (sbom.Package, bool) {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxMetaFile)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			k, v, ok = strings.Cut(l, ":")
		}
		if ok {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	g, a, v := props["groupId"], props["artifactId"], props["version"]
	if !validCoord(g) || !validCoord(a) || !validCoord(v) {
		return sbom.Package{}, false
	}
	return mavenPackage(g, a, v, where, 0), true
}

// parseManifest reads the main section of a JAR manifest (continuation
// lines start with one space).
func parseManifest(b []byte) map[string]string {
	hdr := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxMetaFile)
	last := ""
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			break // end of the main section
		}
		if l[0] == ' ' && last != "" {
			hdr[last] += l[1:]
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		hdr[last] = strings.TrimSpace(v)
	}
	return hdr
}

var jarFileName = regexp.MustCompile(`^(.+?)-(\d[\w.+-]*)$`)

func fromManifestAndName(hdr map[string]string, where string) (sbom.Package, bool) {
	base := where
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	base = strings.TrimSuffix(base, path.Ext(base))
	artifact, version := base, ""
	if m := jarFileName.FindStringSubmatch(base); m != nil {
		artifact, version = m[1], m[2]
	}
	if v := hdr["Implementation-Version"]; v != "" {
		version = v
	} else if v := hdr["Bundle-Version"]; v != "" && version == "" {
		version = v
	}
	group := hdr["Implementation-Vendor-Id"]
	if !validCoord(artifact) || !validCoord(version) {
		return sbom.Package{}, false
	}
	if !validCoord(group) {
		group = ""
	}
	return mavenPackage(group, artifact, version, where, 0), true
}
