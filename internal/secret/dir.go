package secret

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wardsec/ward/pkg/finding"
)

type fileJob struct {
	abs, rel string
	size     int64
}

// ScanDir scans every regular file under dir with parallel workers. Each
// file is read once; binary files and files over MaxFileSize are skipped
// and counted (see Stats); archives are walked to MaxArchiveDepth. Paths in
// findings are relative to dir, with forward slashes. Symlinks are not
// followed and .git directories are skipped.
func (s *Scanner) ScanDir(ctx context.Context, target, dir string) ([]finding.Finding, []finding.ScanError) {
	var (
		mu       sync.Mutex
		findings []finding.Finding
		errs     []finding.ScanError
	)
	addErr := func(rel string, err error) {
		mu.Lock()
		errs = append(errs, finding.ScanError{Target: target, Path: rel, Scanner: "secret", Message: err.Error()})
		mu.Unlock()
	}
	jobs := make(chan fileJob, 256)
	var wg sync.WaitGroup
	for i := 0; i < s.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := s.eng.newScratch()
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				fs, err := s.scanFile(ctx, target, j, sc)
				if err != nil {
					addErr(j.rel, err)
				}
				if len(fs) > 0 {
					mu.Lock()
					findings = append(findings, fs...)
					mu.Unlock()
				}
			}
		}()
	}
	ign := newIgnorer()
	// A symlink named as the root is followed (links inside are not).
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rel := relPath(dir, p)
			addErr(rel, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel := relPath(dir, p)
		if d.IsDir() {
			if d.Name() == ".git" && p != dir {
				return fs.SkipDir
			}
			if s.opts.Skip.Dir(rel) {
				return fs.SkipDir
			}
			if rel != "." && strings.Count(rel, "/")+1 >= MaxDirDepth {
				addErr(rel, ErrTooDeep)
				return fs.SkipDir
			}
			if s.opts.SkipGitignored {
				if rel != "." && ign.ignored(rel, true) {
					s.stats.ignored.Add(1)
					return fs.SkipDir
				}
				ign.load(p, rel)
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if s.opts.SkipGitignored && ign.ignored(rel, false) {
			s.stats.ignored.Add(1)
			return nil
		}
		if s.opts.Skip.File(rel) {
			return nil
		}
		// The worker learns the size from the open file (one fstat instead
		// of an lstat here and an fstat there).
		select {
		case jobs <- fileJob{abs: p, rel: rel, size: -1}:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	if walkErr != nil && !errors.Is(walkErr, context.Canceled) {
		addErr(".", walkErr)
	}
	finding.Sort(findings)
	return findings, errs
}

func relPath(root, p string) string {
	// WalkDir hands out root-prefixed paths: trim the prefix (filepath.Rel
	// cleans both paths and was a visible share of a directory walk).
	if p == root {
		return "."
	}
	prefix := root
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if root != "." && strings.HasPrefix(p, prefix) {
		return filepath.ToSlash(p[len(prefix):])
	}
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(rel)
}

// pathSkipped applies global path allowlists.
func (s *Scanner) pathSkipped(rel string) bool {
	for i := range s.eng.global {
		if s.eng.global[i].pathAllowed(rel) {
			return true
		}
	}
	return false
}

func (s *Scanner) scanFile(ctx context.Context, target string, j fileJob, sc *scratch) ([]finding.Finding, error) {
	if s.pathSkipped(j.rel) {
		s.stats.allowlisted.Add(1)
		return nil, nil
	}
	out := s.pathOnlyFindings(target, j.rel, func() (io.ReadCloser, error) { return os.Open(j.abs) })
	h, size, err := openForScan(j.abs)
	if err != nil {
		return out, err
	}
	j.size = size
	if j.size > s.opts.MaxFileSize {
		h.Close()
		s.stats.large.Add(1)
		s.note("%s: skipped, %d bytes is over --max-file-size %d", j.rel, j.size, s.opts.MaxFileSize)
		return out, nil
	}
	if j.size <= chunkSize {
		f := h
		defer f.Close()
		// Small file (the common case): one exact-size read into a pooled
		// buffer, scanned in place.
		bp := s.pool.Get().(*[]byte)
		defer s.pool.Put(bp)
		buf := (*bp)[:j.size]
		// Larger files: read the sniff window first so binaries are not
		// read whole.
		first := buf
		if j.size > 32<<10 {
			first = buf[:sniffLen]
		}
		n, err := io.ReadFull(f, first)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return out, err
		}
		if len(first) < len(buf) && n == len(first) {
			if bytes.IndexByte(first, 0) >= 0 && archiveKind(j.rel, first) == "" {
				s.stats.binary.Add(1)
				return out, nil
			}
			m, err := io.ReadFull(f, buf[n:])
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return out, err
			}
			n += m
		}
		buf = buf[:n]
		if kind := archiveKind(j.rel, buf); kind != "" {
			fs, err := s.openArchive(ctx, target, j.rel, kind, bytes.NewReader(buf), bytes.NewReader(buf), int64(n), sc)
			return append(out, fs...), err
		}
		fs, err := s.scanChunk(ctx, buf, source{target: target, loc: finding.Location{Path: j.rel}, rulePath: j.rel}, true, sc)
		if errors.Is(err, ErrBinary) {
			return out, nil
		}
		return append(out, fs...), err
	}
	f := h.osFile(j.abs)
	defer f.Close()
	var hb [512]byte
	hn, _ := io.ReadFull(f, hb[:])
	head := hb[:hn]
	if kind := archiveKind(j.rel, head); kind != "" {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return out, err
		}
		fs, err := s.openArchive(ctx, target, j.rel, kind, f, f, j.size, sc)
		return append(out, fs...), err
	}
	br := io.MultiReader(bytes.NewReader(head), f)
	fs, err := s.scanStream(ctx, io.LimitReader(br, s.opts.MaxFileSize), source{target: target, loc: finding.Location{Path: j.rel}, rulePath: j.rel}, true, sc)
	if errors.Is(err, ErrBinary) {
		return out, nil
	}
	return append(out, fs...), err
}

