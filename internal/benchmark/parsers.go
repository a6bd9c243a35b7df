package benchmark

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// setting is one key = value assignment in a config file.
type setting struct {
	Key   string
	Value string
	File  string
	Line  int
}

// ---- sysctl.conf / sysctl.d ----

// sysctlDirs are the sysctl.d directories in precedence order: a file name
// in an earlier directory masks the same name in a later one (sysctl.d(5)).
var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// parseSysctlText parses one sysctl.d file. Keys are normalised to dotted
// form ("net/ipv4/ip_forward" reads as "net.ipv4.ip_forward"); a leading
// "-" (ignore errors) is dropped.
func parseSysctlText(name string, data []byte) ([]setting, error) {
	lines, err := splitLines(name, data)
	if err != nil {
		return nil, err
	}
	var out []setting
	for _, l := range lines {
		s := strings.TrimSpace(l.text)
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return out, fmt.Errorf("%s:%d: line is not key = value", name, l.n)
		}
		k = strings.TrimPrefix(strings.TrimSpace(k), "-")
		k = normSysctlKey(k)
		if k == "" {
			return out, fmt.Errorf("%s:%d: empty key", name, l.n)
		}
		out = append(out, setting{Key: k, Value: strings.Join(strings.Fields(v), " "), File: name, Line: l.n})
	}
	return out, nil
}

// normSysctlKey makes a key dotted: the first separator decides which one
// is used (sysctl.d(5)).
func normSysctlKey(k string) string {
	k = strings.TrimSpace(k)
	slash, dot := strings.IndexByte(k, '/'), strings.IndexByte(k, '.')
	if slash >= 0 && (dot < 0 || slash < dot) {
		k = strings.ReplaceAll(strings.Trim(k, "/"), "/", ".")
	}
	return k
}

