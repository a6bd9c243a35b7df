package k8s

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/pod-security-admission/api"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

// Check is one built-in Kubernetes check: metadata plus a function run on
// every object. A check reports through the Ctx.
type Check struct {
	check.Meta
	// Kinds limits the check to these object kinds; nil means every kind.
	Kinds []string
	// Workload makes the check run only on objects with a pod spec.
	Workload bool
	Run      func(c *Ctx, o *Object)
}

// Ctx collects the findings of one check on one object.
type Ctx struct {
	target string
	meta   *check.Meta
	obj    *Object
	out    *[]finding.Finding
}

// Report adds a finding at node n (use the key node for a field whose
// value is a collection) with the object-relative field path.
func (c *Ctx) Report(n *yaml.Node, fieldPath, msg string) {
	*c.out = append(*c.out, newFinding(c.target, c.meta, c.obj, n, fieldPath, msg))
}

func newFinding(target string, meta *check.Meta, o *Object, n *yaml.Node, fieldPath, msg string) finding.Finding {
	loc := finding.Location{Path: o.Path}
	if n == nil {
		n = o.Root
	}
	if n != nil {
		loc.StartLine, loc.StartColumn = n.Line, n.Column
	}
	if o.Remap != nil {
		loc.Path, loc.StartLine, loc.StartColumn = o.Remap(fieldPath, n)
	}
	loc.Object = &finding.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, FieldPath: o.pathPrefix + fieldPath}
	f := meta.Finding(target, loc, msg, loc.Object.FieldPath)
	o.Suppress(&f)
	return f
}

// Suppress marks f suppressed when the object's ignore annotation names
// its rule (or "*").
func (o *Object) Suppress(f *finding.Finding) {
	if o.Ignore == nil || f.Suppressed != nil {
		return
	}
	reason, ok := o.Ignore[strings.ToUpper(f.RuleID)]
	if !ok {
		reason, ok = o.Ignore["*"]
	}
	if ok {
		f.Suppressed = &finding.Suppression{Kind: "inline", Reason: reason, Source: IgnoreAnnotation}
	}
}

// Locate returns the location of an object-relative field path: the
// deepest node of the path present in the document (remapped for
// rendered sources) and the object reference.
func (o *Object) Locate(fieldPath string) finding.Location {
	n, _ := LookupPath(o.Root, fieldPath)
	if n == nil {
		n = o.Root
	}
	loc := finding.Location{Path: o.Path, StartLine: n.Line, StartColumn: n.Column}
	if o.Remap != nil {
		loc.Path, loc.StartLine, loc.StartColumn = o.Remap(fieldPath, n)
	}
	loc.Object = &finding.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, FieldPath: o.pathPrefix + fieldPath}
	return loc
}

// Value converts the object to plain Go values (aliases expanded within
// budget nodes).
func (o *Object) Value(budget int) (any, error) { return ToValue(o.Root, budget) }

// Options configure a Scanner.
type Options struct {
	// PSSVersion is the Pod Security Standards version ("latest", "v1.30").
	PSSVersion string
	Limits     Limits
	// Checks overrides the built-in list (tests); nil means Builtin().
	Checks []Check
	// Extra runs after the built-in checks on every object (custom CEL
	// checks plug in here); its findings are suppressed by the object's
	// ignore annotation like the built-in ones.
	Extra func(o *Object) ([]finding.Finding, []finding.ScanError)
	// SkipPSS leaves the Pod Security Standards checks out (a caller that
	// selects none of the WARD-PSS-* findings does not pay for them).
	SkipPSS bool
}

// Scanner checks objects one file at a time and keeps only the small
// summary needed for cross-object checks (NetworkPolicy coverage).
type Scanner struct {
	target string
	lim    Limits
	checks []Check
	byKind map[string][]*Check
	any    []*Check
	pss    *PSS
	cov    *coverage
	extra  func(o *Object) ([]finding.Finding, []finding.ScanError)
	noPSS  bool
}

