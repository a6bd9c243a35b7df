package sensor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wardsec/ward/internal/runtime/event"
)

// HostID is the container ID of processes that run on the host, as Falco
// names it.
const HostID = "host"

// ContainerFromCgroup finds a container ID and its runtime in cgroup path
// components or leaf names, as the runtimes name them:
//
//	docker-<64 hex>.scope, /docker/<64 hex>          (Docker; systemd or cgroupfs driver)
//	cri-containerd-<64 hex>.scope, /kubepods/.../<64 hex>  (containerd)
//	crio-<64 hex>.scope, crio-conmon-<id>.scope       (CRI-O)
//	libpod-<64 hex>[.scope], libpod-conmon-<id>.scope (Podman)
//
// It returns ("", "") when none of them holds a container ID (a host
// process). Cgroup v1, v2 and hybrid hierarchies differ only in where the
// names sit, so any component of any hierarchy can be passed. The returned
// ID is the 12-character short form Falco uses for container.id; the full
// ID goes to container.full_id through the metadata lookup.
func ContainerFromCgroup(names ...string) (full, runtime string) {
	for _, name := range names {
		for _, comp := range strings.Split(name, "/") {
			if strings.Contains(comp, "conmon") {
				continue // the monitor process of a container, on the host
			}
			id := hex64(comp)
			if id == "" {
				continue
			}
			switch {
			case strings.HasPrefix(comp, "docker-") || strings.Contains(name, "/docker/"):
				return id, "docker"
			case strings.HasPrefix(comp, "cri-containerd-"):
				return id, "containerd"
			case strings.HasPrefix(comp, "crio-"):
				return id, "cri-o"
			case strings.HasPrefix(comp, "libpod-"):
				return id, "podman"
			case strings.Contains(name, "kubepods"):
				return id, "containerd"
			case comp == id:
				return id, "docker"
			}
		}
	}
	return "", ""
}

// hex64 returns the 64-hex-digit run in s, if there is one.
func hex64(s string) string {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') {
			run++
			if run == 64 && (i+1 == len(s) || !isHex(s[i+1])) {
				return s[i-63 : i+1]
			}
			continue
		}
		run = 0
	}
	return ""
}

func isHex(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') }

// ShortID is the 12-character container ID Falco reports in container.id.
func ShortID(full string) string {
	if len(full) > 12 {
		return full[:12]
	}
	return full
}

// Resolver finds container metadata (name, image, labels, pod) from the
// files container runtimes keep on the host. It never runs a runtime's CLI
// and never talks to a socket: it reads bounded JSON files (and Podman's
// state database, read-only).
//
//   - Podman and CRI-O: containers/storage's containers.json (names, image
//     name and ID) and the container's OCI config.json (annotations:
//     privileged flag, Kubernetes pod name, namespace, UID and labels as
//     CRI-O records them); for Podman also its BoltDB state database
//     (container labels), opened read-only.
//   - Docker: /var/lib/docker/containers/<id>/config.v2.json (name, image,
//     labels, privileged, host network/PID from hostconfig.json).
//   - containerd (Kubernetes): the task bundle's config.json under
//     /run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/
//     (sandbox name and namespace annotations).
type Resolver struct {
	// Root is prepended to every path (tests use a fixture tree).
	Root string

	mu    sync.Mutex
	cache map[string]*event.Container
	// storage is the parsed containers.json, reloaded when a container is
	// not found in it (a newly started one).
	storage map[string]storageEntry
}

type storageEntry struct {
	ID       string   `json:"id"`
	Names    []string `json:"names"`
	Image    string   `json:"image"`
	Metadata string   `json:"metadata"`
}

const maxMetaFile = 8 << 20

func (r *Resolver) path(p string) string { return filepath.Join(r.Root, p) }

func readJSON(name string, v any) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMetaFile+1))
	if err != nil {
		return err
	}
	if len(data) > maxMetaFile {
		return fmt.Errorf("%s: larger than %d bytes", name, maxMetaFile)
	}
	return json.Unmarshal(data, v)
}

// Lookup returns the metadata of a container by its full ID. Unknown
// containers get a record with the ID and runtime only. Results are cached.
func (r *Resolver) Lookup(full, runtime string) *event.Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[full]; ok {
		return c
	}
	if r.cache == nil {
		r.cache = map[string]*event.Container{}
	}
	c := &event.Container{ID: full, Type: runtime}
	switch runtime {
	case "podman":
		r.fromStorage(c, full)
		r.fromLibpod(c, full)
	case "cri-o":
		r.fromStorage(c, full)
	case "docker":
		r.fromDocker(c, full)
	case "containerd":
		r.fromContainerd(c, full)
	default:
		// Unknown runtime (e.g. a process from the /proc snapshot): try each.
		r.fromStorage(c, full)
		r.fromLibpod(c, full)
		if c.Image == "" {
			r.fromDocker(c, full)
		}
		if c.Image == "" {
			r.fromContainerd(c, full)
		}
	}
	if c.Image != "" {
		c.ImageRepo, c.ImageTag, c.ImageDigest = splitImage(c.Image)
	}
	r.cache[full] = c
	return c
}

