package benchmark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

const maxOffenders = 200

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func pass(expected, actual, p string, line int) Result {
	return Result{Status: finding.StatusPass, Expected: expected, Actual: actual, Path: p, Line: line}
}

func fail(expected, actual, p string, line int) Result {
	return Result{Status: finding.StatusFail, Expected: expected, Actual: actual, Path: p, Line: line}
}

func na(reason, p string) Result {
	return Result{Status: finding.StatusNotApplicable, Actual: reason, Path: p}
}

func errResult(err error, p string) Result {
	return Result{Status: finding.StatusError, Actual: err.Error(), Path: p}
}

func verdict(ok bool, expected, actual, p string, line int) Result {
	if ok {
		return pass(expected, actual, p, line)
	}
	return fail(expected, actual, p, line)
}

// probe dispatches on the probe type.
func (e *env) probe(c *Control) Result {
	p := &c.Probe
	switch p.Type {
	case ProbeFile:
		return e.probeFile(c)
	case ProbeSSHD:
		return e.probeSSHD(c)
	case ProbeSysctl:
		return e.probeSysctl(c)
	case ProbeLoginDefs:
		return e.probeKV(c, []string{"/etc/login.defs"}, "", false)
	case ProbeKeyValue:
		return e.probeKV(c, paths(p), p.Separator, true)
	case ProbePAM:
		return e.probePAM(c)
	case ProbeMount:
		return e.probeMount(c)
	case ProbeModule:
		return e.probeModule(c)
	case ProbeJSON, ProbeYAML:
		return e.probeDoc(c)
	case ProbeManifest:
		return e.probeManifest(c)
	case ProbeProcess:
		return e.probeProcess(c)
	case ProbeLines:
		return e.probeLines(c)
	case ProbePackage:
		return e.probePackage(c)
	case ProbeSockets:
		return e.probeSockets(c)
	case ProbeAccounts:
		return e.probeAccounts(c)
	case ProbeWalk:
		return e.probeWalk(c)
	case ProbeHost:
		return e.probeHost(c)
	}
	return Result{Status: finding.StatusError, Actual: "unknown probe type " + p.Type}
}

func paths(p *ProbeSpec) []string {
	var out []string
	if p.Path != "" {
		out = append(out, p.Path)
	}
	return append(out, p.Paths...)
}

func keys(p *ProbeSpec) []string {
	var out []string
	if p.Key != "" {
		out = append(out, p.Key)
	}
	return append(out, p.Keys...)
}

// ---- comparison ----

func values(p *ProbeSpec) []string {
	var out []string
	if p.Value != "" {
		out = append(out, p.Value)
	}
	return append(out, p.Values...)
}

func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 0, 64); err == nil {
		return float64(i), nil
	}
	return strconv.ParseFloat(s, 64)
}

