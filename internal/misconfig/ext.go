package misconfig

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/misconfig/terraform"
	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/pkg/finding"
)

// extensions lists the directory- and document-level scanners beyond the
// per-file ones (Terraform modules span a directory), and the per-object
// hook of custom CEL checks for Kubernetes.
func extensions(target string, opts Options) ([]extension, *policy.Set, func(o *k8s.Object) ([]finding.Finding, []finding.ScanError), error) {
	out := []extension{&terraformExt{seen: map[string]bool{}}, &kustomizeExt{seen: map[string]bool{}}}
	if len(opts.PolicyDirs) == 0 {
		return out, nil, nil, nil
	}
	set, err := policy.Load(opts.PolicyDirs)
	if err != nil {
		return nil, nil, nil, err
	}
	budget := opts.Limits.MaxExpandedNodes
	if budget <= 0 {
		budget = 1_000_000
	}
	extra := func(o *k8s.Object) ([]finding.Finding, []finding.ScanError) {
		doc, err := o.Value(budget)
		if err != nil {
			loc := o.Locate("")
			return nil, []finding.ScanError{{Target: target, Path: loc.Path, Line: loc.StartLine, Column: loc.StartColumn, Scanner: "misconfig", Message: "custom checks: " + err.Error()}}
		}
		return set.EvaluateAll(target, o.Path, check.Kubernetes, doc, o.Locate)
	}
	return out, set, extra, nil
}

// policyError turns a policy load error into a scan error with position.
func policyError(target string, err error) finding.ScanError {
	se := finding.ScanError{Target: target, Scanner: "misconfig", Message: "--policy: " + err.Error()}
	var pe *policy.Error
	if errors.As(err, &pe) {
		se.Path, se.Line, se.Column, se.Message = pe.File, pe.Line, pe.Column, "--policy: "+pe.Msg
	}
	return se
}

// terraformExt collects the directories holding .tf files and, once the
// walk is over, scans each root module (a directory no other scanned module
// calls) with the modules it calls, so that a called module is scanned
// through its caller, with its inputs, and not a second time on its own.
type terraformExt struct {
	seen map[string]bool
	dirs []string
}

func (t *terraformExt) dir(s *scanner, dir string) {
	if t.seen[dir] || !hasTF(dir) {
		return
	}
	t.seen[dir] = true
	t.dirs = append(t.dirs, dir)
}

func (t *terraformExt) finish(s *scanner) {
	for _, dir := range terraform.RootModules(t.dirs) {
		if s.ctx.Err() != nil {
			return
		}
		s.log.Debug("scan", "path", dir, "type", "terraform")
		fs, es := terraform.ScanDirWith(s.target, dir, s.evaluator())
		s.add(fs, es)
	}
}

func hasTF(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	for _, p := range m {
		if terraform.Detect(p) && !strings.HasPrefix(filepath.Base(p), ".") {
			return true
		}
	}
	return false
}

// extraCatalog lists checks of formats wired through extensions.
func extraCatalog() []check.Meta { return terraform.Checks() }
