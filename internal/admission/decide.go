package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/signing"
)

// NamespaceLabels looks up a namespace's labels (for its Pod Security
// level); nil means every namespace gets the policy's default level.
type NamespaceLabels func(ctx context.Context, namespace string) (map[string]string, error)

// Resolver resolves an image tag to its digest (for pinning).
type Resolver func(ctx context.Context, ref string) (string, error)

// Verdict of one rule on one request.
type Verdict struct {
	Rule    string `json:"rule"`
	Mode    Mode   `json:"mode"`
	Message string `json:"message"`
}

// Decision is the outcome of one review.
type Decision struct {
	Allowed  bool      `json:"allowed"`
	Excluded bool      `json:"excluded,omitempty"`
	Failed   []Verdict `json:"failed,omitempty"`
	Patch    []patchOp `json:"patch,omitempty"`
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Engine decides reviews under a policy.
type Engine struct {
	Policy     *Policy
	Namespaces NamespaceLabels
	Resolve    Resolver
}

// Decide evaluates req. mutate selects the /mutate rules (digest pinning)
// instead of the validating ones.
func (e *Engine) Decide(ctx context.Context, req *admissionv1.AdmissionRequest, mutate bool) (*Decision, error) {
	if req.Operation == admissionv1.Delete || req.Operation == admissionv1.Connect || len(req.Object.Raw) == 0 {
		return &Decision{Allowed: true}, nil
	}
	obj, err := decodeObject(req.Object.Raw)
	if err != nil {
		return nil, err
	}
	return e.decide(ctx, req, obj, mutate)
}

// decide evaluates req whose object is already decoded (nil: none).
func (e *Engine) decide(ctx context.Context, req *admissionv1.AdmissionRequest, obj *object, mutate bool) (*Decision, error) {
	d := &Decision{Allowed: true}
	if req.Operation == admissionv1.Delete || req.Operation == admissionv1.Connect || obj == nil {
		return d, nil
	}
	if obj.node.Kind != yaml.MappingNode {
		return nil, errors.New("object: not a JSON object")
	}
	p := e.Policy
	for _, ns := range p.Doc.Exclude.Namespaces {
		if ns == req.Namespace {
			d.Excluded = true
			return d, nil
		}
	}
	fail := func(rule string, m Mode, msg string) {
		d.Failed = append(d.Failed, Verdict{Rule: rule, Mode: m, Message: msg})
		if m == Enforce {
			d.Allowed = false
		}
	}
	if !podKind(req.Kind.Kind) {
		if mutate || p.Checks == nil {
			return d, nil
		}
		return d, e.manifestChecks(req, obj, nil, fail)
	}
	pp, err := pod(req.Kind.Kind, obj)
	if err != nil {
		return nil, err
	}
	for k, v := range p.Doc.Exclude.Labels {
		if pp.labels[k] == v {
			d.Excluded = true
			return d, nil
		}
	}
	imgs := images(pp)
	if mutate {
		return d, e.pin(ctx, d, imgs)
	}
	// Pod Security Standards: the pod spec is decoded and evaluated once,
	// for the namespace's level and for the WARD-PSS-* manifest checks.
	level := p.PSS.level
	if e.Namespaces != nil && req.Namespace != "" {
		labels, err := e.Namespaces(ctx, req.Namespace)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", req.Namespace, err)
		}
		if level, err = p.PSS.levelFor(labels); err != nil {
			return nil, err
		}
	}
	meta, spec, err := k8s.DecodePod(pp.meta, pp.spec, maxObjectNodes)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", req.Kind.Kind, req.Namespace, req.Name, err)
	}
	res := p.PSS.pss.Evaluate(meta, spec)
	if fs := p.PSS.check(level, res); len(fs) > 0 {
		fail("pss-"+string(level), p.Doc.PSS.Mode, fmt.Sprintf("violates PodSecurity %q: %s", level, strings.Join(fs, "; ")))
	}
	// Custom CEL checks over the object.
	if p.CEL != nil {
		doc, err := obj.value()
		if err != nil {
			return nil, err
		}
		for _, f := range p.CEL.Evaluate(req.Kind.Kind+"/"+req.Name, "", check.Kubernetes, doc, nil) {
			msg := f.Message
			if msg == "" {
				msg = f.Title
			}
			fail(f.RuleID, p.celMode(f.RuleID), msg)
		}
	}
	// Ward's built-in manifest checks, reusing the PSS evaluation when the
	// checks' PSS version is the policy's.
	var pe *k8s.PodEval
	if cs := p.Checks; cs != nil && cs.pss {
		if cs.scanner.PSS().Version() == p.PSS.pss.Version() {
			pe = &k8s.PodEval{Results: res}
		} else {
			pe = &k8s.PodEval{Results: cs.scanner.PSS().Evaluate(meta, spec)}
		}
	}
	if err := e.manifestChecks(req, obj, pe, fail); err != nil {
		return nil, err
	}
	// Trusted supply: registries, signatures, attestations.
	if p.Supply != nil {
		for _, im := range imgs {
			dec, err := p.Supply.Evaluate(ctx, im.image)
			if err != nil {
				fail("supply", p.Doc.Supply.Mode, fmt.Sprintf("image %s: %v", im.image, err))
				continue
			}
			if !dec.Allowed {
				fail("supply", p.Doc.Supply.Mode, fmt.Sprintf("image %s: %s", im.image, strings.Join(dec.Violations, "; ")))
			}
		}
	}
	// Vulnerability gate on each image's latest report.
	if p.Vuln != nil {
		for _, im := range imgs {
			if m, msg, ok := p.Vuln.judge(ctx, e, im.image); !ok {
				fail("vulnerabilities", m, fmt.Sprintf("image %s: %s", im.image, msg))
			}
		}
	}
	return d, nil
}

