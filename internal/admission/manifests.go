package admission

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// ManifestOptions configure Manifests.
type ManifestOptions struct {
	// Namespace the webhook runs in (excluded from its own webhooks, with
	// kube-system, so a broken webhook cannot lock itself out).
	Namespace string
	// Name of the Deployment, Service and webhook configurations
	// (default "ward-admission").
	Name string
	// Image of the ward binary.
	Image string
	// CertManager emits a cert-manager Issuer and Certificate plus the
	// cainjector annotation instead of a generated Secret and caBundle.
	CertManager bool
	// FailurePolicy is Fail (default) or Ignore.
	FailurePolicy string
	// Replicas of the Deployment (default 2).
	Replicas int
	// Validity of the generated certificates (default one year).
	Validity time.Duration
	// Policy, when set, is the admission policy file's content, shipped
	// in a ConfigMap and passed with --policy. PolicyName names it in errors.
	Policy     []byte
	PolicyName string
	// NamespaceLabels adds --namespace-labels and the ClusterRole that
	// lets the webhook read namespaces.
	NamespaceLabels bool
	// Certs overrides certificate generation (tests); nil generates.
	Certs *CertBundle
	// Now is the clock of certificate generation.
	Now func() time.Time
}

// WebhookTimeoutSeconds is the webhook configurations' timeoutSeconds:
// above the server's own HandlerTimeout so Ward answers before the API
// server gives up.
const WebhookTimeoutSeconds = 10

