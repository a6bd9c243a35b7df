package signing

import (
	"fmt"
	"regexp"
	"strings"
)

// Glob matches image repositories ("registry/path"): "*" matches within
// one path segment (no "/"), "**" matches any run of characters, "?" one
// character other than "/". Everything else is literal.
type Glob struct {
	src string
	re  *regexp.Regexp
}

// CompileGlob compiles a repository glob.
func CompileGlob(g string) (*Glob, error) {
	if g == "" {
		return nil, fmt.Errorf("glob: empty")
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", g, err)
	}
	return &Glob{src: g, re: re}, nil
}

// Match reports whether repo matches.
func (g *Glob) Match(repo string) bool { return g.re.MatchString(repo) }

func (g *Glob) String() string { return g.src }