// listItems splits a list value on commas and whitespace.
func listItems(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// expected describes what the probe wants.
func expected(p *ProbeSpec) string {
	vs := strings.Join(values(p), ", ")
	switch p.Op {
	case "eq":
		if len(values(p)) > 1 {
			return "one of " + vs
		}
		return vs
	case "ne":
		return "not " + vs
	case "in":
		return "one of " + vs
	case "not_in":
		return "none of " + vs
	case "ge":
		return ">= " + vs
	case "le":
		return "<= " + vs
	case "gt":
		return "> " + vs
	case "lt":
		return "< " + vs
	case "set":
		return "set"
	case "unset":
		return "not set"
	case "contains":
		return "includes " + vs
	case "not_contains":
		return "excludes " + vs
	case "regex":
		return "matches " + p.Value
	case "not_regex":
		return "does not match " + p.Value
	}
	return p.Op + " " + vs
}

// compare applies the probe's op to a value; set says whether the value
// was found (else the probe's default, if any, stands in). It returns the
// verdict and the value shown as "actual".
func compare(p *ProbeSpec, cp *compiledP, actual string, set bool) (bool, string) {
	shown := actual
	if !set {
		switch p.Op {
		case "unset":
			return true, "not set"
		case "set":
			return false, "not set"
		}
		if p.Default == nil {
			return false, "not set"
		}
		actual = *p.Default
		shown = "not set (default " + actual + ")"
	} else {
		switch p.Op {
		case "unset":
			return false, actual
		case "set":
			return strings.TrimSpace(actual) != "", actual
		}
	}
	a := strings.TrimSpace(actual)
	vs := values(p)
	eqAny := func() bool {
		for _, v := range vs {
			if strings.EqualFold(a, v) {
				return true
			}
		}
		return false
	}
	switch p.Op {
	case "eq", "in":
		return eqAny(), shown
	case "ne", "not_in":
		return !eqAny(), shown
	case "ge", "le", "gt", "lt":
		x, err := parseNumber(a)
		if err != nil {
			return false, shown + " (not a number)"
		}
		y, _ := parseNumber(p.Value)
		switch p.Op {
		case "ge":
			return x >= y, shown
		case "le":
			return x <= y, shown
		case "gt":
			return x > y, shown
		}
		return x < y, shown
	case "contains", "not_contains":
		items := map[string]bool{}
		for _, it := range listItems(a) {
			items[strings.ToLower(it)] = true
		}
		for _, v := range vs {
			has := items[strings.ToLower(v)]
			if p.Op == "contains" && !has {
				return false, shown
			}
			if p.Op == "not_contains" && has {
				return false, shown
			}
		}
		return true, shown
	case "regex":
		return cp != nil && cp.re != nil && cp.re.MatchString(a), shown
	case "not_regex":
		return cp != nil && cp.re != nil && !cp.re.MatchString(a), shown
	}
	return false, shown
}

// ---- file mode and owner ----

func unixMode(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

func (e *env) idNames(file string) map[uint32]string {
	var rows [][]string
	var err error
	if file == "/etc/passwd" {
		rows, err = e.passwd.get(func() ([][]string, error) { return e.colonFile("/etc/passwd") })
	} else {
		rows, err = e.group.get(func() ([][]string, error) { return e.colonFile("/etc/group") })
	}
	m := map[uint32]string{}
	if err != nil {
		return m
	}
	for _, f := range rows {
		if len(f) > 2 {
			if n, err := strconv.ParseUint(f[2], 10, 32); err == nil {
				if _, dup := m[uint32(n)]; !dup {
					m[uint32(n)] = f[0]
				}
			}
		}
	}
	return m
}

func ownerMatches(want string, id uint32, names map[uint32]string) bool {
	for _, w := range strings.Split(want, "|") {
		if n, err := strconv.ParseUint(w, 10, 32); err == nil && uint32(n) == id {
			return true
		}
		if name, ok := names[id]; ok && name == w {
			return true
		}
		if w == "root" && id == 0 {
			return true
		}
	}
	return false
}

func (e *env) probeFile(c *Control) Result {
	p := &c.Probe
	var exp []string
	if p.MaxMode != "" {
		exp = append(exp, "mode "+p.MaxMode+" or stricter")
	}
	if p.Owner != "" {
		exp = append(exp, "owner "+p.Owner)
	}
	if p.Group != "" {
		exp = append(exp, "group "+p.Group)
	}
	expect := strings.Join(exp, ", ")
	var files []string
	for _, pat := range paths(p) {
		m, err := e.r.glob(pat)
		if err != nil {
			return errResult(err, pat)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		shown := e.r.display(paths(p)[0])
		switch p.Missing {
		case "pass":
			return pass(expect, "absent", shown, 0)
		case "fail":
			return fail(expect, "absent", shown, 0)
		}
		return na("file absent", shown)
	}
	users, groups := e.idNames("/etc/passwd"), e.idNames("/etc/group")
	var offs []Offender
	var actuals []string
	for _, f := range files {
		st, _, err := e.r.stat(f)
		if err != nil {
			if isNotExist(err) {
				continue // dangling link
			}
			return errResult(err, e.r.display(f))
		}
		mode := unixMode(st.Mode())
		uid, gid, ok := fileOwner(st)
		owner, group := strconv.Itoa(int(uid)), strconv.Itoa(int(gid))
		if n, ok2 := users[uid]; ok2 {
			owner = n
		}
		if n, ok2 := groups[gid]; ok2 {
			group = n
		}
		act := fmt.Sprintf("%04o %s:%s", mode, owner, group)
		if !ok {
			act = fmt.Sprintf("%04o", mode)
		}
		actuals = append(actuals, act)
		var bad []string
		if c.compiled.hasMode && mode&^c.compiled.maxMode != 0 {
			bad = append(bad, fmt.Sprintf("mode %04o", mode))
		}
		if ok && p.Owner != "" && !ownerMatches(p.Owner, uid, users) {
			bad = append(bad, "owner "+owner)
		}
		if ok && p.Group != "" && !ownerMatches(p.Group, gid, groups) {
			bad = append(bad, "group "+group)
		}
		if len(bad) > 0 && len(offs) < maxOffenders {
			offs = append(offs, Offender{Path: e.r.display(f), Detail: strings.Join(bad, ", ")})
		}
	}
	if len(actuals) == 0 {
		return na("file absent", e.r.display(files[0]))
	}
	if len(offs) > 0 {
		r := fail(expect, offs[0].Detail, offs[0].Path, 0)
		if len(offs) > 1 {
			r.Actual = fmt.Sprintf("%d files: %s ...", len(offs), offs[0].Detail)
		}
		r.Offenders = offs
		return r
	}
	actual := actuals[0]
	if len(actuals) > 1 {
		actual = fmt.Sprintf("%d files compliant", len(actuals))
	}
	return pass(expect, actual, e.r.display(files[0]), 0)
}

// ---- sshd ----

func (e *env) probeSSHD(c *Control) Result {
	p := &c.Probe
	cfg, err := e.sshdConfig()
	main := e.r.display("/etc/ssh/sshd_config")
	if err != nil {
		if isNotExist(err) {
			return na("sshd_config absent", main)
		}
		return errResult(err, main)
	}
	exp := expected(p)
	ks := keys(p)
	if p.Op == "set" && len(ks) > 1 {
		// Any of the keys set (e.g. AllowUsers, AllowGroups, DenyUsers, DenyGroups).
		for _, k := range ks {
			if en, ok := cfg.Global(k); ok {
				return pass("any of "+strings.Join(ks, ", ")+" set", en.Key+" "+en.Value, en.File, en.Line)
			}
		}
		return fail("any of "+strings.Join(ks, ", ")+" set", "none set", main, 0)
	}
	key := ks[0]
	en, ok := cfg.Global(key)
	if ok && p.Default != nil {
		en.Value = sshdListValue(en.Value, *p.Default)
	}
	good, shown := compare(p, c.compiled, en.Value, ok)
	loc, line := main, 0
	if ok {
		loc, line = en.File, en.Line
	}
	var offs []Offender
	if !good {
		offs = append(offs, Offender{Path: loc, Line: line, Detail: key + " " + shown})
	}
	// A Match block may override the global value for some connections.
	for _, m := range cfg.Matched(key) {
		if g, s := compare(p, c.compiled, m.Value, true); !g {
			offs = append(offs, Offender{Path: m.File, Line: m.Line, Detail: fmt.Sprintf("%s %s (in Match %s)", key, s, m.Match)})
		}
	}
	if len(offs) == 0 {
		return pass(exp, shown, loc, line)
	}
	r := fail(exp, shown, offs[0].Path, offs[0].Line)
	if good {
		r.Actual = offs[0].Detail
	}
	r.Offenders = offs
	return r
}

// sshdListValue applies sshd's list modifiers to the default list: "+a,b"
// appends, "-a,b" removes (wildcards allowed), "^a,b" prepends.
func sshdListValue(v, def string) string {
	if v == "" || !strings.ContainsAny(v[:1], "+-^") {
		return v
	}
	items, base := listItems(v[1:]), listItems(def)
	switch v[0] {
	case '+':
		return strings.Join(append(base, items...), ",")
	case '^':
		return strings.Join(append(items, base...), ",")
	}
	var out []string
	for _, b := range base {
		drop := false
		for _, it := range items {
			if ok, _ := path.Match(it, b); ok {
				drop = true
			}
		}
		if !drop {
			out = append(out, b)
		}
	}
	return strings.Join(out, ",")
}

// ---- sysctl ----

func (e *env) probeSysctl(c *Control) Result {
	p := &c.Probe
	key := normSysctlKey(p.Key)
	src := p.Source
	if src == "" {
		src = "config"
		if e.live {
			src = "both"
		}
	}
	if !e.live && src == "live" {
		return na("live reading (not taken for an offline --rootfs audit)", "")
	}
	if !e.live {
		src = "config"
	}
	exp := key + " " + expected(p)
	var parts []string
	var firstFail *Result
	livePath := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if src == "live" || src == "both" {
		v, err := liveSysctl(e.proc, key)
		if err != nil {
			if isNotExist(err) {
				return na("kernel has no parameter "+key, livePath)
			}
			return errResult(err, livePath)
		}
		ok, shown := compare(p, c.compiled, v, true)
		parts = append(parts, "live "+shown)
		if !ok {
			r := fail(exp, "", livePath, 0)
			firstFail = &r
		}
	}
	loc, line := "", 0
	if src == "config" || src == "both" {
		settings, err := e.sysctlSettings()
		if err != nil {
			return errResult(err, e.r.display("/etc/sysctl.d"))
		}
		s, found := sysctlLookup(settings, key)
		ok, shown := compare(p, c.compiled, s.Value, found)
		if found {
			loc, line = s.File, s.Line
			shown += " (" + s.File + ":" + strconv.Itoa(s.Line) + ")"
		} else {
			loc = e.r.display("/etc/sysctl.conf")
		}
		parts = append(parts, "config "+shown)
		if !ok && firstFail == nil {
			r := fail(exp, "", loc, line)
			firstFail = &r
		}
	}
	actual := strings.Join(parts, "; ")
	if firstFail != nil {
		firstFail.Actual = actual
		return *firstFail
	}
	if loc == "" {
		loc = livePath
	}
	return pass(exp, actual, loc, line)
}

// ---- key/value files (login.defs, auditd.conf, journald.conf, ...) ----

func (e *env) probeKV(c *Control, ps []string, sep string, fold bool) Result {
	p := &c.Probe
	settings, files, err := e.keyValues(ps, sep)
	if err != nil {
		return errResult(err, e.r.display(ps[0]))
	}
	if len(files) == 0 && p.Missing == "not_applicable" {
		return na("file absent", e.r.display(ps[0]))
	}
	key := p.Key
	s, found := lastSetting(settings, key, fold)
	ok, shown := compare(p, c.compiled, s.Value, found)
	loc, line := e.r.display(ps[0]), 0
	if found {
		loc, line = s.File, s.Line
	}
	return verdict(ok, key+" "+expected(p), shown, loc, line)
}

// ---- PAM ----

func (e *env) pamLines(p string, depth int) ([]pamLine, error) {
	if depth > 8 {
		return nil, fmt.Errorf("%s: @include nested too deep", e.r.display(p))
	}
	l, ok := e.pam[p]
	if !ok {
		l = &lazy[[]pamLine]{}
		e.pam[p] = l
	}
	lines, err := l.get(func() ([]pamLine, error) {
		data, err := e.r.readFile(p)
		if err != nil {
			return nil, err
		}
		return parsePAMText(e.r.display(p), data)
	})
	if err != nil {
		return nil, err
	}
	var out []pamLine
	for _, pl := range lines {
		if pl.Type == "@include" {
			inc := pl.Module
			if !strings.HasPrefix(inc, "/") {
				inc = path.Join("/etc/pam.d", inc)
			}
			sub, err := e.pamLines(inc, depth+1)
			if err != nil && !isNotExist(err) {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, pl)
	}
	return out, nil
}

func (e *env) probePAM(c *Control) Result {
	p := &c.Probe
	var svc string
	for _, cand := range paths(p) {
		if e.r.exists(cand) {
			svc = cand
			break
		}
	}
	if svc == "" {
		return na("PAM service file absent", e.r.display(paths(p)[0]))
	}
	lines, err := e.pamLines(svc, 0)
	if err != nil {
		return errResult(err, e.r.display(svc))
	}
	var hits []pamLine
	for _, l := range lines {
		if l.Module == p.Module && (p.PAMType == "" || l.Type == p.PAMType) {
			hits = append(hits, l)
		}
	}
	what := p.Module
	if p.PAMType != "" {
		what = p.PAMType + " " + p.Module
	}
	if p.Present != nil && !*p.Present {
		if len(hits) == 0 {
			return pass(what+" absent", "absent", e.r.display(svc), 0)
		}
		r := fail(what+" absent", "present", hits[0].File, hits[0].Line)
		for _, h := range hits {
			r.Offenders = append(r.Offenders, Offender{Path: h.File, Line: h.Line, Detail: what})
		}
		return r
	}
	if len(hits) == 0 {
		return fail(what+" configured", "not configured", e.r.display(svc), 0)
	}
	if p.Arg == "" {
		return pass(what+" configured", "configured", hits[0].File, hits[0].Line)
	}
	exp := what + " " + p.Arg + " " + expected(p)
	var offs []Offender
	shownFirst := ""
	for _, h := range hits {
		v, found := pamArg(h.Args, p.Arg)
		bare := found && v == ""
		if bare {
			v = "present" // a bare flag such as nullok or yescrypt
		}
		ok, shown := compare(p, c.compiled, v, found)
		if shownFirst == "" {
			shownFirst = shown
		}
		if !ok {
			offs = append(offs, Offender{Path: h.File, Line: h.Line, Detail: p.Arg + " " + shown})
		}
	}
	if len(offs) == 0 {
		return pass(exp, shownFirst, hits[0].File, hits[0].Line)
	}
	r := fail(exp, offs[0].Detail, offs[0].Path, offs[0].Line)
	r.Offenders = offs
	return r
}

// ---- mounts ----

func (e *env) probeMount(c *Control) Result {
	p := &c.Probe
	ms, src, err := e.mountTable()
	if err != nil {
		return errResult(err, src)
	}
	m, ok := findMount(ms, p.Mount)
	if p.Separate {
		if !ok {
			return fail(p.Mount+" is a separate mount", "not a separate mount", src, 0)
		}
		return pass(p.Mount+" is a separate mount", m.FSType+" "+m.Source, m.File, m.Line)
	}
	exp := p.Mount + " mounted with " + strings.Join(p.Options, ",")
	if !ok {
		return na(p.Mount+" is not a separate mount", src)
	}
	have := map[string]bool{}
	for _, o := range m.Options {
		have[o] = true
	}
	var missing []string
	for _, o := range p.Options {
		if !have[o] {
			missing = append(missing, o)
		}
	}
	actual := strings.Join(m.Options, ",")
	if len(missing) > 0 {
		return fail(exp, actual+" (missing "+strings.Join(missing, ",")+")", m.File, m.Line)
	}
	return pass(exp, actual, m.File, m.Line)
}

// ---- kernel modules ----

func (e *env) probeModule(c *Control) Result {
	mod := normModule(c.Probe.Module)
	exp := mod + " cannot be loaded"
	if e.live {
		loaded, err := e.modules.get(func() (map[string]bool, error) { return loadedModules(e.proc) })
		if err == nil && loaded[mod] {
			return fail(exp, "loaded", "/proc/modules", 0)
		}
	}
	rules, err := e.modprobeRules()
	if err != nil {
		return errResult(err, e.r.display("/etc/modprobe.d"))
	}
	avail, _ := e.availableModules()
	where, available := avail[mod]
	if strings.HasPrefix(where, "builtin:") {
		return fail(exp, "built into the kernel "+strings.TrimPrefix(where, "builtin:"), e.r.display("/lib/modules"), 0)
	}
	if rule := rules[mod]; rule != nil && rule.InstallFile != "" {
		if installDisables(rule.Install) {
			return pass(exp, "install "+rule.Install, rule.InstallFile, rule.InstallLine)
		}
		if available {
			return fail(exp, "install "+rule.Install, rule.InstallFile, rule.InstallLine)
		}
	}
	if !available {
		return pass(exp, "module not available in the kernel", e.r.display("/lib/modules"), 0)
	}
	actual := "loadable"
	if rule := rules[mod]; rule != nil && rule.Blacklisted {
		actual = "blacklisted only (still loadable explicitly)"
	}
	return fail(exp, actual, e.r.display("/etc/modprobe.d"), 0)
}

// ---- JSON and YAML documents (daemon.json, kubelet config) ----

// yamlDoc is a parsed JSON or YAML document with positions.
type yamlDoc struct {
	node *yaml.Node
	json map[string]any
	raw  []byte
	name string
}

func (e *env) doc(p string, isJSON bool) (*yamlDoc, error) {
	l, ok := e.docs[p]
	if !ok {
		l = &lazy[*yamlDoc]{}
		e.docs[p] = l
	}
	return l.get(func() (*yamlDoc, error) {
		data, err := e.r.readFile(p)
		if err != nil {
			return nil, err
		}
		name := e.r.display(p)
		if isJSON {
			return parseJSONDoc(name, data)
		}
		return parseYAMLDoc(name, data)
	})
}

func parseJSONDoc(name string, data []byte) (*yamlDoc, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			l, col := offsetLineCol(data, se.Offset)
			return nil, fmt.Errorf("%s:%d:%d: %v", name, l, col, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &yamlDoc{json: m, raw: data, name: name}, nil
}

func offsetLineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	l := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return l, col
}

func parseYAMLDoc(name string, data []byte) (*yamlDoc, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	count := 0
	if err := checkNodes(&n, &count); err != nil {
		return nil, fmt.Errorf("%s:%w", name, err)
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return &yamlDoc{node: n.Content[0], raw: data, name: name}, nil
	}
	return &yamlDoc{raw: data, name: name}, nil
}

// lookup returns the value at a dotted key path, rendered as text (lists
// joined by commas), and its line.
func (d *yamlDoc) lookup(key string) (string, int, bool) {
	parts := strings.Split(key, ".")
	if d.json != nil {
		var cur any = d.json
		for _, part := range parts {
			m, ok := cur.(map[string]any)
			if !ok {
				return "", 0, false
			}
			cur, ok = m[part]
			if !ok {
				return "", 0, false
			}
		}
		return jsonText(cur), d.keyLine(parts[len(parts)-1]), true
	}
	cur := d.node
	for _, part := range parts {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return "", 0, false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == part {
				next = cur.Content[i+1]
			}
		}
		if next == nil {
			return "", 0, false
		}
		cur = next
	}
	return nodeText(cur), cur.Line, true
}

// keyLine finds the line of "key" in the raw JSON text.
func (d *yamlDoc) keyLine(key string) int {
	q := []byte(strconv.Quote(key))
	i := bytes.Index(d.raw, q)
	if i < 0 {
		return 0
	}
	return bytes.Count(d.raw[:i], []byte("\n")) + 1
}

func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		var parts []string
		for _, it := range x {
			parts = append(parts, jsonText(it))
		}
		return strings.Join(parts, ",")
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}
	return fmt.Sprint(v)
}

func nodeText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.SequenceNode:
		var parts []string
		for _, c := range n.Content {
			parts = append(parts, nodeText(c))
		}
		return strings.Join(parts, ",")
	case yaml.MappingNode:
		var ks []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			ks = append(ks, n.Content[i].Value)
		}
		return strings.Join(ks, ",")
	}
	return ""
}

