package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

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
	meta, spec json.RawMessage
	// specPath is the JSON pointer of the pod spec inside the object.
	specPath string
	labels   map[string]string
}

// objectShape is enough of any workload to find its pod spec.
type objectShape struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	RawMeta json.RawMessage `json:"-"`
	Spec    struct {
		Template *struct {
			Metadata json.RawMessage `json:"metadata"`
			Spec     json.RawMessage `json:"spec"`
		} `json:"template"`
		JobTemplate *struct {
			Spec struct {
				Template struct {
					Metadata json.RawMessage `json:"metadata"`
					Spec     json.RawMessage `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// pod finds the pod template of obj (Pod, Deployment, StatefulSet,
// DaemonSet, ReplicaSet, ReplicationController, Job, CronJob); ok is false
// for other kinds.
func pod(kind string, obj []byte) (*podParts, bool, error) {
	var whole struct {
		Metadata json.RawMessage `json:"metadata"`
		Spec     json.RawMessage `json:"spec"`
	}
	switch kind {
	case "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob":
	default:
		return nil, false, nil
	}
	if err := json.Unmarshal(obj, &whole); err != nil {
		return nil, false, fmt.Errorf("%s: %w", kind, err)
	}
	var sh objectShape
	if err := json.Unmarshal(obj, &sh); err != nil {
		return nil, false, fmt.Errorf("%s: %w", kind, err)
	}
	p := &podParts{labels: sh.Metadata.Labels}
	switch {
	case kind == "Pod":
		p.meta, p.spec, p.specPath = whole.Metadata, whole.Spec, "/spec"
	case kind == "CronJob" && sh.Spec.JobTemplate != nil:
		t := sh.Spec.JobTemplate.Spec.Template
		p.meta, p.spec, p.specPath = t.Metadata, t.Spec, "/spec/jobTemplate/spec/template/spec"
	case sh.Spec.Template != nil:
		p.meta, p.spec, p.specPath = sh.Spec.Template.Metadata, sh.Spec.Template.Spec, "/spec/template/spec"
	}
	if len(p.spec) == 0 || string(p.spec) == "null" {
		return nil, false, fmt.Errorf("%s: no pod spec", kind)
	}
	return p, true, nil
}

// images lists the containers' images with their JSON pointers.
func images(spec json.RawMessage, base string) ([]imageRef, error) {
	var s struct {
		InitContainers      []struct{ Image string } `json:"initContainers"`
		Containers          []struct{ Image string } `json:"containers"`
		EphemeralContainers []struct{ Image string } `json:"ephemeralContainers"`
	}
	if err := json.Unmarshal(spec, &s); err != nil {
		return nil, fmt.Errorf("pod spec: %w", err)
	}
	var out []imageRef
	for _, l := range []struct {
		name string
		cs   []struct{ Image string }
	}{{"initContainers", s.InitContainers}, {"containers", s.Containers}, {"ephemeralContainers", s.EphemeralContainers}} {
		for i, c := range l.cs {
			out = append(out, imageRef{image: c.Image, path: fmt.Sprintf("%s/%s/%d/image", base, l.name, i)})
		}
	}
	return out, nil
}

type imageRef struct{ image, path string }