// sysctlFiles lists the files applied at boot, in application order:
// sysctl.d files sorted by name across all directories (the first
// directory wins for a repeated name), then /etc/sysctl.conf.
func sysctlFiles(r *rootFS) []string {
	byName := map[string]string{}
	var names []string
	for _, d := range sysctlDirs {
		entries, err := r.readDir(d)
		if err != nil {
			continue
		}
		for _, n := range entries {
			if !strings.HasSuffix(n, ".conf") {
				continue
			}
			if _, ok := byName[n]; ok {
				continue
			}
			byName[n] = path.Join(d, n)
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var files []string
	seen := map[string]bool{}
	for _, n := range names {
		p := byName[n]
		rel, err := r.resolve(p)
		if err != nil || seen[rel] {
			continue // masked by a link to /dev/null or unreadable
		}
		seen[rel] = true
		files = append(files, p)
	}
	if rel, err := r.resolve("/etc/sysctl.conf"); err == nil && !seen[rel] {
		files = append(files, "/etc/sysctl.conf")
	}
	return files
}

// sysctlLookup returns the last assignment of key (later files override
// earlier ones). Glob keys ("net.ipv4.conf.*.rp_filter") match.
func sysctlLookup(settings []setting, key string) (setting, bool) {
	key = normSysctlKey(key)
	for i := len(settings) - 1; i >= 0; i-- {
		s := settings[i]
		if s.Key == key {
			return s, true
		}
		if strings.ContainsAny(s.Key, "*?[") {
			pat := strings.ReplaceAll(s.Key, ".", "/")
			if ok, _ := path.Match(pat, strings.ReplaceAll(key, ".", "/")); ok {
				return s, true
			}
		}
	}
	return setting{}, false
}

// ---- login.defs and generic key/value files ----

// parseKeyValue parses "KEY VALUE" (sep "") or "key = value" files.
// Comments start with '#'; INI section headers are skipped. Later
// assignments come later in the result.
func parseKeyValue(name string, data []byte, sep string) ([]setting, error) {
	lines, err := splitLines(name, data)
	if err != nil {
		return nil, err
	}
	var out []setting
	for _, l := range lines {
		s := strings.TrimSpace(l.text)
		if s == "" || s[0] == '#' || s[0] == ';' || (s[0] == '[' && strings.HasSuffix(s, "]")) {
			continue
		}
		var k, v string
		if sep == "" {
			f := strings.Fields(s)
			k = f[0]
			v = strings.TrimSpace(strings.TrimPrefix(s, k))
		} else {
			var ok bool
			k, v, ok = strings.Cut(s, sep)
			if !ok {
				continue
			}
		}
		v = strings.TrimSpace(v)
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		v = strings.Trim(v, `"`)
		out = append(out, setting{Key: strings.TrimSpace(k), Value: v, File: name, Line: l.n})
	}
	return out, nil
}

// lastSetting returns the last assignment of key (case-insensitive when fold).
func lastSetting(settings []setting, key string, fold bool) (setting, bool) {
	for i := len(settings) - 1; i >= 0; i-- {
		if settings[i].Key == key || (fold && strings.EqualFold(settings[i].Key, key)) {
			return settings[i], true
		}
	}
	return setting{}, false
}

// ---- fstab and /proc/mounts ----

// mountEntry is one fstab or /proc/mounts line.
type mountEntry struct {
	Source  string
	Target  string
	FSType  string
	Options []string
	File    string
	Line    int
}

// parseMounts parses fstab(5) / proc mounts format, decoding octal escapes.
func parseMounts(name string, data []byte) ([]mountEntry, error) {
	lines, err := splitLines(name, data)
	if err != nil {
		return nil, err
	}
	var out []mountEntry
	for _, l := range lines {
		s := strings.TrimSpace(l.text)
		if s == "" || s[0] == '#' {
			continue
		}
		f := strings.Fields(s)
		if len(f) < 3 {
			return out, fmt.Errorf("%s:%d: want at least 3 fields (spec file vfstype)", name, l.n)
		}
		e := mountEntry{Source: unescapeMount(f[0]), Target: unescapeMount(f[1]), FSType: f[2], File: name, Line: l.n}
		if len(f) > 3 {
			e.Options = strings.Split(f[3], ",")
		}
		out = append(out, e)
	}
	return out, nil
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// findMount returns the last entry mounted at target (later mounts hide
// earlier ones).
func findMount(ms []mountEntry, target string) (mountEntry, bool) {
	target = path.Clean(target)
	for i := len(ms) - 1; i >= 0; i-- {
		if path.Clean(ms[i].Target) == target {
			return ms[i], true
		}
	}
	return mountEntry{}, false
}

// ---- modprobe.d ----

var modprobeDirs = []string{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"}

// modprobeRule is what modprobe.d says about one module.
type modprobeRule struct {
	Install     string // command of the first install line
	InstallFile string
	InstallLine int
	Blacklisted bool
}

// parseModprobe adds one modprobe.d file to rules (first install wins, as
// in modprobe).
func parseModprobe(name string, data []byte, rules map[string]*modprobeRule) error {
	lines, err := splitLines(name, data)
	if err != nil {
		return err
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		s := strings.TrimSpace(l.text)
		// Continuation lines.
		for strings.HasSuffix(s, `\`) && i+1 < len(lines) {
			i++
			s = strings.TrimSuffix(s, `\`) + " " + strings.TrimSpace(lines[i].text)
		}
		if s == "" || s[0] == '#' {
			continue
		}
		f := strings.Fields(s)
		if len(f) < 2 {
			continue
		}
		mod := normModule(f[1])
		rule := rules[mod]
		if rule == nil {
			rule = &modprobeRule{}
			rules[mod] = rule
		}
		switch f[0] {
		case "install":
			if rule.InstallFile == "" {
				rule.Install = strings.Join(f[2:], " ")
				rule.InstallFile, rule.InstallLine = name, l.n
			}
		case "blacklist":
			rule.Blacklisted = true
		}
	}
	return nil
}

func normModule(m string) string { return strings.ReplaceAll(m, "-", "_") }

// installDisables reports whether an install command prevents loading.
func installDisables(cmd string) bool {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "/bin/true", "/bin/false", "/usr/bin/true", "/usr/bin/false", "true", "false":
		return true
	}
	return false
}

// ---- PAM ----

// pamLine is one module line of a PAM service file.
type pamLine struct {
	Type    string // auth, account, password, session (leading '-' dropped)
	Control string
	Module  string // base name, e.g. pam_unix.so
	Args    []string
	File    string
	Line    int
}

// parsePAMText parses a PAM service file. @include lines are returned as
// Type "@include" with Module set to the included service.
func parsePAMText(name string, data []byte) ([]pamLine, error) {
	lines, err := splitLines(name, data)
	if err != nil {
		return nil, err
	}
	var out []pamLine
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		s := strings.TrimSpace(l.text)
		for strings.HasSuffix(s, `\`) && i+1 < len(lines) {
			i++
			s = strings.TrimSuffix(s, `\`) + " " + strings.TrimSpace(lines[i].text)
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if strings.HasPrefix(s, "@include") {
			f := strings.Fields(s)
			if len(f) == 2 {
				out = append(out, pamLine{Type: "@include", Module: f[1], File: name, Line: l.n})
			}
			continue
		}
		toks := pamTokens(s)
		if len(toks) < 3 {
			return out, fmt.Errorf("%s:%d: PAM line needs type, control and module", name, l.n)
		}
		out = append(out, pamLine{
			Type: strings.ToLower(strings.TrimPrefix(toks[0], "-")), Control: toks[1],
			Module: path.Base(toks[2]), Args: toks[3:], File: name, Line: l.n,
		})
	}
	return out, nil
}

// pamTokens splits on whitespace, keeping [...] groups whole.
func pamTokens(s string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '[':
			depth++
			cur.WriteRune(r)
		case r == ']' && depth > 0:
			depth--
			cur.WriteRune(r)
		case (r == ' ' || r == '\t') && depth == 0:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// pamArg returns the value of a "name=value" argument, or "" and true for
// a bare flag "name".
func pamArg(args []string, name string) (string, bool) {
	for _, a := range args {
		a = strings.Trim(a, "[]")
		if a == name {
			return "", true
		}
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// ---- command-line flags ----

// flagValue finds --name in args ("--name=value", "--name value", or a bare
// "--name" meaning "true"). The last occurrence wins (as in pflag).
func flagValue(args []string, name string) (string, int, bool) {
	name = strings.TrimLeft(name, "-")
	val, idx, found := "", -1, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		k := strings.TrimLeft(a, "-")
		if k2, v, ok := strings.Cut(k, "="); ok {
			if k2 == name {
				val, idx, found = v, i, true
			}
			continue
		}
		if k != name {
			continue
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			val, idx, found = args[i+1], i, true
			i++
			continue
		}
		val, idx, found = "true", i, true
	}
	return val, idx, found
}
