## Ward: {{ escapeMarkdown .Artifact.Name }}

{{ .Summary.Total }} findings: {{ range $sev, $n := .Summary.BySeverity }}{{ $sev }} {{ $n }} · {{ end }}{{ .Summary.Errors }} scan errors

{{ with atLeast "HIGH" (failing .Findings) -}}
| Severity | Rule | Title | Where |
|---|---|---|---|
{{- range . }}
| {{ .Severity }} | {{ escapeMarkdown .RuleID }} | {{ escapeMarkdown (trunc 80 .Title) }} | {{ escapeMarkdown .Location.Position }} |
{{- end }}
{{- else -}}
No HIGH or CRITICAL findings.
{{- end }}
