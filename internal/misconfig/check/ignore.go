package check

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
)

// Inline suppression comments: `# ward:ignore ID[,ID] reason` (or `//` where
// the format has such comments). "*" matches every check.
var (
	hashIgnore      = regexp.MustCompile(`(?:^|\s)#\s*ward:ignore[:=]?\s+([A-Za-z0-9_*,-]+)\s*(.*)$`)
	hashSlashIgnore = regexp.MustCompile(`(?:^|\s)(?:#|//)\s*ward:ignore[:=]?\s+([A-Za-z0-9_*,-]+)\s*(.*)$`)
)

type inlineIgnore struct {
	ids    []string
	reason string
	// alone is true when the comment is the whole line, so it also covers
	// the next line.
	alone bool
}

// Ignores are the inline suppression comments of one file.
type Ignores struct {
	byLine   map[int]inlineIgnore
	lines    []string
	prefixes []string
}

// ParseIgnores reads the `ward:ignore` comments of a file's lines.
// prefixes are the format's comment starters: "#" (YAML, Dockerfile), or
// "#" and "//" (Terraform).
func ParseIgnores(lines []string, prefixes ...string) Ignores {
	re := hashIgnore
	for _, p := range prefixes {
		if p == "//" {
			re = hashSlashIgnore
		}
	}
	ig := Ignores{byLine: map[int]inlineIgnore{}, lines: lines, prefixes: prefixes}
	for i, l := range lines {
		if !strings.Contains(l, "ward:ignore") {
			continue
		}
		if m := re.FindStringSubmatch(l); m != nil {
			ig.byLine[i+1] = inlineIgnore{ids: strings.Split(m[1], ","), reason: strings.TrimSpace(m[2]), alone: ig.comment(l)}
		}
	}
	return ig
}

// comment reports whether the line is a comment line.
func (ig Ignores) comment(l string) bool {
	t := strings.TrimSpace(l)
	for _, p := range ig.prefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func (ig Ignores) at(id string, line int, above bool) *finding.Suppression {
	c, ok := ig.byLine[line]
	if !ok || above && !c.alone {
		return nil
	}
	for _, x := range c.ids {
		if strings.EqualFold(x, id) || x == "*" {
			return &finding.Suppression{Kind: "inline", Reason: c.reason, Source: "line " + strconv.Itoa(line)}
		}
	}
	return nil
}

// Match looks for an ignore of check id on the finding's line, on the line
// before it (a comment line), on the owner's line (the instruction,
// service or resource the finding belongs to), and in the block of comment
// lines right above the owner.
func (ig Ignores) Match(id string, line, ownerLine int) *finding.Suppression {
	if len(ig.byLine) == 0 {
		return nil
	}
	if s := ig.at(id, line, false); s != nil {
		return s
	}
	if s := ig.at(id, line-1, true); s != nil {
		return s
	}
	if s := ig.at(id, ownerLine, false); s != nil {
		return s
	}
	for l := ownerLine - 1; l >= 1 && l <= len(ig.lines); l-- {
		if !ig.comment(ig.lines[l-1]) {
			break
		}
		if s := ig.at(id, l, true); s != nil {
			return s
		}
	}
	return nil
}
