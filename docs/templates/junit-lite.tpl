<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="ward {{ escapeXML .Artifact.Name }}" tests="{{ len .Findings }}" failures="{{ len (failing .Findings) }}">
{{- range failing .Findings }}
  <testcase classname="{{ escapeXML .RuleID }}" name="{{ escapeXML .Location.Position }}">
    <failure type="{{ .Severity }}" message="{{ escapeXML .Title }}"/>
  </testcase>
{{- end }}
</testsuite>
