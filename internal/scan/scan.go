// Package scan is Ward's orchestrator: it opens a target (image reference,
// image tarball, OCI layout or archive, directory, root filesystem, SBOM
// file), builds its inventory, runs every scanner that applies (or the ones
// asked for), and returns findings and errors for the report pipeline.
//
//	target -> artifact.Open -> inventory.Extract (per layer, cached)
//	       -> vuln.Match (inventory x DB) | secret (files, layers, config) | misconfig (documents, image config)
//	       -> VEX -> findings
//
// Problems with single files, layers or documents are ScanErrors: the rest
// is still scanned. Run returns an error only when the target itself cannot
// be opened.
package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/internal/ignore"
	"github.com/wardsec/ward/internal/imageconfig"
	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang"
	osext "github.com/wardsec/ward/internal/inventory/os"
	"github.com/wardsec/ward/internal/misconfig"
	"github.com/wardsec/ward/internal/progress"
	"github.com/wardsec/ward/internal/secret"
	"github.com/wardsec/ward/internal/vuln"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/internal/vuln/osv"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// Scanner names.
const (
	Vuln      = "vuln"
	Secret    = "secret"
	Misconfig = "misconfig"
)

// ReasonNotSelected is why a scanner --scanners left out did not run.
const ReasonNotSelected = "not selected by --scanners"

// AllScanners lists the scanner names.
var AllScanners = []string{Vuln, Secret, Misconfig}

