package k8s

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

// Builtin returns the built-in Kubernetes checks (beyond the Pod Security
// Standards and the whole-set NetworkPolicy coverage checks), in ID order.
func Builtin() []Check {
	var out []Check
	out = append(out, workloadChecks()...)
	out = append(out, exposureChecks()...)
	out = append(out, rbacChecks()...)
	out = append(out, otherChecks()...)
	return out
}

func meta(id, title string, sev finding.Severity, desc, fix, cis, nsa string, refs ...string) check.Meta {
	return check.Meta{ID: id, Title: title, Severity: sev, DocType: check.Kubernetes, Description: desc, Remediation: fix,
		References: refs, Mappings: mappings(cis, nsa)}
}

const (
	refSecCtx    = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
	refResources = "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"
	refRBAC      = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
	refNetpol    = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
	refSA        = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/"
	refProbes    = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/"
	refImages    = "https://kubernetes.io/docs/concepts/containers/images/"
	refSecrets   = "https://kubernetes.io/docs/concepts/security/secrets-good-practices/"
)

// containerCheck runs fn on each container of a workload.
func containerCheck(m check.Meta, skipInit bool, fn func(c *Ctx, o *Object, ps PodSpec, ct Container)) Check {
	return Check{Meta: m, Workload: true, Run: func(c *Ctx, o *Object) {
		ps, _ := o.PodSpec()
		for _, ct := range ps.Containers() {
			if ct.Ephemeral || (skipInit && ct.Init) {
				continue
			}
			fn(c, o, ps, ct)
		}
	}}
}

func podCheck(m check.Meta, fn func(c *Ctx, o *Object, ps PodSpec)) Check {
	return Check{Meta: m, Workload: true, Run: func(c *Ctx, o *Object) {
		ps, _ := o.PodSpec()
		fn(c, o, ps)
	}}
}

// at returns the key node of field in n if present, else fallback.
func at(n *yaml.Node, field string, fallback *yaml.Node) *yaml.Node {
	if k := getKey(n, field); k != nil {
		return k
	}
	if fallback != nil {
		return fallback
	}
	return n
}

// nameNode is the position used for a container-level problem with no
// offending field: the container's name key.
func nameNode(ct Container) *yaml.Node { return at(ct.Node, "name", ct.Node) }

func resourceCheck(id, title string, sev finding.Severity, kind, res, nsa string) Check {
	return containerCheck(meta(id, title, sev,
		"Containers without "+res+" "+kind+" can starve or be starved by neighbours on the node; the scheduler cannot place them well and a runaway process can exhaust the node.",
		"Set resources."+kind+"."+res+" on every container.", "", nsa, refResources), false,
		func(c *Ctx, o *Object, ps PodSpec, ct Container) {
			if str(path(ct.Node, "resources", kind, res)) == "" {
				c.Report(nameNode(ct), ct.Path+".resources."+kind+"."+res, "container "+strconv.Quote(ct.Name)+" has no resources."+kind+"."+res)
			}
		})
}

// imageParts splits an image reference into repository, tag and digest.
func imageParts(img string) (repo, tag, digest string) {
	if i := strings.IndexByte(img, '@'); i >= 0 {
		img, digest = img[:i], img[i+1:]
	}
	slash := strings.LastIndexByte(img, '/')
	if i := strings.LastIndexByte(img, ':'); i > slash {
		img, tag = img[:i], img[i+1:]
	}
	return img, tag, digest
}