// Forget drops a container from the cache (after it stopped).
func (r *Resolver) Forget(full string) {
	r.mu.Lock()
	delete(r.cache, full)
	r.mu.Unlock()
}

func (r *Resolver) fromStorage(c *event.Container, full string) {
	e, ok := r.storage[full]
	if !ok {
		var list []storageEntry
		if err := readJSON(r.path("/var/lib/containers/storage/overlay-containers/containers.json"), &list); err == nil {
			r.storage = make(map[string]storageEntry, len(list))
			for _, x := range list {
				r.storage[x.ID] = x
			}
		}
		e, ok = r.storage[full]
	}
	if ok {
		if len(e.Names) > 0 {
			c.Name = e.Names[0]
		}
		var meta struct {
			ImageName string `json:"image-name"`
			ImageID   string `json:"image-id"`
			Name      string `json:"name"`
		}
		if json.Unmarshal([]byte(e.Metadata), &meta) == nil {
			c.Image = meta.ImageName
			c.ImageID = meta.ImageID
			if meta.Name != "" {
				c.Name = meta.Name
			}
		}
		if c.ImageID == "" {
			c.ImageID = e.Image
		}
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if readJSON(r.path("/var/lib/containers/storage/overlay-containers/"+full+"/userdata/config.json"), &spec) == nil {
		r.fromAnnotations(c, spec.Annotations)
	}
}

func (r *Resolver) fromAnnotations(c *event.Container, a map[string]string) {
	if a == nil {
		return
	}
	if strings.EqualFold(a["io.podman.annotations.privileged"], "TRUE") {
		c.Privileged = true
	}
	for _, k := range []string{"io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name"} {
		if v := a[k]; v != "" {
			c.PodName = v
		}
	}
	for _, k := range []string{"io.kubernetes.pod.namespace", "io.kubernetes.cri.sandbox-namespace"} {
		if v := a[k]; v != "" {
			c.PodNamespace = v
		}
	}
	for _, k := range []string{"io.kubernetes.pod.uid", "io.kubernetes.cri.sandbox-uid"} {
		if v := a[k]; v != "" {
			c.PodUID = v
		}
	}
	if v := a["io.kubernetes.container.name"]; v != "" && c.Name == "" {
		c.Name = v
	}
	if v := a["io.kubernetes.cri.image-name"]; v != "" && c.Image == "" {
		c.Image = v
	}
	if v := a["io.kubernetes.cri-o.ImageName"]; v != "" && c.Image == "" {
		c.Image = v
	}
	// CRI-O records the pod's labels as JSON.
	if v := a["io.kubernetes.cri-o.Labels"]; v != "" {
		var labels map[string]string
		if json.Unmarshal([]byte(v), &labels) == nil {
			for k, lv := range labels {
				c.PodLabels = append(c.PodLabels, event.KV{Key: k, Value: lv})
			}
		}
	}
}

func (r *Resolver) fromDocker(c *event.Container, full string) {
	var cfg struct {
		Name   string `json:"Name"`
		Image  string `json:"Image"`
		Config struct {
			Image  string            `json:"Image"`
			Labels map[string]string `json:"Labels"`
		} `json:"Config"`
	}
	dir := r.path("/var/lib/docker/containers/" + full)
	if readJSON(filepath.Join(dir, "config.v2.json"), &cfg) == nil {
		c.Name = strings.TrimPrefix(cfg.Name, "/")
		c.Image = cfg.Config.Image
		c.ImageID = cfg.Image
		for k, v := range cfg.Config.Labels {
			c.Labels = append(c.Labels, event.KV{Key: k, Value: v})
			switch k {
			case "io.kubernetes.pod.name":
				c.PodName = v
			case "io.kubernetes.pod.namespace":
				c.PodNamespace = v
			case "io.kubernetes.pod.uid":
				c.PodUID = v
			}
		}
	}
	var host struct {
		Privileged  bool   `json:"Privileged"`
		NetworkMode string `json:"NetworkMode"`
		PidMode     string `json:"PidMode"`
	}
	if readJSON(filepath.Join(dir, "hostconfig.json"), &host) == nil {
		c.Privileged = host.Privileged
		c.HostNetwork = host.NetworkMode == "host"
		c.HostPID = host.PidMode == "host"
	}
}

func (r *Resolver) fromContainerd(c *event.Container, full string) {
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	for _, ns := range []string{"k8s.io", "moby", "default"} {
		if readJSON(r.path("/run/containerd/io.containerd.runtime.v2.task/"+ns+"/"+full+"/config.json"), &spec) == nil {
			r.fromAnnotations(c, spec.Annotations)
			return
		}
	}
}

// splitImage splits "registry/repo:tag@sha256:..." into repository, tag and digest.
func splitImage(ref string) (repo, tag, digest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	repo = ref
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	return repo, tag, digest
}

// ErrNotSupported is returned where the sensor cannot run; the wrapped
// message says why (no BTF, missing program type, not privileged, not Linux).
var ErrNotSupported = errors.New("runtime sensor not supported")
