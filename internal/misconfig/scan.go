// Package misconfig is the misconfiguration scanner's dispatcher: it walks
// the inputs, detects each document's type by name and content, hands it
// to the format's loader and checks (Kubernetes, Helm, Kustomize,
// Dockerfile, Compose, Terraform), and collects findings and scan errors.
// Files are read and checked one at a time (bounded size), so memory stays
// flat as the corpus grows; only the small per-namespace summary for
// NetworkPolicy coverage spans files.
package misconfig

import (
	"github.com/wardsec/ward/internal/ignore"
	"github.com/wardsec/ward/internal/imageconfig"

	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/internal/misconfig/compose"
	"github.com/wardsec/ward/internal/misconfig/dockerfile"
	"github.com/wardsec/ward/internal/misconfig/helm"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/misconfig/kustomize"
	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/pkg/finding"
)

// Options configure a scan.
type Options struct {
	// HelmValues are extra values files for every chart; HelmSet are
	// --set assignments.
	HelmValues []string
	HelmSet    []string
	// HelmNamespace is the namespace charts are rendered for.
	HelmNamespace string
	// PSSVersion is the Pod Security Standards version ("latest").
	PSSVersion string
	// PolicyDirs hold custom CEL checks.
	PolicyDirs []string
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// Limits bound file size, line length and alias expansion.
	Limits k8s.Limits
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Helm renders charts; nil uses the build's default (DefaultHelm).
	Helm helm.Renderer
	// Kustomize builds kustomizations; nil uses DefaultKustomize.
	Kustomize kustomize.Builder
	// Sink, when set, receives the findings as they are made (Scan and
	// Finish then return none), so a large scan need not hold them all.
	// A batch is only valid during the call: copy what you keep.
	Sink func([]finding.Finding)
	// Skip leaves directories and files out of directory walks
	// (--skip-dirs, --skip-files; relative to each walked directory).
	Skip *ignore.PathSkip
}

// skipDirs are never descended into while walking.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".terraform": true, ".hg": true, ".svn": true}

type scanner struct {
	ctx    context.Context
	target string
	opts   Options
	log    *slog.Logger
	k8s    *k8s.Scanner
	ext    []extension
	// policies are the custom CEL checks (nil without --policy).
	policies *policy.Set
	out      []finding.Finding
	errs     []finding.ScanError
	// fbuf is reused for each file's Kubernetes findings (the sink and
	// addFindings copy what they keep).
	fbuf []finding.Finding
}

// extension is a format scanner that works per directory (Terraform
// modules span the files of a directory).
type extension interface {
	// dir is called for every directory walked.
	dir(s *scanner, dir string)
}

// Scan scans paths (files, directories, or "-" for standard input) and
// returns findings (suppressed ones marked, not dropped) and errors.
func Scan(ctx context.Context, target string, paths []string, opts Options) ([]finding.Finding, []finding.ScanError) {
	ss, err := NewSession(ctx, target, opts)
	if err != nil {
		return nil, []finding.ScanError{*err}
	}
	for _, p := range paths {
		if ctx.Err() != nil {
			ss.s.errs = append(ss.s.errs, finding.ScanError{Target: target, Path: p, Scanner: "misconfig", Message: ctx.Err().Error()})
			break
		}
		ss.Path(p)
	}
	return ss.Finish()
}

// Session scans inputs one at a time for a caller that walks them itself
// (image layers, archives): File for content already in memory, Path for
// files and directories on disk, Finish once for the cross-file checks
// and the results. A Session is not safe for concurrent use.
type Session struct {
	s *scanner
}