// openArchive walks a top-level archive with a fresh budget.
func (s *Scanner) openArchive(ctx context.Context, target, rel, kind string, r io.Reader, ra io.ReaderAt, size int64, sc *scratch) ([]finding.Finding, error) {
	if s.opts.MaxArchiveDepth < 1 {
		s.note("%s: archive not opened (--max-archive-depth %d)", rel, s.opts.MaxArchiveDepth)
		return nil, nil
	}
	b := &budget{left: s.opts.MaxArchiveSize, entries: s.opts.MaxArchiveEntries}
	return s.walkArchive(ctx, target, rel, kind, r, ra, size, 1, b, sc)
}

// pathOnlyFindings reports files that are secrets by their name alone
// (rules with a path and no regex, e.g. PKCS#12 keystores). The secret hash
// is the SHA-256 of the file content.
func (s *Scanner) pathOnlyFindings(target, rel string, open func() (io.ReadCloser, error)) []finding.Finding {
	var out []finding.Finding
	for _, ri := range s.eng.pathOnly {
		r := s.eng.rules[ri]
		if r.path == nil || !r.path.MatchString(rel) {
			continue
		}
		allowed := false
		for i := range r.allow {
			if r.allow[i].pathAllowed(rel) {
				allowed = true
			}
		}
		if allowed {
			continue
		}
		h := sha256.New()
		if rc, err := open(); err == nil {
			_, _ = io.Copy(h, io.LimitReader(rc, s.opts.MaxFileSize))
			rc.Close()
		}
		sum := hex.EncodeToString(h.Sum(nil))
		f := finding.Finding{
			Kind: finding.KindSecret, RuleID: r.ID, Severity: r.severity, Title: r.Title,
			Message:     r.Title + " found (file type)",
			Description: r.Description,
			Remediation: "Remove the key store from the repository or image; keep it in a secret manager.",
			Target:      target, Location: finding.Location{Path: rel},
			Evidence: path.Base(rel),
			Secret:   &finding.Secret{SHA256: sum},
		}
		f.Fingerprint = finding.Fingerprint(string(finding.KindSecret), r.ID, rel, sum)
		if s.opts.Baseline[f.Fingerprint] {
			f.Suppressed = &finding.Suppression{Kind: "baseline", Reason: "present in the baseline report", Source: s.opts.BaselineSource}
		}
		out = append(out, f)
	}
	return out
}

