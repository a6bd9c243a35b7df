package dockerfile

import (
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

// Evaluator evaluates custom checks over one document. The method value
// (*policy.Set).Evaluate has this type, so callers pass set.Evaluate
// without this package importing the CEL engine.
type Evaluator = func(target, path string, docType check.DocType, doc any, locate func(fieldPath string) finding.Location) []finding.Finding

// ScanWith is Scan plus custom checks: eval (may be nil) is called once
// with the document from Doc and the locator Locate, and its findings get
// the same inline `# ward:ignore` handling as built-in ones.
func ScanWith(target, path string, data []byte, eval Evaluator) ([]finding.Finding, []finding.ScanError) {
	f, problems, err := Parse(path, data)
	if err != nil {
		return nil, []finding.ScanError{parseError(target, path, err)}
	}
	var errs []finding.ScanError
	for _, p := range problems {
		errs = append(errs, finding.ScanError{Target: target, Path: path, Line: p.Line, Column: p.Column, Scanner: "misconfig", Message: p.Msg})
	}
	out := f.run(target, rules())
	if eval != nil {
		ign := check.ParseIgnores(f.lines, "#")
		custom := eval(target, path, check.Dockerfile, f.Doc(), f.Locate)
		for i := range custom {
			l := custom[i].Location.StartLine
			if s := ign.Match(custom[i].RuleID, l, f.instructionLine(l)); s != nil {
				custom[i].Suppressed = s
			}
		}
		out = append(out, custom...)
		finding.Sort(out)
	}
	return out, errs
}

func (f *File) instructionLine(line int) int {
	for i := range f.Instructions {
		in := &f.Instructions[i]
		if line >= in.Line && line <= in.EndLine {
			return in.Line
		}
	}
	return line
}

// Doc is the custom-check input for a Dockerfile:
//
//	{
//	  "stages": [{"index": 0, "name": "build", "image": "golang:1.22", "instruction": 0}],
//	  "instructions": [{
//	    "index": 0, "cmd": "FROM", "args": ["golang:1.22", "AS", "build"],
//	    "flags": ["--platform=linux/amd64"], "json": false, "stage": 0,
//	    "line": 1, "end_line": 1, "original": "FROM --platform=... golang:1.22 AS build",
//	    "env": {"KEY": "value"},           // ENV, ARG, LABEL pairs
//	    "heredocs": ["..."],
//	    "onbuild": {...}                   // the triggered instruction, for ONBUILD
//	  }]
//	}
//
// Field paths: "instructions[3]", "instructions[3].args[1]",
// "instructions[3].flags[0]", "instructions[3].env.KEY", "stages[1]".
func (f *File) Doc() map[string]any {
	insts := make([]any, len(f.Instructions))
	for i := range f.Instructions {
		insts[i] = instDoc(&f.Instructions[i], i)
	}
	stages := make([]any, len(f.Stages))
	for i, s := range f.Stages {
		stages[i] = map[string]any{"index": s.Index, "name": s.Name, "image": s.Image, "instruction": s.From}
	}
	return map[string]any{"instructions": insts, "stages": stages}
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func instDoc(in *Instruction, i int) map[string]any {
	env := map[string]any{}
	for _, kv := range in.KVs {
		env[kv.Key] = kv.Value
	}
	m := map[string]any{
		"index": i, "cmd": in.Cmd, "args": strs(in.Args), "flags": strs(in.Flags), "json": in.JSON,
		"stage": in.Stage, "line": in.Line, "end_line": in.EndLine, "original": in.Original,
		"env": env, "heredocs": strs(in.Heredocs),
	}
	if in.Sub != nil {
		m["onbuild"] = instDoc(in.Sub, i)
	}
	return m
}

// Locate maps a field path of Doc to a position.
func (f *File) Locate(fieldPath string) finding.Location {
	loc := finding.Location{Path: f.Path, StartLine: 1, StartColumn: 1}
	segs := check.SplitFieldPath(fieldPath)
	if len(segs) < 2 || segs[1].Index < 0 {
		return loc
	}
	var in *Instruction
	switch segs[0].Key {
	case "instructions":
		if segs[1].Index < len(f.Instructions) {
			in = &f.Instructions[segs[1].Index]
		}
	case "stages":
		if segs[1].Index < len(f.Stages) {
			in = &f.Instructions[f.Stages[segs[1].Index].From]
		}
	}
	if in == nil {
		return loc
	}
	needle := ""
	if len(segs) >= 3 {
		switch segs[2].Key {
		case "args":
			if len(segs) >= 4 && segs[3].Index >= 0 && segs[3].Index < len(in.Args) {
				needle = in.Args[segs[3].Index]
			}
		case "flags":
			if len(segs) >= 4 && segs[3].Index >= 0 && segs[3].Index < len(in.Flags) {
				needle = in.Flags[segs[3].Index]
			}
		case "env":
			if len(segs) >= 4 {
				needle = segs[3].Key
			}
		}
	}
	line, col := f.Find(in, needle)
	loc.StartLine, loc.StartColumn, loc.EndLine, loc.EndColumn = line, col, line, col+max(len(needle), len(in.Cmd))
	return loc
}
