package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/pkg/finding"
)

// controlPlanePod is a static (mirror) pod of a control-plane component
// with the flags of its container.
type controlPlanePod struct {
	component string
	obj       finding.ObjectRef
	flags     map[string]string
	// fieldPath of the container's command.
	fieldPath string
}

var components = map[string]string{
	"kube-apiserver": RuleCPAPIServerFlag, "kube-controller-manager": RuleCPControllerFlag,
	"kube-scheduler": RuleCPSchedulerFlag, "etcd": RuleCPEtcdFlag,
}

// componentOf names the control-plane component a kube-system pod runs
// (kubeadm labels component=NAME, tier=control-plane), or "".
func componentOf(pod *corev1.Pod) string {
	if c := pod.Labels["component"]; components[c] != "" {
		return c
	}
	for c := range components {
		if strings.HasPrefix(pod.Name, c+"-") && len(pod.Spec.Containers) > 0 {
			return c
		}
	}
	return ""
}

// ParseFlags reads --name=value and bare --name (true) arguments; a
// --name followed by a value that is not a flag takes it.
func ParseFlags(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			val = "true"
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				val = args[i+1]
				i++
			}
		}
		out[name] = val
	}
	return out
}

func (s *scan) controlPlanePod(pod *corev1.Pod, obj finding.ObjectRef) {
	comp := componentOf(pod)
	if comp == "" {
		return
	}
	for i, c := range pod.Spec.Containers {
		args := append(append([]string(nil), c.Command...), c.Args...)
		if len(args) == 0 || (!strings.Contains(strings.Join(c.Command, " "), comp) && i > 0) {
			continue
		}
		s.cp = append(s.cp, controlPlanePod{component: comp, obj: obj, flags: ParseFlags(args),
			fieldPath: fmt.Sprintf("spec.containers[%d].command", i)})
		return
	}
}

// flagCheck is one CIS control on a component flag.
type flagCheck struct {
	component, control, flag, want string
	ok                             func(v string, set bool) bool
}

func eq(want string) func(string, bool) bool {
	return func(v string, set bool) bool { return set && strings.EqualFold(v, want) }
}
func notEq(bad string, dflt bool) func(string, bool) bool {
	return func(v string, set bool) bool {
		if !set {
			return dflt
		}
		return !strings.EqualFold(v, bad)
	}
}
func isSet(v string, set bool) bool  { return set && v != "" }
func notSet(_ string, set bool) bool { return !set }
func listHas(item string) func(string, bool) bool {
	return func(v string, set bool) bool { return set && contains(strings.Split(v, ","), item) }
}
func listLacks(item string) func(string, bool) bool {
	return func(v string, set bool) bool { return !set || !contains(strings.Split(v, ","), item) }
}
func atLeast(n int) func(string, bool) bool {
	return func(v string, set bool) bool {
		x, err := strconv.Atoi(v)
		return set && err == nil && x >= n
	}
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if strings.TrimSpace(x) == v {
			return true
		}
	}
	return false
}

