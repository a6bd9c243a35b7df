package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/vuln"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// RematchOptions configures the vulnerability DB job.
type RematchOptions struct {
	// DBDir is the vulnerability database directory (what `ward db
	// update --cache-dir` fills: <cache>/vulndb).
	DBDir string
	// Update, when set, runs `ward db update` (db.Update) before looking
	// at the database; otherwise the database is updated by someone else
	// (`ward db update` or `ward db import` into DBDir, a mounted volume).
	Update *db.UpdateOptions
	// StateFile remembers the database version last re-matched, so that a
	// restarted server does not re-match an unchanged database.
	StateFile string
	Store     *store.Store
	Version   string
	Logger    *slog.Logger
}

// RematchResult is what one re-match did.
type RematchResult struct {
	DBVersion string
	// Targets re-matched; Skipped were not (with the reason logged);
	// Failed could not be matched or stored.
	Targets, Skipped, Failed int
	// New findings over every target (they were routed to the sinks).
	New int
}

// Rematcher is the vulnerability DB job: when the database has a new
// version it matches every stored SBOM (store.SBOMs) against it and
// ingests the result as a new scan of each target, without pulling
// anything, so that new vulnerabilities raise alerts through the sinks.
type Rematcher struct {
	o      RematchOptions
	ingest Ingest
	log    *slog.Logger

	mu   sync.Mutex
	last string // DB version last re-matched completely
}

