package k8s

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/pkg/finding"
)

func exposureChecks() []Check {
	return []Check{
		{Meta: meta("WARD-K8S-031", "Service of type NodePort", finding.SeverityMedium,
			"A NodePort Service opens a port on every node, usually reachable from outside the cluster and around ingress controls.",
			"Use a ClusterIP Service behind an Ingress or Gateway, or restrict node ports with firewall rules.", "", "network-exposure",
			"https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport"), Kinds: []string{"Service"},
			Run: func(c *Ctx, o *Object) {
				if t := path(o.Root, "spec", "type"); str(t) == "NodePort" {
					c.Report(t, "spec.type", "Service "+strconv.Quote(o.Name)+" is exposed on every node's port")
				}
			}},
		{Meta: meta("WARD-K8S-032", "LoadBalancer Service open to any source", finding.SeverityMedium,
			"A LoadBalancer Service without loadBalancerSourceRanges is reachable from the whole internet on most clouds.",
			"Set spec.loadBalancerSourceRanges to the client networks, or use an internal load balancer.", "", "network-exposure",
			"https://kubernetes.io/docs/concepts/services-networking/service/#loadbalancer"), Kinds: []string{"Service"},
			Run: func(c *Ctx, o *Object) {
				t := path(o.Root, "spec", "type")
				if str(t) != "LoadBalancer" {
					return
				}
				for _, r := range strs(path(o.Root, "spec", "loadBalancerSourceRanges")) {
					if r != "0.0.0.0/0" && r != "::/0" {
						return
					}
				}
				c.Report(t, "spec.type", "LoadBalancer Service "+strconv.Quote(o.Name)+" accepts traffic from any address")
			}},
		{Meta: meta("WARD-K8S-033", "Service with externalIPs", finding.SeverityHigh,
			"spec.externalIPs can hijack traffic to arbitrary IPs inside the cluster (CVE-2020-8554).",
			"Remove externalIPs and block them with an admission policy (DenyServiceExternalIPs).", "", "network-exposure",
			"https://github.com/kubernetes/kubernetes/issues/97076"), Kinds: []string{"Service"},
			Run: func(c *Ctx, o *Object) {
				if n := path(o.Root, "spec", "externalIPs"); len(items(n)) > 0 {
					c.Report(getKey(get(o.Root, "spec"), "externalIPs"), "spec.externalIPs", "Service "+strconv.Quote(o.Name)+" sets externalIPs")
				}
			}},
		{Meta: meta("WARD-K8S-034", "Ingress without TLS", finding.SeverityMedium,
			"An Ingress without a tls section serves its hosts over plain HTTP: credentials and sessions travel unencrypted.",
			"Add spec.tls with a certificate Secret for every host.", "", "network-exposure",
			"https://kubernetes.io/docs/concepts/services-networking/ingress/#tls"), Kinds: []string{"Ingress"},
			Run: func(c *Ctx, o *Object) {
				if len(items(path(o.Root, "spec", "tls"))) == 0 {
					c.Report(getKey(o.Root, "spec"), "spec.tls", "Ingress "+strconv.Quote(o.Name)+" has no TLS")
				}
			}},
		{Meta: meta("WARD-K8S-035", "Ingress with NGINX configuration snippet", finding.SeverityHigh,
			"configuration-snippet and server-snippet annotations inject raw NGINX configuration; they were used to read the controller's secrets (CVE-2021-25742, CVE-2025-1974).",
			"Remove the snippet annotations and disable allow-snippet-annotations on the controller.", "", "network-exposure",
			"https://github.com/kubernetes/ingress-nginx/issues/7837"), Kinds: []string{"Ingress"},
			Run: func(c *Ctx, o *Object) {
				for _, p := range pairs(path(o.Root, "metadata", "annotations")) {
					k := p[0].Value
					if strings.HasPrefix(k, "nginx.ingress.kubernetes.io/") && strings.HasSuffix(k, "-snippet") || strings.HasSuffix(k, "/configuration-snippet") {
						c.Report(p[0], "metadata.annotations."+k, "Ingress "+strconv.Quote(o.Name)+" uses "+k)
					}
				}
			}},
		{Meta: meta("WARD-K8S-036", "Service exposes SSH port", finding.SeverityMedium,
			"A Service on port 22 publishes a remote-login endpoint.",
			"Remove the SSH port from the Service.", "", "network-exposure"), Kinds: []string{"Service"},
			Run: func(c *Ctx, o *Object) {
				for i, p := range items(path(o.Root, "spec", "ports")) {
					if v, ok := intOf(get(p, "port")); ok && v == 22 {
						c.Report(get(p, "port"), "spec.ports["+strconv.Itoa(i)+"].port", "Service "+strconv.Quote(o.Name)+" exposes port 22")
					}
				}
			}},
	}
}