func (e *env) probeDoc(c *Control) Result {
	p := &c.Probe
	cands := paths(p)
	var flagArgs []string
	if p.Process != "" && e.live {
		if ps, err := e.processes(); err == nil {
			if proc, ok := findProcess(ps, p.Process); ok {
				flagArgs = proc.Args[1:]
				if cfg, _, ok := flagValue(flagArgs, "config"); ok && p.Type == ProbeYAML {
					cands = append([]string{cfg}, cands...)
				} else if cfg, _, ok := flagValue(flagArgs, "config-file"); ok && p.Type == ProbeJSON {
					cands = append([]string{cfg}, cands...)
				}
			}
		}
	}
	exp := p.Key + " " + expected(p)
	// Command-line flags override the file.
	if p.Flag != "" && flagArgs != nil {
		if v, _, ok := flagValue(flagArgs, p.Flag); ok {
			good, shown := compare(p, c.compiled, v, true)
			return verdict(good, exp, p.Flag+"="+shown, "/proc/"+p.Process+"/cmdline", 0)
		}
	}
	var d *yamlDoc
	var file string
	for _, cand := range cands {
		doc, err := e.doc(cand, p.Type == ProbeJSON)
		if err != nil {
			if isNotExist(err) {
				continue
			}
			return errResult(err, e.r.display(cand))
		}
		d, file = doc, cand
		break
	}
	if d == nil {
		if p.Missing == "not_applicable" || p.IfKey != "" {
			return na("file absent", e.r.display(cands[0]))
		}
		good, shown := compare(p, c.compiled, "", false)
		return verdict(good, exp, shown+" (no "+path.Base(cands[0])+")", e.r.display(cands[0]), 0)
	}
	if p.IfKey != "" {
		if cv, _, ok := d.lookup(p.IfKey); !ok || !c.compiled.ifRE.MatchString(cv) {
			return na(fmt.Sprintf("%s does not match %s", p.IfKey, p.IfPattern), e.r.display(file))
		}
	}
	v, line, found := d.lookup(p.Key)
	good, shown := compare(p, c.compiled, v, found)
	return verdict(good, exp, shown, e.r.display(file), line)
}