var secretName = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential|auth[_-]?key|client[_-]?secret)`)
var notSecretName = regexp.MustCompile(`(?i)(_file|_path|_dir|_ttl|_timeout|_expiry|_length|_url|_endpoint|_enabled|_type|_name|_header)$`)
var plainValue = regexp.MustCompile(`^([0-9.]+|true|false|yes|no|/.*|\$\(.*\)|\$\{.*\}|)$`)

// sensitiveHostPaths are host paths whose mount gives control of the node.
var sensitiveHostPaths = []string{"/", "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/home", "/var/run", "/run",
	"/var/log", "/var", "/var/lib", "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/lib/etcd", "/etc/kubernetes", "/usr", "/lib", "/bin", "/sbin"}

// runtimeSockets matches a container runtime's API socket, or the run
// directory that holds it: a file named after a runtime ending in .sock,
// or a path under /run/<runtime> (also /var/run). A runtime's binary
// (/usr/bin/containerd) or data directory is no socket.
var runtimeSockets = regexp.MustCompile(`(^|/)(docker|containerd|crio|cri-dockerd|podman|dockershim)\.sock$|^(/var)?/run/(docker|containerd|crio|podman|cri-dockerd|k3s/containerd)(/|$)`)

func cleanHostPath(p string) string {
	p = strings.TrimSpace(p)
	for len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	return p
}

func workloadChecks() []Check {
	return []Check{
		resourceCheck("WARD-K8S-001", "CPU request not set", finding.SeverityLow, "requests", "cpu", "resource-policies"),
		resourceCheck("WARD-K8S-002", "CPU limit not set", finding.SeverityLow, "limits", "cpu", "resource-policies"),
		resourceCheck("WARD-K8S-003", "Memory request not set", finding.SeverityLow, "requests", "memory", "resource-policies"),
		resourceCheck("WARD-K8S-004", "Memory limit not set", finding.SeverityMedium, "limits", "memory", "resource-policies"),
		containerCheck(meta("WARD-K8S-005", "Image uses the latest tag or no tag", finding.SeverityMedium,
			"An image without a tag, or with :latest, changes under the same name: deployments are not reproducible and a compromised upstream image is pulled silently.",
			"Pin the image to a specific version tag, better to a digest (image@sha256:...).", "5.5.1", "image-scanning", refImages), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				img := str(get(ct.Node, "image"))
				if img == "" {
					return
				}
				_, tag, digest := imageParts(img)
				if digest == "" && (tag == "" || tag == "latest") {
					c.Report(get(ct.Node, "image"), ct.Path+".image", "container "+strconv.Quote(ct.Name)+" image "+strconv.Quote(img)+" is not pinned to a version tag")
				}
			}),
		containerCheck(meta("WARD-K8S-006", "Image not pinned by digest", finding.SeverityLow,
			"Tags are mutable; only a digest guarantees the image that was reviewed and scanned is the one that runs.",
			"Reference images by digest: registry/name:tag@sha256:<digest>.", "5.5.1", "image-scanning", refImages), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				img := str(get(ct.Node, "image"))
				if img == "" {
					return
				}
				if _, _, d := imageParts(img); d == "" {
					c.Report(get(ct.Node, "image"), ct.Path+".image", "container "+strconv.Quote(ct.Name)+" image "+strconv.Quote(img)+" has no digest")
				}
			}),
		containerCheck(meta("WARD-K8S-007", "Mutable image tag without imagePullPolicy Always", finding.SeverityLow,
			"With a mutable tag and imagePullPolicy IfNotPresent or Never, nodes keep running whatever image they cached first, so nodes can run different code.",
			"Pin the image by digest, or set imagePullPolicy: Always.", "", "image-scanning", refImages), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				img := str(get(ct.Node, "image"))
				_, tag, d := imageParts(img)
				pol := get(ct.Node, "imagePullPolicy")
				if img == "" || d != "" || (tag != "" && tag != "latest") {
					return
				}
				if p := str(pol); p == "IfNotPresent" || p == "Never" {
					c.Report(pol, ct.Path+".imagePullPolicy", "container "+strconv.Quote(ct.Name)+" uses a mutable image with imagePullPolicy "+p)
				}
			}),
		{Meta: meta("WARD-K8S-008", "Object in the default namespace", finding.SeverityLow,
			"Workloads in the default namespace share it with everything deployed without thought; policies, quotas and RBAC cannot separate them.",
			"Deploy into a dedicated namespace (metadata.namespace).", "5.7.4,5.7.1", "namespaces"),
			Workload: true,
			Run: func(c *Ctx, o *Object) {
				if o.Namespace == "default" {
					c.Report(path(o.Root, "metadata", "namespace"), "metadata.namespace", o.Kind+" "+strconv.Quote(o.Name)+" is in the default namespace")
				}
			}},
		podCheck(meta("WARD-K8S-009", "Service account token mounted automatically", finding.SeverityLow,
			"Unless disabled, every pod gets a token for its service account; an attacker in the container can use it against the API server.",
			"Set automountServiceAccountToken: false in the pod spec unless the workload talks to the API server.", "5.1.6", "sa-tokens", refSA),
			func(c *Ctx, o *Object, ps PodSpec) {
				if n := get(ps.Node, "automountServiceAccountToken"); n != nil {
					if !isFalse(n) {
						c.Report(getKey(ps.Node, "automountServiceAccountToken"), ps.Path+".automountServiceAccountToken", "automountServiceAccountToken is not false")
					}
					return
				}
				c.Report(at(ps.Meta, "name", getKey(o.Root, "spec")), ps.Path+".automountServiceAccountToken", o.Kind+" "+strconv.Quote(o.Name)+" does not set automountServiceAccountToken: false")
			}),
		podCheck(meta("WARD-K8S-010", "Default service account used", finding.SeverityLow,
			"Pods that run as the namespace's default service account share its permissions with every other such pod, and grants to it spread silently.",
			"Create a dedicated ServiceAccount for the workload and set spec.serviceAccountName.", "5.1.5", "rbac", refSA),
			func(c *Ctx, o *Object, ps PodSpec) {
				sa := str(get(ps.Node, "serviceAccountName"))
				if sa == "" {
					sa = str(get(ps.Node, "serviceAccount"))
				}
				if sa == "default" {
					c.Report(get(ps.Node, "serviceAccountName"), ps.Path+".serviceAccountName", "pod uses the default service account")
				} else if sa == "" {
					c.Report(getKey(o.Root, "spec"), ps.Path+".serviceAccountName", o.Kind+" "+strconv.Quote(o.Name)+" runs as the default service account (serviceAccountName not set)")
				}
			}),
		podCheck(meta("WARD-K8S-011", "Container runtime socket mounted", finding.SeverityCritical,
			"Mounting the Docker, containerd or CRI-O socket gives the pod full control of every container on the node: it is root on the node.",
			"Remove the hostPath volume of the runtime socket; use a dedicated, least-privilege agent if runtime access is really needed.", "5.2.12", "pod-security"),
			func(c *Ctx, o *Object, ps PodSpec) {
				for i, v := range items(get(ps.Node, "volumes")) {
					hp := str(path(v, "hostPath", "path"))
					if hp != "" && runtimeSockets.MatchString(cleanHostPath(hp)) {
						c.Report(path(v, "hostPath", "path"), ps.Path+".volumes["+strconv.Itoa(i)+"].hostPath.path", "volume "+strconv.Quote(str(get(v, "name")))+" mounts the container runtime socket "+hp)
					}
				}
			}),
		podCheck(meta("WARD-K8S-012", "Sensitive host path mounted", finding.SeverityHigh,
			"Mounting host directories such as /, /etc, /proc, /var/run or /var/log lets the pod read host secrets or tamper with the node.",
			"Remove the hostPath volume or mount a narrow, read-only, non-sensitive directory.", "5.2.12", "pod-security"),
			func(c *Ctx, o *Object, ps PodSpec) {
				for i, v := range items(get(ps.Node, "volumes")) {
					hp := cleanHostPath(str(path(v, "hostPath", "path")))
					if hp == "" || runtimeSockets.MatchString(hp) {
						continue
					}
					for _, s := range sensitiveHostPaths {
						if hp == s {
							c.Report(path(v, "hostPath", "path"), ps.Path+".volumes["+strconv.Itoa(i)+"].hostPath.path", "volume "+strconv.Quote(str(get(v, "name")))+" mounts the sensitive host path "+hp)
							break
						}
					}
				}
			}),
		containerCheck(meta("WARD-K8S-013", "Secret as a literal environment value", finding.SeverityHigh,
			"A password, token or key written as a literal env value sits in plain text in the manifest, in Git and in the API server.",
			"Store the value in a Secret (or an external secret store) and reference it with valueFrom.secretKeyRef, better as a mounted file.", "5.4.1,5.4.2", "secrets", refSecrets), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				for i, e := range items(get(ct.Node, "env")) {
					name := str(get(e, "name"))
					v := get(e, "value")
					if v == nil || !secretName.MatchString(name) || notSecretName.MatchString(name) {
						continue
					}
					if plainValue.MatchString(strings.ToLower(str(v))) {
						continue
					}
					c.Report(v, ct.Path+".env["+strconv.Itoa(i)+"].value", "container "+strconv.Quote(ct.Name)+" sets "+name+" to a literal value")
				}
			}),
		containerCheck(meta("WARD-K8S-014", "Root file system is writable", finding.SeverityMedium,
			"A writable root file system lets an attacker drop tools and persist changes inside the container.",
			"Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where the application writes.", "5.7.3", "immutable-fs", refSecCtx), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				n := path(ct.Node, "securityContext", "readOnlyRootFilesystem")
				if isTrue(n) {
					return
				}
				if n != nil {
					c.Report(n, ct.Path+".securityContext.readOnlyRootFilesystem", "container "+strconv.Quote(ct.Name)+" sets readOnlyRootFilesystem to "+str(n))
					return
				}
				c.Report(at(ct.Node, "securityContext", nameNode(ct)), ct.Path+".securityContext.readOnlyRootFilesystem", "container "+strconv.Quote(ct.Name)+" does not set readOnlyRootFilesystem: true")
			}),
		probeCheck("WARD-K8S-015", "livenessProbe", "Liveness probe not set", "Without a liveness probe a hung container is never restarted."),
		probeCheck("WARD-K8S-016", "readinessProbe", "Readiness probe not set", "Without a readiness probe traffic is sent to a container before it is ready or after it stops serving."),
		capAddCheck("WARD-K8S-017", "SYS_ADMIN capability added", finding.SeverityCritical, "SYS_ADMIN",
			"CAP_SYS_ADMIN is close to full root: it allows mounting file systems, namespaces and many container escapes."),
		containerCheck(meta("WARD-K8S-018", "NET_RAW capability not dropped", finding.SeverityLow,
			"NET_RAW is in the default capability set; it allows raw packets, ARP and DNS spoofing inside the pod network.",
			"Add NET_RAW (or ALL) to securityContext.capabilities.drop.", "5.2.8", "pod-security", refSecCtx), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				for _, d := range items(path(ct.Node, "securityContext", "capabilities", "drop")) {
					v := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(str(d)), "CAP_"))
					if v == "ALL" || v == "NET_RAW" {
						return
					}
				}
				c.Report(at(ct.Node, "securityContext", nameNode(ct)), ct.Path+".securityContext.capabilities.drop", "container "+strconv.Quote(ct.Name)+" does not drop NET_RAW")
			}),
		idCheck("WARD-K8S-019", "runAsUser", "Container runs with a low UID", finding.SeverityLow,
			"UIDs below 10000 may collide with users of the node; if the container escapes it acts as that host user.",
			"Set securityContext.runAsUser to 10000 or more."),
		idCheck("WARD-K8S-020", "runAsGroup", "Container runs with a low GID", finding.SeverityLow,
			"GIDs below 10000 (0 especially) may collide with groups of the node and grant access to host files after an escape.",
			"Set securityContext.runAsGroup to 10000 or more."),
		podCheck(meta("WARD-K8S-021", "Process namespace shared between containers", finding.SeverityMedium,
			"shareProcessNamespace lets every container see and signal the processes of the others and read their file systems through /proc.",
			"Remove shareProcessNamespace unless a debugging sidecar truly needs it.", "", "pod-security", refSecCtx),
			func(c *Ctx, o *Object, ps PodSpec) {
				if n := get(ps.Node, "shareProcessNamespace"); isTrue(n) {
					c.Report(n, ps.Path+".shareProcessNamespace", "pod shares its process namespace")
				}
			}),
		containerCheck(meta("WARD-K8S-022", "SSH port exposed by container", finding.SeverityLow,
			"A container listening on port 22 usually runs an SSH server: a remote-login service inside the cluster network.",
			"Remove the SSH server; use kubectl exec or ephemeral debug containers instead.", "", "network-exposure"), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				for i, p := range items(get(ct.Node, "ports")) {
					if v, ok := intOf(get(p, "containerPort")); ok && v == 22 {
						c.Report(get(p, "containerPort"), ct.Path+".ports["+strconv.Itoa(i)+"].containerPort", "container "+strconv.Quote(ct.Name)+" exposes port 22")
					}
				}
			}),
		containerCheck(meta("WARD-K8S-023", "Secret passed as environment variable", finding.SeverityLow,
			"Secrets in environment variables leak through logs, crash dumps and child processes; files are safer.",
			"Mount the Secret as a volume and read it from a file instead of valueFrom.secretKeyRef or envFrom.secretRef.", "5.4.1", "secrets", refSecrets), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				for i, e := range items(get(ct.Node, "env")) {
					if n := path(e, "valueFrom", "secretKeyRef"); n != nil {
						c.Report(at(get(e, "valueFrom"), "secretKeyRef", n), ct.Path+".env["+strconv.Itoa(i)+"].valueFrom.secretKeyRef", "container "+strconv.Quote(ct.Name)+" reads a Secret into env "+str(get(e, "name")))
					}
				}
				for i, e := range items(get(ct.Node, "envFrom")) {
					if n := get(e, "secretRef"); n != nil {
						c.Report(at(e, "secretRef", n), ct.Path+".envFrom["+strconv.Itoa(i)+"].secretRef", "container "+strconv.Quote(ct.Name)+" loads Secret "+strconv.Quote(str(get(n, "name")))+" into its environment")
					}
				}
			}),
		podCheck(meta("WARD-K8S-024", "Memory-backed emptyDir without size limit", finding.SeverityLow,
			"An emptyDir with medium: Memory counts against node memory; without sizeLimit one pod can exhaust the node.",
			"Set emptyDir.sizeLimit on memory-backed volumes.", "", "resource-policies"),
			func(c *Ctx, o *Object, ps PodSpec) {
				for i, v := range items(get(ps.Node, "volumes")) {
					ed := get(v, "emptyDir")
					if str(get(ed, "medium")) == "Memory" && get(ed, "sizeLimit") == nil {
						c.Report(get(ed, "medium"), ps.Path+".volumes["+strconv.Itoa(i)+"].emptyDir", "volume "+strconv.Quote(str(get(v, "name")))+" is memory-backed without sizeLimit")
					}
				}
			}),
		containerCheck(meta("WARD-K8S-025", "Helm Tiller deployed", finding.SeverityHigh,
			"Tiller (Helm 2) runs with cluster-wide privileges and an unauthenticated gRPC port by default.",
			"Remove Tiller and migrate to Helm 3, which has no in-cluster component.", "", "rbac", "https://helm.sh/docs/topics/v2_v3_migration/"), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				repo, _, _ := imageParts(str(get(ct.Node, "image")))
				if strings.HasSuffix(repo, "/tiller") || repo == "tiller" {
					c.Report(get(ct.Node, "image"), ct.Path+".image", "container "+strconv.Quote(ct.Name)+" runs Helm Tiller")
				}
			}),
		podCheck(meta("WARD-K8S-026", "No security context", finding.SeverityLow,
			"A pod whose spec and containers set no securityContext runs with every runtime default: root, writable file system, default capabilities.",
			"Set spec.securityContext (runAsNonRoot, seccompProfile) and a securityContext on every container.", "5.7.3", "pod-security", refSecCtx),
			func(c *Ctx, o *Object, ps PodSpec) {
				if get(ps.Node, "securityContext") != nil {
					return
				}
				for _, ct := range ps.Containers() {
					if get(ct.Node, "securityContext") != nil {
						return
					}
				}
				c.Report(getKey(o.Root, "spec"), ps.Path+".securityContext", o.Kind+" "+strconv.Quote(o.Name)+" sets no securityContext at all")
			}),
		containerCheck(meta("WARD-K8S-027", "Interactive stdin/tty enabled", finding.SeverityLow,
			"stdin and tty keep an interactive shell attachable to the container; production workloads do not need them.",
			"Remove stdin: true and tty: true.", "", "pod-security"), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				for _, f := range []string{"stdin", "tty"} {
					if n := get(ct.Node, f); isTrue(n) {
						c.Report(n, ct.Path+"."+f, "container "+strconv.Quote(ct.Name)+" sets "+f+": true")
					}
				}
			}),
		capAddCheck("WARD-K8S-028", "All capabilities added", finding.SeverityCritical, "ALL",
			"Adding ALL capabilities gives the container every root privilege short of --privileged."),
		podCheck(meta("WARD-K8S-029", "hostPath volume mounted read-write", finding.SeverityMedium,
			"A hostPath volume mounted without readOnly lets the container write to the node's file system.",
			"Set readOnly: true on every volumeMount of a hostPath volume.", "5.2.12", "pod-security"),
			func(c *Ctx, o *Object, ps PodSpec) {
				host := map[string]bool{}
				for _, v := range items(get(ps.Node, "volumes")) {
					if get(v, "hostPath") != nil {
						host[str(get(v, "name"))] = true
					}
				}
				if len(host) == 0 {
					return
				}
				for _, ct := range ps.Containers() {
					for i, m := range items(get(ct.Node, "volumeMounts")) {
						if host[str(get(m, "name"))] && !isTrue(get(m, "readOnly")) {
							c.Report(get(m, "mountPath"), ct.Path+".volumeMounts["+strconv.Itoa(i)+"]", "container "+strconv.Quote(ct.Name)+" mounts hostPath volume "+strconv.Quote(str(get(m, "name")))+" read-write")
						}
					}
				}
			}),
		containerCheck(meta("WARD-K8S-030", "Command pipes a download into a shell", finding.SeverityMedium,
			"curl|sh or wget|sh at start-up runs unverified code fetched from the network every time the container starts.",
			"Bake dependencies into the image at build time and verify them with checksums.", "", "image-scanning"), false,
			func(c *Ctx, o *Object, ps PodSpec, ct Container) {
				for _, f := range []string{"command", "args"} {
					for i, a := range items(get(ct.Node, f)) {
						if curlPipe.MatchString(str(a)) {
							c.Report(a, ct.Path+"."+f+"["+strconv.Itoa(i)+"]", "container "+strconv.Quote(ct.Name)+" pipes a download into a shell")
						}
					}
				}
			}),
	}
}

var curlPipe = regexp.MustCompile(`(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b`)

func probeCheck(id, field, title, desc string) Check {
	return containerCheck(meta(id, title, finding.SeverityLow, desc, "Define "+field+" on every long-running container.", "", "upgrades", refProbes), true,
		func(c *Ctx, o *Object, ps PodSpec, ct Container) {
			if o.Kind == "Job" || o.Kind == "CronJob" || runsToCompletion(o, ps) {
				return
			}
			if get(ct.Node, field) == nil {
				c.Report(nameNode(ct), ct.Path+"."+field, "container "+strconv.Quote(ct.Name)+" has no "+field)
			}
		})
}

// runsToCompletion reports a Pod that is not a long-running service: a
// Helm test or other hook Pod (annotation helm.sh/hook), or a Pod whose
// restartPolicy is Never or OnFailure. Probes do not apply to them.
func runsToCompletion(o *Object, ps PodSpec) bool {
	if o.Kind != "Pod" {
		return false
	}
	if o.Annotation("helm.sh/hook") != "" {
		return true
	}
	rp := str(get(ps.Node, "restartPolicy"))
	return rp == "Never" || rp == "OnFailure"
}

func capAddCheck(id, title string, sev finding.Severity, capName, desc string) Check {
	return containerCheck(meta(id, title, sev, desc, "Remove "+capName+" from securityContext.capabilities.add.", "5.2.9", "pod-security", refSecCtx), false,
		func(c *Ctx, o *Object, ps PodSpec, ct Container) {
			for i, a := range items(path(ct.Node, "securityContext", "capabilities", "add")) {
				if strings.TrimPrefix(strings.ToUpper(str(a)), "CAP_") == capName {
					c.Report(a, ct.Path+".securityContext.capabilities.add["+strconv.Itoa(i)+"]", "container "+strconv.Quote(ct.Name)+" adds capability "+str(a))
				}
			}
		})
}

// idCheck flags runAsUser/runAsGroup below 10000, at container or pod level.
func idCheck(id, field, title string, sev finding.Severity, desc, fix string) Check {
	return podCheck(meta(id, title, sev, desc, fix, "5.2.7", "non-root", refSecCtx),
		func(c *Ctx, o *Object, ps PodSpec) {
			podVal := path(ps.Node, "securityContext", field)
			if v, ok := intOf(podVal); ok && v < 10000 {
				c.Report(podVal, ps.Path+".securityContext."+field, "pod "+field+" is "+strconv.FormatInt(v, 10))
			}
			for _, ct := range ps.Containers() {
				if ct.Ephemeral {
					continue
				}
				n := path(ct.Node, "securityContext", field)
				if v, ok := intOf(n); ok && v < 10000 {
					c.Report(n, ct.Path+".securityContext."+field, "container "+strconv.Quote(ct.Name)+" "+field+" is "+strconv.FormatInt(v, 10))
				} else if n == nil && podVal == nil {
					c.Report(at(ct.Node, "securityContext", nameNode(ct)), ct.Path+".securityContext."+field, "container "+strconv.Quote(ct.Name)+" does not set "+field+" (the image's user, often root, applies)")
				}
			}
		})
}