var secretValue = regexp.MustCompile(`AKIA[0-9A-Z]{16}|-----BEGIN ([A-Z]+ )?PRIVATE KEY-----|gh[pousr]_[A-Za-z0-9]{36}|xox[baprs]-[0-9A-Za-z-]{10,}|[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s@/]{3,}@|AIza[0-9A-Za-z_-]{35}|sk_live_[0-9a-zA-Z]{24}`)

// removedAPIs maps apiVersion/kind pairs removed from Kubernetes to the
// release that removed them.
var removedAPIs = map[string]string{
	"extensions/v1beta1/Deployment": "1.16", "extensions/v1beta1/DaemonSet": "1.16", "extensions/v1beta1/ReplicaSet": "1.16",
	"extensions/v1beta1/NetworkPolicy": "1.16", "extensions/v1beta1/PodSecurityPolicy": "1.16", "extensions/v1beta1/Ingress": "1.22",
	"apps/v1beta1/Deployment": "1.16", "apps/v1beta1/StatefulSet": "1.16", "apps/v1beta2/Deployment": "1.16",
	"apps/v1beta2/StatefulSet": "1.16", "apps/v1beta2/DaemonSet": "1.16", "apps/v1beta2/ReplicaSet": "1.16",
	"networking.k8s.io/v1beta1/Ingress": "1.22", "networking.k8s.io/v1beta1/IngressClass": "1.22",
	"rbac.authorization.k8s.io/v1beta1/Role": "1.22", "rbac.authorization.k8s.io/v1beta1/ClusterRole": "1.22",
	"rbac.authorization.k8s.io/v1beta1/RoleBinding": "1.22", "rbac.authorization.k8s.io/v1beta1/ClusterRoleBinding": "1.22",
	"batch/v1beta1/CronJob": "1.25", "policy/v1beta1/PodDisruptionBudget": "1.25", "policy/v1beta1/PodSecurityPolicy": "1.25",
	"autoscaling/v2beta1/HorizontalPodAutoscaler": "1.25", "autoscaling/v2beta2/HorizontalPodAutoscaler": "1.26",
	"admissionregistration.k8s.io/v1beta1/MutatingWebhookConfiguration":   "1.22",
	"admissionregistration.k8s.io/v1beta1/ValidatingWebhookConfiguration": "1.22",
	"apiextensions.k8s.io/v1beta1/CustomResourceDefinition":               "1.22",
	"flowcontrol.apiserver.k8s.io/v1beta2/FlowSchema":                     "1.29",
	"flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema":                     "1.32",
}

