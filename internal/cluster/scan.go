// Package cluster judges a live Kubernetes cluster: the manifest checks of
// internal/misconfig and the Pod Security Standards on the workloads that
// exist, the namespaces' Pod Security labels, secrets in ConfigMaps and
// environment variables, the control plane (static pods, anonymous
// access, kubelet configz), service-mesh settings (Istio, Linkerd), the
// RBAC graph (internal/cluster/rbac) and NetworkPolicy coverage
// (internal/cluster/netpol), and the images of running pods (through an
// injected image scanner).
//
// Objects are read through internal/kube page by page and decoded into
// k8s.io/api types one at a time; only small summaries (namespace labels,
// RBAC objects, pod endpoints, image references) are kept for the
// cross-object checks.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/pkg/finding"
)

// Source is what a scan reads: *kube.Client.
type Source interface {
	List(ctx context.Context, r kube.Resource, ns string, fn func(item []byte) error) error
	Get(ctx context.Context, path string, v any) error
	AnonymousGet(ctx context.Context, path string) (int, error)
	Discover(ctx context.Context) (*kube.Catalog, error)
}

// Scanner names.
const (
	ScannerMisconfig = "misconfig"
	ScannerRBAC      = "rbac"
	ScannerNetwork   = "network"
	ScannerVuln      = "vuln"
	ScannerSecret    = "secret"
)

// Scanners lists every scanner name, in report order.
var Scanners = []string{ScannerMisconfig, ScannerRBAC, ScannerNetwork, ScannerVuln, ScannerSecret}

// TextScanner finds secrets in a string (internal/secret.Scanner).
type TextScanner interface {
	ScanText(ctx context.Context, target string, loc finding.Location, text string) ([]finding.Finding, error)
}

// ImageScanner scans one image for vulnerabilities with Ward's image
// pipeline; ref is the image as the pod names it, digest the running
// image's digest ("" when the kubelet has not reported it).
type ImageScanner func(ctx context.Context, ref, digest string) (ImageResult, error)

// ImageResult is what an image scan found.
type ImageResult struct {
	// Digest is the manifest digest of the image scanned ("" if unknown).
	Digest   string
	Findings []finding.Finding
	// Errors and Warnings of the image scan (a layer that could not be
	// read, a stale database): reported with the cluster's.
	Errors   []finding.ScanError
	Warnings []string
}

// Options configure a scan.
type Options struct {
	// Target names the cluster in findings (context name or server URL).
	Target string
	// Namespaces limits namespaced kinds to these namespaces; empty = all.
	Namespaces []string
	// IncludeKinds limits the kinds read (Kind names or resource plurals,
	// case-insensitive); empty = all the scanners need.
	IncludeKinds []string
	// Scanners to run; empty = misconfig, rbac, network, secret (vuln is
	// opt-in: it pulls images).
	Scanners []string
	// PSSVersion is the Pod Security Standards version for manifest checks.
	PSSVersion string
	Secrets    TextScanner
	Images     ImageScanner
	// IncludeSystem reports RBAC grants of the bootstrap (system:) roles too.
	IncludeSystem bool
	Logger        *slog.Logger
	// Sink, when set, receives the findings as the scan makes them, in
	// batches (valid only during the call; the sink may filter or mark
	// them in place), and Result.Findings stays empty: a report of hundreds of
	// thousands of findings streams to its writer instead of being held.
	// Without it the findings are collected, sorted, in Result.Findings.
	Sink func([]finding.Finding)
}

// Result is what a scan found.
type Result struct {
	// Findings, sorted by object, rule and fingerprint (empty when
	// Options.Sink took them).
	Findings []finding.Finding
	// Errors are kinds or endpoints that could not be read (forbidden,
	// unreachable, malformed): the rest was still scanned.
	Errors   []finding.ScanError
	Warnings []string
	// Objects counts the objects read, by resource.
	Objects map[string]int
}

type scan struct {
	src     Source
	opts    Options
	target  string
	cat     *kube.Catalog
	scanner map[string]bool
	kinds   map[string]bool
	ms      *k8s.Scanner
	pss     *k8s.PSS
	res     *Result
	log     *slog.Logger

	nsLabels map[string]map[string]string
	nsAnnos  map[string]map[string]string
	nsUID    map[string]string
	nsListed bool
	// pssByVersion caches evaluators of the namespaces' *-version labels.
	pssByVersion map[string]*k8s.PSS
	// namespaces that hold workloads, for the mesh and network checks.
	nsWithWorkloads map[string]bool
	cp              []controlPlanePod
	images          map[string]imageRef
	rbacIn          rbacInput
	netIn           netInput
	linkerdPods     []podMesh
	// fbuf is reused for each object's manifest findings.
	fbuf []finding.Finding
}

