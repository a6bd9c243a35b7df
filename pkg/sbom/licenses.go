package sbom

import (
	"sort"
	"strings"
)

// spdxIDs are common SPDX licence identifiers (a test checks each against
// the official list). A licence outside this set is written by name, or as
// an expression when it is one.
var spdxIDs = map[string]bool{
	"0BSD": true, "AFL-3.0": true, "AGPL-3.0-only": true, "AGPL-3.0-or-later": true,
	"Apache-1.1": true, "Apache-2.0": true, "Artistic-1.0": true, "Artistic-1.0-Perl": true,
	"Artistic-2.0": true, "BSD-1-Clause": true, "BSD-2-Clause": true, "BSD-3-Clause": true,
	"BSD-4-Clause": true, "BSL-1.0": true, "CC-BY-3.0": true, "CC-BY-4.0": true, "CC-BY-SA-4.0": true,
	"CC0-1.0": true, "CDDL-1.0": true, "CDDL-1.1": true, "EPL-1.0": true, "EPL-2.0": true,
	"EUPL-1.2": true, "FTL": true, "GFDL-1.2-or-later": true, "GFDL-1.3-only": true,
	"GFDL-1.3-or-later": true, "GPL-1.0-or-later": true, "GPL-2.0-only": true,
	"GPL-2.0-or-later": true, "GPL-3.0-only": true, "GPL-3.0-or-later": true, "ISC": true,
	"LGPL-2.0-only": true, "LGPL-2.0-or-later": true, "LGPL-2.1-only": true,
	"LGPL-2.1-or-later": true, "LGPL-3.0-only": true, "LGPL-3.0-or-later": true, "MIT": true,
	"MIT-0": true, "MPL-1.1": true, "MPL-2.0": true, "MS-PL": true, "NCSA": true, "OpenSSL": true,
	"PHP-3.01": true, "PSF-2.0": true, "Python-2.0": true, "Ruby": true, "Unicode-DFS-2016": true,
	"Unlicense": true, "Vim": true, "W3C": true, "WTFPL": true, "X11": true, "Zlib": true,
	"zlib-acknowledgement": true, "curl": true, "bzip2-1.0.6": true, "Sleepycat": true,
	"PostgreSQL": true, "OFL-1.1": true, "BlueOak-1.0.0": true, "Unicode-3.0": true,
}

// isSPDXExpression reports whether s is made only of SPDX-expression
// tokens: identifiers (letters, digits, ".", "-", "+", ":"), AND, OR, WITH
// and parentheses.
func isSPDXExpression(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	depth := 0
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)) {
		switch tok {
		case "(":
			depth++
		case ")":
			depth--
			if depth < 0 {
				return false
			}
		case "AND", "OR", "WITH":
		default:
			for _, r := range tok {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' || r == ':') {
					return false
				}
			}
		}
	}
	return depth == 0
}

// KnownSPDXIDs lists the licence identifiers written as CycloneDX ids.
func KnownSPDXIDs() []string {
	out := make([]string, 0, len(spdxIDs))
	for id := range spdxIDs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