// NewScanner builds a scanner for one scan target.
func NewScanner(target string, opts Options) (*Scanner, error) {
	pss, err := NewPSS(opts.PSSVersion)
	if err != nil {
		return nil, err
	}
	cs := opts.Checks
	if cs == nil {
		cs = Builtin()
	}
	s := &Scanner{target: target, lim: opts.Limits.withDefaults(), checks: cs, pss: pss, cov: newCoverage(), byKind: map[string][]*Check{}, extra: opts.Extra, noPSS: opts.SkipPSS}
	for i := range s.checks {
		c := &s.checks[i]
		if len(c.Kinds) == 0 {
			s.any = append(s.any, c)
			continue
		}
		for _, k := range c.Kinds {
			s.byKind[k] = append(s.byKind[k], c)
		}
	}
	return s, nil
}

// LooksLikeKubernetes reports whether any document is a Kubernetes object
// (has apiVersion and kind).
func LooksLikeKubernetes(docs []Document) bool {
	for _, d := range docs {
		r := resolve(d.Root)
		if r != nil && r.Kind == yaml.MappingNode && str(get(r, "apiVersion")) != "" && str(get(r, "kind")) != "" {
			return true
		}
	}
	return false
}

// ScanFile parses and checks one file's content.
func (s *Scanner) ScanFile(path string, data []byte) ([]finding.Finding, []finding.ScanError) {
	docs, derrs := SplitDocuments(path, data, s.lim)
	fs, errs := s.ScanDocuments(path, docs, nil)
	return fs, append(DocErrors(s.target, derrs), errs...)
}

// ScanJSON checks one JSON document (an object as an API server returns
// it), parsed with ParseJSON instead of the YAML parser; the findings are
// appended to dst.
func (s *Scanner) ScanJSON(dst []finding.Finding, path string, data []byte) ([]finding.Finding, []finding.ScanError) {
	root, err := ParseJSON(path, data, s.lim)
	if err != nil {
		var pe *PosError
		if errors.As(err, &pe) {
			return dst, DocErrors(s.target, []DocError{{Err: pe}})
		}
		return dst, []finding.ScanError{{Target: s.target, Path: path, Scanner: "misconfig", Message: err.Error()}}
	}
	return s.AppendDocuments(dst, path, []Document{{Line: 1, Root: root}}, nil)
}

// DocErrors converts document parse errors to scan errors.
func DocErrors(target string, derrs []DocError) []finding.ScanError {
	var out []finding.ScanError
	for _, e := range derrs {
		out = append(out, finding.ScanError{Target: target, Path: e.Err.Path, Line: e.Err.Line, Column: e.Err.Column, Scanner: "misconfig", Message: e.Err.Msg})
	}
	return out
}

// ScanDocuments checks parsed documents. remap, if set, is applied to
// every object (positions in rendered output mapped back to sources).
func (s *Scanner) ScanDocuments(path string, docs []Document, remap func(o *Object)) ([]finding.Finding, []finding.ScanError) {
	return s.AppendDocuments(nil, path, docs, remap)
}

// AppendDocuments is ScanDocuments appending the findings to dst: a
// caller that hands each file's findings on (a report sink) reuses one
// buffer instead of growing a new slice per object and per file.
func (s *Scanner) AppendDocuments(dst []finding.Finding, path string, docs []Document, remap func(o *Object)) ([]finding.Finding, []finding.ScanError) {
	var errs []finding.ScanError
	for _, d := range docs {
		for _, o := range objectsOf(path, d) {
			if remap != nil {
				remap(o)
			}
			var es []finding.ScanError
			dst, es = s.AppendObject(dst, o)
			errs = append(errs, es...)
		}
	}
	return dst, errs
}

// ScanObject runs every check on one object.
func (s *Scanner) ScanObject(o *Object) ([]finding.Finding, []finding.ScanError) {
	return s.AppendObject(nil, o)
}

// AppendObject is ScanObject appending the findings to dst.
func (s *Scanner) AppendObject(dst []finding.Finding, o *Object) ([]finding.Finding, []finding.ScanError) {
	return s.appendObject(dst, o, nil, true)
}

// PodEval is a pod spec decoded (DecodePod) and evaluated once by the
// caller with the scanner's PSS (Scanner.PSS), so CheckObject does not
// decode and evaluate it a second time.
type PodEval struct {
	Results []PSSResult
}

// CheckObject runs the per-object checks on o without recording it for
// the cross-object checks (Finish does not see it), so one Scanner serves
// concurrent callers. pod, when non-nil, is the caller's evaluation of
// o's pod spec with s.PSS(), used instead of evaluating it again.
func (s *Scanner) CheckObject(dst []finding.Finding, o *Object, pod *PodEval) ([]finding.Finding, []finding.ScanError) {
	return s.appendObject(dst, o, pod, false)
}