// Scan reads the cluster through src and runs the selected scanners.
// The error is non-nil only when nothing could be scanned (discovery
// failed); everything else is in Result.Errors.
func Scan(ctx context.Context, src Source, opts Options) (*Result, error) {
	s := &scan{src: src, opts: opts, target: opts.Target, res: &Result{Objects: map[string]int{}},
		nsLabels: map[string]map[string]string{}, nsAnnos: map[string]map[string]string{},
		nsUID: map[string]string{}, pssByVersion: map[string]*k8s.PSS{},
		nsWithWorkloads: map[string]bool{}, images: map[string]imageRef{}, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.scanner = map[string]bool{}
	sel := opts.Scanners
	if len(sel) == 0 {
		sel = []string{ScannerMisconfig, ScannerRBAC, ScannerNetwork, ScannerSecret}
	}
	for _, n := range sel {
		if !knownScanner(n) {
			return nil, fmt.Errorf("unknown scanner %q (want %s)", n, strings.Join(Scanners, ", "))
		}
		s.scanner[n] = true
	}
	if len(opts.IncludeKinds) > 0 {
		s.kinds = map[string]bool{}
		for _, k := range opts.IncludeKinds {
			s.kinds[strings.ToLower(k)] = true
		}
	}
	var err error
	s.ms, err = k8s.NewScanner(opts.Target, k8s.Options{PSSVersion: opts.PSSVersion})
	if err != nil {
		return nil, err
	}
	s.pss, err = k8s.NewPSS(opts.PSSVersion)
	if err != nil {
		return nil, err
	}
	s.cat, err = src.Discover(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range s.cat.Errors {
		s.res.Warnings = append(s.res.Warnings, e.Error())
	}
	s.run(ctx)
	if opts.Sink == nil {
		sortFindings(s.res.Findings)
	}
	return s.res, ctx.Err()
}

// add hands findings to the sink, or keeps them in the result.
func (s *scan) add(fs ...finding.Finding) {
	if len(fs) == 0 {
		return
	}
	if s.opts.Sink != nil {
		s.opts.Sink(fs)
		return
	}
	s.res.Findings = append(s.res.Findings, fs...)
}

func knownScanner(n string) bool {
	for _, k := range Scanners {
		if k == n {
			return true
		}
	}
	return false
}

func (s *scan) run(ctx context.Context) {
	s.readNamespaces(ctx)
	if s.scanner[ScannerMisconfig] || s.scanner[ScannerSecret] || s.scanner[ScannerVuln] || s.scanner[ScannerRBAC] || s.scanner[ScannerNetwork] {
		s.readWorkloads(ctx)
	}
	if s.scanner[ScannerSecret] {
		s.readConfigMaps(ctx)
	}
	if s.scanner[ScannerMisconfig] {
		s.namespaceFindings()
		s.controlPlane(ctx)
		s.mesh(ctx)
		// s.ms.Finish (file-set NetworkPolicy coverage) is not used: the
		// network scanner judges coverage with the real policies.
	}
	if s.scanner[ScannerRBAC] {
		s.rbac(ctx)
	}
	if s.scanner[ScannerNetwork] {
		s.network(ctx)
	}
	if s.scanner[ScannerVuln] {
		s.vuln(ctx)
	}
}

// wants reports whether the kind (by Kind or plural) was selected.
func (s *scan) wants(r kube.Resource) bool {
	if s.kinds == nil {
		return true
	}
	return s.kinds[strings.ToLower(r.Kind)] || s.kinds[r.Resource] || s.kinds[r.String()]
}

// resource returns a served resource by "plural.group", or false (and a
// note) when the server does not serve it.
func (s *scan) resource(name string) (kube.Resource, bool) {
	r, ok := s.cat.Lookup(name)
	return r, ok
}

// list streams a namespaced or cluster-scoped kind in the selected
// namespaces. A forbidden cluster-wide list of a namespaced kind falls back
// to one list per namespace (users with RoleBindings only). Errors are
// recorded, never returned: the scan goes on with the next kind.
func (s *scan) list(ctx context.Context, r kube.Resource, fn func(item []byte) error) {
	nss := s.opts.Namespaces
	if !r.Namespaced || len(nss) == 0 {
		err := s.src.List(ctx, r, "", s.count(r, fn))
		if err == nil || !r.Namespaced || !kube.IsForbidden(err) || len(s.nsLabels) == 0 {
			s.listErr(r, "", err)
			return
		}
		nss = s.namespaceNames()
	}
	for _, ns := range nss {
		s.listErr(r, ns, s.src.List(ctx, r, ns, s.count(r, fn)))
	}
}

func (s *scan) count(r kube.Resource, fn func([]byte) error) func([]byte) error {
	key := r.String()
	return func(b []byte) error {
		s.res.Objects[key]++
		return fn(b)
	}
}

func (s *scan) listErr(r kube.Resource, ns string, err error) {
	if err == nil {
		return
	}
	where := r.String()
	if ns != "" {
		where += " in namespace " + ns
	}
	msg := fmt.Sprintf("listing %s: %v", where, err)
	if kube.IsForbidden(err) {
		msg = fmt.Sprintf("listing %s: forbidden by RBAC, skipped: %v", where, err)
	}
	var oe *objectError
	if errors.As(err, &oe) {
		msg = oe.Error()
	}
	s.addError(r.Path(ns), msg)
}

func (s *scan) addError(path, msg string) {
	s.res.Errors = append(s.res.Errors, finding.ScanError{Target: s.target, Path: path, Scanner: "k8s", Message: msg})
}

// objectError is an object that could not be decoded: the list goes on.
type objectError struct {
	ref string
	err error
}

func (e *objectError) Error() string { return e.ref + ": " + e.err.Error() }

func (s *scan) namespaceNames() []string {
	out := make([]string, 0, len(s.nsLabels))
	for n := range s.nsLabels {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *scan) inScope(ns string) bool {
	if len(s.opts.Namespaces) == 0 {
		return true
	}
	for _, n := range s.opts.Namespaces {
		if n == ns {
			return true
		}
	}
	return false
}

func sortFindings(fs []finding.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].Location.Object.String(), fs[j].Location.Object.String()
		if a != b {
			return a < b
		}
		if fs[i].RuleID != fs[j].RuleID {
			return fs[i].RuleID < fs[j].RuleID
		}
		return fs[i].Fingerprint < fs[j].Fingerprint
	})
}