// digestOf is the manifest digest of an image reference: the one it names,
// or its tag resolved.
func (e *Engine) digestOf(ctx context.Context, ref string) (string, error) {
	if _, dg, ok := strings.Cut(ref, "@"); ok {
		return dg, nil
	}
	if e.Resolve == nil {
		return "", fmt.Errorf("no registry resolver")
	}
	return e.Resolve(ctx, ref)
}

// manifestChecks runs the selected built-in checks on the object.
func (e *Engine) manifestChecks(req *admissionv1.AdmissionRequest, obj *object, pod *k8s.PodEval, fail func(string, Mode, string)) error {
	cs := e.Policy.Checks
	if cs == nil {
		return nil
	}
	fs, err := cs.run(obj, pod)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", req.Kind.Kind, req.Namespace, req.Name, err)
	}
	for _, f := range fs {
		msg := f.Message
		if msg == "" {
			msg = f.Title
		}
		if f.Location.Object != nil && f.Location.Object.FieldPath != "" {
			msg += " (" + f.Location.Object.FieldPath + ")"
		}
		fail(f.RuleID, e.Policy.checkMode(f.RuleID), "["+f.Severity.String()+"] "+msg)
	}
	return nil
}

// pin adds a JSONPatch replacing every tagged image by repo@digest.
func (e *Engine) pin(ctx context.Context, d *Decision, imgs []imageRef) error {
	if !e.Policy.Doc.PinDigests || e.Resolve == nil {
		return nil
	}
	for _, im := range imgs {
		if strings.Contains(im.image, "@sha256:") {
			continue
		}
		dg, err := e.Resolve(ctx, im.image)
		if err != nil {
			// Leave the image as it is; the validating webhook decides.
			d.Failed = append(d.Failed, Verdict{Rule: "pin-digest", Mode: Warn, Message: fmt.Sprintf("image %s: cannot resolve digest: %v", im.image, err)})
			continue
		}
		d.Patch = append(d.Patch, patchOp{Op: "replace", Path: im.path, Value: repoOf(im.image) + "@" + dg})
	}
	return nil
}

// repoOf strips the tag from an image reference.
func repoOf(ref string) string {
	slash := strings.LastIndex(ref, "/")
	if c := strings.LastIndex(ref, ":"); c > slash {
		return ref[:c]
	}
	return ref
}

// Response builds the AdmissionResponse for d.
func (d *Decision) Response(uid string) (*admissionv1.AdmissionResponse, error) {
	r := &admissionv1.AdmissionResponse{UID: typesUID(uid), Allowed: d.Allowed}
	var denied []string
	for _, f := range d.Failed {
		switch f.Mode {
		case Enforce:
			denied = append(denied, f.Rule+": "+f.Message)
		case Warn:
			r.Warnings = append(r.Warnings, "ward "+f.Rule+": "+f.Message)
		}
	}
	if !d.Allowed {
		r.Result = &metav1.Status{Status: "Failure", Code: 403, Reason: metav1.StatusReasonForbidden,
			Message: "ward: " + strings.Join(denied, "; ")}
	}
	if len(d.Patch) > 0 && d.Allowed {
		b, err := json.Marshal(d.Patch)
		if err != nil {
			return nil, err
		}
		pt := admissionv1.PatchTypeJSONPatch
		r.Patch, r.PatchType = b, &pt
	}
	return r, nil
}

// SigningResolver resolves tags with the signing package's registry client
// and caches results for ttl (bounded to max entries).
func SigningResolver(reg signing.Registry, ttl time.Duration, max int) Resolver {
	c := newTTLCache[string](max, ttl)
	return func(ctx context.Context, ref string) (string, error) {
		if v, ok := c.get(ref); ok {
			return v, nil
		}
		dg, err := reg.Resolve(ctx, ref)
		if err != nil {
			return "", err
		}
		c.put(ref, dg.DigestStr())
		return dg.DigestStr(), nil
	}
}
