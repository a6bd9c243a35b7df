package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/wardsec/ward/pkg/finding"
)

// imageRef is one distinct running image and the pods that run it.
type imageRef struct {
	ref, digest string
	pods        []finding.ObjectRef
}

// maxPodsPerImage bounds the pods remembered per image (for messages).
const maxPodsPerImage = 5

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
// when the container started, else the reference of the spec.
func (s *scan) podImages(pod *corev1.Pod, obj finding.ObjectRef) {
	digests := map[string]string{}
	for _, st := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range st {
			if d := ImageDigest(cs.ImageID); d != "" {
				digests[cs.Name] = d
			}
		}
	}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
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
			if len(ir.pods) < maxPodsPerImage {
				ir.pods = append(ir.pods, obj)
			}
			s.images[key] = ir
		}
	}
}

// vuln scans each distinct image once (deduplicated by digest) and
// attaches the first pod that runs it to every finding.
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
		fs, err := s.opts.Images(ctx, ir.ref, ir.digest)
		if err != nil {
			s.addError(ir.ref, fmt.Sprintf("image %s (run by %s): %v", ir.ref, ir.pods[0].String(), err))
			continue
		}
		pods := make([]string, len(ir.pods))
		for i, p := range ir.pods {
			pods[i] = p.String()
		}
		for i := range fs {
			f := &fs[i]
			o := ir.pods[0]
			f.Location.Object = &o
			f.Target = s.target
			if len(ir.pods) > 1 {
				f.Message += " (image " + ir.ref + " run by " + strings.Join(pods, ", ") + ")"
			} else {
				f.Message += " (image " + ir.ref + ")"
			}
		}
		s.add(fs...)
	}
}
