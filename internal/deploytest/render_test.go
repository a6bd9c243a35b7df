package deploytest

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

var update = flag.Bool("update", false, "rewrite deploy/manifests/ward.yaml")

// obj is a rendered object, decoded loosely.
type obj map[string]any

func (o obj) str(path ...string) string {
	var v any = map[string]any(o)
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (o obj) id() string {
	return o.str("kind") + "/" + o.str("metadata", "name")
}

// decode splits a rendered stream into objects.
func decode(t *testing.T, stream string) []obj {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(stream))
	var out []obj
	for {
		var o map[string]any // not obj: yaml.v3 would give nested maps that type too
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding the rendered chart: %v", err)
		}
		if o != nil {
			out = append(out, obj(o))
		}
	}
}

func render(t *testing.T, vals map[string]any) []obj {
	t.Helper()
	out, err := Render(ChartDir(), RenderOptions{Values: vals})
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, out)
}

func find(objs []obj, kind, name string) obj {
	for _, o := range objs {
		if o.str("kind") == kind && o.str("metadata", "name") == name {
			return o
		}
	}
	return nil
}

// TestManifests keeps deploy/manifests/ward.yaml equal to the chart
// rendered with its default values (-update rewrites it).
func TestManifests(t *testing.T) {
	got, err := PlainManifests()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(ManifestsFile(), []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(ManifestsFile())
	if err != nil {
		t.Fatalf("%v (run go test ./internal/deploytest -run TestManifests -update)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("deploy/manifests/ward.yaml is out of date with the chart (first difference at line %d:\n  file:  %q\n  chart: %q)\nrun: go test ./internal/deploytest -run TestManifests -update", i+1, w, g)
			}
		}
	}
}

// TestLint runs Helm's own linter (what `helm lint` runs: Chart.yaml,
// values against the schema, templates rendered and parsed as YAML).
func TestLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion("v1.30.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vals map[string]any
	}{
		{"defaults", nil},
		{"certManager", map[string]any{"admission": map[string]any{"certs": map[string]any{"mode": "certManager"}}}},
		{"helm certs, TLS server, ingress", map[string]any{
			"admission": map[string]any{"certs": map[string]any{"mode": "helm"}, "mutating": false},
			"server":    map[string]any{"tls": map[string]any{"secretName": "ward-tls"}, "ingress": map[string]any{"enabled": true, "tlsSecretName": "ward-ingress-tls"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lint.AllWithKubeVersion(ChartDir(), tc.vals, "ward", kv)
			for _, m := range l.Messages {
				// INFO is advice (e.g. "icon is recommended"); warnings and errors fail.
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m)
				} else {
					t.Logf("helm lint: %s", m)
				}
			}
		})
	}
}

// TestSchemaRejects checks that values.schema.json refuses bad values
// with a message naming the value.
func TestSchemaRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"unknown key", map[string]any{"sensor": map[string]any{"privileged": true}}, "privileged"},
		{"bad runtime", map[string]any{"sensor": map[string]any{"containerRuntime": "rkt"}}, "containerRuntime"},
		{"bad cert mode", map[string]any{"admission": map[string]any{"certs": map[string]any{"mode": "openssl"}}}, "mode"},
		{"replicas type", map[string]any{"server": map[string]any{"replicas": "two"}}, "replicas"},
		{"unknown scanner", map[string]any{"posture": map[string]any{"scanners": []any{"everything"}}}, "scanners"},
		{"digest format", map[string]any{"image": map[string]any{"digest": "latest"}}, "digest"},
		{"failure policy", map[string]any{"admission": map[string]any{"failurePolicy": "Maybe"}}, "failurePolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(ChartDir(), RenderOptions{Values: tc.vals})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a schema error naming %q", err, tc.want)
			}
		})
	}
}