// ContainerPort is the port the webhook listens on in the Deployment.
const ContainerPort = 8443

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Manifests writes the YAML that installs the webhook with one `kubectl
// apply -f -`: ServiceAccount, (RBAC), policy ConfigMap, TLS Secret or
// cert-manager objects, Deployment, PodDisruptionBudget, Service,
// ValidatingWebhookConfiguration and MutatingWebhookConfiguration.
func Manifests(w io.Writer, o ManifestOptions) error {
	if o.Name == "" {
		o.Name = "ward-admission"
	}
	if o.FailurePolicy == "" {
		o.FailurePolicy = "Fail"
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	switch {
	case !dnsLabel.MatchString(o.Namespace):
		return fmt.Errorf("manifests: namespace %q: want a DNS label (lower-case letters, digits, '-')", o.Namespace)
	case !dnsLabel.MatchString(o.Name) || len(o.Name) > 50:
		return fmt.Errorf("manifests: name %q: want a DNS label of at most 50 characters", o.Name)
	case o.FailurePolicy != "Fail" && o.FailurePolicy != "Ignore":
		return fmt.Errorf("manifests: failure policy %q: want Fail or Ignore", o.FailurePolicy)
	case o.Image == "" || strings.ContainsFunc(o.Image, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return fmt.Errorf("manifests: image %q: want an image reference", o.Image)
	case o.Replicas < 1:
		return fmt.Errorf("manifests: replicas %d: want at least 1", o.Replicas)
	}
	if o.Policy != nil {
		if err := selfContained(o.PolicyName, o.Policy); err != nil {
			return err
		}
	}
	hosts := []string{
		o.Name + "." + o.Namespace + ".svc",
		o.Name + "." + o.Namespace + ".svc.cluster.local",
		o.Name + "." + o.Namespace,
		o.Name,
	}
	data := manifestData{ManifestOptions: o, Hosts: hosts, Port: ContainerPort, Timeout: WebhookTimeoutSeconds,
		Secret: o.Name + "-tls", PolicyText: string(o.Policy)}
	if !o.CertManager {
		cb := o.Certs
		if cb == nil {
			var err error
			cb, err = GenerateCerts(CertOptions{Hosts: hosts, Validity: o.Validity, CommonName: o.Name + "-ca", Now: o.Now})
			if err != nil {
				return fmt.Errorf("manifests: %w", err)
			}
		}
		enc := base64.StdEncoding.EncodeToString
		data.CA, data.Cert, data.Key = enc(cb.CACert), enc(cb.Cert), enc(cb.Key)
	}
	var b bytes.Buffer
	if err := manifestTmpl.Execute(&b, data); err != nil {
		return fmt.Errorf("manifests: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

type manifestData struct {
	ManifestOptions
	Hosts         []string
	Port, Timeout int
	Secret        string
	CA, Cert, Key string
	PolicyText    string
}

// selfContained refuses a policy that names local files: the Deployment
// only gets the policy file itself.
func selfContained(name string, data []byte) error {
	p, err := parseFile(name, data)
	if err != nil {
		return err
	}
	var local []string
	for _, c := range p.Admission.CEL.Paths {
		local = append(local, "admission.cel.paths: "+c)
	}
	if p.TrustedRoot != "" {
		local = append(local, "trustedRoot: "+p.TrustedRoot)
	}
	if v := p.Admission.Vulnerabilities; v != nil && v.Reports != "" {
		local = append(local, "admission.vulnerabilities.reports: "+v.Reports)
	}
	if v := p.Admission.Vulnerabilities; v != nil && v.Server != nil {
		if v.Server.TokenFile != "" {
			local = append(local, "admission.vulnerabilities.server.tokenFile: "+v.Server.TokenFile)
		}
		if v.Server.CAFile != "" {
			local = append(local, "admission.vulnerabilities.server.caFile: "+v.Server.CAFile)
		}
	}
	for _, r := range p.Rules {
		for _, s := range r.Signers {
			if s.Key != "" && !strings.Contains(s.Key, "-----BEGIN") {
				local = append(local, "rules["+r.Name+"].signers.key: "+s.Key)
			}
		}
		for _, a := range r.Attestations {
			for _, s := range a.Signers {
				if s.Key != "" && !strings.Contains(s.Key, "-----BEGIN") {
					local = append(local, "rules["+r.Name+"].attestations.signers.key: "+s.Key)
				}
			}
		}
	}
	if len(local) > 0 {
		return fmt.Errorf("manifests: policy %s names local files the Deployment would not have (inline keys as PEM, mount the rest yourself): %s",
			name, strings.Join(local, ", "))
	}
	return nil
}

var manifestTmpl = template.Must(template.New("m").Funcs(template.FuncMap{
	"q":    strconv.Quote,
	"list": func(s ...string) []string { return s },
	"literal": func(indent int, s string) string {
		// A literal block scalar when the text allows it, else a quoted
		// string (control characters, leading spaces).
		ok := s != "" && !strings.HasPrefix(s, " ") && !strings.ContainsFunc(s, func(r rune) bool {
			return r != '\n' && r != '\t' && !unicode.IsPrint(r)
		})
		if !ok {
			return strconv.Quote(s)
		}
		pad := strings.Repeat(" ", indent)
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		for i, l := range lines {
			if l != "" {
				lines[i] = pad + l
			}
		}
		return "|\n" + strings.Join(lines, "\n")
	},
}).Parse(manifestText))

const labels = `
    app.kubernetes.io/name: ward
    app.kubernetes.io/component: admission
    app.kubernetes.io/managed-by: ward`

const manifestText = `# Ward admission webhook: ` + "`ward admission manifests`" + ` output (docs/admission.md).
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{.Name}}
  namespace: {{.Namespace}}
  labels:` + labels + `
automountServiceAccountToken: false
{{- if .NamespaceLabels}}
---
# --namespace-labels reads GET /api/v1/namespaces/NAME, nothing else.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{.Name}}-{{.Namespace}}-namespaces
  labels:` + labels + `
rules:
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{.Name}}-{{.Namespace}}-namespaces
  labels:` + labels + `
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{.Name}}-{{.Namespace}}-namespaces
subjects:
  - kind: ServiceAccount
    name: {{.Name}}
    namespace: {{.Namespace}}
{{- end}}
{{- if .Policy}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{.Name}}-policy
  namespace: {{.Namespace}}
  labels:` + labels + `
data:
  policy.yaml: {{literal 4 .PolicyText}}
{{- end}}
{{- if .CertManager}}
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: {{.Name}}-selfsigned
  namespace: {{.Namespace}}
  labels:` + labels + `
spec:
  selfSigned: {}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {{.Name}}
  namespace: {{.Namespace}}
  labels:` + labels + `
spec:
  secretName: {{.Secret}}
  duration: 8760h
  renewBefore: 720h
  commonName: {{index .Hosts 0}}
  dnsNames:
{{- range .Hosts}}
    - {{.}}
{{- end}}
  privateKey:
    algorithm: ECDSA
    size: 256
    rotationPolicy: Always
  usages: [server auth, digital signature]
  issuerRef:
    name: {{.Name}}-selfsigned
    kind: Issuer
{{- else}}
---
# A fresh CA and serving certificate; the CA is the webhooks' caBundle.
apiVersion: v1
kind: Secret
metadata:
  name: {{.Secret}}
  namespace: {{.Namespace}}
  labels:` + labels + `
type: kubernetes.io/tls
data:
  ca.crt: {{.CA}}
  tls.crt: {{.Cert}}
  tls.key: {{.Key}}
{{- end}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{.Name}}
  namespace: {{.Namespace}}
  labels:` + labels + `
spec:
  replicas: {{.Replicas}}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: ward
      app.kubernetes.io/component: admission
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:` + `
        app.kubernetes.io/name: ward
        app.kubernetes.io/component: admission
        app.kubernetes.io/managed-by: ward
    spec:
      serviceAccountName: {{.Name}}
      automountServiceAccountToken: {{.NamespaceLabels}}
      enableServiceLinks: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: admission
          image: {{q .Image}}
          imagePullPolicy: IfNotPresent
          args:
            - admission
            - serve
            - --listen
            - ":{{.Port}}"
            - --tls-cert
            - /var/run/ward/tls/tls.crt
            - --tls-key
            - /var/run/ward/tls/tls.key
{{- if .NamespaceLabels}}
            - --namespace-labels
{{- end}}
{{- if .Policy}}
            - --policy
            - /etc/ward/policy.yaml
{{- end}}
          ports:
            - name: https
              containerPort: {{.Port}}
              protocol: TCP
          readinessProbe:
            httpGet:
              path: /readyz
              port: https
              scheme: HTTPS
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /healthz
              port: https
              scheme: HTTPS
            initialDelaySeconds: 5
            periodSeconds: 10
            failureThreshold: 6
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              cpu: "1"
              memory: 256Mi
          securityContext:
            allowPrivilegeEscalation: false
            privileged: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: tls
              mountPath: /var/run/ward/tls
              readOnly: true
{{- if .Policy}}
            - name: policy
              mountPath: /etc/ward
              readOnly: true
{{- end}}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        - name: tls
          secret:
            secretName: {{.Secret}}
            defaultMode: 0440
{{- if .Policy}}
        - name: policy
          configMap:
            name: {{.Name}}-policy
{{- end}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{.Name}}
  namespace: {{.Namespace}}
  labels:` + labels + `
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ward
      app.kubernetes.io/component: admission
---
apiVersion: v1
kind: Service
metadata:
  name: {{.Name}}
  namespace: {{.Namespace}}
  labels:` + labels + `
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: ward
    app.kubernetes.io/component: admission
  ports:
    - name: https
      port: 443
      targetPort: https
      protocol: TCP
{{- range $kind := list "Validating" "Mutating"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: {{$kind}}WebhookConfiguration
metadata:
  name: {{$.Name}}
  labels:` + labels + `
{{- if $.CertManager}}
  annotations:
    cert-manager.io/inject-ca-from: {{$.Namespace}}/{{$.Name}}
{{- end}}
webhooks:
  - name: {{if eq $kind "Validating"}}validate{{else}}mutate{{end}}.admission.ward.dev
    admissionReviewVersions: ["v1"]
    sideEffects: None
    failurePolicy: {{$.FailurePolicy}}
    matchPolicy: Equivalent
    timeoutSeconds: {{$.Timeout}}
{{- if eq $kind "Mutating"}}
    reinvocationPolicy: IfNeeded
{{- end}}
    clientConfig:
      service:
        namespace: {{$.Namespace}}
        name: {{$.Name}}
        path: {{if eq $kind "Validating"}}/validate{{else}}/mutate{{end}}
        port: 443
{{- if not $.CertManager}}
      caBundle: {{$.CA}}
{{- end}}
    namespaceSelector:
      matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values: [{{$.Namespace}}{{if ne $.Namespace "kube-system"}}, kube-system{{end}}]
    rules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["pods", "replicationcontrollers"]
        scope: Namespaced
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
        scope: Namespaced
      - apiGroups: ["batch"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["jobs", "cronjobs"]
        scope: Namespaced
{{- end}}
`