// ---- static pod manifests and process flags ----

// podArgs returns command+args of a container in a Pod manifest, with the
// line of each item.
func podArgs(d *yamlDoc, container string) ([]string, []int, error) {
	if d.node == nil || d.node.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: not a Pod manifest", d.name)
	}
	get := func(n *yaml.Node, k string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				return n.Content[i+1]
			}
		}
		return nil
	}
	cs := get(get(d.node, "spec"), "containers")
	if cs == nil || cs.Kind != yaml.SequenceNode || len(cs.Content) == 0 {
		return nil, nil, fmt.Errorf("%s: no spec.containers", d.name)
	}
	ct := cs.Content[0]
	if container != "" {
		ct = nil
		for _, c := range cs.Content {
			if n := get(c, "name"); n != nil && n.Value == container {
				ct = c
			}
		}
		if ct == nil {
			return nil, nil, fmt.Errorf("%s: no container %q", d.name, container)
		}
	}
	var args []string
	var lines []int
	for _, k := range []string{"command", "args"} {
		if s := get(ct, k); s != nil && s.Kind == yaml.SequenceNode {
			for _, it := range s.Content {
				if it.Kind == yaml.ScalarNode {
					args = append(args, it.Value)
					lines = append(lines, it.Line)
				}
			}
		}
	}
	return args, lines, nil
}

