package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
	admissionv1 "k8s.io/api/admission/v1"
)

// MaxRequestBytes bounds an AdmissionReview body (the API server itself
// limits objects to about 3 MiB; larger bodies get 413).
const MaxRequestBytes = 4 << 20

// DecodeReview parses an admission.k8s.io/v1 AdmissionReview request.
func DecodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var rv admissionv1.AdmissionReview
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&rv); err != nil {
		return nil, fmt.Errorf("AdmissionReview: %w", err)
	}
	if dec.More() {
		return nil, errors.New("AdmissionReview: trailing data after the object")
	}
	if rv.APIVersion != "admission.k8s.io/v1" || rv.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("AdmissionReview: want apiVersion admission.k8s.io/v1 and kind AdmissionReview, got %q %q", rv.APIVersion, rv.Kind)
	}
	if rv.Request == nil {
		return nil, errors.New("AdmissionReview: no request")
	}
	if rv.Request.UID == "" {
		return nil, errors.New("AdmissionReview: request.uid is empty")
	}
	return &rv, nil
}

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
			out = append(out, imageRef{image: im.Value, path: fmt.Sprintf("%s/%s/%d/image", p.specPath, list, i)})
		}
	}
	return out
}

type imageRef struct{ image, path string }
