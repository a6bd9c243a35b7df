package terraform

import (
	"strings"
)

// workloadTypes are the Terraform kubernetes provider resources that hold a
// pod spec.
var workloadTypes = func() []string {
	var out []string
	for _, t := range []string{"pod", "deployment", "stateful_set", "daemonset", "daemon_set", "replication_controller", "job", "cron_job", "replica_set"} {
		out = append(out, "kubernetes_"+t, "kubernetes_"+t+"_v1")
	}
	return out
}()

// podSpecs returns the pod spec bodies of a kubernetes_* workload: spec
// (pods), spec.template.spec, or spec.job_template.spec.template.spec.
func podSpecs(b *Body) []*Body {
	var out []*Body
	var walk func(b *Body, depth int)
	walk = func(b *Body, depth int) {
		if depth > 5 {
			return
		}
		for _, s := range b.Blocks("spec") {
			if s.HasBlock("container") || s.HasBlock("init_container") {
				out = append(out, s)
				continue
			}
			for _, t := range s.Blocks("template") {
				walk(t, depth+1)
			}
			for _, t := range s.Blocks("job_template") {
				walk(t, depth+1)
			}
		}
	}
	walk(b, 0)
	return out
}

// containers returns the containers (and init containers) of a pod spec.
func containers(ps *Body) []*Body {
	return append(ps.Blocks("container"), ps.Blocks("init_container")...)
}

func containerName(ct *Body) string {
	if s, ok := ct.Attr("name").Str(); ok {
		return s
	}
	return "?"
}

// forContainers calls fn for every container of every pod spec.
func forContainers(c *rctx, fn func(ps, ct *Body)) {
	for _, ps := range podSpecs(c.b) {
		for _, ct := range containers(ps) {
			fn(ps, ct)
		}
	}
}