func (e *env) probeManifest(c *Control) Result {
	p := &c.Probe
	var d *yamlDoc
	var file string
	for _, cand := range paths(p) {
		doc, err := e.doc(cand, false)
		if err != nil {
			if isNotExist(err) {
				continue
			}
			return errResult(err, e.r.display(cand))
		}
		d, file = doc, cand
		break
	}
	if d == nil {
		return na("manifest absent", e.r.display(paths(p)[0]))
	}
	args, lines, err := podArgs(d, p.Container)
	if err != nil {
		return errResult(err, e.r.display(file))
	}
	v, idx, found := flagValue(args, p.Flag)
	good, shown := compare(p, c.compiled, v, found)
	line := 0
	if idx >= 0 && idx < len(lines) {
		line = lines[idx]
	}
	return verdict(good, p.Flag+" "+expected(p), shown, e.r.display(file), line)
}

func (e *env) probeProcess(c *Control) Result {
	p := &c.Probe
	if !e.live {
		return na("live reading (not taken for an offline --rootfs audit)", "")
	}
	ps, err := e.processes()
	if err != nil {
		return errResult(err, e.proc)
	}
	proc, ok := findProcess(ps, p.Process)
	if !ok {
		return na(p.Process+" not running", "")
	}
	v, _, found := flagValue(proc.Args[1:], p.Flag)
	good, shown := compare(p, c.compiled, v, found)
	return verdict(good, p.Flag+" "+expected(p), shown, fmt.Sprintf("/proc/%d/cmdline", proc.PID), 0)
}

// ---- lines matching a pattern ----

