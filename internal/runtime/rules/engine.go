// Package rules is Ward's Falco-compatible rule engine: rule files are
// parsed into a spec (ParseFile: rules, macros, lists, exceptions,
// append/override, required versions), merged in load order as Falco does
// (later files override earlier ones), and compiled once into programs
// (Compile / Load / LoadSources) that Engine.Eval runs against each event
// and the event.State that follows it.
//
// Typical use, for a sensor or the replay command:
//
//	eng, err := rules.Load([]string{"/etc/ward/rules.d"}, rules.Options{})
//	st := event.NewState(event.Options{})
//	for each event ev {
//		st.Apply(ev)
//		eng.Eval(ev, st, func(m *rules.Match) { ... })
//	}
//
// Compilation resolves every field (an unknown field or a type error is a
// LoadError naming the file, the rule and the condition column, unless the
// rule is disabled), expands lists into hashed sets, builds path prefix
// trees for pmatch, and indexes rules by event type so an event is tested
// only against rules that can match it. Engine.EventTypes lists the types
// some enabled rule needs (for in-kernel filtering) and
// Engine.OpenFilter the paths open events can be limited to.
//
// Eval does not allocate for events that match no rule. An Engine is not
// safe for concurrent Eval calls; use one per goroutine (Clone).
package rules

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/pkg/finding"
)

// EngineVersion is the Falco rules engine version Ward's language matches.
const EngineVersion = "0.57.0"

// Priority is a Falco rule priority; lower is more severe.
type Priority int

// The eight Falco priorities.
const (
	PriorityEmergency Priority = iota
	PriorityAlert
	PriorityCritical
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInformational
	PriorityDebug
)

var priorityNames = []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

func (p Priority) String() string {
	if p >= 0 && int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "Debug"
}

// ParsePriority reads a priority name, case-insensitively (INFO is accepted).
func ParsePriority(s string) (Priority, error) {
	u := strings.ToLower(strings.TrimSpace(s))
	if u == "info" {
		return PriorityInformational, nil
	}
	for i, n := range priorityNames {
		if strings.ToLower(n) == u {
			return Priority(i), nil
		}
	}
	return PriorityDebug, fmt.Errorf("unknown priority %q (want one of %s)", s, strings.Join(priorityNames, ", "))
}

// Severity maps a priority to a finding severity.
func (p Priority) Severity() finding.Severity {
	switch {
	case p <= PriorityCritical:
		return finding.SeverityCritical
	case p == PriorityError:
		return finding.SeverityHigh
	case p == PriorityWarning:
		return finding.SeverityMedium
	}
	return finding.SeverityLow
}

// Options configures loading.
type Options struct {
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// MinPriority drops rules less severe than this (default: keep all).
	MinPriority *Priority
	// DisableTags disables rules carrying any of these tags.
	DisableTags []string
	// AppendOutput adds text and fields to the outputs of the rules each
	// entry matches, in order, as Falco's append_output does (nil: none;
	// ContainerAppendOutput is Falco's default).
	AppendOutput []AppendOutput
}

// Rule is a compiled rule.
type Rule struct {
	Name     string
	Desc     string
	Output   string
	Priority Priority
	Tags     []string
	Enabled  bool
	Source   string
	Pos      Pos
	// Fields are the fields the condition reads, sorted.
	Fields []string
	// EventTypes are the types the rule can match (nil: every type).
	EventTypes []event.Type
	// Skipped says why an enabled-looking rule is not evaluated (unknown
	// field with skip-if-unknown-filter, other source, ...).
	Skipped string

	prog         prog
	out          []outSeg
	openPreds    pathPreds
	readsFDTable bool
	notFileFD    bool
}

// Info summarises what a load did.
type Info struct {
	Files                  []string
	Rules                  int // rules defined (after overrides)
	Enabled                int // rules evaluated
	Macros                 int
	Lists                  int
	RequiredEngineVersions []string
	RequiredPlugins        []PluginRequirement
	Warnings               []string
	// Unsupported counts fields or operators the engine could not compile
	// (in enabled or disabled rules, and in skip-if-unknown-filter rules).
	Unsupported int
}

// Engine evaluates compiled rules.
type Engine struct {
	rules  []*Rule
	all    []*Rule
	byType [event.NumTypes][]*Rule
	info   Info
	args   *argTable
	fields fieldTable
	c      ctx
}

