package jobs

import (
	"fmt"
	"strings"
)

func fmtNS(tmpl, ns string) string { return fmt.Sprintf(tmpl, ns) }

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
