// Package defaults embeds Ward's own default runtime rule set (Falco rule
// syntax, MITRE ATT&CK tags), used by `ward runtime` when no -r is given.
// The catalogue is in docs/runtime.md.
package defaults

import _ "embed"

//go:embed ward_rules.yaml
var wardRules []byte

// Name is the name the embedded file reports in errors and alerts.
const Name = "ward_rules.yaml"

// File returns the embedded rule file's name and content (a copy).
func File() (string, []byte) {
	return Name, append([]byte(nil), wardRules...)
}
