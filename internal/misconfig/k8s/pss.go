package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

// PSS evaluates pod specs against the Pod Security Standards with the
// upstream k8s.io/pod-security-admission/policy checks, at one policy
// version.
type PSS struct {
	version api.Version
	checks  []pssCheck
	// overridden lists the baseline checks the restricted profile
	// replaces (computed once, read by Allowed).
	overridden map[policy.CheckID]bool
}

type pssCheck struct {
	meta  check.Meta
	id    policy.CheckID
	level api.Level
	fn    policy.CheckPodFn
	// overrides lists baseline checks this restricted check replaces.
	overrides []policy.CheckID
}

// NewPSS selects the checks of the given policy version ("latest" or
// "v1.N"; empty means latest).
func NewPSS(version string) (*PSS, error) {
	if version == "" {
		version = "latest"
	}
	v, err := api.ParseVersion(version)
	if err != nil {
		return nil, fmt.Errorf("pod security standards version %q: %w", version, err)
	}
	p := &PSS{version: v}
	for _, c := range policy.DefaultChecks() {
		vc := versionedCheck(c, v)
		if vc == nil {
			continue
		}
		p.checks = append(p.checks, pssCheck{meta: pssMeta(c.ID, c.Level), id: c.ID, level: c.Level, fn: vc.CheckPod, overrides: vc.OverrideCheckIDs})
	}
	sort.Slice(p.checks, func(i, j int) bool {
		if p.checks[i].level != p.checks[j].level {
			return p.checks[i].level == api.LevelBaseline
		}
		return p.checks[i].id < p.checks[j].id
	})
	p.overridden = map[policy.CheckID]bool{}
	for _, c := range p.checks {
		for _, o := range c.overrides {
			p.overridden[o] = true
		}
	}
	return p, nil
}

// Version is the policy version in force.
func (p *PSS) Version() string { return p.version.String() }

func versionedCheck(c policy.Check, v api.Version) *policy.VersionedCheck {
	var best *policy.VersionedCheck
	for i := range c.Versions {
		vc := &c.Versions[i]
		if v.Latest() || !v.Older(vc.MinimumVersion) {
			best = vc
		}
	}
	return best
}

// PSSResult is the outcome of one check on one pod spec.
type PSSResult struct {
	CheckID policy.CheckID
	Level   api.Level
	Meta    *check.Meta
	Result  policy.CheckResult
}

// Evaluate runs every check (baseline and restricted) on the pod.
func (p *PSS) Evaluate(meta *metav1.ObjectMeta, spec *corev1.PodSpec) []PSSResult {
	out := make([]PSSResult, 0, len(p.checks))
	for i := range p.checks {
		c := &p.checks[i]
		out = append(out, PSSResult{CheckID: c.id, Level: c.level, Meta: &c.meta, Result: c.fn(meta, spec)})
	}
	return out
}

// Allowed reports whether a pod passes the given level, honouring the
// restricted profile's overrides of baseline checks.
func (p *PSS) Allowed(level api.Level, res []PSSResult) bool {
	for _, r := range res {
		if r.Result.Allowed {
			continue
		}
		if r.Level == api.LevelRestricted && level != api.LevelRestricted {
			continue
		}
		if r.Level == api.LevelBaseline && level == api.LevelRestricted && p.overridden[r.CheckID] {
			continue
		}
		return false
	}
	return true
}

// DecodePod converts pod template metadata and spec nodes to the typed
// API structs after applying the API server defaults that change the
// Pod Security verdict. Only the fields Pod Security reads are decoded
// (pssjson.go): the result is for PSS.Evaluate, not a faithful pod.
func DecodePod(metaNode, specNode *yaml.Node, budget int) (*metav1.ObjectMeta, *corev1.PodSpec, error) {
	if meta, spec, err := decodePodFast(metaNode, specNode); err == nil {
		return meta, spec, nil
	}
	return decodePod(metaNode, specNode, budget, true)
}

func decodePod(metaNode, specNode *yaml.Node, budget int, pruned bool) (*metav1.ObjectMeta, *corev1.PodSpec, error) {
	meta := &metav1.ObjectMeta{}
	var buf bytes.Buffer
	if metaNode != nil {
		b := budget
		var err error
		if pruned {
			err = appendPSSMeta(&buf, metaNode, &b)
		} else {
			err = appendJSON(&buf, metaNode, &b, 0)
		}
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(buf.Bytes(), meta); err != nil {
			return nil, nil, fmt.Errorf("metadata: %w", err)
		}
	}
	buf.Reset()
	b := budget
	var err error
	if pruned {
		err = appendPSSPod(&buf, specNode, &b)
	} else {
		err = appendJSON(&buf, specNode, &b, 0)
	}
	if err != nil {
		return nil, nil, err
	}
	spec := &corev1.PodSpec{}
	if err := json.Unmarshal(buf.Bytes(), spec); err != nil {
		return nil, nil, fmt.Errorf("pod spec: %w", err)
	}
	applyPodDefaults(spec)
	return meta, spec, nil
}

