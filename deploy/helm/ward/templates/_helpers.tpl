{{/*
Names, labels and the security settings shared by the templates.
*/}}

{{- define "ward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name prefix: the release name when it already contains the chart name. */}}
{{- define "ward.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a component's objects: ward.component (dict "root" . "c" "server"). */}}
{{- define "ward.component" -}}
{{- printf "%s-%s" (include "ward.fullname" .root) .c | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ward.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object of a component: ward.labels (dict "root" . "c" "server"). */}}
{{- define "ward.labels" -}}
helm.sh/chart: {{ include "ward.chart" .root }}
{{ include "ward.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ward
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels (immutable in Deployments and DaemonSets: keep them stable). */}}
{{- define "ward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ward.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .c }}
{{- end -}}

{{/* The image reference, by digest when one is set. */}}
{{- define "ward.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The server URL clients use. */}}
{{- define "ward.serverURL" -}}
{{- if .Values.serverURL -}}
{{- .Values.serverURL -}}
{{- else -}}
{{- $scheme := ternary "https" "http" (ne .Values.server.tls.secretName "") -}}
{{- printf "%s://%s.%s.svc:%v" $scheme (include "ward.component" (dict "root" . "c" "server")) .Release.Namespace .Values.server.service.port -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security context of the unprivileged components. */}}
{{- define "ward.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context of the unprivileged components. */}}
{{- define "ward.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* imagePullSecrets at an indentation: ward.imagePullSecrets (dict "root" . "indent" 6); nothing when unset. */}}
{{- define "ward.imagePullSecrets" -}}
{{- with .root.Values.imagePullSecrets }}
{{ printf "imagePullSecrets:\n%s" (toYaml .) | indent $.indent }}
{{- end }}
{{- end -}}

{{/* Volume of the ingest token (mounted as a file, never in the environment). */}}
{{- define "ward.tokenVolume" -}}
- name: token
  secret:
    secretName: {{ .Values.ingestToken.secretName }}
    defaultMode: 0440
    items:
      - key: {{ .Values.ingestToken.secretKey }}
        path: token
{{- if .Values.server.tls.secretName }}
- name: server-ca
  secret:
    secretName: {{ default .Values.server.tls.secretName .Values.server.tls.caSecretName }}
    defaultMode: 0444
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}

{{- define "ward.tokenMounts" -}}
- name: token
  mountPath: /var/run/ward/token
  readOnly: true
{{- if .Values.server.tls.secretName }}
- name: server-ca
  mountPath: /var/run/ward/server-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Client flags of the components that upload to the server. */}}
{{- define "ward.clientArgs" -}}
- --server
- {{ .url | quote }}
- --token-file
- /var/run/ward/token/token
{{- if .root.Values.server.tls.secretName }}
- --server-ca
- /var/run/ward/server-ca/ca.crt
{{- end }}
{{- end -}}

{{/* Name of the webhook configurations (one name for both kinds). */}}
{{- define "ward.webhookName" -}}
{{- printf "%s.%s" (include "ward.component" (dict "root" . "c" "admission")) .Release.Namespace | trunc 253 -}}
{{- end -}}

{{/* Secret of the webhook's serving certificate. */}}
{{- define "ward.admissionTLSSecret" -}}
{{- include "ward.component" (dict "root" . "c" "admission-tls") -}}
{{- end -}}

{{/* Annotations of the certificate generator's RBAC: Helm hooks of both phases. */}}
{{- define "ward.certgenHook" -}}
helm.sh/hook: pre-install,pre-upgrade,post-install,post-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}