func kubernetesRules() []rule {
	return []rule{
		{meta("WARD-TF-050", high, "Kubernetes container is privileged",
			"A privileged container has every capability and full access to host devices.",
			"Remove `privileged = true` from the container's security_context.", cis("5.2.2"), nsaM("pod-security")),
			workloadTypes, func(c *rctx) {
				forContainers(c, func(_, ct *Body) {
					if sc := ct.Block("security_context"); sc != nil {
						if v := sc.Attr("privileged"); v.IsTrue() {
							c.report(v.Rng, v.Path, msgf(c, "container %s is privileged", containerName(ct)))
						}
					}
				})
			}},
		{meta("WARD-TF-051", med, "Kubernetes container allows privilege escalation",
			"allow_privilege_escalation defaults to true: setuid binaries can gain more privileges than the parent process.",
			"Set `security_context { allow_privilege_escalation = false }` on every container.", cis("5.2.6"), nsaM("pod-security")),
			workloadTypes, func(c *rctx) {
				forContainers(c, func(_, ct *Body) {
					sc := ct.Block("security_context")
					if sc == nil {
						missing(c, ct, ct.Path+".security_context", msgf(c, "container %s does not set allow_privilege_escalation = false", containerName(ct)))
						return
					}
					v := sc.Attr("allow_privilege_escalation")
					if !v.Set {
						missing(c, sc, v.Path, msgf(c, "container %s does not set allow_privilege_escalation = false", containerName(ct)))
					} else if v.IsTrue() {
						c.report(v.Rng, v.Path, msgf(c, "container %s allows privilege escalation", containerName(ct)))
					}
				})
			}},
		{meta("WARD-TF-052", med, "Kubernetes container may run as root",
			"Neither the pod nor the container sets run_as_non_root = true (or a non-zero run_as_user).",
			"Set `security_context { run_as_non_root = true run_as_user = 10001 }`.", cis("5.2.7"), nsaM("non-root")),
			workloadTypes, func(c *rctx) {
				for _, ps := range podSpecs(c.b) {
					podNonRoot, podRoot := nonRoot(ps.Block("security_context"))
					for _, ct := range containers(ps) {
						ctNonRoot, ctRoot := nonRoot(ct.Block("security_context"))
						switch {
						case ctRoot != nil:
							c.report(ctRoot.Rng, ctRoot.Path, msgf(c, "container %s runs as root", containerName(ct)))
						case ctNonRoot:
						case podRoot != nil:
							c.report(podRoot.Rng, podRoot.Path, msgf(c, "pod runs as root"))
						case podNonRoot:
						default:
							missing(c, ct, ct.Path, msgf(c, "container %s does not set run_as_non_root", containerName(ct)))
						}
					}
				}
			}},
		{meta("WARD-TF-053", high, "Kubernetes pod shares host namespaces",
			"host_network, host_pid or host_ipc = true breaks the isolation between the pod and the node.",
			"Remove host_network, host_pid and host_ipc from the pod spec.", cis("5.2.3"), cis("5.2.4"), cis("5.2.5"), nsaM("pod-security")),
			workloadTypes, func(c *rctx) {
				for _, ps := range podSpecs(c.b) {
					for _, a := range []string{"host_network", "host_pid", "host_ipc"} {
						if v := ps.Attr(a); v.IsTrue() {
							c.report(v.Rng, v.Path, msgf(c, "%s = true", a))
						}
					}
				}
			}},
		{meta("WARD-TF-054", high, "Kubernetes pod mounts a hostPath volume",
			"hostPath volumes expose the node's filesystem; runtime sockets, /, /etc or /proc give a path to node takeover.",
			"Use emptyDir, configMap, secret or persistent volumes instead of host_path.", cis("5.2.12"), nsaM("pod-security")),
			workloadTypes, func(c *rctx) {
				for _, ps := range podSpecs(c.b) {
					for _, v := range ps.Blocks("volume") {
						if hp := v.Block("host_path"); hp != nil {
							p, _ := hp.Attr("path").Str()
							c.report(hp.Def, hp.Path, msgf(c, "hostPath volume %s", p))
						}
					}
				}
			}},
		{meta("WARD-TF-055", high, "Kubernetes container adds dangerous capabilities",
			"ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE and similar capabilities give near-root power on the node kernel.",
			"Drop ALL capabilities and add back only narrow ones such as NET_BIND_SERVICE.", cis("5.2.9"), nsaM("pod-security")),
			workloadTypes, func(c *rctx) {
				forContainers(c, func(_, ct *Body) {
					sc := ct.Block("security_context")
					if sc == nil {
						return
					}
					caps := sc.Block("capabilities")
					if caps == nil {
						return
					}
					add := caps.Attr("add")
					items, ok := add.Strs()
					if !ok {
						return
					}
					for i, cp := range items {
						if dangerousCap(cp) {
							c.report(add.ElemRange(i), add.Path, msgf(c, "container %s adds capability %s", containerName(ct), cp))
						}
					}
				})
			}},
		{meta("WARD-TF-056", low, "Kubernetes container root filesystem is writable",
			"Without read_only_root_filesystem = true an attacker can modify binaries and configuration in the container.",
			"Set `security_context { read_only_root_filesystem = true }` and mount writable volumes where needed.", nsaM("immutable-fs")),
			workloadTypes, func(c *rctx) {
				forContainers(c, func(_, ct *Body) {
					sc := ct.Block("security_context")
					if sc == nil {
						missing(c, ct, ct.Path+".security_context", msgf(c, "container %s has a writable root filesystem", containerName(ct)))
						return
					}
					v := sc.Attr("read_only_root_filesystem")
					if !v.Set {
						missing(c, sc, v.Path, msgf(c, "container %s has a writable root filesystem", containerName(ct)))
					} else if v.IsFalse() {
						c.report(v.Rng, v.Path, msgf(c, "container %s has a writable root filesystem", containerName(ct)))
					}
				})
			}},
		{meta("WARD-TF-057", med, "Kubernetes container image uses :latest or no tag",
			"Images without a pinned tag are not reproducible and may pull unreviewed code.",
			"Pin the image to a version tag, ideally with a digest.", nsaM("image-scanning")),
			workloadTypes, func(c *rctx) {
				forContainers(c, func(_, ct *Body) {
					v := ct.Attr("image")
					img, ok := v.Str()
					if !ok || img == "" || strings.Contains(img, "@") {
						return
					}
					slash, colon := strings.LastIndex(img, "/"), strings.LastIndex(img, ":")
					if colon <= slash {
						c.report(v.Rng, v.Path, msgf(c, "container %s uses the untagged image %s", containerName(ct), img))
					} else if img[colon+1:] == "latest" {
						c.report(v.Rng, v.Path, msgf(c, "container %s uses %s", containerName(ct), img))
					}
				})
			}},
		{meta("WARD-TF-058", low, "Kubernetes container has no resource limits",
			"Without CPU and memory limits a container can starve the node and its neighbours.",
			"Add `resources { limits = { cpu = \"500m\", memory = \"256Mi\" } }`.", nsaM("resource-policies")),
			workloadTypes, func(c *rctx) {
				forContainers(c, func(_, ct *Body) {
					r := ct.Block("resources")
					if r == nil {
						missing(c, ct, ct.Path+".resources", msgf(c, "container %s has no resource limits", containerName(ct)))
						return
					}
					l := r.Attr("limits")
					if !l.Set {
						if r.HasBlock("limits") {
							return
						}
						missing(c, r, l.Path, msgf(c, "container %s has no resource limits", containerName(ct)))
						return
					}
					if l.Known() && l.V.LengthInt() == 0 {
						c.report(l.Rng, l.Path, msgf(c, "container %s has empty resource limits", containerName(ct)))
					}
				})
			}},
		{meta("WARD-TF-059", high, "Kubernetes role grants wildcard access",
			"A rule with \"*\" verbs, resources or API groups grants every current and future permission.",
			"List the specific API groups, resources and verbs needed.", nsaM("rbac")),
			[]string{"kubernetes_role", "kubernetes_role_v1", "kubernetes_cluster_role", "kubernetes_cluster_role_v1"}, func(c *rctx) {
				for _, r := range c.b.Blocks("rule") {
					for _, a := range []string{"verbs", "resources"} {
						v := r.Attr(a)
						if items, ok := v.Strs(); ok {
							if i := indexOf(items, "*"); i >= 0 {
								c.report(v.ElemRange(i), v.Path, msgf(c, "rule grants \"*\" %s", a))
							}
						}
					}
				}
			}},
		{meta("WARD-TF-060", crit, "cluster-admin bound to a service account or anonymous users",
			"Binding cluster-admin to a service account, system:anonymous, system:unauthenticated or system:authenticated hands full control of the cluster to workloads or to anyone.",
			"Bind narrowly scoped roles; reserve cluster-admin for break-glass human access.", nsaM("rbac")),
			[]string{"kubernetes_cluster_role_binding", "kubernetes_cluster_role_binding_v1"}, func(c *rctx) {
				rr := c.b.Block("role_ref")
				if rr == nil {
					return
				}
				if n, ok := rr.Attr("name").Str(); !ok || n != "cluster-admin" {
					return
				}
				for _, s := range c.b.Blocks("subject") {
					kind, _ := s.Attr("kind").Str()
					name, _ := s.Attr("name").Str()
					if kind == "ServiceAccount" || name == "system:anonymous" || name == "system:unauthenticated" || name == "system:authenticated" {
						c.report(s.Def, s.Path, msgf(c, "cluster-admin is bound to %s %s", kind, name))
					}
				}
			}},
	}
}

// nonRoot reads a security_context: whether it sets non-root, and the
// attribute that explicitly runs as root (run_as_user = 0 or
// run_as_non_root = false), if any.
func nonRoot(sc *Body) (bool, *Val) {
	if sc == nil {
		return false, nil
	}
	nr := sc.Attr("run_as_non_root")
	uid := sc.Attr("run_as_user")
	if u, ok := uid.Int(); ok && u == 0 {
		return false, &uid
	}
	if nr.IsFalse() {
		return false, &nr
	}
	if nr.IsTrue() {
		return true, nil
	}
	if u, ok := uid.Int(); ok && u > 0 {
		return true, nil
	}
	if nr.Set && !nr.Known() || uid.Set && !uid.Known() {
		return true, nil // unknown: do not guess
	}
	return false, nil
}

func dangerousCap(c string) bool {
	switch strings.TrimPrefix(strings.ToUpper(c), "CAP_") {
	case "ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "SYS_RAWIO", "BPF", "NET_RAW":
		return true
	}
	return false
}
