package report

import (
	"strconv"
	"strings"
)

// A fast path for the YAML of one PolicyReport result: the fixed shape
// written directly when every string in it is one go.yaml.in/yaml/v2
// would emit as a plain scalar (ASCII, no indicator it would quote, not
// a word or number it would resolve to another type), folded at the same
// columns as the emitter folds long plain scalars. Any other result goes
// through the YAML library (resultYAML). The differential and fuzz tests
// of policyreport_test.go hold both to sigs.k8s.io/yaml's bytes.

// yamlBestWidth is the emitter's line width: a plain scalar breaks at a
// space once the column is past it.
const yamlBestWidth = 80

// yamlWords are the plain scalars yaml.v2 resolves to a bool or null.
var yamlWords = map[string]bool{}

func init() {
	for _, w := range []string{"y", "yes", "true", "on", "n", "no", "false", "off", "null"} {
		yamlWords[w] = true
		yamlWords[strings.ToUpper(w)] = true
		yamlWords[strings.ToUpper(w[:1])+w[1:]] = true
	}
}

// plainSafe reports whether yaml.v2 writes s as a plain scalar in a block
// mapping value (conservatively: false sends the result to the library).
func plainSafe(s string) bool {
	if s == "" || s[len(s)-1] == ' ' {
		return false
	}
	c0 := s[0]
	alpha := c0 >= 'a' && c0 <= 'z' || c0 >= 'A' && c0 <= 'Z'
	digit := c0 >= '0' && c0 <= '9'
	if !alpha && !digit {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e:
			return false
		case c == ':' && (i+1 == len(s) || s[i+1] == ' '):
			return false
		case c == '#' && s[i-1] == ' ':
			return false
		}
	}
	if alpha {
		return !yamlWords[s]
	}
	// A leading digit: what resolve tries (timestamp, int, uint, float,
	// 0b binary, base 60) must all fail.
	if len(s) >= 5 && s[4] == '-' && strings.Trim(s[:4], "0123456789") == "" {
		return false
	}
	if strings.ContainsRune(s, ':') {
		return false
	}
	plain := strings.ReplaceAll(s, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return false
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return false
	}
	if strings.Trim(plain, "0123456789.eE+-") == "" || strings.HasPrefix(plain, "0b") {
		return false
	}
	return true
}

// appendPlain writes s (plainSafe) after "key: " that ends at column col,
// breaking at a space past yamlBestWidth onto a line indented by indent,
// as yaml_emitter_write_plain_scalar does.
func appendPlain(b []byte, s string, col, indent int) []byte {
	spaces := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != ' ' {
			b = append(b, c)
			col++
			spaces = false
			continue
		}
		if !spaces && col > yamlBestWidth && s[i+1] != ' ' {
			b = append(b, '\n')
			b = append(b, blanks[:indent]...)
			col = indent
		} else {
			b = append(b, ' ')
			col++
		}
		spaces = true
	}
	return append(b, '\n')
}

// yamlLine writes "prefix key: value" for a mapping whose keys are at
// column keyCol; false when value is not plainSafe.
func yamlLine(b []byte, prefix, key, value string, keyCol int) ([]byte, bool) {
	if !plainSafe(value) {
		return b, false
	}
	b = append(b, prefix...)
	b = append(b, key...)
	b = append(b, ": "...)
	return appendPlain(b, value, keyCol+len(key)+2, keyCol+2), true
}

// propertyOrder is the key order of the properties PolicyResult sets.
var propertyOrder = []string{"fieldPath", "fingerprint", "suppressed", "title", "vulnerability"}

// appendResultYAML appends the result as a sequence item, or reports
// false (b unchanged) when the fast path does not apply.
func appendResultYAML(b []byte, r *ReportResult) ([]byte, bool) {
	start := len(b)
	fail := func() ([]byte, bool) { return b[:start], false }
	prefix := "- "
	line := func(key, value string, omitEmpty bool) bool {
		if omitEmpty && value == "" {
			return true
		}
		var ok bool
		b, ok = yamlLine(b, prefix, key, value, 2)
		prefix = "  "
		return ok
	}
	if !line("category", r.Category, true) || !line("message", r.Message, true) || !line("policy", r.Policy, false) {
		return fail()
	}
	if len(r.Properties) > 0 {
		b = append(b, prefix+"properties:\n"...)
		prefix = "  "
		n := 0
		for _, k := range propertyOrder {
			v, ok := r.Properties[k]
			if !ok {
				continue
			}
			n++
			if b, ok = yamlLine(b, "    ", k, v, 4); !ok {
				return fail()
			}
		}
		if n != len(r.Properties) {
			return fail() // a key the fast path does not order
		}
	}
	if len(r.Resources) > 0 {
		b = append(b, prefix+"resources:\n"...)
		prefix = "  "
		for _, o := range r.Resources {
			p := "  - "
			for _, kv := range [][2]string{{"apiVersion", o.APIVersion}, {"kind", o.Kind}, {"name", o.Name}, {"namespace", o.Namespace}, {"uid", o.UID}} {
				if kv[1] == "" && kv[0] != "kind" && kv[0] != "name" {
					continue
				}
				var ok bool
				if b, ok = yamlLine(b, p, kv[0], kv[1], 4); !ok {
					return fail()
				}
				p = "    "
			}
		}
	}
	if !line("result", r.Result, false) || !line("rule", r.Rule, true) {
		return fail()
	}
	b = append(b, prefix+"scored: "+strconv.FormatBool(r.Scored)+"\n"...)
	if !line("severity", r.Severity, true) || !line("source", r.Source, false) {
		return fail()
	}
	b = append(b, "  timestamp:\n    nanos: "...)
	b = strconv.AppendInt(b, int64(r.Timestamp.Nanos), 10)
	b = append(b, "\n    seconds: "...)
	b = strconv.AppendInt(b, r.Timestamp.Seconds, 10)
	return append(b, '\n'), true
}