// Compile merges parsed files (in order) and compiles their rules.
func Compile(files []*File, opts Options) (*Engine, error) {
	rs, err := merge(files)
	if err != nil {
		return nil, err
	}
	e := &Engine{args: newArgTable(), fields: newFieldTable()}
	e.c.args = e.args
	for _, f := range files {
		e.info.Files = append(e.info.Files, f.Name)
	}
	e.info.RequiredEngineVersions = rs.engine
	e.info.RequiredPlugins = rs.plugins
	e.info.Lists = len(rs.lists)
	e.info.Macros = len(rs.macros)
	for _, v := range rs.engine {
		if compareVersions(v, EngineVersion) > 0 {
			e.info.Warnings = append(e.info.Warnings, fmt.Sprintf("rules require engine version %s, Ward implements %s", v, EngineVersion))
		}
	}
	cp := &compiler{rs: rs, fields: e.fields, macros: map[string]*compiled{}, unknownEv: map[string]bool{}}
	// syntax-check every macro, used or not
	for _, name := range sortedKeys(rs.macros) {
		m := rs.macros[name]
		if m.ast, m.err = ParseCondition(m.cond); m.err != nil {
			return nil, &LoadError{Pos: m.pos, Item: fmt.Sprintf("macro %q", name), Msg: m.err.Error()}
		}
	}
	disabled := map[string]bool{}
	for _, t := range opts.DisableTags {
		disabled[t] = true
	}
	for _, rd := range rs.rules {
		r, err := e.compileRule(cp, rd)
		if err == nil && r.Skipped == "" && len(opts.AppendOutput) > 0 {
			if err = e.compileAppend(r, opts.AppendOutput); err != nil {
				return nil, err
			}
		}
		if err != nil {
			if rd.Enabled != nil && !*rd.Enabled {
				e.info.Warnings = append(e.info.Warnings, fmt.Sprintf("disabled rule not compiled: %v", err))
				e.info.Unsupported++
				r = &Rule{Name: rd.Name, Enabled: false, Pos: rd.Pos, Skipped: err.Error()}
			} else if ce, ok := asCompileErr(err); ok && rd.SkipUnknown && ce.unknownField {
				e.info.Warnings = append(e.info.Warnings, fmt.Sprintf("rule skipped (skip-if-unknown-filter): %v", err))
				e.info.Unsupported++
				r = &Rule{Name: rd.Name, Enabled: false, Pos: rd.Pos, Skipped: err.Error()}
			} else {
				return nil, err
			}
		}
		e.all = append(e.all, r)
		if !r.Enabled || r.Skipped != "" {
			continue
		}
		if opts.MinPriority != nil && r.Priority > *opts.MinPriority {
			continue
		}
		skip := false
		for _, t := range r.Tags {
			if disabled[t] {
				skip = true
			}
		}
		if skip {
			continue
		}
		e.rules = append(e.rules, r)
		if r.EventTypes == nil {
			for t := 1; t < event.NumTypes; t++ {
				e.byType[t] = append(e.byType[t], r)
			}
		} else {
			for _, t := range r.EventTypes {
				e.byType[t] = append(e.byType[t], r)
			}
		}
	}
	e.info.Rules = len(e.all)
	e.info.Enabled = len(e.rules)
	e.info.Warnings = append(e.info.Warnings, cp.warnings...)
	if opts.Logger != nil {
		for _, w := range e.info.Warnings {
			opts.Logger.Warn(w)
		}
	}
	return e, nil
}