// flagChecks are the CIS Kubernetes Benchmark (v1.10) flag controls of
// sections 1.2-1.4, 2 and 3.2 that a static pod's command line shows.
var flagChecks = []flagCheck{
	{"kube-apiserver", "1.2.1", "anonymous-auth", "false", eq("false")},
	{"kube-apiserver", "1.2.2", "token-auth-file", "not set", notSet},
	{"kube-apiserver", "1.2.5", "kubelet-certificate-authority", "set", isSet},
	{"kube-apiserver", "1.2.6", "authorization-mode", "not AlwaysAllow", listLacks("AlwaysAllow")},
	{"kube-apiserver", "1.2.7", "authorization-mode", "includes Node", listHas("Node")},
	{"kube-apiserver", "1.2.8", "authorization-mode", "includes RBAC", listHas("RBAC")},
	{"kube-apiserver", "1.2.10", "enable-admission-plugins", "not AlwaysAdmit", listLacks("AlwaysAdmit")},
	{"kube-apiserver", "1.2.14", "enable-admission-plugins", "includes NodeRestriction", listHas("NodeRestriction")},
	{"kube-apiserver", "1.2.15", "profiling", "false", eq("false")},
	{"kube-apiserver", "1.2.16", "audit-log-path", "set", isSet},
	{"kube-apiserver", "1.2.17", "audit-log-maxage", ">= 30", atLeast(30)},
	{"kube-apiserver", "1.2.18", "audit-log-maxbackup", ">= 10", atLeast(10)},
	{"kube-apiserver", "1.2.19", "audit-log-maxsize", ">= 100", atLeast(100)},
	{"kube-apiserver", "1.2.22", "service-account-lookup", "true", notEq("false", true)},
	{"kube-apiserver", "1.2.23", "service-account-key-file", "set", isSet},
	{"kube-apiserver", "1.2.24", "etcd-certfile", "set", isSet},
	{"kube-apiserver", "1.2.24", "etcd-keyfile", "set", isSet},
	{"kube-apiserver", "1.2.25", "tls-cert-file", "set", isSet},
	{"kube-apiserver", "1.2.25", "tls-private-key-file", "set", isSet},
	{"kube-apiserver", "1.2.26", "client-ca-file", "set", isSet},
	{"kube-apiserver", "1.2.27", "etcd-cafile", "set", isSet},
	{"kube-apiserver", "1.2.28", "encryption-provider-config", "set (secrets encrypted at rest)", isSet},
	{"kube-apiserver", "3.2.1", "audit-policy-file", "set (an audit policy)", isSet},
	{"kube-controller-manager", "1.3.2", "profiling", "false", eq("false")},
	{"kube-controller-manager", "1.3.3", "use-service-account-credentials", "true", eq("true")},
	{"kube-controller-manager", "1.3.4", "service-account-private-key-file", "set", isSet},
	{"kube-controller-manager", "1.3.5", "root-ca-file", "set", isSet},
	{"kube-controller-manager", "1.3.6", "feature-gates", "RotateKubeletServerCertificate not false", listLacks("RotateKubeletServerCertificate=false")},
	{"kube-controller-manager", "1.3.7", "bind-address", "127.0.0.1", eq("127.0.0.1")},
	{"kube-scheduler", "1.4.1", "profiling", "false", eq("false")},
	{"kube-scheduler", "1.4.2", "bind-address", "127.0.0.1", eq("127.0.0.1")},
	{"etcd", "2.1", "cert-file", "set", isSet},
	{"etcd", "2.1", "key-file", "set", isSet},
	{"etcd", "2.2", "client-cert-auth", "true", eq("true")},
	{"etcd", "2.3", "auto-tls", "not true", notEq("true", true)},
	{"etcd", "2.4", "peer-cert-file", "set", isSet},
	{"etcd", "2.4", "peer-key-file", "set", isSet},
	{"etcd", "2.5", "peer-client-cert-auth", "true", eq("true")},
	{"etcd", "2.6", "peer-auto-tls", "not true", notEq("true", true)},
}

// controlFindings judges one component's flags.
func (s *scan) controlFindings(p controlPlanePod) []finding.Finding {
	var out []finding.Finding
	for _, c := range flagChecks {
		if c.component != p.component {
			continue
		}
		v, set := p.flags[c.flag]
		if c.ok(v, set) {
			continue
		}
		got := "not set"
		if set {
			got = fmt.Sprintf("%q", v)
		}
		msg := fmt.Sprintf("%s --%s is %s, CIS %s wants %s", p.component, c.flag, got, c.control, c.want)
		f := s.objFinding(components[p.component], p.obj, p.fieldPath, msg, c.control, c.flag)
		f.Tags = append(f.Tags, "k8s-cis:"+c.control)
		out = append(out, f)
	}
	return out
}

func (s *scan) controlPlane(ctx context.Context) {
	for _, p := range s.cp {
		s.add(s.controlFindings(p)...)
	}
	s.anonymousProbes(ctx)
	s.kubelets(ctx)
}

// anonymousProbes asks what a request without credentials may do.
func (s *scan) anonymousProbes(ctx context.Context) {
	server := finding.ObjectRef{Kind: "APIServer", Name: s.target}
	code, err := s.src.AnonymousGet(ctx, "/version")
	if err != nil {
		s.res.Warnings = append(s.res.Warnings, "anonymous probe: "+err.Error())
		return
	}
	if code == http.StatusOK {
		s.add(s.objFinding(RuleCPAnonVersion, server, "GET /version",
			"an unauthenticated GET /version returned 200: anonymous authentication is enabled"))
	}
	for _, p := range []string{"/api/v1/namespaces", "/api/v1/pods", "/api/v1/secrets"} {
		code, err := s.src.AnonymousGet(ctx, p)
		if err != nil {
			s.res.Warnings = append(s.res.Warnings, "anonymous probe: "+err.Error())
			return
		}
		if code == http.StatusOK {
			s.add(s.objFinding(RuleCPAnonymous, server, "GET "+p,
				fmt.Sprintf("an unauthenticated GET %s returned 200: anyone who reaches the API server can list it", p), p))
		}
	}
}

