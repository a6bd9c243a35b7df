package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/wardsec/ward/internal/misconfig/k8s"
)

// MaxRequestBytes bounds an AdmissionReview body (the API server itself
// limits objects to about 3 MiB; larger bodies get 413).
const MaxRequestBytes = 4 << 20

// maxReviewNodes bounds the node tree of one review (the object plus the
// request's own fields).
const maxReviewNodes = maxObjectNodes + 10_000

// DecodeReview parses an admission.k8s.io/v1 AdmissionReview request with
// encoding/json into the API types (the webhook itself uses parseReview,
// which decodes the body once into the node tree the checks read).
func DecodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var rv admissionv1.AdmissionReview
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&rv); err != nil {
		return nil, fmt.Errorf("AdmissionReview: %w", err)
	}
	if dec.More() {
		return nil, errors.New("AdmissionReview: trailing data after the object")
	}
	if err := checkReview(rv.APIVersion, rv.Kind, rv.Request != nil, rv.Request != nil && rv.Request.UID != ""); err != nil {
		return nil, err
	}
	return &rv, nil
}

func checkReview(apiVersion, kind string, hasRequest, hasUID bool) error {
	if apiVersion != "admission.k8s.io/v1" || kind != "AdmissionReview" {
		return fmt.Errorf("AdmissionReview: want apiVersion admission.k8s.io/v1 and kind AdmissionReview, got %q %q", apiVersion, kind)
	}
	if !hasRequest {
		return errors.New("AdmissionReview: no request")
	}
	if !hasUID {
		return errors.New("AdmissionReview: request.uid is empty")
	}
	return nil
}

// review is an AdmissionReview decoded once: the request fields the
// engine and the decision log read (req, without the raw objects) and
// the admitted object as the node tree the checks read (nil when the
// request carries none).
type review struct {
	typeMeta metav1.TypeMeta
	req      admissionv1.AdmissionRequest
	obj      *yaml.Node
}

// parseReview decodes an AdmissionReview body with Ward's JSON-to-node
// parser (k8s.ParseJSON): one pass over the bytes, no reflection, no
// intermediate map. Field types are checked as encoding/json would. The
// nodes come from arena a (nil: fresh memory); the strings of the result
// are copies, so body may be reused once parseReview returns.
func parseReview(a *k8s.Arena, body []byte) (*review, error) {
	root, err := k8s.ParseJSONIn(a, "AdmissionReview", body, k8s.Limits{MaxExpandedNodes: maxReviewNodes})
	if err != nil {
		var pe *k8s.PosError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("AdmissionReview: line %d column %d: %s", pe.Line, pe.Column, pe.Msg)
		}
		return nil, fmt.Errorf("AdmissionReview: %w", err)
	}
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("AdmissionReview: not a JSON object")
	}
	rv := &review{}
	d := fieldDecoder{}
	rv.typeMeta.APIVersion = d.str(root, "apiVersion", "apiVersion")
	rv.typeMeta.Kind = d.str(root, "kind", "kind")
	rq := d.obj(root, "request", "request")
	if d.err != nil {
		return nil, d.err
	}
	if err := checkReview(rv.typeMeta.APIVersion, rv.typeMeta.Kind, rq != nil, rq != nil && d.str(rq, "uid", "request.uid") != ""); err != nil {
		return nil, err
	}
	r := &rv.req
	r.UID = types.UID(d.str(rq, "uid", "request.uid"))
	if k := d.obj(rq, "kind", "request.kind"); k != nil {
		r.Kind = metav1.GroupVersionKind{Group: d.str(k, "group", "request.kind.group"), Version: d.str(k, "version", "request.kind.version"), Kind: d.str(k, "kind", "request.kind.kind")}
	}
	if k := d.obj(rq, "resource", "request.resource"); k != nil {
		r.Resource = metav1.GroupVersionResource{Group: d.str(k, "group", "request.resource.group"), Version: d.str(k, "version", "request.resource.version"), Resource: d.str(k, "resource", "request.resource.resource")}
	}
	r.SubResource = d.str(rq, "subResource", "request.subResource")
	r.Name = d.str(rq, "name", "request.name")
	r.Namespace = d.str(rq, "namespace", "request.namespace")
	r.Operation = admissionv1.Operation(d.str(rq, "operation", "request.operation"))
	if u := d.obj(rq, "userInfo", "request.userInfo"); u != nil {
		r.UserInfo.Username = d.str(u, "username", "request.userInfo.username")
		r.UserInfo.UID = d.str(u, "uid", "request.userInfo.uid")
		if g := child(u, "groups"); g != nil && g.Tag != "!!null" {
			if g.Kind != yaml.SequenceNode {
				d.fail("request.userInfo.groups", "an array of strings")
			} else {
				for _, e := range g.Content {
					if e.Tag != "!!str" {
						d.fail("request.userInfo.groups", "an array of strings")
						break
					}
					r.UserInfo.Groups = append(r.UserInfo.Groups, e.Value)
				}
			}
		}
	}
	if n := child(rq, "dryRun"); n != nil && n.Tag != "!!null" {
		if n.Tag != "!!bool" {
			d.fail("request.dryRun", "a boolean")
		} else {
			b := n.Value == "true"
			r.DryRun = &b
		}
	}
	if o := child(rq, "object"); o != nil && o.Tag != "!!null" {
		rv.obj = o // not an object: the engine refuses it with the reason
	}
	if d.err != nil {
		return nil, d.err
	}
	return rv, nil
}