func otherChecks() []Check {
	return []Check{
		{Meta: meta("WARD-K8S-059", "Default service account mounts its token", finding.SeverityLow,
			"The default ServiceAccount's token is mounted into every pod that does not opt out unless the account disables it.",
			"Set automountServiceAccountToken: false on the default ServiceAccount of each namespace.", "5.1.5,5.1.6", "sa-tokens", refSA),
			Kinds: []string{"ServiceAccount"},
			Run: func(c *Ctx, o *Object) {
				if o.Name != "default" {
					return
				}
				n := get(o.Root, "automountServiceAccountToken")
				if !isFalse(n) {
					c.Report(at(o.Root, "automountServiceAccountToken", path(o.Root, "metadata", "name")), "automountServiceAccountToken", "default ServiceAccount does not set automountServiceAccountToken: false")
				}
			}},
		{Meta: meta("WARD-K8S-063", "NetworkPolicy allows all ingress", finding.SeverityMedium,
			"An ingress rule with no from clause (or an empty peer) admits traffic from every pod and external address.",
			"Restrict the rule with podSelector, namespaceSelector or ipBlock peers.", "5.3.2", "network-separation", refNetpol),
			Kinds: []string{"NetworkPolicy"},
			Run:   func(c *Ctx, o *Object) { allowAll(c, o, "ingress", "from") }},
		{Meta: meta("WARD-K8S-064", "NetworkPolicy allows all egress", finding.SeverityLow,
			"An egress rule with no to clause (or an empty peer) lets the selected pods reach any address, including cloud metadata endpoints.",
			"Restrict the rule with podSelector, namespaceSelector or ipBlock peers.", "5.3.2", "network-separation", refNetpol),
			Kinds: []string{"NetworkPolicy"},
			Run:   func(c *Ctx, o *Object) { allowAll(c, o, "egress", "to") }},
		{Meta: meta("WARD-K8S-065", "Secret stored in a ConfigMap", finding.SeverityHigh,
			"ConfigMaps are not treated as confidential: they are readable more widely, never encrypted at rest and often logged.",
			"Move the value into a Secret (or an external secret store).", "5.4.2", "secrets", refSecrets),
			Kinds: []string{"ConfigMap"},
			Run: func(c *Ctx, o *Object) {
				for _, p := range pairs(get(o.Root, "data")) {
					k, v := p[0].Value, str(p[1])
					keyHit := secretName.MatchString(k) && !notSecretName.MatchString(k) && !plainValue.MatchString(strings.ToLower(v)) && !strings.Contains(v, "\n")
					if keyHit || secretValue.MatchString(v) {
						c.Report(p[1], "data."+k, "ConfigMap "+strconv.Quote(o.Name)+" key "+strconv.Quote(k)+" holds what looks like a secret")
					}
				}
			}},
		{Meta: meta("WARD-K8S-066", "Namespace without Pod Security enforcement", finding.SeverityLow,
			"Without a pod-security.kubernetes.io/enforce label the namespace admits privileged pods (unless a cluster default says otherwise).",
			"Label the namespace pod-security.kubernetes.io/enforce: restricted (or baseline).", "5.2.1", "pod-security",
			"https://kubernetes.io/docs/concepts/security/pod-security-admission/"), Kinds: []string{"Namespace"},
			Run: func(c *Ctx, o *Object) {
				if path(o.Root, "metadata", "labels", "pod-security.kubernetes.io/enforce") == nil {
					c.Report(path(o.Root, "metadata", "name"), "metadata.labels", "Namespace "+strconv.Quote(o.Name)+" has no pod-security.kubernetes.io/enforce label")
				}
			}},
		{Meta: meta("WARD-K8S-067", "Namespace enforces the privileged Pod Security level", finding.SeverityMedium,
			"enforce: privileged turns Pod Security admission off for the namespace.",
			"Enforce baseline or restricted; isolate workloads that need privileges in their own namespace.", "5.2.1", "pod-security",
			"https://kubernetes.io/docs/concepts/security/pod-security-admission/"), Kinds: []string{"Namespace"},
			Run: func(c *Ctx, o *Object) {
				if n := path(o.Root, "metadata", "labels", "pod-security.kubernetes.io/enforce"); str(n) == "privileged" {
					c.Report(n, "metadata.labels.pod-security.kubernetes.io/enforce", "Namespace "+strconv.Quote(o.Name)+" enforces privileged")
				}
			}},
		{Meta: meta("WARD-K8S-068", "PodDisruptionBudget blocks all evictions", finding.SeverityLow,
			"maxUnavailable: 0 or minAvailable: 100% blocks node drains and upgrades, so security patches are delayed.",
			"Allow at least one disruption (maxUnavailable: 1).", "", "upgrades",
			"https://kubernetes.io/docs/tasks/run-application/configure-pdb/"), Kinds: []string{"PodDisruptionBudget"},
			Run: func(c *Ctx, o *Object) {
				if n := path(o.Root, "spec", "maxUnavailable"); n != nil && (str(n) == "0" || str(n) == "0%") {
					c.Report(n, "spec.maxUnavailable", "PodDisruptionBudget "+strconv.Quote(o.Name)+" allows no disruption")
				}
				if n := path(o.Root, "spec", "minAvailable"); str(n) == "100%" {
					c.Report(n, "spec.minAvailable", "PodDisruptionBudget "+strconv.Quote(o.Name)+" requires 100% availability")
				}
			}},
		{Meta: meta("WARD-K8S-069", "Removed API version", finding.SeverityMedium,
			"The object uses an apiVersion that current Kubernetes releases no longer serve; it cannot be applied and blocks upgrades.",
			"Migrate to the stable API version (see the Kubernetes deprecated API migration guide).", "", "upgrades",
			"https://kubernetes.io/docs/reference/using-api/deprecation-guide/"),
			Run: func(c *Ctx, o *Object) {
				if rel, ok := removedAPIs[o.APIVersion+"/"+o.Kind]; ok {
					c.Report(get(o.Root, "apiVersion"), "apiVersion", o.Kind+" "+o.APIVersion+" was removed in Kubernetes "+rel)
				}
			}},
		{Meta: meta("WARD-K8S-070", "PersistentVolume uses hostPath", finding.SeverityMedium,
			"A hostPath PersistentVolume gives every pod that claims it access to the node's file system.",
			"Use a storage driver (CSI) instead of hostPath.", "5.1.9,5.2.12", "pod-security"), Kinds: []string{"PersistentVolume"},
			Run: func(c *Ctx, o *Object) {
				if n := path(o.Root, "spec", "hostPath", "path"); n != nil {
					c.Report(n, "spec.hostPath.path", "PersistentVolume "+strconv.Quote(o.Name)+" mounts host path "+str(n))
				}
			}},
		{Meta: meta("WARD-K8S-071", "Secret values committed in a manifest", finding.SeverityMedium,
			"A Secret manifest with data or stringData puts the secret (only base64-encoded) into Git and CI logs.",
			"Keep secrets out of manifests: use Sealed Secrets, SOPS or an external secrets operator.", "5.4.2", "secrets", refSecrets),
			Kinds: []string{"Secret"},
			Run: func(c *Ctx, o *Object) {
				t := str(get(o.Root, "type"))
				if t == "kubernetes.io/service-account-token" {
					return
				}
				for _, f := range []string{"data", "stringData"} {
					for _, p := range pairs(get(o.Root, f)) {
						v := str(p[1])
						if f == "data" {
							if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v)); err == nil {
								v = string(b)
							}
						}
						if !isPlaceholder(v) {
							c.Report(p[0], f+"."+p[0].Value, "Secret "+strconv.Quote(o.Name)+" carries a value for "+strconv.Quote(p[0].Value))
						}
					}
				}
			}},
	}
}

