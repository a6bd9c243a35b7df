package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/wardsec/ward/pkg/finding"
)

// imageRef is one distinct running image and the containers that run it.
type imageRef struct {
	ref, digest string
	users       []imageUser
}

// imageUser is a container of a pod that runs an image.
type imageUser struct {
	pod       finding.ObjectRef
	container string
	field     string // spec.containers[N].image
}

// ImageDigest extracts the sha256 digest of a container status imageID
// ("docker-pullable://repo@sha256:…", "sha256:…"), or "".
func ImageDigest(imageID string) string {
	i := strings.LastIndex(imageID, "sha256:")
	if i < 0 || len(imageID)-i != len("sha256:")+64 {
		return ""
	}
	return imageID[i:]
}

// podImages records the images of a pod: the digest the kubelet reports
// when the container started, else the reference of the spec. Every
// container is remembered (a few strings each): each gets its findings.
func (s *scan) podImages(pod *corev1.Pod, obj finding.ObjectRef) {
	digests := map[string]string{}
	for _, st := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range st {
			if d := ImageDigest(cs.ImageID); d != "" {
				digests[cs.Name] = d
			}
		}
	}
	for _, list := range []struct {
		field string
		cs    []corev1.Container
	}{{"spec.initContainers", pod.Spec.InitContainers}, {"spec.containers", pod.Spec.Containers}} {
		for i, c := range list.cs {
			if c.Image == "" {
				continue
			}
			d := digests[c.Name]
			if d == "" {
				d = ImageDigest(c.Image)
			}
			key := d
			if key == "" {
				key = c.Image
			}
			ir, ok := s.images[key]
			if !ok {
				ir = imageRef{ref: c.Image, digest: d}
			}
			ir.users = append(ir.users, imageUser{pod: obj, container: c.Name, field: fmt.Sprintf("%s[%d].image", list.field, i)})
			s.images[key] = ir
		}
	}
}

// vuln scans each distinct image once (deduplicated by the digest the
// kubelet reported, else by reference; the layer cache makes a second
// reference to the same image cheap) and reports its findings on every container that runs it:
// the pod, the container's field path, the container name and the image
// pinned by digest.
func (s *scan) vuln(ctx context.Context) {
	if s.opts.Images == nil {
		s.res.Warnings = append(s.res.Warnings, "vuln: no image scanner configured")
		return
	}
	keys := make([]string, 0, len(s.images))
	for k := range s.images {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ctx.Err() != nil {
			return
		}
		ir := s.images[k]
		res, err := s.opts.Images(ctx, ir.ref, ir.digest)
		if err != nil {
			s.addError(ir.ref, fmt.Sprintf("image %s (run by %s container %s): %v", ir.ref, ir.users[0].pod.String(), ir.users[0].container, err))
			continue
		}
		digest := res.Digest
		if digest == "" {
			digest = ir.digest
		}
		s.res.Warnings = append(s.res.Warnings, res.Warnings...)
		for _, e := range res.Errors {
			s.addError(ir.ref, fmt.Sprintf("image %s: %s", ir.ref, e.Error()))
		}
		pinned := ir.ref
		if digest != "" && !strings.Contains(ir.ref, "@") {
			pinned = ir.ref + "@" + digest
		}
		batch := make([]finding.Finding, 0, len(res.Findings))
		for _, u := range ir.users {
			batch = batch[:0]
			for i := range res.Findings {
				f := res.Findings[i] // a copy: each container gets its own
				o := u.pod
				o.FieldPath = u.field
				f.Location.Object = &o
				f.Location.Container = &finding.Container{Name: u.container, Image: pinned, PodName: o.Name, PodNamespace: o.Namespace}
				f.Target = s.target
				f.Message += fmt.Sprintf(" (image %s, container %s of %s)", pinned, u.container, o.String())
				f.Fingerprint = finding.Fingerprint(res.Findings[i].Fingerprint, o.String(), u.container)
				batch = append(batch, f)
			}
			s.add(batch...)
		}
	}
}