func asCompileErr(err error) (*compileError, bool) {
	if le, ok := err.(*LoadError); ok {
		if ce, ok := le.cause.(*compileError); ok {
			return ce, true
		}
	}
	return nil, false
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (e *Engine) compileRule(cp *compiler, rd *ruleDef) (*Rule, error) {
	what := fmt.Sprintf("rule %q", rd.Name)
	fail := func(pos Pos, err error) error {
		return &LoadError{Pos: pos, Item: what, Msg: err.Error(), cause: err}
	}
	r := &Rule{Name: rd.Name, Desc: strings.TrimSpace(rd.Desc), Output: strings.TrimSpace(rd.Output), Tags: rd.Tags,
		Enabled: rd.Enabled == nil || *rd.Enabled, Source: rd.Source, Pos: rd.Pos}
	if r.Source == "" {
		r.Source = "syscall"
	}
	pr, err := ParsePriority(rd.Priority)
	if err != nil {
		return nil, fail(rd.Pos, err)
	}
	r.Priority = pr
	if r.Source != "syscall" {
		r.Skipped = fmt.Sprintf("source %q is not handled by Ward's syscall engine", r.Source)
		return r, nil
	}
	ast, err := ParseCondition(rd.Condition)
	if err != nil {
		return nil, fail(condErrPos(rd, err), fmt.Errorf("condition %w", err))
	}
	if len(rd.exceptions) > 0 {
		and := &AndNode{Kids: []Node{ast}, Col: 1}
		for i := range rd.exceptions {
			ex := &rd.exceptions[i]
			for _, f := range ex.Fields {
				if _, err := fieldRefOf(f); err != nil {
					return nil, fail(ex.Pos, fmt.Errorf("exception %q: %w", ex.Name, err))
				}
			}
			n, err := exceptionNode(ex)
			if err != nil {
				return nil, fail(ex.Pos, err)
			}
			if n != nil {
				and.Kids = append(and.Kids, &NotNode{X: n, Col: 1})
			}
		}
		ast = and
	}
	cp.used = map[string]bool{}
	c, err := cp.node(ast)
	if err != nil {
		return nil, fail(condErrPos(rd, err), err)
	}
	r.prog = c.p
	if c.types != nil {
		for t := 1; t < event.NumTypes; t++ {
			if c.types[t] {
				r.EventTypes = append(r.EventTypes, event.Type(t))
			}
		}
		if r.EventTypes == nil {
			r.EventTypes = []event.Type{}
		}
	} else {
		e.info.Warnings = append(e.info.Warnings, fmt.Sprintf("%s: rule %q does not restrict evt.type and is evaluated on every event", rd.Pos, rd.Name))
	}
	r.out, err = e.compileOutput(r.Output)
	if err != nil {
		return nil, fail(rd.OutputPos, fmt.Errorf("output: %w", err))
	}
	for k := range cp.used {
		r.Fields = append(r.Fields, k)
	}
	sort.Strings(r.Fields)
	r.openPreds = openPathPreds(cp, ast)
	r.readsFDTable = readsFDTable(r.Fields)
	r.notFileFD = notFileFD(cp, ast)
	return r, nil
}

// condErrPos points at the offending column in the file when the
// condition's layout allows it (the message keeps the condition column).
func condErrPos(rd *ruleDef, err error) Pos {
	col := 0
	var se *SyntaxError
	if ce, ok := err.(*compileError); ok {
		col = ce.col
	} else if errors.As(err, &se) {
		col = se.Col
	}
	if col <= 0 || rd.condMap == nil || col > len(rd.Condition)+1 {
		return rd.CondPos
	}
	line, c := rd.condMap(col)
	return Pos{File: rd.CondPos.File, Line: line, Col: c}
}

// Rules returns every rule defined (enabled or not), in load order.
func (e *Engine) Rules() []*Rule { return e.all }

// Enabled returns the rules evaluated, in load order.
func (e *Engine) Enabled() []*Rule { return e.rules }

// Info reports what the load did.
func (e *Engine) Info() Info { return e.info }

// EventTypes returns the event types at least one enabled rule can match,
// for in-kernel pre-filtering. State-keeping types (exec, clone, exit,
// close, dup, socket, connect...) are not added here: a sensor must always
// deliver those for State to stay correct.
func (e *Engine) EventTypes() []event.Type {
	var out []event.Type
	for t := 1; t < event.NumTypes; t++ {
		if len(e.byType[t]) > 0 {
			out = append(out, event.Type(t))
		}
	}
	return out
}

func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Match is one rule firing on one event. It is only valid during the
// emit callback unless copied; Output and Fields are freshly allocated.
type Match struct {
	Rule     *Rule
	Time     int64 // event time, unix ns
	Output   string
	Fields   []FieldValue
	Event    *event.Event
	Hostname string
	Process  finding.Process
	// Container is nil for host processes.
	Container *finding.Container
}

// FieldValue is one output field: Value is a string, an int64, a bool, or
// nil when the field has no value for this event.
type FieldValue struct {
	Name  string
	Value any
}

// Eval tests ev against the rules indexed for its type and calls emit for
// each match, in rule load order. st must already have applied ev. It
// returns the number of matches.
func (e *Engine) Eval(ev *event.Event, st *event.State, emit func(*Match)) int {
	if int(ev.Type) >= event.NumTypes {
		return 0
	}
	rs := e.byType[ev.Type]
	if len(rs) == 0 {
		return 0
	}
	c := &e.c
	c.ev, c.st, c.p, c.fd = ev, st, st.Current(), st.CurrentFD()
	if c.p != nil && c.p.PID != ev.PID {
		c.p = st.Process(ev.PID)
	}
	n := 0
	for _, r := range rs {
		c.buf = c.buf[:0]
		if r.prog.eval(c) {
			n++
			if emit != nil {
				emit(e.match(r, c))
			}
		}
	}
	if cap(c.buf) > 1<<20 {
		c.buf = nil
	}
	return n
}

// Clone returns an engine sharing the compiled rules with its own
// evaluation context, for use on another goroutine.
func (e *Engine) Clone() *Engine {
	n := *e
	n.c = ctx{args: e.args}
	return &n
}

func (e *Engine) match(r *Rule, c *ctx) *Match {
	m := &Match{Rule: r, Time: c.ev.TS, Event: c.ev, Hostname: c.st.Hostname}
	m.Output, m.Fields = e.render(r.out, c)
	if p := c.p; p != nil {
		m.Process = finding.Process{PID: int(p.PID), PPID: int(p.PPID), Name: p.Comm, Exe: p.ExePath, UID: int(p.EUID)}
		st := len(c.buf)
		s, _ := procCmdline(c, p)
		m.Process.Cmdline = strings.Clone(s)
		c.buf = c.buf[:st]
		if u, ok := c.st.User(p.EUID); ok {
			m.Process.User = u.Name
		}
		if id := containerID(p); id != "host" {
			ct := &finding.Container{ID: id}
			if meta := c.st.Container(p.ContainerID); meta != nil {
				ct.Name, ct.Image, ct.PodName, ct.PodNamespace = meta.Name, meta.Image, meta.PodName, meta.PodNamespace
			}
			m.Container = ct
		}
	}
	return m
}