// Options configure a scan.
type Options struct {
	// Scanners to run; empty means every scanner that applies to the target.
	Scanners []string
	// CacheDir holds the vulnerability database and the layer cache.
	CacheDir string
	// Platform and InsecureRegistries select and reach registry images.
	Platform           string
	InsecureRegistries []string
	// Rootfs treats a directory as a root file system.
	Rootfs bool
	// DBMaxAge: older databases make the scan warn (default 7 days).
	DBMaxAge time.Duration
	// SkipDB runs no vulnerability scanning (no database needed); the
	// report says so. Without it a missing database is a scan error: a CI
	// gate must not pass having checked nothing.
	SkipDB bool
	// Inventory builds the inventory even with SkipDB (--list-all-pkgs).
	Inventory bool
	// Misconfig, Secret and Vuln options pass through to the scanners.
	Misconfig misconfig.Options
	Secret    secret.Options
	// Skip leaves paths out of every scanner (--skip-dirs, --skip-files):
	// relative to a directory target or an image's root file system.
	Skip *ignore.PathSkip
	// ImageSources are where an unprefixed image reference is looked up
	// (--image-src; artifact.Options.ImageSources).
	ImageSources []string
	Vuln         vuln.Options
	// Extractors overrides the default extractor list (OS + languages).
	Extractors []inventory.Extractor
	// Progress counts work on a spinner (nil: none).
	Progress *progress.Spinner
	Logger   *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Result is what a scan found.
type Result struct {
	Artifact report.Artifact
	Scanners []string
	// NotRun are the scanners that did not run, with the reason.
	NotRun    []report.ScannerNotRun
	Inventory *sbom.Inventory
	Findings  []finding.Finding
	Errors    []finding.ScanError
	Warnings  []string
}

// DefaultExtractors is the explicit list of package extractors.
func DefaultExtractors() []inventory.Extractor {
	return append(osext.Extractors(), lang.Extractors()...)
}

// ErrNotApplicable is returned when a scanner asked for cannot run on the
// target (e.g. secret scanning of an SBOM).
var ErrNotApplicable = errors.New("scanner not applicable to this target")

func (o *Options) want(name string) bool {
	if len(o.Scanners) == 0 {
		return true
	}
	for _, s := range o.Scanners {
		if s == name {
			return true
		}
	}
	return false
}

// IsSBOM reports whether path is a CycloneDX or SPDX JSON document.
func IsSBOM(path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimSpace(head[:n])
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	return bytes.Contains(head, []byte(`"bomFormat"`)) || bytes.Contains(head, []byte(`"spdxVersion"`))
}

// Run scans target.
func Run(ctx context.Context, target string, opts Options) (*Result, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DBMaxAge == 0 {
		opts.DBMaxAge = 7 * 24 * time.Hour
	}
	if opts.Extractors == nil {
		opts.Extractors = DefaultExtractors()
	}
	res := &Result{}
	for _, s := range AllScanners {
		if !opts.want(s) {
			res.NotRun = append(res.NotRun, report.ScannerNotRun{Scanner: s, Reason: ReasonNotSelected})
		}
	}
	if opts.SkipDB && opts.want(Vuln) {
		res.NotRun = append(res.NotRun, report.ScannerNotRun{Scanner: Vuln, Reason: "--skip-db: no vulnerability database used"})
	}
	if IsSBOM(target) {
		return res, runSBOM(ctx, target, opts, res)
	}
	art, err := artifact.Open(ctx, target, artifact.Options{
		Platform:           opts.Platform,
		InsecureRegistries: opts.InsecureRegistries,
		Logger:             opts.Logger,
		Rootfs:             opts.Rootfs,
		CacheDir:           layerCache(opts.CacheDir),
		Skip:               opts.Skip,
		ImageSources:       opts.ImageSources,
	})
	if err != nil {
		return nil, err
	}
	defer art.Close()
	res.Artifact = report.Artifact{Name: art.Name(), Type: art.Type(), Digest: art.Digest()}
	isImage := art.Type() == artifact.TypeImage
	// A single file (a manifest, a lockfile) is scanned like a directory
	// holding only it.
	isFile := false
	if st, err := os.Stat(target); err == nil && st.Mode().IsRegular() && !isImage {
		isFile = true
	}

	if opts.want(Vuln) && (!opts.SkipDB || opts.Inventory) {
		if !opts.SkipDB {
			res.Scanners = append(res.Scanners, Vuln)
		}
		opts.Progress.SetLabel("inventory of " + art.Name())
		invCache := layerCache(opts.CacheDir)
		if opts.Skip != nil {
			invCache = "" // per-layer results are cached for whole layers
		}
		inv, errs, err := inventory.Extract(ctx, art, opts.Extractors, inventory.Options{CacheDir: invCache, Logger: opts.Logger})
		res.Errors = append(res.Errors, tagErrors(errs, "inventory", art.Name())...)
		if err != nil {
			return nil, err
		}
		res.Inventory = inv
		if !opts.SkipDB {
			opts.Progress.SetLabel("matching vulnerabilities")
			matchVulns(ctx, inv, opts, res)
		}
	}
	if opts.want(Secret) {
		res.Scanners = append(res.Scanners, Secret)
	}
	if opts.want(Misconfig) {
		res.Scanners = append(res.Scanners, Misconfig)
	}
	if isImage {
		// One pass over the layers serves the secret scanner and the image
		// file checks.
		opts.Progress.SetLabel("scanning the layers of " + art.Name())
		if err := walkImage(ctx, art, opts, res); err != nil {
			return nil, err
		}
	} else {
		if opts.want(Secret) {
			opts.Progress.SetLabel("secrets in " + art.Name())
			sc, err := newSecretScanner(opts)
			if err != nil {
				return nil, err
			}
			var (
				fs   []finding.Finding
				errs []finding.ScanError
			)
			if isFile {
				fs, errs = sc.ScanFile(ctx, art.Name(), target)
			} else {
				fs, errs = sc.ScanDir(ctx, art.Name(), target)
			}
			res.Findings = append(res.Findings, fs...)
			res.Errors = append(res.Errors, tagErrors(errs, Secret, art.Name())...)
		}
		if opts.want(Misconfig) {
			opts.Progress.SetLabel("configuration of " + art.Name())
			mo := opts.Misconfig
			if mo.Skip == nil {
				mo.Skip = opts.Skip
			}
			fs, errs := misconfig.Scan(ctx, art.Name(), []string{target}, mo)
			res.Findings = append(res.Findings, fs...)
			res.Errors = append(res.Errors, tagErrors(errs, Misconfig, art.Name())...)
		}
	}
	if isFile {
		relativize(filepath.Dir(target), res)
	} else if !isImage {
		relativize(target, res)
	}
	res.Errors = dedupeErrors(res.Errors)
	return res, nil
}

// relativize makes file paths of findings and errors relative to the
// target directory, so that every scanner reports paths the same way (the
// target itself is in Finding.Target and the report's artifact).
func relativize(target string, res *Result) {
	rel := func(p string) string {
		if p == "" || p == "-" {
			return p
		}
		r, err := filepath.Rel(target, p)
		if err != nil || r == ".." || strings.HasPrefix(r, "../") || filepath.IsAbs(r) {
			return p
		}
		return filepath.ToSlash(r)
	}
	for i := range res.Findings {
		res.Findings[i].Location.Path = rel(res.Findings[i].Location.Path)
		if res.Findings[i].Package != nil {
			res.Findings[i].Package.Path = rel(res.Findings[i].Package.Path)
		}
	}
	for i := range res.Errors {
		res.Errors[i].Path = rel(res.Errors[i].Path)
	}
}

// dedupeErrors drops repeated errors (several scanners may meet the same
// broken layer or file).
func dedupeErrors(errs []finding.ScanError) []finding.ScanError {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		k := e.Path + "\x00" + fmt.Sprint(e.Line) + "\x00" + e.Message
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

func layerCache(cacheDir string) string {
	if cacheDir == "" {
		return ""
	}
	return filepath.Join(cacheDir, "layers")
}

func tagErrors(errs []finding.ScanError, scanner, target string) []finding.ScanError {
	for i := range errs {
		if errs[i].Scanner == "" {
			errs[i].Scanner = scanner
		}
		if errs[i].Target == "" {
			errs[i].Target = target
		}
	}
	return errs
}

// runSBOM scans an SBOM document: vulnerabilities only.
func runSBOM(ctx context.Context, path string, opts Options, res *Result) error {
	for _, s := range opts.Scanners {
		if s != Vuln {
			return fmt.Errorf("%w: %s scanning needs files, and %s is an SBOM", ErrNotApplicable, s, path)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	inv, err := sbom.Read(io.LimitReader(f, 512<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if inv.Target == "" {
		inv.Target = path
	}
	res.Artifact = report.Artifact{Name: path, Type: "sbom"}
	res.Inventory = inv
	if len(opts.Scanners) == 0 {
		res.NotRun = append(res.NotRun, report.ScannerNotRun{Scanner: Secret, Reason: "not applicable to an SBOM"},
			report.ScannerNotRun{Scanner: Misconfig, Reason: "not applicable to an SBOM"})
	}
	if opts.SkipDB {
		return nil
	}
	res.Scanners = []string{Vuln}
	matchVulns(ctx, inv, opts, res)
	return nil
}

// matchVulns opens the database and matches the inventory. A missing
// database is a scan error (exit 3) and the vuln scanner is listed as not
// run; a stale one is a warning; packages of ecosystems the database has
// no advisories for are counted in a warning per ecosystem.
func matchVulns(ctx context.Context, inv *sbom.Inventory, opts Options, res *Result) {
	if len(inv.Packages) == 0 {
		return // nothing to check: no database needed
	}
	d, err := db.Open(db.DefaultDir(opts.CacheDir))
	if err != nil {
		if errors.Is(err, db.ErrNoDB) {
			res.Scanners = slices.DeleteFunc(res.Scanners, func(s string) bool { return s == Vuln })
			res.NotRun = append(res.NotRun, report.ScannerNotRun{Scanner: Vuln, Reason: "no vulnerability database in " + db.DefaultDir(opts.CacheDir)})
			res.Errors = append(res.Errors, finding.ScanError{Target: inv.Target, Path: db.DefaultDir(opts.CacheDir), Scanner: Vuln,
				Message: "no vulnerability database: run `ward db update` (or `ward db import FILE` offline), or pass --skip-db or --scanners secret,misconfig to scan without it"})
			return
		}
		res.Errors = append(res.Errors, finding.ScanError{Target: inv.Target, Path: db.DefaultDir(opts.CacheDir), Scanner: Vuln, Message: "opening the vulnerability database: " + err.Error()})
		return
	}
	defer d.Close()
	st := d.Status()
	if !st.Built.IsZero() {
		if age := opts.Now().Sub(st.Built); age > opts.DBMaxAge {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the vulnerability database is %s old (built %s), older than --db-max-age %s: run `ward db update`",
				age.Round(time.Hour), st.Built.Format("2006-01-02"), opts.DBMaxAge))
		}
	}
	res.Warnings = append(res.Warnings, uncovered(inv, st)...)
	vo := opts.Vuln
	if vo.Target == "" {
		vo.Target = res.Artifact.Name
	}
	if vo.Logger == nil {
		vo.Logger = opts.Logger
	}
	fs, err := vuln.Match(ctx, d, inv, vo)
	if err != nil {
		res.Errors = append(res.Errors, finding.ScanError{Target: inv.Target, Path: db.DefaultDir(opts.CacheDir), Scanner: Vuln, Message: err.Error()})
		return
	}
	res.Findings = append(res.Findings, fs...)
}

// uncovered returns a warning per ecosystem of the inventory that the
// database has no advisories for: those packages were not checked, which
// must not read as "no vulnerabilities".
func uncovered(inv *sbom.Inventory, st db.Status) []string {
	type base struct{ name, release string }
	var have []base
	for eco := range st.Ecosystems {
		b, rel := osv.SplitEcosystem(eco)
		have = append(have, base{b, rel})
	}
	covered := map[string]bool{}
	counts := map[string]int{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if p.Ecosystem == "" {
			continue
		}
		ok, seen := covered[p.Ecosystem]
		if !seen {
			b, rel := osv.SplitEcosystem(p.Ecosystem)
			rel = osv.NormalizeRelease(b, rel)
			for _, h := range have {
				if h.name == b && osv.ReleaseMatches(b, h.release, rel) {
					ok = true
					break
				}
			}
			covered[p.Ecosystem] = ok
		}
		if !ok {
			counts[p.Ecosystem]++
		}
	}
	ecos := make([]string, 0, len(counts))
	for e := range counts {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	out := make([]string, 0, len(ecos))
	for _, e := range ecos {
		noun := "packages"
		if counts[e] == 1 {
			noun = "package"
		}
		out = append(out, fmt.Sprintf("%d %s not checked: no advisories for %s in the DB", counts[e], noun, e))
	}
	return out
}

// OptionError is a scan option that cannot be used (a secret rule file
// that does not load, ...): the command line is wrong, not the target.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

func newSecretScanner(opts Options) (*secret.Scanner, error) {
	so := opts.Secret
	if so.Skip == nil {
		so.Skip = opts.Skip
	}
	if so.Logger == nil {
		so.Logger = opts.Logger
	}
	if so.Progress == nil && opts.Progress != nil {
		so.Progress = opts.Progress // the spinner counts the files read
	}
	sc, err := secret.New(so)
	if err != nil {
		return nil, &OptionError{Err: err}
	}
	return sc, nil
}

// walkImage visits every file of every image layer once: the secret scanner
// reads each file (files deleted by a later layer included, and marked so),
// the image checks look at modes and paths; then the image configuration's
// environment and history are scanned for secrets and checked.
func walkImage(ctx context.Context, art artifact.Artifact, opts Options, res *Result) error {
	wantSecret, wantMisconfig := opts.want(Secret), opts.want(Misconfig)
	if !wantSecret && !wantMisconfig {
		return nil
	}
	var sc *secret.Scanner
	if wantSecret {
		var err error
		so := opts
		so.Progress = nil // the walk below counts every file, read or not
		if sc, err = newSecretScanner(so); err != nil {
			return err
		}
	}
	var fc *imageconfig.FileChecker
	if wantMisconfig {
		fc = imageconfig.NewFileChecker(art.Name())
	}
	maxSize := opts.Secret.MaxFileSize
	if maxSize <= 0 {
		maxSize = 10 << 20
	}
	walkErr := art.Walk(ctx, func(f *artifact.File, r io.Reader) error {
		opts.Progress.Add(1)
		if fc != nil {
			fc.Visit(f)
		}
		if sc == nil || r == nil || !f.Mode.IsRegular() || f.Size > maxSize {
			return nil
		}
		loc := finding.Location{Path: f.Path}
		if f.Layer != nil {
			loc.LayerDigest, loc.LayerDiffID, loc.LayerCreatedBy = f.Layer.Digest, f.Layer.DiffID, f.Layer.CreatedBy
		}
		fs, err := sc.ScanReader(ctx, art.Name(), loc, r)
		if err != nil {
			res.Errors = append(res.Errors, finding.ScanError{Target: art.Name(), Path: layerPath(f), Scanner: Secret, Message: err.Error()})
			return nil
		}
		if f.Deleted {
			secret.MarkDeleted(fs)
		}
		res.Findings = append(res.Findings, fs...)
		return nil
	})
	if walkErr != nil {
		probs, fatal := artifact.Problems(walkErr)
		// The inventory walked the same layers and reported the same
		// problems (a path escape, a truncated layer): report each once.
		seen := map[string]bool{}
		for _, e := range res.Errors {
			if e.Scanner == "inventory" {
				seen[e.Message] = true
			}
		}
		for _, p := range probs {
			if seen[p.Error()] {
				continue
			}
			path := p.Path
			if p.Layer != nil {
				path = p.Layer.Digest
				if p.Path != "" {
					path += ":" + p.Path
				}
			}
			res.Errors = append(res.Errors, finding.ScanError{Target: art.Name(), Path: path, Message: p.Err.Error()})
		}
		if fatal != nil {
			return fatal
		}
	}
	cfg := art.Config()
	if fc != nil {
		if cfg != nil {
			res.Findings = append(res.Findings, imageconfig.ConfigFindings(art.Name(), cfg, art.Layers())...)
		}
		res.Findings = append(res.Findings, fc.Findings()...)
	}
	if sc != nil && cfg != nil {
		for i, env := range cfg.Env {
			fs, err := sc.ScanText(ctx, art.Name(), finding.Location{Path: fmt.Sprintf("image config: Env[%d]", i)}, env)
			if err == nil {
				res.Findings = append(res.Findings, fs...)
			}
		}
		for i, h := range cfg.History {
			if h.CreatedBy == "" {
				continue
			}
			loc := finding.Location{Path: fmt.Sprintf("image config: history[%d]", i), LayerCreatedBy: h.CreatedBy}
			fs, err := sc.ScanText(ctx, art.Name(), loc, h.CreatedBy)
			if err == nil {
				res.Findings = append(res.Findings, fs...)
			}
		}
	}
	return nil
}

func layerPath(f *artifact.File) string {
	if f.Layer == nil {
		return f.Path
	}
	return f.Layer.Digest + ":" + f.Path
}
