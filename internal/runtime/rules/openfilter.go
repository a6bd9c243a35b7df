package rules

import (
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/runtime/event"
)

// OpenFilter describes the opens that some enabled rule could match, for
// in-kernel filtering: an open of a canonical absolute path (no "/.", no
// "//", no trailing "/") that matches none of the patterns, and is not a
// directory on the way to a prefix, can be dropped before it reaches user
// space. Relative and non-canonical paths must always be delivered (their
// fd.name is only known after resolution), and so must opens of
// directories (O_DIRECTORY, O_PATH), which later *at calls and fchdir
// resolve against.
type OpenFilter struct {
	// All is true when opens of any path must be delivered: some rule can
	// match an open whatever its path, or reads the fd table on other
	// events where a file's name or type matters.
	All bool
	// Prefixes and Suffixes: the path of an open some rule can match
	// starts with one of Prefixes or ends with one of Suffixes.
	Prefixes []string
	Suffixes []string
	// Why names the rule that made All true.
	Why string
}

// pathPreds is what a condition says about fd.name on an open event:
// all=true means nothing; otherwise fd.name starts with a prefix or ends
// with a suffix, or the raw path is not canonical (the empty predicate
// set: such paths are always delivered).
type pathPreds struct {
	all      bool
	prefixes []string
	suffixes []string
}

func (p pathPreds) cost() int { return len(p.prefixes) + 2*len(p.suffixes) }

var predsAll = pathPreds{all: true}

// OpenFilter derives the open filter from the enabled rules.
func (e *Engine) OpenFilter() OpenFilter {
	var f OpenFilter
	seenP, seenS := map[string]bool{}, map[string]bool{}
	for _, r := range e.rules {
		matchesOpen := r.EventTypes == nil
		other := r.EventTypes == nil
		for _, t := range r.EventTypes {
			if t.IsOpen() {
				matchesOpen = true
			} else {
				other = true
			}
		}
		if other && r.readsFDTable && !r.notFileFD {
			return OpenFilter{All: true, Why: r.Name}
		}
		if !matchesOpen {
			continue
		}
		if r.openPreds.all {
			return OpenFilter{All: true, Why: r.Name}
		}
		for _, p := range r.openPreds.prefixes {
			if !seenP[p] {
				seenP[p] = true
				f.Prefixes = append(f.Prefixes, p)
			}
		}
		for _, s := range r.openPreds.suffixes {
			if !seenS[s] {
				seenS[s] = true
				f.Suffixes = append(f.Suffixes, s)
			}
		}
	}
	sort.Strings(f.Prefixes)
	sort.Strings(f.Suffixes)
	return f
}

// readsFDTable reports whether one of the fields takes its value from the
// process's fd table (filled by earlier opens) rather than from the event.
func readsFDTable(fields []string) bool {
	for _, f := range fields {
		if strings.HasPrefix(f, "fd.") || strings.HasPrefix(f, "proc.stdin.") || strings.HasPrefix(f, "proc.stdout.") ||
			strings.HasPrefix(f, "proc.stderr.") || f == "proc.fdopencount" || strings.HasPrefix(f, "evt.abspath") {
			return true
		}
	}
	return false
}

// openPathPreds derives what a condition requires of fd.name on opens.
func openPathPreds(cp *compiler, n Node) pathPreds {
	switch n := n.(type) {
	case *AndNode:
		best := predsAll
		for _, k := range n.Kids {
			if p := openPathPreds(cp, k); !p.all && (best.all || p.cost() < best.cost()) {
				best = p
			}
		}
		return best
	case *OrNode:
		var out pathPreds
		for _, k := range n.Kids {
			p := openPathPreds(cp, k)
			if p.all {
				return predsAll
			}
			out.prefixes = append(out.prefixes, p.prefixes...)
			out.suffixes = append(out.suffixes, p.suffixes...)
		}
		return out
	case *MacroRef:
		return inMacro(cp, n, predsAll, func(x Node) pathPreds { return openPathPreds(cp, x) })
	case *CmpNode:
		return cmpPathPreds(cp, n)
	}
	return predsAll
}

