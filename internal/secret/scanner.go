package secret

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/wardsec/ward/internal/ignore"
	"github.com/wardsec/ward/internal/secret/rules"
	"github.com/wardsec/ward/pkg/finding"
)

// Defaults for Options fields left at zero.
const (
	DefaultMaxFileSize       = 10 << 20
	DefaultMaxArchiveDepth   = 2
	DefaultMaxDecodeDepth    = 2
	DefaultMaxArchiveSize    = 1 << 30
	DefaultMaxArchiveEntries = 100000
)

// Stream chunking: inputs are scanned in chunks of chunkSize with an
// overlap so that a secret straddling a boundary is seen whole.
const (
	chunkSize = 1 << 20
	overlap   = 64 << 10
	sniffLen  = 8000 // bytes checked for NUL (binary), like git
)

// Options configure a Scanner. Zero values mean defaults; negative depths
// disable archive walking / decoding.
type Options struct {
	// NoBuiltin drops the built-in rules (only user/gitleaks rules run).
	NoBuiltin bool
	// RuleFiles are Ward-format YAML rule files; GitleaksFiles are gitleaks
	// TOML configurations. Both add to (and may override by ID) the
	// built-in rules. Rules are parsed files supplied directly.
	RuleFiles     []string
	GitleaksFiles []string
	Rules         []*rules.File
	// Allowlist is an extra global allowlist (paths, regexes, stopwords).
	Allowlist rules.Allowlist
	// ShowSecrets puts the raw secret in Evidence; by default it is redacted.
	ShowSecrets bool
	// MaxFileSize: files larger than this are skipped and counted (ScanDir,
	// archive entries). ScanReader streams any size in bounded memory.
	MaxFileSize int64
	// MaxArchiveDepth: nesting depth of archives opened (zip, tar, gzip).
	MaxArchiveDepth int
	// MaxDecodeDepth: nesting depth of base64/hex/percent decoding.
	MaxDecodeDepth int
	// MaxArchiveSize bounds the bytes decompressed from one top-level
	// archive; MaxArchiveEntries its entries (zip-bomb guards).
	MaxArchiveSize    int64
	MaxArchiveEntries int
	// SkipGitignored skips files ignored by .gitignore files in ScanDir.
	SkipGitignored bool
	// Workers for ScanDir; default GOMAXPROCS.
	Workers int
	// Baseline holds fingerprints of known findings (see LoadBaseline);
	// matching findings are marked Suppressed{Kind: "baseline"}.
	Baseline       map[string]bool
	BaselineSource string
	// Git is the git binary for ScanGit (default "git" from PATH).
	Git string
	// Logger receives debug notes (skipped files); nil means silent.
	Logger *slog.Logger
	// Progress, when set, is told of every file (or archive entry, or git
	// hunk) scanned, e.g. to draw a spinner.
	Progress Progress
	// Skip leaves directories and files out of ScanDir (--skip-dirs,
	// --skip-files; relative to the scanned directory).
	Skip *ignore.PathSkip
}

// Progress counts units of work done; *progress.Spinner implements it.
type Progress interface {
	Add(n int64)
}

// Stats counts what a Scanner did; all fields are totals since New.
type Stats struct {
	FilesScanned       int64 `json:"files_scanned"`
	BytesScanned       int64 `json:"bytes_scanned"`
	SkippedBinary      int64 `json:"skipped_binary"`
	SkippedLarge       int64 `json:"skipped_large"`
	SkippedAllowlisted int64 `json:"skipped_allowlisted"`
	SkippedIgnored     int64 `json:"skipped_gitignored"`
	ArchivesOpened     int64 `json:"archives_opened"`
	ArchiveEntries     int64 `json:"archive_entries"`
	Commits            int64 `json:"commits"`
	BadArchives        int64 `json:"bad_archives"`
	// Notes explain inputs that were skipped or cut short (depth limits,
	// zip bombs, oversized files, truncated lines); at most maxNotes kept.
	Notes []string `json:"notes,omitempty"`
}

const maxNotes = 200