// applyPodDefaults applies the defaults of k8s.io/kubernetes
// pkg/apis/core/v1/defaults.go that matter to Pod Security: a volume with
// no source becomes emptyDir, and with hostNetwork a container port's
// hostPort defaults to its containerPort.
func applyPodDefaults(spec *corev1.PodSpec) {
	for i := range spec.Volumes {
		if spec.Volumes[i].VolumeSource == (corev1.VolumeSource{}) {
			spec.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
	if !spec.HostNetwork {
		return
	}
	setPorts := func(ports []corev1.ContainerPort) {
		for j := range ports {
			if ports[j].HostPort == 0 {
				ports[j].HostPort = ports[j].ContainerPort
			}
		}
	}
	for i := range spec.InitContainers {
		setPorts(spec.InitContainers[i].Ports)
	}
	for i := range spec.Containers {
		setPorts(spec.Containers[i].Ports)
	}
	for i := range spec.EphemeralContainers {
		setPorts(spec.EphemeralContainers[i].Ports)
	}
}

// pssMeta describes an upstream check as a Ward check.
func pssMeta(id policy.CheckID, level api.Level) check.Meta {
	d := pssDocs[string(id)]
	fw := "k8s-pss-baseline"
	if level == api.LevelRestricted {
		fw = "k8s-pss-restricted"
	}
	m := check.Meta{
		ID:          PSSCheckID(id),
		Title:       d.title,
		Severity:    d.sev,
		DocType:     check.Kubernetes,
		Description: d.desc + " (Pod Security Standards, " + string(level) + " profile, check " + string(id) + ".)",
		Remediation: d.fix,
		References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/"},
		Mappings:    []check.Mapping{{Framework: fw, Control: string(id), Title: d.title}},
	}
	if m.Title == "" {
		m.Title = "Pod Security Standards: " + string(id)
		m.Severity = finding.SeverityMedium
		m.Remediation = "Change the pod spec so it satisfies the " + string(level) + " Pod Security Standard."
	}
	m.Mappings = append(m.Mappings, mappings(d.cis, d.nsa)...)
	return m
}

// PSSCheckID is the Ward check ID of an upstream check.
func PSSCheckID(id policy.CheckID) string {
	return "WARD-PSS-" + strings.ToUpper(strings.ReplaceAll(string(id), "_", "-"))
}

type pssDoc struct {
	title, desc, fix string
	sev              finding.Severity
	cis, nsa         string
	// keys are field names that locate the offending setting.
	keys []string
}

var pssDocs = map[string]pssDoc{
	"hostNamespaces": {title: "Host namespaces shared", sev: finding.SeverityHigh, cis: "5.2.3,5.2.4,5.2.5", nsa: "pod-security",
		desc: "Sharing the host's network, PID or IPC namespace lets the pod see and reach host processes and interfaces.",
		fix:  "Remove hostNetwork, hostPID and hostIPC (or set them to false).", keys: []string{"hostNetwork", "hostPID", "hostIPC"}},
	"privileged": {title: "Privileged container", sev: finding.SeverityCritical, cis: "5.2.2", nsa: "pod-security",
		desc: "A privileged container has all capabilities and device access: it is root on the node.",
		fix:  "Remove securityContext.privileged or set it to false.", keys: []string{"privileged"}},
	"capabilities_baseline": {title: "Non-default capabilities added", sev: finding.SeverityHigh, cis: "5.2.9", nsa: "pod-security",
		desc: "Adding capabilities beyond the container runtime's default set widens what a compromised process can do.",
		fix:  "Remove capabilities.add entries other than the defaults (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT).", keys: []string{"add"}},
	"hostPathVolumes": {title: "hostPath volume", sev: finding.SeverityHigh, cis: "5.2.12", nsa: "pod-security",
		desc: "hostPath volumes expose the node's file system to the pod.",
		fix:  "Use another volume type (emptyDir, configMap, secret, persistentVolumeClaim) instead of hostPath.", keys: []string{"hostPath"}},
	"hostPorts": {title: "Host port used", sev: finding.SeverityMedium, cis: "5.2.13", nsa: "pod-security",
		desc: "hostPort binds a port on the node, bypassing network policy and limiting scheduling.",
		fix:  "Remove hostPort (or use a Service to expose the container).", keys: []string{"hostPort", "hostNetwork"}},
	"appArmorProfile": {title: "AppArmor profile overridden", sev: finding.SeverityMedium, nsa: "pod-security",
		desc: "Setting the AppArmor profile to unconfined disables mandatory access control for the container.",
		fix:  "Use the RuntimeDefault or a Localhost AppArmor profile, or leave it unset.", keys: []string{"appArmorProfile", "annotations"}},
	"seLinuxOptions": {title: "Custom SELinux options", sev: finding.SeverityMedium, nsa: "pod-security",
		desc: "Setting a custom SELinux user or role, or a type outside container_t/container_init_t/container_kvm_t/container_engine_t, can escape SELinux confinement.",
		fix:  "Remove seLinuxOptions.user and role and use an allowed type.", keys: []string{"seLinuxOptions"}},
	"procMount": {title: "Unmasked /proc mount", sev: finding.SeverityHigh, nsa: "pod-security",
		desc: "procMount: Unmasked exposes sensitive /proc paths that the runtime normally masks.",
		fix:  "Remove securityContext.procMount or set it to Default.", keys: []string{"procMount"}},
	"procMount_restricted": {title: "Unmasked /proc mount (restricted)", sev: finding.SeverityHigh, nsa: "pod-security",
		desc: "procMount: Unmasked exposes sensitive /proc paths that the runtime normally masks; restricted forbids it even with user namespaces.",
		fix:  "Remove securityContext.procMount or set it to Default.", keys: []string{"procMount"}},
	"seccompProfile_baseline": {title: "Seccomp disabled", sev: finding.SeverityHigh, cis: "5.7.2", nsa: "pod-security",
		desc: "A seccomp profile of Unconfined removes system call filtering.",
		fix:  "Set seccompProfile.type to RuntimeDefault or Localhost.", keys: []string{"seccompProfile", "annotations"}},
	"seccompProfile_restricted": {title: "Seccomp profile not set", sev: finding.SeverityMedium, cis: "5.7.2", nsa: "pod-security",
		desc: "The restricted profile requires a RuntimeDefault or Localhost seccomp profile on the pod or every container.",
		fix:  "Set spec.securityContext.seccompProfile.type: RuntimeDefault.", keys: []string{"seccompProfile"}},
	"sysctls": {title: "Unsafe sysctls", sev: finding.SeverityHigh, nsa: "pod-security",
		desc: "Sysctls outside the safe set can affect the node and other pods.",
		fix:  "Remove sysctls that are not in the safe set.", keys: []string{"sysctls"}},
	"windowsHostProcess": {title: "Windows HostProcess container", sev: finding.SeverityCritical, nsa: "pod-security",
		desc: "Windows HostProcess containers run directly on the host with full privileges.",
		fix:  "Remove windowsOptions.hostProcess.", keys: []string{"hostProcess"}},
	"hostProbesAndHostLifecycle": {title: "Probe or lifecycle handler targets another host", sev: finding.SeverityMedium, nsa: "pod-security",
		desc: "Probes and lifecycle hooks with a host field make the kubelet connect to arbitrary hosts (SSRF).",
		fix:  "Remove the host field from httpGet/tcpSocket probes and lifecycle handlers.", keys: []string{"host"}},
	"restrictedVolumes": {title: "Volume type not allowed by restricted", sev: finding.SeverityMedium, nsa: "pod-security",
		desc: "The restricted profile allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret and image volumes.",
		fix:  "Replace the volume with one of the allowed types.", keys: []string{"volumes"}},
	"allowPrivilegeEscalation": {title: "Privilege escalation allowed", sev: finding.SeverityMedium, cis: "5.2.6", nsa: "pod-security",
		desc: "Without allowPrivilegeEscalation: false a process can gain more privileges than its parent (setuid binaries).",
		fix:  "Set securityContext.allowPrivilegeEscalation: false on every container.", keys: []string{"allowPrivilegeEscalation"}},
	"runAsNonRoot": {title: "Container may run as root", sev: finding.SeverityMedium, cis: "5.2.7", nsa: "non-root",
		desc: "Without runAsNonRoot: true the container may run as UID 0.",
		fix:  "Set securityContext.runAsNonRoot: true on the pod or every container.", keys: []string{"runAsNonRoot"}},
	"runAsUser": {title: "Container runs as UID 0", sev: finding.SeverityHigh, cis: "5.2.7", nsa: "non-root",
		desc: "runAsUser: 0 runs the container as root.",
		fix:  "Set runAsUser to a non-zero UID.", keys: []string{"runAsUser"}},
	"capabilities_restricted": {title: "Capabilities not dropped", sev: finding.SeverityMedium, cis: "5.2.10", nsa: "pod-security",
		desc: "The restricted profile requires every container to drop ALL capabilities and add back at most NET_BIND_SERVICE.",
		fix:  "Set securityContext.capabilities.drop: [ALL] and add only NET_BIND_SERVICE if needed.", keys: []string{"capabilities"}},
}

var quotedName = regexp.MustCompile(`"([^"]+)"`)

// locatePSS finds the node that best explains a failed check: the first
// of the check's keys inside the containers the detail names, else in
// the pod spec, else the named container, else the spec itself.
func locatePSS(id policy.CheckID, ps PodSpec, detail string) (*yaml.Node, string) {
	keys := pssDocs[string(id)].keys
	named := map[string]bool{}
	for _, m := range quotedName.FindAllStringSubmatch(detail, -1) {
		named[m[1]] = true
	}
	if len(named) > 0 {
		for i, v := range items(get(ps.Node, "volumes")) {
			if named[str(get(v, "name"))] {
				return at(v, "name", v), fmt.Sprintf("%s.volumes[%d]", ps.Path, i)
			}
		}
		for _, c := range ps.Containers() {
			if !named[c.Name] {
				continue
			}
			if n, p := findKey(c.Node, c.Path, keys); n != nil {
				return n, p
			}
			// pod-level settings that apply to the container
			for _, k := range keys {
				if n := getKey(ps.Node, k); n != nil {
					return n, ps.Path + "." + k
				}
				if n := getKey(get(ps.Node, "securityContext"), k); n != nil {
					return n, ps.Path + ".securityContext." + k
				}
			}
			if k := getKey(c.Node, "securityContext"); k != nil {
				return k, c.Path + ".securityContext"
			}
			if k := getKey(c.Node, "name"); k != nil {
				return k, c.Path
			}
		}
	}
	// pod-level first (hostNetwork, pod securityContext), then anywhere.
	if n, p := findKey(ps.Node, ps.Path, keys); n != nil {
		return n, p
	}
	if ps.Meta != nil {
		if n, p := findKey(ps.Meta, strings.TrimSuffix(ps.Path, "spec")+"metadata", keys); n != nil {
			return n, p
		}
	}
	if k := getKey(ps.Node, "securityContext"); k != nil {
		return k, ps.Path + ".securityContext"
	}
	cs := ps.Containers()
	if len(cs) > 0 {
		return cs[0].Node, cs[0].Path
	}
	return ps.Node, ps.Path
}

// findKey searches a subtree (document order, breadth-first by depth)
// for the first key among keys; it returns the key node and its path.
func findKey(n *yaml.Node, p string, keys []string) (*yaml.Node, string) {
	type item struct {
		n *yaml.Node
		p string
	}
	queue := []item{{resolve(n), p}}
	for steps := 0; len(queue) > 0 && steps < 10000; steps++ {
		it := queue[0]
		queue = queue[1:]
		switch it.n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(it.n.Content); i += 2 {
				k := it.n.Content[i]
				for _, want := range keys {
					if k.Value == want {
						return k, it.p + "." + want
					}
				}
			}
			for i := 0; i+1 < len(it.n.Content); i += 2 {
				if v := resolve(it.n.Content[i+1]); v != nil {
					queue = append(queue, item{v, it.p + "." + it.n.Content[i].Value})
				}
			}
		case yaml.SequenceNode:
			for i, c := range it.n.Content {
				if c = resolve(c); c != nil {
					queue = append(queue, item{c, fmt.Sprintf("%s[%d]", it.p, i)})
				}
			}
		}
	}
	return nil, ""
}

// hostNamespaceFindings splits a failed hostNamespaces check into one
// finding per host namespace the pod shares (hostNetwork, hostPID,
// hostIPC set to true), each at its own field.
func hostNamespaceFindings(target string, r PSSResult, o *Object, ps PodSpec) []finding.Finding {
	var out []finding.Finding
	for _, k := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		v := get(ps.Node, k)
		if v == nil || !isTrue(v) {
			continue
		}
		msg := fmt.Sprintf("%s violates Pod Security Standard %q (%s): %s=true", o.Kind+"/"+o.Name, r.Level, r.CheckID, k)
		out = append(out, newFinding(target, r.Meta, o, getKey(ps.Node, k), ps.Path+"."+k, msg))
	}
	return out
}
