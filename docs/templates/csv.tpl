kind,severity,rule_id,title,location,package,installed,fixed,fingerprint
{{- range .Findings }}
{{ .Kind }},{{ .Severity }},{{ escapeCSV .RuleID }},{{ escapeCSV .Title }},{{ escapeCSV .Location.Position }},{{ with .Package }}{{ escapeCSV .Name }},{{ escapeCSV .Version }}{{ else }},{{ end }},{{ with .Vulnerability }}{{ escapeCSV (join " " .FixedVersions) }}{{ end }},{{ .Fingerprint }}
{{- end }}
