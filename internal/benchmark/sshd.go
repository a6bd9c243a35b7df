package benchmark

import (
	"fmt"
	"path"
	"strings"
)

const (
	maxIncludeDepth = 16
	maxSSHDFiles    = 256
)

// sshdEntry is one keyword line of an sshd configuration.
type sshdEntry struct {
	Key   string // lower-case keyword
	Value string // arguments as written (joined by one space)
	File  string // display path
	Line  int
	// Match is the Match criteria the line is under ("" for global).
	Match string
}

// sshdConfig is an sshd_config with its Include files expanded in place.
type sshdConfig struct {
	Entries []sshdEntry
}

// Global returns the effective value of key for a connection matched by
// no Match block: sshd uses the first value obtained.
func (c *sshdConfig) Global(key string) (sshdEntry, bool) {
	key = strings.ToLower(key)
	for _, e := range c.Entries {
		if e.Match == "" && e.Key == key {
			return e, true
		}
	}
	return sshdEntry{}, false
}

// Matched returns the first value of key inside each Match block (a
// connection matching that block gets it if no global value came first).
func (c *sshdConfig) Matched(key string) []sshdEntry {
	key = strings.ToLower(key)
	var out []sshdEntry
	seen := map[string]bool{}
	for _, e := range c.Entries {
		if e.Match != "" && e.Key == key && !seen[e.File+"\x00"+e.Match] {
			seen[e.File+"\x00"+e.Match] = true
			out = append(out, e)
		}
	}
	return out
}

// sshdReader parses sshd_config files from a root.
type sshdReader struct {
	r     *rootFS
	files int
}

// parseSSHD reads the server configuration starting at p (an in-root
// absolute path), expanding Include directives (globs, relative to
// /etc/ssh) in place.
func parseSSHD(r *rootFS, p string) (*sshdConfig, error) {
	sr := &sshdReader{r: r}
	cfg := &sshdConfig{}
	if err := sr.file(cfg, p, "", 0); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (sr *sshdReader) file(cfg *sshdConfig, p, match string, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: Include nested deeper than %d", sr.r.display(p), maxIncludeDepth)
	}
	sr.files++
	if sr.files > maxSSHDFiles {
		return fmt.Errorf("%s: more than %d included files", sr.r.display(p), maxSSHDFiles)
	}
	data, err := sr.r.readFile(p)
	if err != nil {
		return err
	}
	name := sr.r.display(p)
	entries, includes, err := parseSSHDText(name, data, match)
	if err != nil {
		return err
	}
	// Splice includes in order of appearance.
	inc := 0
	for _, e := range entries {
		if e.Key != "include" {
			cfg.Entries = append(cfg.Entries, e)
			continue
		}
		spec := includes[inc]
		inc++
		for _, pat := range strings.Fields(spec.Value) {
			if !strings.HasPrefix(pat, "/") && !strings.HasPrefix(pat, "~") {
				pat = path.Join("/etc/ssh", pat)
			}
			if strings.HasPrefix(pat, "~") {
				continue // user-relative includes apply to ssh_config, not sshd
			}
			matches, err := sr.r.glob(pat)
			if err != nil {
				return fmt.Errorf("%s:%d: Include %q: %w", name, e.Line, pat, err)
			}
			for _, m := range matches {
				if err := sr.file(cfg, m, e.Match, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// parseSSHDText parses one file. It returns all entries in order (Include
// lines included, key "include") and the Include entries separately.
func parseSSHDText(name string, data []byte, match string) ([]sshdEntry, []sshdEntry, error) {
	lines, err := splitLines(name, data)
	if err != nil {
		return nil, nil, err
	}
	var out, incs []sshdEntry
	for _, l := range lines {
		key, val, ok := splitSSHDLine(l.text)
		if !ok {
			continue
		}
		if key == "match" {
			// A Match line in an included file ends at the end of that file;
			// "Match all" returns to global scope.
			if strings.EqualFold(strings.TrimSpace(val), "all") {
				match = ""
			} else {
				match = val
			}
			continue
		}
		e := sshdEntry{Key: key, Value: val, File: name, Line: l.n, Match: match}
		out = append(out, e)
		if key == "include" {
			incs = append(incs, e)
		}
	}
	return out, incs, nil
}

// splitSSHDLine splits "Keyword args" or "Keyword=args", dropping comments
// and surrounding quotes.
func splitSSHDLine(s string) (string, string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "#") {
		return "", "", false
	}
	i := strings.IndexAny(s, " \t=")
	if i < 0 {
		return strings.ToLower(s), "", true
	}
	key := strings.ToLower(s[:i])
	if key == "" {
		return "", "", false // "=value" has no keyword
	}
	rest := strings.TrimLeft(s[i:], " \t")
	rest = strings.TrimPrefix(rest, "=")
	rest = strings.TrimSpace(rest)
	// Strip a trailing comment (sshd treats an unquoted # after whitespace as a comment).
	if j := strings.Index(rest, " #"); j >= 0 {
		rest = strings.TrimSpace(rest[:j])
	}
	if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
		rest = rest[1 : len(rest)-1]
	}
	return key, strings.Join(strings.Fields(rest), " "), true
}