type counters struct {
	files, bytes, binary, large, allowlisted, ignored, archives, entries, commits, badArchives atomic.Int64
	mu                                                                                         sync.Mutex
	notes                                                                                      []string
	droppedNotes                                                                               int
}

// Scanner finds secrets. It is safe for concurrent use.
type Scanner struct {
	opts  Options
	eng   *engine
	stats counters
	log   *slog.Logger
	pool  sync.Pool // chunk buffers
	// scratches holds per-call matcher state (window lists, hit buffers),
	// reused across ScanReader/ScanText calls.
	scratches sync.Pool
}

func (s *Scanner) getScratch() *scratch {
	if sc, ok := s.scratches.Get().(*scratch); ok {
		return sc
	}
	return s.eng.newScratch()
}

func (s *Scanner) putScratch(sc *scratch) {
	if cap(sc.hits) > 1<<16 {
		sc.hits = nil
	}
	s.scratches.Put(sc)
}

// New compiles the rules (built-in + files + supplied) and returns a
// Scanner.
func New(opts Options) (*Scanner, error) {
	var files []*rules.File
	if !opts.NoBuiltin {
		b, err := rules.Builtin()
		if err != nil {
			return nil, err
		}
		files = append(files, b)
	}
	for _, p := range opts.GitleaksFiles {
		f, err := readRuleFile(p, rules.ReadGitleaks)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	for _, p := range opts.RuleFiles {
		f, err := readRuleFile(p, rules.ReadWard)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	files = append(files, opts.Rules...)
	files = append(files, &rules.File{Allowlist: opts.Allowlist})
	// Every file was validated when parsed (the built-in one in CI);
	// compileEngine reports any remaining problem.
	merged := rules.Merge(files...)
	for _, f := range opts.Rules {
		if err := rules.Validate(f); err != nil {
			return nil, err
		}
	}
	if err := rules.Validate(&rules.File{Allowlist: opts.Allowlist}); err != nil {
		return nil, fmt.Errorf("allowlist: %w", err)
	}
	eng, err := compileEngine(merged)
	if err != nil {
		return nil, err
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.MaxArchiveDepth == 0 {
		opts.MaxArchiveDepth = DefaultMaxArchiveDepth
	}
	if opts.MaxDecodeDepth == 0 {
		opts.MaxDecodeDepth = DefaultMaxDecodeDepth
	}
	if opts.MaxArchiveSize <= 0 {
		opts.MaxArchiveSize = DefaultMaxArchiveSize
	}
	if opts.MaxArchiveEntries <= 0 {
		opts.MaxArchiveEntries = DefaultMaxArchiveEntries
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Git == "" {
		opts.Git = "git"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scanner{opts: opts, eng: eng, log: log}
	s.pool.New = func() any {
		b := make([]byte, 0, chunkSize+overlap)
		return &b
	}
	return s, nil
}

func readRuleFile(path string, read func(io.Reader, string) (*rules.File, error)) (*rules.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer f.Close()
	return read(f, path)
}

// RuleCount is the number of compiled rules.
func (s *Scanner) RuleCount() int { return len(s.eng.rules) }

// Stats returns a snapshot of the counters.
func (s *Scanner) Stats() Stats {
	c := &s.stats
	st := Stats{
		FilesScanned: c.files.Load(), BytesScanned: c.bytes.Load(),
		SkippedBinary: c.binary.Load(), SkippedLarge: c.large.Load(),
		SkippedAllowlisted: c.allowlisted.Load(), SkippedIgnored: c.ignored.Load(),
		ArchivesOpened: c.archives.Load(), ArchiveEntries: c.entries.Load(),
		Commits: c.commits.Load(), BadArchives: c.badArchives.Load(),
	}
	c.mu.Lock()
	st.Notes = append(st.Notes, c.notes...)
	if c.droppedNotes > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("... and %d more notes", c.droppedNotes))
	}
	c.mu.Unlock()
	return st
}

func (s *Scanner) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.log.Debug("secret scan note", "note", msg)
	c := &s.stats
	c.mu.Lock()
	if len(c.notes) < maxNotes {
		c.notes = append(c.notes, msg)
	} else {
		c.droppedNotes++
	}
	c.mu.Unlock()
}

// fileDone counts one scanned input.
func (s *Scanner) fileDone() {
	s.stats.files.Add(1)
	if s.opts.Progress != nil {
		s.opts.Progress.Add(1)
	}
}

// source describes where scanned bytes come from.
type source struct {
	target string
	loc    finding.Location // template: Path, layer, commit
	// rulePath is the path rules and allowlists see (for archive entries:
	// the entry path).
	rulePath string
	// firstLine is the line number of the first byte (git hunks).
	firstLine int
}

// ErrBinary marks binary input internally (a NUL byte in the first 8000
// bytes); exported scan methods turn it into a counted skip.
var ErrBinary = errors.New("binary content skipped")

// scanChunk scans data (at most chunkSize bytes, a whole input) in place.
func (s *Scanner) scanChunk(ctx context.Context, data []byte, src source, binaryCheck bool, sc *scratch) ([]finding.Finding, error) {
	if len(data) > chunkSize {
		return s.scanStream(ctx, bytes.NewReader(data), src, binaryCheck, sc)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	head := data
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	if binaryCheck && bytes.IndexByte(head, 0) >= 0 {
		s.stats.binary.Add(1)
		return nil, ErrBinary
	}
	line := src.firstLine
	if line <= 0 {
		line = 1
	}
	raw := s.eng.detect(data, src.rulePath, sc, 0, s.opts.MaxDecodeDepth, sc.raw[:0])
	raw = s.eng.filter(src.rulePath, raw)
	sc.raw = raw[:0]
	s.fileDone()
	s.stats.bytes.Add(int64(len(data)))
	if len(raw) == 0 {
		return nil, nil
	}
	return s.toFindings(data, raw, src, line, 0), nil
}

// scanStream scans r in chunks and returns filtered findings. It stops at
// EOF, a read error or ctx cancellation. binaryCheck skips inputs with a
// NUL byte in their first 8000 bytes.
func (s *Scanner) scanStream(ctx context.Context, r io.Reader, src source, binaryCheck bool, sc *scratch) ([]finding.Finding, error) {
	bp := s.pool.Get().(*[]byte)
	defer s.pool.Put(bp)
	buf := (*bp)[:0]
	var (
		out       []finding.Finding
		base      int64 // absolute offset of buf[0]
		reported  int64 // absolute offset below which matches were handled
		lineBase  = src.firstLine
		colBase   = 0 // column (0-based) of buf[0] within its line
		first     = true
		raw       []rawMatch
		bytesRead int64
	)
	if lineBase <= 0 {
		lineBase = 1
	}
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		bytesRead += int64(n)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return out, err
		}
		if first {
			first = false
			head := buf
			if len(head) > sniffLen {
				head = head[:sniffLen]
			}
			if binaryCheck && bytes.IndexByte(head, 0) >= 0 {
				s.stats.binary.Add(1)
				return nil, ErrBinary
			}
		}
		limit := len(buf)
		if !eof {
			limit = len(buf) - overlap
		}
		raw = s.eng.detect(buf, src.rulePath, sc, 0, s.opts.MaxDecodeDepth, raw[:0])
		raw = s.eng.filter(src.rulePath, raw)
		kept := raw[:0]
		for _, m := range raw {
			abs := base + int64(m.start)
			if abs < reported || m.start >= limit {
				continue
			}
			kept = append(kept, m)
		}
		if len(kept) > 0 {
			out = append(out, s.toFindings(buf, kept, src, lineBase, colBase)...)
		}
		reported = base + int64(limit)
		if eof {
			break
		}
		// Slide: keep the overlap.
		drop := buf[:len(buf)-overlap]
		nl := bytes.Count(drop, []byte{'\n'})
		lineBase += nl
		if i := bytes.LastIndexByte(drop, '\n'); i >= 0 {
			colBase = len(drop) - i - 1
		} else {
			colBase += len(drop)
		}
		base += int64(len(drop))
		copy(buf, buf[len(drop):])
		buf = buf[:overlap]
	}
	s.fileDone()
	s.stats.bytes.Add(bytesRead)
	return out, nil
}

// toFindings converts matches in buf to findings.
func (s *Scanner) toFindings(buf []byte, ms []rawMatch, src source, lineBase, colBase int) []finding.Finding {
	out := make([]finding.Finding, 0, len(ms))
	// Matches are sorted by secret start; count lines incrementally.
	pos, line := 0, lineBase
	for _, m := range ms {
		at := m.sstart
		if at < pos {
			pos, line = 0, lineBase
		}
		line += bytes.Count(buf[pos:at], []byte{'\n'})
		pos = at
		col := at + 1
		if i := bytes.LastIndexByte(buf[:at], '\n'); i >= 0 {
			col = at - i
		} else {
			col += colBase
		}
		endLine := line + bytes.Count(buf[at:m.send], []byte{'\n'})
		endCol := m.send - at + col
		if i := bytes.LastIndexByte(buf[at:m.send], '\n'); i >= 0 {
			endCol = m.send - (at + i)
		}
		f := s.newFinding(m, src)
		f.Location.StartLine, f.Location.StartColumn = line, col
		f.Location.EndLine, f.Location.EndColumn = endLine, endCol
		// Evidence: up to 80 bytes of line on each side of the secret.
		ls, _ := lineBounds(buf, at, at, 80, 0)
		_, le := lineBounds(buf, m.send, m.send, 0, 80)
		f.Evidence = s.evidence(buf[ls:at], m, buf[m.send:le])
		// Inline allow: anywhere on the line(s) of the match.
		als, _ := lineBounds(buf, at, at, 1024, 0)
		_, ale := lineBounds(buf, m.send, m.send, 0, 1024)
		inline := buf[als:ale]
		if bytes.Contains(inline, []byte("ward:allow")) || bytes.Contains(inline, []byte("gitleaks:allow")) {
			f.Suppressed = &finding.Suppression{Kind: "inline", Reason: "ward:allow comment on the line"}
		}
		out = append(out, f)
	}
	return out
}

func (s *Scanner) newFinding(m rawMatch, src source) finding.Finding {
	r := s.eng.rules[m.rule]
	sum := sha256.Sum256([]byte(m.secret))
	h := hex.EncodeToString(sum[:])
	loc := src.loc
	msg := fmt.Sprintf("%s found", r.Title)
	if m.decoded != "" {
		msg += fmt.Sprintf(" in %s-encoded content", m.decoded)
	}
	if loc.Commit != nil {
		msg += " in commit " + shortSHA(loc.Commit.SHA)
	}
	f := finding.Finding{
		Kind:        finding.KindSecret,
		RuleID:      r.ID,
		Severity:    r.severity,
		Title:       r.Title,
		Message:     msg,
		Description: r.Description,
		Remediation: "Revoke and rotate this credential, then remove it from the file (and from git history or image layers); load secrets at run time from a secret manager or the environment.",
		References:  r.References,
		Target:      src.target,
		Location:    loc,
		Secret:      &finding.Secret{SHA256: h, Entropy: roundEntropy(shannon(m.secret))},
	}
	if loc.Commit != nil {
		c := *loc.Commit
		f.Location.Commit = &c
	}
	f.Fingerprint = finding.Fingerprint(string(finding.KindSecret), r.ID, loc.Path, h)
	if s.opts.Baseline[f.Fingerprint] {
		f.Suppressed = &finding.Suppression{Kind: "baseline", Reason: "present in the baseline report", Source: s.opts.BaselineSource}
	}
	return f
}

func roundEntropy(h float64) float64 { return float64(int(h*100+0.5)) / 100 }

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// evidence renders the line around the secret with the secret redacted.
func (s *Scanner) evidence(before []byte, m rawMatch, after []byte) string {
	var b strings.Builder
	b.Write(cleanText(before))
	if m.decoded != "" {
		b.WriteString("<" + m.decoded + ":")
		b.WriteString(s.show(m.secret))
		b.WriteString(">")
	} else {
		b.WriteString(s.show(m.secret))
	}
	if i := bytes.IndexByte(after, '\n'); i >= 0 {
		after = after[:i]
	}
	b.Write(cleanText(after))
	return strings.TrimSpace(b.String())
}

func (s *Scanner) show(secret string) string {
	if s.opts.ShowSecrets {
		return string(cleanText([]byte(secret)))
	}
	return Redact(secret)
}

// Redact keeps a short, non-sensitive prefix of a secret (often the token
// type, like "ghp_") and masks the rest with a fixed-length mask.
func Redact(secret string) string {
	keep := 0
	switch n := utf8.RuneCountInString(secret); {
	case n >= 24:
		keep = 4
	case n >= 12:
		keep = 2
	}
	if strings.HasPrefix(secret, "-----BEGIN") {
		if i := strings.Index(secret[5:], "-----"); i >= 0 {
			return secret[:i+10] + "********"
		}
	}
	i := 0
	for n := 0; n < keep && i < len(secret); n++ {
		_, w := utf8.DecodeRuneInString(secret[i:])
		i += w
	}
	return secret[:i] + "********"
}

// cleanText replaces control characters and invalid UTF-8 so evidence is
// safe to print; newlines become "⏎".
func cleanText(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, w := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && w <= 1:
			out = append(out, '?')
		case r == '\n':
			out = append(out, "⏎"...)
		case r < 0x20 && r != '\t' || r == 0x7f:
			out = append(out, '?')
		default:
			out = append(out, b[:w]...)
		}
		b = b[w:]
	}
	return out
}