// NewRematcher builds the job.
func NewRematcher(o RematchOptions, ingest Ingest) (*Rematcher, error) {
	if o.DBDir == "" {
		return nil, errors.New("rematch: no vulnerability database directory")
	}
	if o.Store == nil || ingest == nil {
		return nil, errors.New("rematch: no store")
	}
	r := &Rematcher{o: o, ingest: ingest, log: o.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if o.StateFile != "" {
		b, err := os.ReadFile(o.StateFile)
		switch {
		case err == nil:
			var st rematchState
			if err := json.Unmarshal(b, &st); err != nil {
				return nil, fmt.Errorf("rematch: state file %s: %w (delete it to re-match everything once)", o.StateFile, err)
			}
			r.last = st.DBVersion
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("rematch: state file: %w", err)
		}
	}
	return r, nil
}

type rematchState struct {
	DBVersion string    `json:"db_version"`
	At        time.Time `json:"at"`
}

// DBVersion names a database build: its build time and a digest of its
// sources (archive checksums, HTTP validators), so that two builds of the
// same data at different times are different versions (a rebuild may add
// what a parser fix now reads).
func DBVersion(st db.Status) string {
	h := sha256.New()
	srcs := append([]db.SourceStatus(nil), st.Sources...)
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	for _, s := range srcs {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00", s.Name, s.SHA256, s.ETag, s.LastModified, s.Advisories)
	}
	return st.Built.UTC().Format(time.RFC3339) + "/" + hex.EncodeToString(h.Sum(nil))[:12]
}

// Run is the job function: update (if configured), then re-match when
// the database version changed since the last complete re-match.
func (r *Rematcher) Run(ctx context.Context) error {
	_, err := r.RunOnce(ctx)
	return err
}

// RunOnce is Run returning what it did (a zero DBVersion: nothing to do).
func (r *Rematcher) RunOnce(ctx context.Context) (RematchResult, error) {
	if r.o.Update != nil {
		if _, fetched, err := db.Update(ctx, r.o.DBDir, *r.o.Update); err != nil {
			// A failed update leaves the previous database: re-match
			// whatever is there if it is new.
			r.log.Error("vulnerability database update failed", "dir", r.o.DBDir, "err", err)
		} else {
			r.log.Info("vulnerability database updated", "dir", r.o.DBDir, "archives", len(fetched))
		}
	}
	d, err := db.Open(r.o.DBDir)
	if err != nil {
		return RematchResult{}, fmt.Errorf("rematch: %w", err)
	}
	defer d.Close()
	version := DBVersion(d.Status())
	r.mu.Lock()
	last := r.last
	r.mu.Unlock()
	if version == last {
		return RematchResult{}, nil
	}
	res, err := r.rematch(ctx, d, version)
	if err != nil {
		return res, err
	}
	if res.Failed > 0 {
		return res, fmt.Errorf("rematch: database %s: %d of %d targets failed (see the log); retried at the next run", version, res.Failed, res.Failed+res.Targets)
	}
	r.mu.Lock()
	r.last = version
	r.mu.Unlock()
	if r.o.StateFile != "" {
		b, _ := json.Marshal(rematchState{DBVersion: version, At: time.Now().UTC()})
		if err := writeAtomic(r.o.StateFile, b); err != nil {
			return res, fmt.Errorf("rematch: state file: %w", err)
		}
	}
	r.log.Info("re-matched stored SBOMs", "db_version", version, "targets", res.Targets, "skipped", res.Skipped, "new", res.New)
	return res, nil
}

func (r *Rematcher) rematch(ctx context.Context, d *db.DB, version string) (RematchResult, error) {
	res := RematchResult{DBVersion: version}
	err := r.o.Store.SBOMs(ctx, func(target string, inv *report.Report) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, skip, err := r.target(ctx, d, version, target, inv)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Failed++
			r.log.Error("rematch failed", "target", target, "err", err)
		case skip != "":
			res.Skipped++
			r.log.Info("rematch skipped", "target", target, "reason", skip)
		default:
			res.Targets++
			res.New += n
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("rematch: %w", err)
	}
	return res, nil
}

// target re-matches one target's inventory and stores the result; skip
// says why a target was left alone.
func (r *Rematcher) target(ctx context.Context, d *db.DB, version, target string, inv *report.Report) (int, string, error) {
	if len(inv.Packages) == 0 {
		return 0, "the stored inventory has no packages (scan with --list-all-pkgs to keep them)", nil
	}
	vulns, err := vuln.Match(ctx, d, &sbom.Inventory{Target: target, ArtifactType: inv.Artifact.Type, Digest: inv.Artifact.Digest,
		OS: inv.OS, Packages: inv.Packages}, vuln.Options{Target: target, Logger: r.log})
	if err != nil {
		return 0, "", err
	}
	// The new scan must carry the target's other findings (secrets,
	// misconfigurations, ...) or the store would mark them fixed.
	others, skip, err := r.otherFindings(ctx, target)
	if err != nil || skip != "" {
		return 0, skip, err
	}
	rep := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "ward", Version: r.o.Version, URI: "https://github.com/wardsec/ward"},
		Artifact:      inv.Artifact,
		Scanners:      []string{"vuln"},
		Findings:      append(vulns, others...),
		Errors:        []finding.ScanError{},
		OS:            inv.OS,
		Packages:      inv.Packages,
		Extra:         map[string]any{"db_version": version, "rematch": true},
	}
	rep.Finalize()
	var buf bytes.Buffer
	w, err := report.New("json", report.Options{})
	if err != nil {
		return 0, "", err
	}
	if err := w.Write(&buf, rep); err != nil {
		return 0, "", fmt.Errorf("report: %w", err)
	}
	// The key names the target, the database and the inventory: running
	// again on the same database stores nothing twice.
	h := sha256.New()
	fmt.Fprintf(h, "rematch\x00%s\x00%s\x00", target, version)
	pk, _ := json.Marshal(inv.Packages)
	h.Write(pk)
	res, err := r.ingest(ctx, "rematch:"+hex.EncodeToString(h.Sum(nil)), rep, buf.Bytes())
	if err != nil {
		return 0, "", fmt.Errorf("store: %w", err)
	}
	if res.Duplicate {
		return 0, "", nil
	}
	return res.New, "", nil
}

// otherFindings returns the target's findings that are not fixed and not
// vulnerabilities, as the reports had them. A target with benchmark
// findings is skipped: its passed controls live only in its last report,
// and a scan without them would drop them from its compliance score.
func (r *Rematcher) otherFindings(ctx context.Context, target string) ([]finding.Finding, string, error) {
	var out []finding.Finding
	f := store.FindingFilter{Target: target, Limit: 1000}
	for {
		items, next, err := r.o.Store.Findings(ctx, f)
		if err != nil {
			return nil, "", err
		}
		for _, it := range items {
			if it.Target != target || it.Status == store.StatusFixed {
				continue
			}
			var fd finding.Finding
			if err := json.Unmarshal(it.Finding, &fd); err != nil {
				return nil, "", fmt.Errorf("stored finding %d: %w", it.ID, err)
			}
			switch fd.Kind {
			case finding.KindVulnerability:
				continue
			case finding.KindBenchmark:
				return nil, "benchmark findings: a re-match would drop the passed controls of its compliance score; the next pushed report re-matches it", nil
			}
			out = append(out, fd)
		}
		if next == "" {
			return out, "", nil
		}
		f.Cursor = next
	}
}

func writeAtomic(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