func cmpPathPreds(cp *compiler, n *CmpNode) pathPreds {
	f := n.Field
	if len(f.Trans) > 0 || f.HasArg || n.ValField != nil {
		return predsAll
	}
	vals := cp.listValues(n.Vals)
	if len(vals) == 0 {
		return predsAll
	}
	var out pathPreds
	switch f.Name {
	case "fd.name":
		switch n.Op {
		case "=", "in", "startswith", "pmatch":
			out.prefixes = vals
		case "endswith":
			out.suffixes = vals
		case "glob":
			for _, v := range vals {
				i := strings.IndexAny(v, "*?[\\")
				if i < 0 {
					i = len(v)
				}
				if i == 0 {
					return predsAll
				}
				out.prefixes = append(out.prefixes, v[:i])
			}
		default:
			return predsAll
		}
	case "fd.directory":
		// The directory is fd.name up to its last '/': a file in it, or
		// below it for pmatch (a directory prefix of whole components),
		// has fd.name starting with the directory and a '/'.
		switch n.Op {
		case "=", "in", "pmatch":
			for _, v := range vals {
				out.prefixes = append(out.prefixes, strings.TrimSuffix(v, "/")+"/")
			}
		case "startswith":
			out.prefixes = vals
		default:
			return predsAll
		}
	case "fd.filename":
		if n.Op != "=" && n.Op != "in" {
			return predsAll
		}
		for _, v := range vals {
			if v == "" || strings.Contains(v, "/") {
				return predsAll
			}
			out.suffixes = append(out.suffixes, "/"+v)
		}
	case "fd.nameraw":
		// A raw path containing "../", "/./" or "//" is not canonical, and
		// those are always delivered: no pattern needed.
		if n.Op != "contains" {
			return predsAll
		}
		for _, v := range vals {
			if !strings.Contains(v, "../") && !strings.Contains(v, "/./") && !strings.Contains(v, "//") {
				return predsAll
			}
		}
		return pathPreds{}
	default:
		return predsAll
	}
	for _, p := range out.prefixes {
		if p == "" || p[0] != '/' {
			return predsAll // fd.name of an open is absolute
		}
	}
	for _, s := range out.suffixes {
		if s == "" {
			return predsAll
		}
	}
	return out
}

// notFileFD reports whether a condition implies that the event's fd is
// not a file or directory (fd.type / fd.typechar restricted to other
// kinds), so filtered opens cannot change its outcome.
func notFileFD(cp *compiler, n Node) bool {
	switch n := n.(type) {
	case *AndNode:
		for _, k := range n.Kids {
			if notFileFD(cp, k) {
				return true
			}
		}
		return false
	case *OrNode:
		for _, k := range n.Kids {
			if !notFileFD(cp, k) {
				return false
			}
		}
		return len(n.Kids) > 0
	case *MacroRef:
		return inMacro(cp, n, false, func(x Node) bool { return notFileFD(cp, x) })
	case *CmpNode:
		f := n.Field
		if len(f.Trans) > 0 || f.HasArg || n.ValField != nil || (n.Op != "=" && n.Op != "in") {
			return false
		}
		var file []string
		switch f.Name {
		case "fd.type":
			file = []string{event.FDFile.String(), event.FDDirectory.String()}
		case "fd.typechar":
			file = []string{event.FDFile.Char(), event.FDDirectory.Char()}
		default:
			return false
		}
		vals := cp.listValues(n.Vals)
		for _, v := range vals {
			for _, bad := range file {
				if v == bad {
					return false
				}
			}
		}
		return len(vals) > 0
	}
	return false
}

// inMacro applies f to a macro's condition (dflt for an unknown macro or
// past 32 levels of nesting).
func inMacro[T any](cp *compiler, n *MacroRef, dflt T, f func(Node) T) T {
	m := cp.rs.macros[n.Name]
	if m == nil || m.ast == nil || len(cp.stack) >= 32 {
		return dflt
	}
	cp.stack = append(cp.stack, n.Name)
	defer func() { cp.stack = cp.stack[:len(cp.stack)-1] }()
	return f(m.ast)
}

// Keeps reports whether the kernel delivers an open of path with these
// flags under the filter: the model of the sensor's open_wanted (the
// sensor truncates patterns to 64 bytes and delivers paths of 255 bytes or
// more, which only widens what it keeps).
func (f OpenFilter) Keeps(path string, flags uint32) bool {
	if f.All || flags&(event.ODirectory|event.OPath) != 0 {
		return true
	}
	if path == "" || path[0] != '/' || path[len(path)-1] == '/' ||
		strings.Contains(path, "//") || strings.Contains(path, "/.") {
		return true
	}
	for _, p := range f.Prefixes {
		if strings.HasPrefix(path, p) || (len(path) < len(p) && strings.HasPrefix(p, path) && p[len(path)] == '/') {
			return true
		}
	}
	for _, s := range f.Suffixes {
		if strings.HasSuffix(path, s) {
			return true
		}
	}
	return false
}
