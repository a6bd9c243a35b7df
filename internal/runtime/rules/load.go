package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Source is rule-file content with a name (a path or an embedded name).
type Source struct {
	Name string
	Data []byte
}

// ExpandPaths turns files and directories (non-recursive, *.yaml and *.yml)
// into a list of files. Files named on their own keep the order given; the
// files of a directory are ordered by DirOrder.
func ExpandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		var names []string
		for _, e := range ents {
			if e.Type().IsRegular() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
				names = append(names, e.Name())
			}
		}
		DirOrder(names)
		for _, n := range names {
			out = append(out, filepath.Join(p, n))
		}
	}
	return out, nil
}

// upstreamOrder is the order of Falco's own rule files by maturity: stable,
// incubating, sandbox, deprecated (falcosecurity/rules).
var upstreamOrder = map[string]int{
	"falco_rules":            0,
	"falco-incubating_rules": 1,
	"falco-sandbox_rules":    2,
	"falco-deprecated_rules": 3,
}

// DirOrder sorts the rule-file names of one directory in the order Falco's
// default configuration loads them, so later files override earlier ones
// as their authors expect: first Falco's stable file (falco_rules.yaml),
// then its incubating, sandbox and deprecated files, then every other file
// in name order, and last the local overrides (NAME.local.yaml, with
// falco_rules.local.yaml first). A plain name sort would load
// falco-incubating_rules.yaml and falco-sandbox_rules.yaml before
// falco_rules.yaml ('-' sorts before '_'), letting the stable file redefine
// the lists and macros the others changed.
func DirOrder(names []string) {
	rank := func(n string) (int, int) {
		base := strings.TrimSuffix(strings.TrimSuffix(n, ".yaml"), ".yml")
		if local, ok := strings.CutSuffix(base, ".local"); ok {
			if u, ok := upstreamOrder[local]; ok {
				return 2, u
			}
			return 2, len(upstreamOrder)
		}
		if u, ok := upstreamOrder[base]; ok {
			return 0, u
		}
		return 1, 0
	}
	sort.SliceStable(names, func(i, j int) bool {
		gi, ui := rank(names[i])
		gj, uj := rank(names[j])
		if gi != gj {
			return gi < gj
		}
		if ui != uj {
			return ui < uj
		}
		return names[i] < names[j]
	})
}

// Load reads rule files and directories (later files override earlier
// ones, as in Falco) and compiles them.
func Load(paths []string, opts Options) (*Engine, error) {
	files, err := ExpandPaths(paths)
	if err != nil {
		return nil, err
	}
	var parsed []*File
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		pf, err := ParseFile(name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, pf)
	}
	return Compile(parsed, opts)
}

// LoadSources parses and compiles in-memory rule files (e.g. Ward's
// embedded defaults).
func LoadSources(srcs []Source, opts Options) (*Engine, error) {
	var parsed []*File
	for _, s := range srcs {
		if len(s.Data) > MaxFileSize {
			return nil, &LoadError{Pos: Pos{File: s.Name, Line: 1, Col: 1}, Msg: "file too large"}
		}
		pf, err := ParseBytes(s.Name, s.Data)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, pf)
	}
	return Compile(parsed, opts)
}

type listDef struct {
	name  string
	items []string
	pos   Pos
}

type macroDef struct {
	name string
	cond string
	pos  Pos
	ast  Node
	err  error
}

type ruleDef struct {
	Item
	exceptions []Exception
}

type ruleset struct {
	lists   map[string]*listDef
	macros  map[string]*macroDef
	rules   []*ruleDef
	ruleIdx map[string]int
	engine  []string
	plugins []PluginRequirement
}

func itemErr(it *Item, format string, a ...any) error {
	return &LoadError{Pos: it.Pos, Item: fmt.Sprintf("%s %q", it.Kind, it.Name), Msg: fmt.Sprintf(format, a...)}
}

func overrideMode(it *Item, key string) string {
	if it.Override == nil {
		return ""
	}
	return it.Override[key]
}

func merge(files []*File) (*ruleset, error) {
	rs := &ruleset{lists: map[string]*listDef{}, macros: map[string]*macroDef{}, ruleIdx: map[string]int{}}
	for _, f := range files {
		for i := range f.Items {
			it := &f.Items[i]
			switch it.Kind {
			case KindEngine:
				rs.engine = append(rs.engine, it.EngineVersion)
			case KindPlugins:
				rs.plugins = append(rs.plugins, it.Plugins...)
			case KindList:
				if err := rs.mergeList(it); err != nil {
					return nil, err
				}
			case KindMacro:
				if err := rs.mergeMacro(it); err != nil {
					return nil, err
				}
			case KindRule:
				if err := rs.mergeRule(it); err != nil {
					return nil, err
				}
			}
		}
	}
	return rs, nil
}

func (rs *ruleset) mergeList(it *Item) error {
	old := rs.lists[it.Name]
	mode := overrideMode(it, "items")
	if it.Override != nil && mode == "" {
		return itemErr(it, "override must name items")
	}
	if it.Append || mode != "" {
		if old == nil {
			return itemErr(it, "has append/override but no list by that name is defined earlier")
		}
		if it.Append || mode == "append" {
			old.items = append(old.items, it.Items...)
		} else {
			old.items = append([]string(nil), it.Items...)
		}
		return nil
	}
	if !it.HasItems {
		return itemErr(it, "list needs items")
	}
	rs.lists[it.Name] = &listDef{name: it.Name, items: append([]string(nil), it.Items...), pos: it.Pos}
	return nil
}