// ScanReader scans r as one file at loc (loc.Path is the path rules see;
// loc may carry a layer digest). Any size is streamed in bounded memory.
// Binary input (a NUL byte in the first 8000 bytes) is skipped and counted
// in Stats().SkippedBinary: it returns no findings and no error. Errors are
// read errors and context cancellation. For image layers, callers mark
// findings of files deleted by a later layer with MarkDeleted.
func (s *Scanner) ScanReader(ctx context.Context, target string, loc finding.Location, r io.Reader) ([]finding.Finding, error) {
	if s.pathSkipped(loc.Path) {
		s.stats.allowlisted.Add(1)
		return nil, nil
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	fs, err := s.scanStream(ctx, r, source{target: target, loc: loc, rulePath: loc.Path}, true, sc)
	if errors.Is(err, ErrBinary) {
		return nil, nil
	}
	return fs, err
}

// ScanFile scans one file (or archive) on disk; its findings carry path as
// given. Binary files and files over MaxFileSize are skipped and counted.
func (s *Scanner) ScanFile(ctx context.Context, target, path string) ([]finding.Finding, []finding.ScanError) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, []finding.ScanError{{Target: target, Path: path, Scanner: "secret", Message: err.Error()}}
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	fs, err := s.scanFile(ctx, target, fileJob{abs: path, rel: filepath.ToSlash(path), size: st.Size()}, sc)
	if err != nil {
		return fs, []finding.ScanError{{Target: target, Path: path, Scanner: "secret", Message: err.Error()}}
	}
	return fs, nil
}

// ScanText scans a string (image config env values, history lines, a
// command line) at loc. Binary checks are skipped.
func (s *Scanner) ScanText(ctx context.Context, target string, loc finding.Location, text string) ([]finding.Finding, error) {
	sc := s.getScratch()
	defer s.putScratch(sc)
	return s.scanStream(ctx, strings.NewReader(text), source{target: target, loc: loc, rulePath: loc.Path}, false, sc)
}

// MarkDeleted flags findings from a file that a later image layer deleted:
// the file is still in the image (in its layer tarball) and the message
// says so.
func MarkDeleted(fs []finding.Finding) {
	for i := range fs {
		if fs[i].Secret == nil {
			fs[i].Secret = &finding.Secret{}
		}
		if !fs[i].Secret.Deleted {
			fs[i].Secret.Deleted = true
			fs[i].Message += " (file deleted by a later layer, but still present in the image)"
		}
	}
}