// NewSession prepares a scan; the error is the first problem with the
// options (a custom check that does not compile, a bad PSS version).
func NewSession(ctx context.Context, target string, opts Options) (*Session, *finding.ScanError) {
	s := &scanner{ctx: ctx, target: target, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	ext, set, extra, err := extensions(target, opts)
	if err != nil {
		se := policyError(target, err)
		return nil, &se
	}
	s.ext, s.policies = ext, set
	ks, err := k8s.NewScanner(target, k8s.Options{PSSVersion: opts.PSSVersion, Limits: opts.Limits, Extra: extra})
	if err != nil {
		return nil, &finding.ScanError{Target: target, Scanner: "misconfig", Message: err.Error()}
	}
	s.k8s = ks
	return &Session{s: s}, nil
}

// Path scans a file, a directory (walked) or "-" (Options.Stdin).
func (ss *Session) Path(p string) { ss.s.path(p) }

// File scans one file's content, detecting its type by name and content
// (Kubernetes, Dockerfile, Compose). data should come from a bounded read
// (k8s.ReadBounded). Files that are no configuration document are skipped.
func (ss *Session) File(path string, data []byte) { ss.s.data(path, data, false) }

// Finish runs the checks that need the whole set (NetworkPolicy coverage)
// and returns every finding and error. Call it once.
func (ss *Session) Finish() ([]finding.Finding, []finding.ScanError) {
	s := ss.s
	for _, e := range s.ext {
		if f, ok := e.(finisher); ok {
			f.finish(s)
		}
	}
	s.addFindings(s.k8s.Finish())
	return s.out, s.errs
}

// finisher is an extension with work to do once every path was walked.
type finisher interface {
	finish(s *scanner)
}

func (s *scanner) fail(path string, err error) {
	se := finding.ScanError{Target: s.target, Path: path, Scanner: "misconfig", Message: err.Error()}
	var pe *k8s.PosError
	if errors.As(err, &pe) {
		se.Path, se.Line, se.Column, se.Message = pe.Path, pe.Line, pe.Column, pe.Msg
	}
	s.errs = append(s.errs, se)
}

func (s *scanner) path(p string) {
	if p == "-" {
		if s.opts.Stdin == nil {
			s.fail("-", errors.New("no standard input"))
			return
		}
		data, err := k8s.ReadBounded("stdin", s.opts.Stdin, s.opts.Limits)
		if err != nil {
			s.fail("stdin", err)
			return
		}
		s.data("stdin", data, true)
		return
	}
	st, err := os.Stat(p)
	if err != nil {
		s.fail(p, err)
		return
	}
	if st.IsDir() {
		s.walk(p)
		return
	}
	s.file(p, true)
}

// MaxDirDepth is how deep a directory tree is walked, as for image and
// filesystem artifacts: directories nested deeper are reported (ErrTooDeep)
// and not descended into.
const MaxDirDepth = 256

// ErrTooDeep is the problem of a directory nested deeper than MaxDirDepth.
var ErrTooDeep = errors.New("directory nested deeper than 256 levels (MaxDirDepth): not scanned")

// dirDepth is how many levels p lies below root (a child of root is 1).
func dirDepth(root, p string) int {
	rel := strings.TrimPrefix(strings.TrimPrefix(p, root), string(filepath.Separator))
	return strings.Count(rel, string(filepath.Separator)) + 1
}

func (s *scanner) walk(root string) {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			s.fail(p, err)
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		if d.IsDir() {
			if p != root && (skipDirs[d.Name()] || s.opts.Skip.Dir(relSlash(root, p))) {
				return filepath.SkipDir
			}
			if p != root && dirDepth(root, p) >= MaxDirDepth {
				s.fail(p, ErrTooDeep)
				return filepath.SkipDir
			}
			if helm.IsChartDir(p) {
				s.chart(p)
				return filepath.SkipDir
			}
			if kustomize.IsKustomizeDir(p) {
				s.kustomize(p)
				return filepath.SkipDir
			}
			for _, e := range s.ext {
				e.dir(s, p)
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // symlinks and devices are not followed
		}
		if Candidate(p) && !s.opts.Skip.File(relSlash(root, p)) {
			s.file(p, false)
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.fail(root, err)
	}
}

// relSlash is p relative to the walk root, slash-separated (p is root or
// below it, as WalkDir hands it out).
func relSlash(root, p string) string {
	return filepath.ToSlash(strings.TrimPrefix(strings.TrimPrefix(p, root), string(filepath.Separator)))
}

// Candidate reports whether a file may be a configuration document by its
// name (YAML, JSON, packaged chart, Dockerfile names): what a walk hands
// to Session.File.
func Candidate(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json", ".tgz":
		return true
	}
	return dockerfile.Detect(p, nil)
}

func (s *scanner) file(p string, explicit bool) {
	if helm.IsChartArchive(p) {
		s.chart(p)
		return
	}
	base := filepath.Base(p)
	if explicit && (base == "Chart.yaml") {
		s.chart(filepath.Dir(p))
		return
	}
	if explicit && kustomize.IsKustomizationFile(base) {
		s.kustomize(filepath.Dir(p))
		return
	}
	if explicit && strings.HasSuffix(p, ".tf") {
		for _, e := range s.ext {
			e.dir(s, filepath.Dir(p))
		}
		return
	}
	f, err := os.Open(p)
	if err != nil {
		s.fail(p, err)
		return
	}
	data, err := k8s.ReadBounded(p, f, s.opts.Limits)
	f.Close()
	if err != nil {
		s.fail(p, err)
		return
	}
	s.data(p, data, explicit)
}

// data detects the document type of one file's content and scans it.
func (s *scanner) data(p string, data []byte, explicit bool) {
	head := data
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	switch {
	case dockerfile.Detect(p, head):
		s.log.Debug("scan", "path", p, "type", "dockerfile")
		fs, es := dockerfile.ScanWith(s.target, p, data, s.evaluator())
		s.add(fs, es)
		return
	case compose.Detect(p, head):
		s.log.Debug("scan", "path", p, "type", "compose")
		fs, es := compose.ScanWith(s.target, p, data, s.evaluator())
		s.add(fs, es)
		return
	}
	docs, derrs := k8s.SplitDocuments(p, data, s.opts.Limits)
	if !k8s.LooksLikeKubernetes(docs) {
		if explicit || len(docs) == 0 && isYAMLName(p) {
			// a named file that is not a Kubernetes document: report why.
			s.errs = append(s.errs, k8s.DocErrors(s.target, derrs)...)
			if len(derrs) == 0 && explicit {
				s.log.Debug("not a recognised config document", "path", p)
			}
		}
		return
	}
	s.log.Debug("scan", "path", p, "type", "kubernetes", "documents", len(docs))
	s.errs = append(s.errs, k8s.DocErrors(s.target, derrs)...)
	s.scanDocuments(p, docs, nil)
}

// evaluator is the custom-check hook handed to the format scanners (nil
// without --policy).
func (s *scanner) evaluator() func(target, path string, docType check.DocType, doc any, locate func(string) finding.Location) []finding.Finding {
	if s.policies == nil {
		return nil
	}
	return s.policies.Evaluate
}

func isYAMLName(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// scanDocuments checks Kubernetes documents into the reused buffer.
func (s *scanner) scanDocuments(p string, docs []k8s.Document, remap func(o *k8s.Object)) {
	fs, es := s.k8s.AppendDocuments(s.fbuf[:0], p, docs, remap)
	s.add(fs, es)
	clear(fs) // drop the references: the buffer outlives the file
	s.fbuf = fs[:0]
}

func (s *scanner) add(fs []finding.Finding, es []finding.ScanError) {
	s.addFindings(fs)
	s.errs = append(s.errs, es...)
}

func (s *scanner) addFindings(fs []finding.Finding) {
	if s.opts.Sink != nil {
		if len(fs) > 0 {
			s.opts.Sink(fs)
		}
		return
	}
	s.out = append(s.out, fs...)
}

// rendered scans rendered documents whose objects are reported at a
// source file (a Helm template or a Kustomize resource).
func (s *scanner) rendered(renderedName string, content []byte, remap func(o *k8s.Object)) {
	docs, derrs := k8s.SplitDocuments(renderedName, content, s.opts.Limits)
	for _, e := range derrs {
		s.errs = append(s.errs, finding.ScanError{Target: s.target, Path: e.Err.Path, Line: e.Err.Line, Column: e.Err.Column, Scanner: "misconfig",
			Message: "rendered output: " + e.Err.Msg})
	}
	s.scanDocuments(renderedName, docs, remap)
}

// Catalog lists every built-in check of every format.
func Catalog() []check.Meta {
	var out []check.Meta
	out = append(out, k8s.Checks()...)
	out = append(out, dockerfile.Checks()...)
	out = append(out, compose.Checks()...)
	out = append(out, extraCatalog()...)
	out = append(out, imageconfig.Checks()...)
	return out
}