// fieldDecoder reads typed fields of a mapping node, keeping the first
// type error.
type fieldDecoder struct{ err error }

func (d *fieldDecoder) fail(field, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("AdmissionReview: %s: want %s", field, want)
	}
}

// str is a string field; absent and null are "".
func (d *fieldDecoder) str(m *yaml.Node, key, field string) string {
	n := child(m, key)
	if n == nil || n.Tag == "!!null" {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.fail(field, "a string")
		return ""
	}
	return n.Value
}

// obj is an object field; absent and null are nil.
func (d *fieldDecoder) obj(m *yaml.Node, key, field string) *yaml.Node {
	n := child(m, key)
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.fail(field, "an object")
		return nil
	}
	return n
}

// child is the value of key in mapping m, nil when absent (the first
// one when a key is repeated, as the checks read it).
func child(m *yaml.Node, key string) *yaml.Node { return nodeAt(m, key) }

// podParts holds the pieces of a pod-bearing object the rules look at.
type podParts struct {
	meta, spec *yaml.Node
	// specPath is the JSON pointer of the pod spec inside the object.
	specPath string
	labels   map[string]string
}

// podKind reports whether objects of kind carry a pod spec: Pod,
// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
// Job, CronJob.
func podKind(kind string) bool {
	switch kind {
	case "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob":
		return true
	}
	return false
}

// pod finds the pod template of a decoded object of a podKind.
func pod(kind string, obj *object) (*podParts, error) {
	p := &podParts{specPath: "/spec/template/spec"}
	switch kind {
	case "Pod":
		p.specPath = "/spec"
	case "CronJob":
		p.specPath = "/spec/jobTemplate/spec/template/spec"
	}
	p.meta, p.spec = podNodes(obj.node, p.specPath)
	if p.spec == nil || p.spec.Tag == "!!null" {
		return nil, fmt.Errorf("%s: no pod spec at %s", kind, p.specPath)
	}
	if p.spec.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: pod spec at %s is not an object", kind, p.specPath)
	}
	if lm := nodeAt(obj.node, "metadata", "labels"); lm != nil && lm.Kind == yaml.MappingNode {
		p.labels = make(map[string]string, len(lm.Content)/2)
		for i := 0; i+1 < len(lm.Content); i += 2 {
			p.labels[lm.Content[i].Value] = lm.Content[i+1].Value
		}
	}
	return p, nil
}

// images lists the containers' images with their JSON pointers.
func images(p *podParts) []imageRef {
	var out []imageRef
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		cs := nodeAt(p.spec, list)
		if cs == nil || cs.Kind != yaml.SequenceNode {
			continue
		}
		for i, c := range cs.Content {
			im := nodeAt(c, "image")
			if im == nil || im.Kind != yaml.ScalarNode || im.Tag == "!!null" {
				continue
			}
			out = append(out, imageRef{image: im.Value, path: p.specPath + "/" + list + "/" + strconv.Itoa(i) + "/image"})
		}
	}
	return out
}

type imageRef struct{ image, path string }