func (e *env) probeLines(c *Control) Result {
	p := &c.Probe
	want := *p.Present
	exp := "a line matching " + p.Pattern
	if !want {
		exp = "no line matching " + p.Pattern
	}
	var files []string
	for _, pat := range paths(p) {
		m, err := e.r.glob(pat)
		if err != nil {
			return errResult(err, pat)
		}
		files = append(files, m...)
	}
	if len(files) == 0 && p.Missing == "not_applicable" {
		return na("file absent", e.r.display(paths(p)[0]))
	}
	var hits []Offender
	for _, f := range files {
		data, err := e.r.readFile(f)
		if err != nil {
			if isNotExist(err) {
				continue
			}
			return errResult(err, e.r.display(f))
		}
		lines, err := splitLines(e.r.display(f), data)
		if err != nil {
			return errResult(err, e.r.display(f))
		}
		for _, l := range lines {
			t := strings.TrimSpace(l.text)
			if t == "" || t[0] == '#' {
				continue
			}
			if c.compiled.re.MatchString(t) && len(hits) < maxOffenders {
				hits = append(hits, Offender{Path: e.r.display(f), Line: l.n, Detail: truncate(t, 200)})
			}
		}
	}
	first := e.r.display(paths(p)[0])
	if len(files) > 0 {
		first = e.r.display(files[0])
	}
	if want {
		if len(hits) > 0 {
			return pass(exp, hits[0].Detail, hits[0].Path, hits[0].Line)
		}
		actual := "no matching line"
		if len(files) == 0 {
			actual = "no file " + strings.Join(paths(p), " ")
		}
		return fail(exp, actual, first, 0)
	}
	if len(hits) == 0 {
		return pass(exp, "no matching line", first, 0)
	}
	r := fail(exp, hits[0].Detail, hits[0].Path, hits[0].Line)
	r.Offenders = hits
	return r
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ---- packages ----

func (e *env) probePackage(c *Control) Result {
	p := &c.Probe
	m, err := e.packages()
	if err != nil {
		return errResult(err, "")
	}
	var installed []Offender
	for _, name := range p.Packages {
		if pk, ok := m[name]; ok {
			installed = append(installed, Offender{Path: pk.Path, Line: pk.Line, Detail: pk.Name + " " + pk.Version})
		}
	}
	names := strings.Join(p.Packages, ", ")
	if *p.Present {
		exp := "installed: " + names
		if len(installed) > 0 {
			return pass(exp, installed[0].Detail, installed[0].Path, installed[0].Line)
		}
		return fail(exp, "not installed", e.r.display("/var/lib/dpkg/status"), 0)
	}
	exp := "not installed: " + names
	if len(installed) == 0 {
		return pass(exp, "not installed", e.r.display("/var/lib/dpkg/status"), 0)
	}
	r := fail(exp, installed[0].Detail, installed[0].Path, installed[0].Line)
	r.Offenders = installed
	return r
}

// ---- listening sockets ----

func (e *env) probeSockets(c *Control) Result {
	p := &c.Probe
	if !e.live {
		return na("live reading (not taken for an offline --rootfs audit)", "")
	}
	ls, err := e.socks.get(func() ([]listener, error) { return listeningSockets(e.proc) })
	if err != nil {
		return errResult(err, "/proc/net")
	}
	var ports []string
	for _, port := range p.Ports {
		ports = append(ports, strconv.Itoa(port))
	}
	exp := "nothing listening on port " + strings.Join(ports, ", ")
	var offs []Offender
	for _, l := range ls {
		for _, port := range p.Ports {
			if l.Port == port {
				offs = append(offs, Offender{Path: "/proc/net/" + l.Proto, Detail: fmt.Sprintf("%s %s:%d", l.Proto, l.Addr, l.Port)})
			}
		}
	}
	if len(offs) == 0 {
		return pass(exp, "no listener", "/proc/net/tcp", 0)
	}
	r := fail(exp, offs[0].Detail, offs[0].Path, 0)
	r.Offenders = offs
	return r
}

// ---- accounts ----

var strongHash = regexp.MustCompile(`^\$(y|gy|7|6|5|2b|2y)\$`)

func (e *env) probeAccounts(c *Control) Result {
	p := &c.Probe
	pw, err := e.passwd.get(func() ([][]string, error) { return e.colonFile("/etc/passwd") })
	pwPath := e.r.display("/etc/passwd")
	if err != nil {
		if isNotExist(err) {
			return na("passwd absent", pwPath)
		}
		return errResult(err, pwPath)
	}
	gr, _ := e.group.get(func() ([][]string, error) { return e.colonFile("/etc/group") })
	grPath := e.r.display("/etc/group")
	shPath := e.r.display("/etc/shadow")
	var offs []Offender
	add := func(path string, line int, detail string) {
		if len(offs) < maxOffenders {
			offs = append(offs, Offender{Path: path, Line: line, Detail: detail})
		}
	}
	var exp string
	loc := pwPath
	dup := func(rows [][]string, col int, file, what string) {
		seen := map[string]int{}
		for i, f := range rows {
			if len(f) <= col {
				continue
			}
			if first, ok := seen[f[col]]; ok {
				add(file, i+1, fmt.Sprintf("%s %s also on line %d", what, f[col], first))
				continue
			}
			seen[f[col]] = i + 1
		}
	}
	switch p.Check {
	case "uid0_only_root":
		exp = "only root has UID 0"
		for i, f := range pw {
			if len(f) > 2 && f[2] == "0" && f[0] != "root" {
				add(pwPath, i+1, f[0]+" has UID 0")
			}
		}
	case "root_gid0":
		exp = "root's primary group is GID 0"
		for i, f := range pw {
			if len(f) > 3 && f[0] == "root" && f[3] != "0" {
				add(pwPath, i+1, "root has GID "+f[3])
			}
		}
	case "no_duplicate_uid":
		exp = "unique UIDs"
		dup(pw, 2, pwPath, "UID")
	case "no_duplicate_user":
		exp = "unique user names"
		dup(pw, 0, pwPath, "user")
	case "no_duplicate_gid":
		exp, loc = "unique GIDs", grPath
		dup(gr, 2, grPath, "GID")
	case "no_duplicate_group":
		exp, loc = "unique group names", grPath
		dup(gr, 0, grPath, "group")
	case "shadowed_passwords":
		exp = "every password is in /etc/shadow (x in passwd)"
		for i, f := range pw {
			if len(f) > 1 && f[1] != "x" && f[1] != "*" && f[1] != "!" {
				add(pwPath, i+1, f[0]+" has a password field in passwd")
			}
		}
	case "groups_exist":
		exp = "every primary GID in passwd exists in group"
		gids := map[string]bool{}
		for _, f := range gr {
			if len(f) > 2 {
				gids[f[2]] = true
			}
		}
		for i, f := range pw {
			if len(f) > 3 && !gids[f[3]] {
				add(pwPath, i+1, fmt.Sprintf("%s has GID %s, not in group", f[0], f[3]))
			}
		}
	case "shadow_group_empty":
		exp, loc = "the shadow group has no members", grPath
		for i, f := range gr {
			if len(f) > 3 && f[0] == "shadow" && strings.TrimSpace(f[3]) != "" {
				add(grPath, i+1, "shadow members: "+f[3])
			}
		}
		if shadowGID := groupID(gr, "shadow"); shadowGID != "" {
			for i, f := range pw {
				if len(f) > 3 && f[3] == shadowGID {
					add(pwPath, i+1, f[0]+" has shadow as primary group")
				}
			}
		}
	case "system_accounts_nologin":
		exp = "system accounts (UID < 1000) other than root, sync, shutdown, halt have no login shell"
		for i, f := range pw {
			if len(f) < 7 {
				continue
			}
			uid, err := strconv.Atoi(f[2])
			if err != nil || uid >= 1000 || uid == 0 || f[0] == "sync" || f[0] == "shutdown" || f[0] == "halt" {
				continue
			}
			shell := path.Base(f[6])
			if shell != "nologin" && shell != "false" && f[6] != "" {
				add(pwPath, i+1, f[0]+" has shell "+f[6])
			}
		}
	case "no_empty_password", "strong_hashes":
		sh, err := e.shadow.get(func() ([][]string, error) { return e.colonFile("/etc/shadow") })
		loc = shPath
		if err != nil {
			if isNotExist(err) {
				return na("shadow absent", shPath)
			}
			return errResult(err, shPath)
		}
		for i, f := range sh {
			if len(f) < 2 {
				continue
			}
			h := f[1]
			if p.Check == "no_empty_password" {
				exp = "no account has an empty password"
				if h == "" {
					add(shPath, i+1, f[0]+" has an empty password")
				}
				continue
			}
			exp = "password hashes use yescrypt, SHA-512, SHA-256 or bcrypt"
			h = strings.TrimLeft(h, "!")
			if h == "" || h == "*" || strings.HasPrefix(h, "*") {
				continue // locked, no password
			}
			if !strongHash.MatchString(h) {
				kind := "DES"
				if strings.HasPrefix(h, "$1$") {
					kind = "MD5"
				}
				add(shPath, i+1, f[0]+" uses a weak hash ("+kind+")")
			}
		}
	}
	if len(offs) == 0 {
		return pass(exp, "compliant", loc, 0)
	}
	r := fail(exp, offs[0].Detail, offs[0].Path, offs[0].Line)
	if len(offs) > 1 {
		r.Actual = fmt.Sprintf("%d entries: %s ...", len(offs), offs[0].Detail)
	}
	r.Offenders = offs
	return r
}

func groupID(gr [][]string, name string) string {
	for _, f := range gr {
		if len(f) > 2 && f[0] == name {
			return f[2]
		}
	}
	return ""
}

// ---- filesystem walk ----

func (e *env) probeWalk(c *Control) Result {
	w := e.walk()
	offs := w.Found[c.Probe.Check]
	exp := map[string]string{
		"world_writable":             "no world-writable files",
		"unowned":                    "every file has an owner in /etc/passwd",
		"ungrouped":                  "every file has a group in /etc/group",
		"sticky_world_writable_dirs": "world-writable directories have the sticky bit",
	}[c.Probe.Check]
	root := e.r.display("/")
	if len(offs) > 0 {
		r := fail(exp, fmt.Sprintf("%d found (%s: %s)", len(offs), offs[0].Path, offs[0].Detail), offs[0].Path, 0)
		for _, o := range offs {
			r.Offenders = append(r.Offenders, Offender{Path: o.Path, Detail: o.Detail})
		}
		return r
	}
	if w.Truncated != "" {
		return Result{Status: finding.StatusManual, Expected: exp, Path: root,
			Actual: fmt.Sprintf("none in the %d files walked, but the walk stopped early (%s): check the rest by hand", w.Files, w.Truncated)}
	}
	return pass(exp, fmt.Sprintf("none in %d files", w.Files), root, 0)
}

// ---- live host readings ----

func (e *env) probeHost(c *Control) Result {
	p := &c.Probe
	read := func(p string) (string, error) {
		b, err := readLive(p, 64<<10)
		return strings.TrimSpace(string(b)), err
	}
	switch p.Check {
	case "cmdline_param":
		exp := "kernel command line has " + p.Value
		if e.live {
			v, err := read(filepath.Join(e.proc, "cmdline"))
			if err != nil {
				return errResult(err, "/proc/cmdline")
			}
			return verdict(hasParam(v, p.Value), exp, v, "/proc/cmdline", 0)
		}
		settings, files, err := e.keyValues([]string{"/etc/default/grub", "/etc/default/grub.d/*.cfg"}, "=")
		if err != nil {
			return errResult(err, e.r.display("/etc/default/grub"))
		}
		if len(files) == 0 {
			return na("no /etc/default/grub", e.r.display("/etc/default/grub"))
		}
		var all []string
		loc, line := e.r.display(files[0]), 0
		for _, k := range []string{"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"} {
			if s, ok := lastSetting(settings, k, false); ok {
				all = append(all, s.Value)
				if hasParam(s.Value, p.Value) {
					loc, line = s.File, s.Line
				}
			}
		}
		v := strings.Join(all, " ")
		return verdict(hasParam(v, p.Value), exp, v, loc, line)
	}
	if !e.live {
		return na("live reading (not taken for an offline --rootfs audit)", "")
	}
	switch p.Check {
	case "kernel_version":
		v, err := read(filepath.Join(e.proc, "sys", "kernel", "osrelease"))
		if err != nil {
			return errResult(err, "/proc/sys/kernel/osrelease")
		}
		return verdict(versionAtLeast(v, p.Value), "kernel >= "+p.Value, v, "/proc/sys/kernel/osrelease", 0)
	case "cgroup_v2":
		ms, _, err := e.mountTable()
		if err != nil {
			return errResult(err, "/proc/self/mounts")
		}
		exp := "cgroup v2 (unified hierarchy) at /sys/fs/cgroup"
		if m, ok := findMount(ms, "/sys/fs/cgroup"); ok {
			if m.FSType == "cgroup2" {
				return pass(exp, "cgroup2", "/proc/self/mounts", m.Line)
			}
			mode := "cgroup v1"
			if _, hybrid := findMount(ms, "/sys/fs/cgroup/unified"); hybrid {
				mode = "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)"
			}
			return fail(exp, mode+" ("+m.FSType+" at /sys/fs/cgroup)", "/proc/self/mounts", m.Line)
		}
		return fail(exp, "nothing mounted at /sys/fs/cgroup", "/proc/self/mounts", 0)
	case "apparmor_enabled", "selinux_enforcing", "mac_enabled":
		aa, _ := read(filepath.Join(e.sys, "module", "apparmor", "parameters", "enabled"))
		lsm, _ := read(filepath.Join(e.sys, "kernel", "security", "lsm"))
		se, seErr := read(filepath.Join(e.sys, "fs", "selinux", "enforce"))
		aaOn := aa == "Y" || contains(strings.Split(lsm, ","), "apparmor")
		seOn := seErr == nil && se == "1"
		actual := fmt.Sprintf("apparmor enabled=%q, lsm=%q, selinux enforce=%q", aa, lsm, se)
		switch p.Check {
		case "apparmor_enabled":
			return verdict(aaOn, "AppArmor enabled", actual, "/sys/module/apparmor/parameters/enabled", 0)
		case "selinux_enforcing":
			return verdict(seOn, "SELinux enforcing", actual, "/sys/fs/selinux/enforce", 0)
		}
		return verdict(aaOn || seOn, "AppArmor enabled or SELinux enforcing", actual, "/sys/kernel/security/lsm", 0)
	case "seccomp":
		st, err := read(filepath.Join(e.proc, "self", "status"))
		if err != nil {
			return errResult(err, "/proc/self/status")
		}
		has := strings.Contains(st, "\nSeccomp:")
		actions, _ := read(filepath.Join(e.proc, "sys", "kernel", "seccomp", "actions_avail"))
		actual := "no Seccomp field in /proc/self/status"
		if has {
			actual = "seccomp supported"
			if actions != "" {
				actual += " (actions: " + actions + ")"
			}
		}
		return verdict(has, "kernel supports seccomp filters", actual, "/proc/self/status", 0)
	case "userns_disabled":
		exp := "unprivileged user namespaces restricted"
		var parts []string
		restricted := false
		for _, k := range []string{"user.max_user_namespaces", "kernel.unprivileged_userns_clone", "kernel.apparmor_restrict_unprivileged_userns"} {
			v, err := liveSysctl(e.proc, k)
			if err != nil {
				continue
			}
			parts = append(parts, k+"="+v)
			if (k == "user.max_user_namespaces" && v == "0") || (k == "kernel.unprivileged_userns_clone" && v == "0") ||
				(k == "kernel.apparmor_restrict_unprivileged_userns" && v == "1") {
				restricted = true
			}
		}
		return verdict(restricted, exp, strings.Join(parts, ", "), "/proc/sys/user/max_user_namespaces", 0)
	case "nx":
		ci, err := readLive(filepath.Join(e.proc, "cpuinfo"), 4<<20)
		if err != nil {
			return errResult(err, "/proc/cpuinfo")
		}
		for _, l := range strings.Split(string(ci), "\n") {
			if strings.HasPrefix(l, "flags") {
				return verdict(contains(strings.Fields(l), "nx"), "CPU NX/XD bit active", "flags "+truncate(strings.TrimSpace(strings.SplitN(l, ":", 2)[1]), 60), "/proc/cpuinfo", 0)
			}
		}
		return na("no CPU flags in /proc/cpuinfo (not x86)", "/proc/cpuinfo")
	}
	return errResult(fmt.Errorf("unknown host check %q", p.Check), "")
}

func hasParam(cmdline, param string) bool {
	for _, f := range strings.Fields(cmdline) {
		if f == param || (strings.HasSuffix(param, "=") && strings.HasPrefix(f, param)) {
			return true
		}
	}
	return false
}

// versionAtLeast compares dotted numeric version prefixes.
func versionAtLeast(have, want string) bool {
	num := func(s string) []int {
		var out []int
		for _, part := range strings.Split(s, ".") {
			n := 0
			i := 0
			for i < len(part) && part[i] >= '0' && part[i] <= '9' {
				n = n*10 + int(part[i]-'0')
				i++
			}
			out = append(out, n)
			if i < len(part) {
				break
			}
		}
		return out
	}
	h, w := num(have), num(want)
	for i := 0; i < len(w); i++ {
		x := 0
		if i < len(h) {
			x = h[i]
		}
		if x != w[i] {
			return x > w[i]
		}
	}
	return true
}