var placeholderRe = regexp.MustCompile(`(?i)^(change[-_ ]?(me|it|this)|replace[-_ ]?(me|this)?|placeholder|dummy|todo|tbd|fixme|none|null|nil|redacted|` +
	`(your|my|insert|enter|put|set)[-_ ]?.*(here|password|secret|token|key)|<[^<>]*>|\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|%[A-Za-z_]+%)$`)

// isPlaceholder reports a Secret value that is no secret: empty, one
// character repeated (xxxx, ****), or an obvious placeholder a chart ships
// as a default (changeme, <password>, ${DB_PASSWORD}, your-token-here).
// Weak but real values (hunter2, admin123) are not placeholders.
func isPlaceholder(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	if len(v) >= 3 && strings.Count(v, v[:1]) == len(v) && strings.ContainsAny(v[:1], "xX*.#-_0") {
		return true
	}
	return placeholderRe.MatchString(v)
}

// allowAll reports rules of a NetworkPolicy direction that admit anything.
func allowAll(c *Ctx, o *Object, dir, peers string) {
	for i, r := range items(path(o.Root, "spec", dir)) {
		ps := get(r, peers)
		if len(items(ps)) == 0 {
			c.Report(r, "spec."+dir+"["+strconv.Itoa(i)+"]", "NetworkPolicy "+strconv.Quote(o.Name)+" "+dir+" rule "+strconv.Itoa(i)+" has no "+peers+" clause: it allows all "+dir)
			continue
		}
		for j, p := range items(ps) {
			if len(pairs(p)) == 0 || isEverything(p) {
				c.Report(p, "spec."+dir+"["+strconv.Itoa(i)+"]."+peers+"["+strconv.Itoa(j)+"]", "NetworkPolicy "+strconv.Quote(o.Name)+" "+dir+" peer matches everything")
			}
		}
	}
}

// isEverything reports a peer that matches every address: an ipBlock
// of 0.0.0.0/0 or ::/0 without exceptions.
func isEverything(p *yaml.Node) bool {
	cidr := str(path(p, "ipBlock", "cidr"))
	return (cidr == "0.0.0.0/0" || cidr == "::/0") && len(items(path(p, "ipBlock", "except"))) == 0
}