// ignorer implements the subset of .gitignore semantics Ward needs:
// per-directory files, negation (!), directory-only patterns (trailing /),
// anchored patterns (leading or inner /), *, ?, [...] and ** globs.
type ignorer struct {
	mu    sync.Mutex
	rules []ignoreRule
}

type ignoreRule struct {
	base    string // directory of the .gitignore, relative, "" for root
	pattern string
	negate  bool
	dirOnly bool
	anchor  bool
}

func newIgnorer() *ignorer { return &ignorer{} }

func (g *ignorer) load(absDir, relDir string) {
	p := filepath.Join(absDir, ".gitignore")
	// A scanned tree's .gitignore may be a FIFO (open blocks forever) or a
	// device: read only regular files.
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return
	}
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	if relDir == "." {
		relDir = ""
	}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	g.mu.Lock()
	defer g.mu.Unlock()
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{base: relDir}
		if strings.HasPrefix(line, "!") {
			r.negate = true
			line = line[1:]
		}
		line = strings.TrimPrefix(line, `\`)
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimSuffix(line, "/")
		}
		if strings.Contains(line, "/") {
			r.anchor = true
			line = strings.TrimPrefix(line, "/")
		}
		if line == "" {
			continue
		}
		r.pattern = line
		g.rules = append(g.rules, r)
	}
}

func (g *ignorer) ignored(rel string, isDir bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	ignored := false
	for _, r := range g.rules {
		if r.dirOnly && !isDir {
			continue
		}
		p := rel
		if r.base != "" {
			if !strings.HasPrefix(rel, r.base+"/") {
				continue
			}
			p = rel[len(r.base)+1:]
		}
		var ok bool
		if r.anchor {
			ok = globMatch(r.pattern, p)
		} else {
			ok = globMatch(r.pattern, path.Base(p))
		}
		if ok {
			ignored = !r.negate
		}
	}
	return ignored
}

// globMatch matches a gitignore glob; "**" matches any number of path
// segments.
func globMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "**") {
		ok, err := path.Match(pattern, name)
		return err == nil && ok
	}
	parts := strings.Split(name, "/")
	pp := strings.Split(pattern, "/")
	// Dynamic program over (pattern suffix, name suffix), O(len(pp) *
	// len(parts)): a scanned tree's .gitignore is hostile input, and the
	// backtracking this replaces was exponential on "**/**/**/.../x".
	// next[j]: pp[i+1:] matches parts[j:]; cur[j]: pp[i:] matches parts[j:].
	next := make([]bool, len(parts)+1)
	cur := make([]bool, len(parts)+1)
	next[len(parts)] = true
	for i := len(pp) - 1; i >= 0; i-- {
		if pp[i] == "**" {
			cur[len(parts)] = next[len(parts)]
			for j := len(parts) - 1; j >= 0; j-- {
				cur[j] = next[j] || cur[j+1]
			}
		} else {
			cur[len(parts)] = false
			for j := len(parts) - 1; j >= 0; j-- {
				cur[j] = false
				if next[j+1] {
					ok, err := path.Match(pp[i], parts[j])
					cur[j] = err == nil && ok
				}
			}
		}
		cur, next = next, cur
	}
	return next[0]
}

// MaxDirDepth is how deep a directory tree is walked, as for image and
// filesystem artifacts: directories nested deeper are reported (ErrTooDeep)
// and not descended into.
const MaxDirDepth = 256

// ErrTooDeep is the problem of a directory nested deeper than MaxDirDepth.
var ErrTooDeep = errors.New("directory nested deeper than 256 levels (MaxDirDepth): not scanned")