// PSS is the Pod Security Standards evaluator of the scanner.
func (s *Scanner) PSS() *PSS { return s.pss }

func (s *Scanner) appendObject(dst []finding.Finding, o *Object, pod *PodEval, observe bool) ([]finding.Finding, []finding.ScanError) {
	var errs []finding.ScanError
	ps, isWorkload := o.PodSpec()
	ctx := Ctx{target: s.target, obj: o, out: &dst}
	run := func(c *Check) {
		if c.Workload && !isWorkload {
			return
		}
		ctx.meta = &c.Meta
		c.Run(&ctx, o)
	}
	for _, c := range s.any {
		run(c)
	}
	for _, c := range s.byKind[o.Kind] {
		run(c)
	}
	if isWorkload && !s.noPSS {
		es := s.checkPSS(o, ps, pod, &dst)
		errs = append(errs, es...)
	}
	if s.extra != nil {
		fs, es := s.extra(o)
		for i := range fs {
			o.Suppress(&fs[i])
		}
		dst = append(dst, fs...)
		errs = append(errs, es...)
	}
	if observe {
		s.cov.observe(o, ps, isWorkload)
	}
	return dst, errs
}

func (s *Scanner) checkPSS(o *Object, ps PodSpec, pod *PodEval, out *[]finding.Finding) []finding.ScanError {
	var res []PSSResult
	if pod != nil {
		res = pod.Results
	} else {
		meta, spec, err := DecodePod(ps.Meta, ps.Node, s.lim.MaxExpandedNodes)
		if err != nil {
			path, line, col := o.Path, ps.Node.Line, ps.Node.Column
			if o.Remap != nil {
				path, line, col = o.Remap(ps.Path, ps.Node)
			}
			return []finding.ScanError{{Target: s.target, Path: path, Line: line, Column: col, Scanner: "misconfig",
				Message: fmt.Sprintf("%s %s: cannot evaluate Pod Security Standards: %v", o.Kind, o.Name, err)}}
		}
		res = s.pss.Evaluate(meta, spec)
	}
	for _, r := range res {
		if r.Result.Allowed {
			continue
		}
		if r.CheckID == "hostNamespaces" {
			// One finding per shared namespace, each at its own line.
			if fs := hostNamespaceFindings(s.target, r, o, ps); len(fs) > 0 {
				*out = append(*out, fs...)
				continue
			}
		}
		n, fp := locatePSS(r.CheckID, ps, r.Result.ForbiddenDetail)
		msg := fmt.Sprintf("%s violates Pod Security Standard %q (%s): %s", o.Kind+"/"+o.Name, r.Level, r.CheckID, r.Result.ForbiddenReason)
		if r.Result.ForbiddenDetail != "" {
			msg += " (" + r.Result.ForbiddenDetail + ")"
		}
		*out = append(*out, newFinding(s.target, r.Meta, o, n, fp, msg))
	}
	return nil
}

// Finish emits the findings that need the whole scanned set
// (NetworkPolicy coverage). Call it once after the last file.
func (s *Scanner) Finish() []finding.Finding {
	return s.cov.finish(s.target)
}

// PSSAllowed classifies a pod spec node pair for a level (used by the
// conformance test and compliance views).
func (s *Scanner) PSSAllowed(level string, ps PodSpec) (bool, error) {
	meta, spec, err := DecodePod(ps.Meta, ps.Node, s.lim.MaxExpandedNodes)
	if err != nil {
		return false, err
	}
	return s.pss.Allowed(api.Level(level), s.pss.Evaluate(meta, spec)), nil
}

// Checks lists the metadata of every built-in Kubernetes check, including
// the Pod Security Standards checks (at the latest version) and the
// NetworkPolicy coverage checks.
func Checks() []check.Meta {
	var out []check.Meta
	for _, c := range Builtin() {
		out = append(out, c.Meta)
	}
	out = append(out, coverageChecks()...)
	p, err := NewPSS("latest")
	if err == nil {
		for _, c := range p.checks {
			out = append(out, c.meta)
		}
	}
	return out
}