func containers(o obj) []map[string]any {
	spec := map[string]any(o)
	for _, p := range podSpecPath(o.str("kind")) {
		spec, _ = spec[p].(map[string]any)
	}
	var out []map[string]any
	for _, c := range spec["containers"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

func podSpec(o obj) map[string]any {
	spec := map[string]any(o)
	for _, p := range podSpecPath(o.str("kind")) {
		spec, _ = spec[p].(map[string]any)
	}
	return spec
}

func podSpecPath(kind string) []string {
	if kind == "CronJob" {
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return []string{"spec", "template", "spec"}
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

// TestDefaults pins the security-relevant shape of the default render.
func TestDefaults(t *testing.T) {
	objs := render(t, nil)
	server := find(objs, "Deployment", "ward-server")
	if server == nil {
		t.Fatal("no Deployment ward-server")
	}
	if r := server["spec"].(map[string]any)["replicas"]; r != 2 {
		t.Errorf("server replicas = %v, want 2", r)
	}
	sc := containers(server)[0]
	if got := strs(sc["args"]); !slices.Equal(got, []string{"server", "--listen", "0.0.0.0:8080"}) {
		t.Errorf("server args = %q", got)
	}
	env := sc["env"].([]any)[0].(map[string]any)
	if env["name"] != "WARD_DB" || env["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)["name"] != "ward-db" {
		t.Errorf("server env[0] = %v, want WARD_DB from Secret ward-db", env)
	}
	for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
		if p := sc[probe].(map[string]any)["httpGet"].(map[string]any)["path"]; p != path {
			t.Errorf("server %s path = %v, want %s", probe, p, path)
		}
	}
	if find(objs, "PodDisruptionBudget", "ward-server") == nil || find(objs, "Service", "ward-server") == nil {
		t.Error("server PodDisruptionBudget or Service missing")
	}
	if find(objs, "Ingress", "ward-server") != nil {
		t.Error("Ingress rendered by default")
	}

	// Every pod but the sensor's: non-root, read-only root, no capabilities, RuntimeDefault.
	wantToken := map[string]bool{"ward-server": false, "ward-admission": true, "ward-posture": true,
		"ward-sensor": false, "ward-admission-certgen-create": true, "ward-admission-certgen-patch": true}
	for _, o := range objs {
		switch o.str("kind") {
		case "Deployment", "DaemonSet", "CronJob", "Job":
		default:
			continue
		}
		ps := podSpec(o)
		if want, ok := wantToken[o.str("metadata", "name")]; !ok || ps["automountServiceAccountToken"] != want {
			t.Errorf("%s automountServiceAccountToken = %v, want %v", o.id(), ps["automountServiceAccountToken"], want)
		}
		for _, c := range containers(o) {
			sc := c["securityContext"].(map[string]any)
			if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false || sc["privileged"] != false {
				t.Errorf("%s container %v: %v", o.id(), c["name"], sc)
			}
			caps := sc["capabilities"].(map[string]any)
			if !slices.Equal(strs(caps["drop"]), []string{"ALL"}) {
				t.Errorf("%s: capabilities.drop = %v", o.id(), caps["drop"])
			}
			if sc["seccompProfile"].(map[string]any)["type"] != "RuntimeDefault" {
				t.Errorf("%s: seccomp %v", o.id(), sc["seccompProfile"])
			}
			if c["resources"].(map[string]any)["limits"] == nil {
				t.Errorf("%s: no resource limits", o.id())
			}
			if o.str("kind") == "DaemonSet" {
				if got := strs(caps["add"]); !slices.Equal(got, []string{"BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE", "DAC_READ_SEARCH"}) {
					t.Errorf("sensor capabilities.add = %v", got)
				}
				continue
			}
			if sc["runAsNonRoot"] != true || sc["runAsUser"] != 65532 || caps["add"] != nil {
				t.Errorf("%s container %v: runAsNonRoot %v runAsUser %v add %v", o.id(), c["name"], sc["runAsNonRoot"], sc["runAsUser"], caps["add"])
			}
		}
	}

	ds := find(objs, "DaemonSet", "ward-sensor")
	if ds == nil {
		t.Fatal("no DaemonSet ward-sensor")
	}
	ps := podSpec(ds)
	if ps["hostPID"] != true || ps["hostNetwork"] != nil {
		t.Errorf("sensor hostPID %v hostNetwork %v", ps["hostPID"], ps["hostNetwork"])
	}
	if tol := ps["tolerations"].([]any); len(tol) != 1 || tol[0].(map[string]any)["operator"] != "Exists" || tol[0].(map[string]any)["key"] != nil {
		t.Errorf("sensor tolerations = %v, want one operator: Exists (every taint)", tol)
	}
	c := containers(ds)[0]
	args := strs(c["args"])
	if i := slices.Index(args, "watch"); i < 1 || args[i-1] != "runtime" || !slices.Contains(args, "--server") ||
		args[slices.Index(args, "--server")+1] != "http://ward-server.ward.svc:8080" {
		t.Errorf("sensor args = %q", args)
	}
	env = c["env"].([]any)[0].(map[string]any)
	if env["name"] != "WARD_NODE" || env["valueFrom"].(map[string]any)["fieldRef"].(map[string]any)["fieldPath"] != "spec.nodeName" {
		t.Errorf("sensor env = %v, want WARD_NODE from spec.nodeName", env)
	}
	hostPaths := map[string]string{}
	for _, v := range ps["volumes"].([]any) {
		v := v.(map[string]any)
		if hp, ok := v["hostPath"].(map[string]any); ok {
			hostPaths[v["name"].(string)] = hp["path"].(string)
		}
	}
	for _, m := range c["volumeMounts"].([]any) {
		m := m.(map[string]any)
		if p, ok := hostPaths[m["name"].(string)]; ok && m["readOnly"] != true {
			t.Errorf("sensor hostPath %s mounted read-write", p)
		}
	}
	var paths []string
	for _, p := range hostPaths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if want := []string{"/etc/group", "/etc/passwd", "/run/containerd/io.containerd.runtime.v2.task", "/sys/kernel/btf"}; !slices.Equal(paths, want) {
		t.Errorf("sensor hostPaths = %v, want %v", paths, want)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, ".sock") {
			t.Errorf("sensor mounts a socket: %s", p)
		}
	}

	cj := find(objs, "CronJob", "ward-posture")
	if cj == nil {
		t.Fatal("no CronJob ward-posture")
	}
	args = strs(containers(cj)[0]["args"])
	if i := slices.Index(args, "k8s"); i < 0 || !slices.Contains(args[i:], "--server") {
		t.Errorf("posture args = %q, want k8s --server", args)
	}

	vwc := find(objs, "ValidatingWebhookConfiguration", "ward-admission.ward")
	if vwc == nil || find(objs, "MutatingWebhookConfiguration", "ward-admission.ward") == nil {
		t.Fatal("webhook configurations missing")
	}
	hook := vwc["webhooks"].([]any)[0].(map[string]any)
	ex := hook["namespaceSelector"].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)
	if !slices.Contains(strs(ex["values"]), "ward") || !slices.Contains(strs(ex["values"]), "kube-system") {
		t.Errorf("the webhook does not exclude its own namespace and kube-system: %v", ex)
	}
	if find(objs, "Job", "ward-admission-certgen-create") == nil || find(objs, "Job", "ward-admission-certgen-patch") == nil {
		t.Error("certificate hook Jobs missing")
	}
}

// TestCertModes renders the other two certificate modes.
func TestCertModes(t *testing.T) {
	t.Run("helm", func(t *testing.T) {
		objs := render(t, map[string]any{"admission": map[string]any{"certs": map[string]any{"mode": "helm"}}})
		if find(objs, "Job", "ward-admission-certgen-create") != nil {
			t.Error("hook Job rendered in helm mode")
		}
		sec := find(objs, "Secret", "ward-admission-tls")
		if sec == nil {
			t.Fatal("no Secret ward-admission-tls")
		}
		data := sec["data"].(map[string]any)
		pemOf := func(k string) []byte {
			b, err := base64.StdEncoding.DecodeString(data[k].(string))
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			return b
		}
		caBlock, _ := pem.Decode(pemOf("ca.crt"))
		crtBlock, _ := pem.Decode(pemOf("tls.crt"))
		if caBlock == nil || crtBlock == nil {
			t.Fatal("ca.crt or tls.crt is not PEM")
		}
		ca, err := x509.ParseCertificate(caBlock.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		crt, err := x509.ParseCertificate(crtBlock.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		if _, err := crt.Verify(x509.VerifyOptions{Roots: pool, DNSName: "ward-admission.ward.svc"}); err != nil {
			t.Errorf("serving certificate does not verify for the Service name: %v", err)
		}
		for _, kind := range []string{"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"} {
			w := find(objs, kind, "ward-admission.ward")
			cb := w["webhooks"].([]any)[0].(map[string]any)["clientConfig"].(map[string]any)["caBundle"]
			if cb != data["ca.crt"] {
				t.Errorf("%s caBundle is not the Secret's CA", kind)
			}
		}
		dep := find(objs, "Deployment", "ward-admission")
		for _, v := range podSpec(dep)["volumes"].([]any) {
			if v.(map[string]any)["name"] == "tls" && v.(map[string]any)["secret"].(map[string]any)["items"] != nil {
				t.Error("helm mode maps certgen key names")
			}
		}
	})
	t.Run("certManager", func(t *testing.T) {
		objs := render(t, map[string]any{"admission": map[string]any{"certs": map[string]any{"mode": "certManager"}}})
		if find(objs, "Certificate", "ward-admission") == nil || find(objs, "Issuer", "ward-admission-ca") == nil {
			t.Fatal("cert-manager Certificate or CA Issuer missing")
		}
		w := find(objs, "ValidatingWebhookConfiguration", "ward-admission.ward")
		if w.str("metadata", "annotations", "cert-manager.io/inject-ca-from") != "ward/ward-admission" {
			t.Errorf("no cainjector annotation: %v", w["metadata"])
		}
		if find(objs, "Job", "ward-admission-certgen-create") != nil || find(objs, "Secret", "ward-admission-tls") != nil {
			t.Error("hook Job or literal Secret in certManager mode")
		}
		objs = render(t, map[string]any{"admission": map[string]any{"certs": map[string]any{"mode": "certManager",
			"certManager": map[string]any{"issuerRef": map[string]any{"name": "corp", "kind": "ClusterIssuer"}}}}})
		if find(objs, "Issuer", "ward-admission-ca") != nil {
			t.Error("own CA chain rendered with an issuerRef")
		}
		ref := find(objs, "Certificate", "ward-admission")["spec"].(map[string]any)["issuerRef"].(map[string]any)
		if ref["name"] != "corp" || ref["kind"] != "ClusterIssuer" {
			t.Errorf("issuerRef = %v", ref)
		}
	})
}

// TestToggles renders with components off and options on.
func TestToggles(t *testing.T) {
	objs := render(t, map[string]any{
		"sensor":    map[string]any{"enabled": false},
		"admission": map[string]any{"enabled": false},
		"posture":   map[string]any{"enabled": false},
		"server": map[string]any{"tls": map[string]any{"secretName": "ward-tls"},
			"ingress": map[string]any{"enabled": true, "tlsSecretName": "ward-ingress-tls", "host": "ward.corp.example"}},
	})
	for _, o := range objs {
		if n := o.str("metadata", "name"); strings.Contains(n, "sensor") || strings.Contains(n, "admission") || strings.Contains(n, "posture") {
			t.Errorf("%s rendered with its component disabled", o.id())
		}
	}
	if find(objs, "Ingress", "ward-server") == nil {
		t.Error("Ingress missing")
	}
	sc := containers(find(objs, "Deployment", "ward-server"))[0]
	if !slices.Contains(strs(sc["args"]), "--tls-cert") || sc["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["scheme"] != "HTTPS" {
		t.Errorf("TLS server: args %v probe %v", sc["args"], sc["readinessProbe"])
	}

	objs = render(t, map[string]any{"posture": map[string]any{"rbac": map[string]any{"readSecrets": true}},
		"sensor": map[string]any{"containerRuntime": "cri-o"}, "server": map[string]any{"tls": map[string]any{"secretName": "ward-tls"}}})
	cr := find(objs, "ClusterRole", "ward-posture-ward")
	var secrets bool
	for _, r := range cr["rules"].([]any) {
		if slices.Contains(strs(r.(map[string]any)["resources"]), "secrets") {
			secrets = true
		}
	}
	if !secrets {
		t.Error("posture.rbac.readSecrets did not add secrets")
	}
	ds := find(objs, "DaemonSet", "ward-sensor")
	var buf bytes.Buffer
	_ = yaml.NewEncoder(&buf).Encode(map[string]any(ds))
	if !strings.Contains(buf.String(), "/var/lib/containers/storage/overlay-containers") || strings.Contains(buf.String(), "/run/containerd") {
		t.Error("cri-o runtime mounts wrong")
	}
	args := strs(containers(ds)[0]["args"])
	if i := slices.Index(args, "--server"); i < 0 || args[i+1] != "https://ward-server.ward.svc:8080" || !slices.Contains(args, "--server-ca") {
		t.Errorf("sensor args with a TLS server = %q", args)
	}

	objs = render(t, map[string]any{"imagePullSecrets": []any{map[string]any{"name": "regcred"}}})
	pods := 0
	for _, o := range objs {
		switch o.str("kind") {
		case "Deployment", "DaemonSet", "CronJob", "Job":
			pods++
			ips, _ := podSpec(o)["imagePullSecrets"].([]any)
			if len(ips) != 1 || ips[0].(map[string]any)["name"] != "regcred" {
				t.Errorf("%s imagePullSecrets = %v", o.id(), podSpec(o)["imagePullSecrets"])
			}
		}
	}
	if pods != 6 {
		t.Errorf("%d pod templates, want 6", pods)
	}
}