func (rs *ruleset) mergeMacro(it *Item) error {
	old := rs.macros[it.Name]
	mode := overrideMode(it, "condition")
	if it.Override != nil && mode == "" {
		return itemErr(it, "override must name condition")
	}
	if it.Append || mode != "" {
		if old == nil {
			return itemErr(it, "has append/override but no macro by that name is defined earlier")
		}
		if it.Append || mode == "append" {
			old.cond += " " + it.Condition
		} else {
			old.cond = it.Condition
		}
		old.ast, old.err = nil, nil
		return nil
	}
	if !it.HasCondition {
		return itemErr(it, "macro needs a condition")
	}
	rs.macros[it.Name] = &macroDef{name: it.Name, cond: it.Condition, pos: it.CondPos}
	return nil
}

var overridable = map[string]bool{"condition": true, "output": true, "desc": true, "priority": true, "tags": true,
	"exceptions": true, "enabled": true, "source": true, "warn_evttypes": true, "skip-if-unknown-filter": true,
	"capture": true, "capture_duration": true}

func (rs *ruleset) mergeRule(it *Item) error {
	idx, exists := rs.ruleIdx[it.Name]
	if it.Override != nil {
		if !exists {
			return itemErr(it, "has override but no rule by that name is defined earlier")
		}
		r := rs.rules[idx]
		for k, mode := range it.Override {
			if !overridable[k] {
				return itemErr(it, "cannot override %q", k)
			}
			if mode == "append" && (k == "priority" || k == "enabled" || k == "source") {
				return itemErr(it, "%q can only be replaced, not appended", k)
			}
			switch k {
			case "condition":
				if mode == "append" {
					r.condMap = joinMaps(r.condMap, len(r.Condition), it.condMap)
					r.Condition += " " + it.Condition
				} else {
					r.Condition, r.CondPos, r.condMap = it.Condition, it.CondPos, it.condMap
				}
			case "output":
				if mode == "append" {
					r.Output += " " + it.Output
				} else {
					r.Output, r.OutputPos = it.Output, it.OutputPos
				}
			case "desc":
				if mode == "append" {
					r.Desc += " " + it.Desc
				} else {
					r.Desc = it.Desc
				}
			case "priority":
				r.Priority = it.Priority
			case "tags":
				if mode == "append" {
					r.Tags = append(r.Tags, it.Tags...)
				} else {
					r.Tags = it.Tags
				}
			case "exceptions":
				if mode == "append" {
					if err := appendExceptions(r, it); err != nil {
						return err
					}
				} else {
					r.exceptions = it.Exceptions
				}
			case "enabled":
				r.Enabled = it.Enabled
			case "source":
				r.Source = it.Source
			case "skip-if-unknown-filter":
				r.SkipUnknown = it.SkipUnknown
			}
		}
		return nil
	}
	if it.Append {
		if !exists {
			return itemErr(it, "has append but no rule by that name is defined earlier")
		}
		r := rs.rules[idx]
		if it.HasCondition {
			r.condMap = joinMaps(r.condMap, len(r.Condition), it.condMap)
			r.Condition += " " + it.Condition
		}
		if it.HasOutput {
			r.Output += " " + it.Output
		}
		if it.HasDesc {
			r.Desc += " " + it.Desc
		}
		if it.HasTags {
			r.Tags = append(r.Tags, it.Tags...)
		}
		if it.HasExc {
			if err := appendExceptions(r, it); err != nil {
				return err
			}
		}
		return nil
	}
	if !it.HasCondition && !it.HasOutput && !it.HasDesc && !it.HasPriority && it.Enabled != nil {
		if !exists {
			return itemErr(it, "enables/disables a rule that is not defined earlier")
		}
		rs.rules[idx].Enabled = it.Enabled
		return nil
	}
	var missing []string
	if !it.HasCondition {
		missing = append(missing, "condition")
	}
	if !it.HasOutput {
		missing = append(missing, "output")
	}
	if !it.HasDesc {
		missing = append(missing, "desc")
	}
	if !it.HasPriority {
		missing = append(missing, "priority")
	}
	if len(missing) > 0 {
		return itemErr(it, "rule is missing %s", strings.Join(missing, ", "))
	}
	rd := &ruleDef{Item: *it, exceptions: it.Exceptions}
	if exists {
		rs.rules[idx] = rd
	} else {
		rs.ruleIdx[it.Name] = len(rs.rules)
		rs.rules = append(rs.rules, rd)
	}
	return nil
}

func appendExceptions(r *ruleDef, it *Item) error {
	for _, e := range it.Exceptions {
		found := false
		for i := range r.exceptions {
			if r.exceptions[i].Name == e.Name {
				r.exceptions[i].Values = append(r.exceptions[i].Values, e.Values...)
				found = true
				break
			}
		}
		if !found {
			if len(e.Fields) == 0 {
				return &LoadError{Pos: e.Pos, Item: fmt.Sprintf("rule %q", it.Name), Msg: fmt.Sprintf("exception %q appends values to an exception that does not exist", e.Name)}
			}
			r.exceptions = append(r.exceptions, e)
		}
	}
	return nil
}

// joinMaps maps columns of "a b" (a of length alen) to a's or b's source.
func joinMaps(a func(int) (int, int), alen int, b func(int) (int, int)) func(int) (int, int) {
	if a == nil || b == nil {
		return nil
	}
	return func(col int) (int, int) {
		if col <= alen+1 {
			return a(col)
		}
		return b(col - alen - 1)
	}
}
