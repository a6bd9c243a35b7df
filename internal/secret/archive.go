package secret

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
)

// budget bounds the work done for one top-level archive (zip-bomb guard).
type budget struct {
	left    int64
	entries int
}

var errBudget = errors.New("archive budget exhausted")

// budgetReader counts bytes against the archive budget.
type budgetReader struct {
	r io.Reader
	b *budget
}

func (br *budgetReader) Read(p []byte) (int, error) {
	if br.b.left <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > br.b.left {
		p = p[:br.b.left]
	}
	n, err := br.r.Read(p)
	br.b.left -= int64(n)
	return n, err
}

// archiveKind identifies zip, tar and gzip content by magic bytes, falling
// back to the file name for tar (whose magic sits at offset 257).
func archiveKind(name string, head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "zip"
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip"
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "tar"
	}
	l := strings.ToLower(name)
	if strings.HasSuffix(l, ".tar") && len(head) >= 512 {
		return "tar"
	}
	return ""
}

// walkArchive scans the entries of an archive. name is the archive's path
// (used as the prefix "name!entry" in findings). ra/size are set when the
// archive is a file on disk (zip needs random access); otherwise zip
// content is read into memory, bounded by MaxFileSize.
func (s *Scanner) walkArchive(ctx context.Context, target, name, kind string, r io.Reader, ra io.ReaderAt, size int64, depth int, b *budget, sc *scratch) ([]finding.Finding, error) {
	s.stats.archives.Add(1)
	var out []finding.Finding
	entry := func(ename string, er io.Reader, esize int64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.entries--
		if b.entries < 0 {
			return fmt.Errorf("more than %d entries: %w", s.opts.MaxArchiveEntries, errBudget)
		}
		s.stats.entries.Add(1)
		full := name + "!" + ename
		if s.pathSkipped(ename) || s.pathSkipped(full) {
			s.stats.allowlisted.Add(1)
			return nil
		}
		out = append(out, s.pathOnlyFindings(target, full, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nil)), nil })...)
		if esize > s.opts.MaxFileSize {
			s.stats.large.Add(1)
			s.note("%s: skipped, %d bytes is over --max-file-size %d", full, esize, s.opts.MaxFileSize)
			return nil
		}
		br := bufio.NewReaderSize(&budgetReader{r: er, b: b}, 64<<10)
		head, _ := br.Peek(512)
		if k := archiveKind(ename, head); k != "" {
			if depth >= s.opts.MaxArchiveDepth {
				s.note("%s: nested archive not opened (depth %d reached --max-archive-depth %d)", full, depth, s.opts.MaxArchiveDepth)
				return nil
			}
			fs, err := s.walkArchive(ctx, target, full, k, br, nil, esize, depth+1, b, sc)
			out = append(out, fs...)
			if err != nil && !errors.Is(err, errBudget) {
				s.note("%s: %v", full, err)
				return nil
			}
			return err
		}
		lr := &limitNote{r: br, left: s.opts.MaxFileSize}
		fs, err := s.scanStream(ctx, lr, source{target: target, loc: finding.Location{Path: full}, rulePath: ename}, true, sc)
		if lr.hit {
			s.note("%s: content cut at --max-file-size %d bytes", full, s.opts.MaxFileSize)
		}
		if errors.Is(err, ErrBinary) {
			return nil
		}
		out = append(out, fs...)
		if err != nil && !errors.Is(err, errBudget) {
			s.note("%s: %v", full, err)
			return nil
		}
		return err
	}
	var err error
	switch kind {
	case "zip":
		err = s.walkZip(name, r, ra, size, b, entry)
	case "tar":
		err = walkTar(r, entry)
	case "gzip":
		var zr *gzip.Reader
		zr, err = gzip.NewReader(r)
		if err == nil {
			zr.Multistream(false)
			inner := strings.TrimSuffix(strings.TrimSuffix(path.Base(name), ".gz"), ".tgz")
			if strings.HasSuffix(strings.ToLower(name), ".tgz") {
				inner += ".tar"
			}
			br := bufio.NewReaderSize(zr, 64<<10)
			head, _ := br.Peek(512)
			if len(head) >= 262 && string(head[257:262]) == "ustar" {
				err = walkTar(br, entry)
			} else {
				// A single compressed file: size unknown until read.
				err = entry(inner, br, 0)
			}
		}
	}
	if errors.Is(err, errBudget) {
		s.note("%s: archive limits reached (--max-archive-size %d bytes / %d entries): rest not scanned (possible zip bomb)", name, s.opts.MaxArchiveSize, s.opts.MaxArchiveEntries)
		return out, nil
	}
	if err != nil && ctx.Err() == nil {
		// A corrupt or truncated archive is not a scan failure of the
		// target: what could be read was scanned; say what was not.
		s.stats.badArchives.Add(1)
		s.note("%s: unreadable %s archive, rest not scanned: %v", name, kind, err)
		return out, nil
	}
	return out, err
}

// limitNote is io.LimitReader that remembers whether the limit cut input.
type limitNote struct {
	r    io.Reader
	left int64
	hit  bool
}

func (l *limitNote) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.hit = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func walkTar(r io.Reader, entry func(string, io.Reader, int64) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := entry(cleanEntry(h.Name), tr, h.Size); err != nil {
			return err
		}
	}
}

func cleanEntry(n string) string {
	n = path.Clean("/" + strings.ReplaceAll(n, `\`, "/"))
	return strings.TrimPrefix(n, "/")
}

func (s *Scanner) walkZip(name string, r io.Reader, ra io.ReaderAt, size int64, b *budget, entry func(string, io.Reader, int64) error) error {
	if ra == nil {
		// Nested zip: read it into memory, bounded.
		data, err := io.ReadAll(io.LimitReader(r, s.opts.MaxFileSize+1))
		if err != nil {
			return err
		}
		if int64(len(data)) > s.opts.MaxFileSize {
			s.note("%s: nested zip over --max-file-size %d, not opened", name, s.opts.MaxFileSize)
			return nil
		}
		ra, size = bytes.NewReader(data), int64(len(data))
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return err
	}
	if len(zr.File) > s.opts.MaxArchiveEntries {
		return fmt.Errorf("%d entries: %w", len(zr.File), errBudget)
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !f.Mode().IsRegular() {
			continue
		}
		us := int64(f.UncompressedSize64)
		if us < 0 || f.UncompressedSize64 > 1<<62 {
			us = 1 << 62
		}
		if f.CompressedSize64 > 0 && us > 1<<20 && us/int64(f.CompressedSize64+1) > 1000 {
			s.note("%s!%s: compression ratio over 1000:1 (possible zip bomb), not scanned", name, cleanEntry(f.Name))
			continue
		}
		rc, err := f.Open()
		if err != nil {
			s.note("%s!%s: %v", name, cleanEntry(f.Name), err)
			continue
		}
		err = entry(cleanEntry(f.Name), rc, us)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