// kubeletConfig is the part of the kubelet's /configz the CIS 4.2
// controls read.
type kubeletConfig struct {
	Authentication struct {
		Anonymous struct {
			Enabled *bool `json:"enabled"`
		} `json:"anonymous"`
		X509 struct {
			ClientCAFile string `json:"clientCAFile"`
		} `json:"x509"`
	} `json:"authentication"`
	Authorization struct {
		Mode string `json:"mode"`
	} `json:"authorization"`
	ReadOnlyPort                   *int    `json:"readOnlyPort"`
	StreamingConnectionIdleTimeout *string `json:"streamingConnectionIdleTimeout"`
	MakeIPTablesUtilChains         *bool   `json:"makeIPTablesUtilChains"`
	RotateCertificates             *bool   `json:"rotateCertificates"`
	ProtectKernelDefaults          *bool   `json:"protectKernelDefaults"`
}

// KubeletFindings judges a kubelet's configz answer ({"kubeletconfig": …}).
func (s *scan) kubeletFindings(node finding.ObjectRef, kc *kubeletConfig) []finding.Finding {
	var out []finding.Finding
	bad := func(control, field, msg string) {
		f := s.objFinding(RuleCPKubeletConfig, node, "configz.kubeletconfig."+field, "kubelet of node "+node.Name+": "+msg+" (CIS "+control+")", control)
		f.Tags = append(f.Tags, "k8s-cis:"+control)
		out = append(out, f)
	}
	if e := kc.Authentication.Anonymous.Enabled; e == nil || *e {
		bad("4.2.1", "authentication.anonymous.enabled", "anonymous authentication is enabled")
	}
	if kc.Authorization.Mode == "AlwaysAllow" || kc.Authorization.Mode == "" {
		bad("4.2.2", "authorization.mode", "authorization mode is AlwaysAllow")
	}
	if kc.Authentication.X509.ClientCAFile == "" {
		bad("4.2.3", "authentication.x509.clientCAFile", "no client CA file")
	}
	if kc.ReadOnlyPort != nil && *kc.ReadOnlyPort != 0 {
		bad("4.2.4", "readOnlyPort", fmt.Sprintf("the unauthenticated read-only port %d is open", *kc.ReadOnlyPort))
	}
	if t := kc.StreamingConnectionIdleTimeout; t != nil && (*t == "0" || *t == "0s") {
		bad("4.2.5", "streamingConnectionIdleTimeout", "streaming connections never time out")
	}
	if kc.MakeIPTablesUtilChains != nil && !*kc.MakeIPTablesUtilChains {
		bad("4.2.6", "makeIPTablesUtilChains", "makeIPTablesUtilChains is false")
	}
	if kc.RotateCertificates != nil && !*kc.RotateCertificates {
		bad("4.2.10", "rotateCertificates", "client certificate rotation is off")
	}
	return out
}

// kubelets reads each node's kubelet configuration through the API
// server's node proxy when RBAC allows (nodes/proxy). Unreachable kubelets
// are warnings: the node may be down.
func (s *scan) kubelets(ctx context.Context) {
	r, ok := s.resource("nodes")
	if !ok || !s.wants(r) {
		return
	}
	var nodes []finding.ObjectRef
	s.list(ctx, r, func(b []byte) error {
		var n liveObject
		if err := json.Unmarshal(b, &n); err != nil {
			return &objectError{ref: "node item", err: fmt.Errorf("malformed object: %w", err)}
		}
		nodes = append(nodes, ref(r, &n.Metadata))
		return nil
	})
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		var cz struct {
			KubeletConfig *kubeletConfig `json:"kubeletconfig"`
		}
		p := "/api/v1/nodes/" + url.PathEscape(n.Name) + "/proxy/configz"
		if err := s.src.Get(ctx, p, &cz); err != nil {
			if kube.IsForbidden(err) {
				s.res.Warnings = append(s.res.Warnings, "kubelet configuration not read: nodes/proxy is forbidden by RBAC")
				return
			}
			s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("kubelet configuration of node %s: %v", n.Name, err))
			continue
		}
		if cz.KubeletConfig == nil {
			s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("kubelet configuration of node %s: no kubeletconfig in %s", n.Name, p))
			continue
		}
		s.add(s.kubeletFindings(n, cz.KubeletConfig)...)
	}
}
