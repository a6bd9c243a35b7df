// Package dockerfile parses Dockerfiles (and Containerfiles) with BuildKit's
// parser, keeps the position of every instruction, and runs Ward's
// Dockerfile checks (WARD-DF-NNN) over them.
//
// Only github.com/moby/buildkit/frontend/dockerfile/parser is used: the
// instructions package adds 13 more packages (linter, suggest, image spec)
// for typed commands this package does not need, since it reads flags and
// arguments itself.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// MaxFileSize is the largest Dockerfile read (bytes); larger input is
// rejected with a scan error rather than parsed.
const MaxFileSize = 4 << 20

// KV is one key/value pair of ENV, ARG or LABEL.
type KV struct {
	Key   string
	Value string
	// HasValue is false for `ARG NAME` without a default.
	HasValue bool
}

// Instruction is one Dockerfile instruction with its position.
type Instruction struct {
	// Cmd is the upper-case instruction: FROM, RUN, COPY...
	Cmd string
	// Flags are the instruction's flags as written (--chown=1000:1000).
	Flags []string
	// Args are the arguments: the exec-form items, the whitespace-separated
	// words, or, for shell-form RUN/CMD/ENTRYPOINT/SHELL, one item holding
	// the whole command line.
	Args []string
	// JSON is true for the exec form (["a", "b"]).
	JSON bool
	// KVs holds ENV, ARG and LABEL pairs.
	KVs []KV
	// Heredocs holds the bodies of heredocs (RUN <<EOF ...).
	Heredocs []string
	// Original is the instruction text, continuation lines joined.
	Original string
	// Line and Column (1-based) of the instruction keyword; EndLine is the
	// last line of the instruction.
	Line, Column, EndLine int
	// Stage is the index of the build stage (-1 before the first FROM).
	Stage int
	// Sub is the instruction triggered by ONBUILD.
	Sub *Instruction

	// cmds caches the shell commands of a RUN (see runCommands).
	cmds  []shellCmd
	split bool
}

// Stage is one build stage.
type Stage struct {
	Index int
	// Name is the AS name, empty when unnamed.
	Name string
	// Image is the base image as written (may reference ARGs or a stage).
	Image string
	// From is the index of the FROM instruction in File.Instructions.
	From int
}

// File is a parsed Dockerfile.
type File struct {
	Path         string
	Instructions []Instruction
	Stages       []Stage
	lines        []string
}

// ParseError is a Dockerfile that cannot be parsed.
type ParseError struct {
	Path         string
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
}

// Parse reads a Dockerfile. Unknown instructions and instructions before the
// first FROM (other than ARG) are returned as problems next to the parsed
// file; a file that cannot be parsed at all returns a *ParseError.
func Parse(path string, data []byte) (*File, []*ParseError, error) {
	if len(data) > MaxFileSize {
		return nil, nil, &ParseError{Path: path, Line: 1, Column: 1, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	if ln, ok := longLine(data, maxLineLen); ok {
		return nil, nil, &ParseError{Path: path, Line: ln, Column: 1, Msg: fmt.Sprintf("line %d is longer than %d bytes", ln, maxLineLen)}
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		line := 1
		var le *parser.LocationError
		if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
			line = le.Locations[0][0].Start.Line
		}
		if line < 1 {
			line = 1
		}
		return nil, nil, &ParseError{Path: path, Line: line, Column: 1, Msg: "dockerfile parse error: " + err.Error()}
	}
	f := &File{Path: path, lines: splitLines(data)}
	var problems []*ParseError
	stage := -1
	for _, n := range res.AST.Children {
		inst := f.fromNode(n, stage)
		if inst.Cmd == "FROM" {
			stage++
			inst.Stage = stage
			st := Stage{Index: stage, From: len(f.Instructions)}
			if len(inst.Args) > 0 {
				st.Image = inst.Args[0]
			}
			if len(inst.Args) >= 3 && strings.EqualFold(inst.Args[1], "as") {
				st.Name = strings.ToLower(inst.Args[2])
			}
			f.Stages = append(f.Stages, st)
		}
		if !known(inst.Cmd) {
			problems = append(problems, &ParseError{Path: path, Line: inst.Line, Column: inst.Column, Msg: fmt.Sprintf("unknown instruction: %s", inst.Cmd)})
		} else if stage < 0 && inst.Cmd != "ARG" {
			problems = append(problems, &ParseError{Path: path, Line: inst.Line, Column: inst.Column, Msg: fmt.Sprintf("%s before the first FROM", inst.Cmd)})
		}
		f.Instructions = append(f.Instructions, inst)
	}
	return f, problems, nil
}

// maxLineLen is BuildKit's own limit for one physical line.
const maxLineLen = 64<<10 - 1

// longLine returns the first 1-based line longer than max.
func longLine(data []byte, max int) (int, bool) {
	line := 1
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		if i > max {
			return line, true
		}
		if i == len(data) {
			break
		}
		data = data[i+1:]
		line++
	}
	return 0, false
}

func known(cmd string) bool {
	switch cmd {
	case "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
		"MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR":
		return true
	}
	return false
}

func splitLines(data []byte) []string {
	s := string(data)
	s = strings.TrimPrefix(s, "\ufeff")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

func (f *File) fromNode(n *parser.Node, stage int) Instruction {
	inst := Instruction{
		Cmd:      strings.ToUpper(n.Value),
		Flags:    n.Flags,
		Original: n.Original,
		Line:     n.StartLine,
		EndLine:  n.EndLine,
		Column:   1,
		Stage:    stage,
		JSON:     n.Attributes["json"],
	}
	if inst.Line >= 1 && inst.Line <= len(f.lines) {
		l := f.lines[inst.Line-1]
		inst.Column = len(l) - len(strings.TrimLeft(l, " \t")) + 1
	}
	for _, h := range n.Heredocs {
		inst.Heredocs = append(inst.Heredocs, h.Content)
	}
	switch inst.Cmd {
	case "ENV", "LABEL":
		for c := n.Next; c != nil; {
			kv := KV{Key: c.Value, HasValue: true}
			if c.Next != nil {
				kv.Value = unquote(c.Next.Value)
				c = c.Next.Next
				if c != nil { // delimiter node
					c = c.Next
				}
			} else {
				c = nil
			}
			inst.KVs = append(inst.KVs, kv)
			inst.Args = append(inst.Args, kv.Key+"="+kv.Value)
		}
	case "ARG":
		for c := n.Next; c != nil; c = c.Next {
			k, v, ok := strings.Cut(c.Value, "=")
			inst.KVs = append(inst.KVs, KV{Key: k, Value: unquote(v), HasValue: ok})
			inst.Args = append(inst.Args, c.Value)
		}
	case "HEALTHCHECK":
		if n.Next != nil {
			inst.Args = append(inst.Args, strings.ToUpper(n.Next.Value))
			for c := n.Next.Next; c != nil; c = c.Next {
				inst.Args = append(inst.Args, c.Value)
			}
		}
	case "ONBUILD":
		if n.Next != nil && len(n.Next.Children) > 0 {
			sub := f.fromNode(n.Next.Children[0], stage)
			sub.Line, sub.Column, sub.EndLine = inst.Line, inst.Column, inst.EndLine
			inst.Sub = &sub
			inst.Args = append([]string{sub.Cmd}, sub.Args...)
		}
	default:
		for c := n.Next; c != nil; c = c.Next {
			inst.Args = append(inst.Args, c.Value)
		}
	}
	return inst
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// Flag returns the value of flag --name (and whether it is present).
func (i *Instruction) Flag(name string) (string, bool) {
	for _, fl := range i.Flags {
		fl = strings.TrimPrefix(fl, "--")
		k, v, _ := strings.Cut(fl, "=")
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Text is the instruction's argument text: the shell command line for the
// shell form, the items joined by spaces for the exec form.
func (i *Instruction) Text() string {
	return strings.Join(i.Args, " ")
}

// Find returns the position (line, column) of the first occurrence of s in
// the instruction's source lines, or the instruction's own position.
func (f *File) Find(i *Instruction, s string) (int, int) {
	if s != "" {
		for ln := i.Line; ln <= i.EndLine && ln <= len(f.lines); ln++ {
			if ln < 1 {
				continue
			}
			l := f.lines[ln-1]
			off := 0
			if ln == i.Line {
				off = i.Column - 1 + len(i.Cmd)
				if off > len(l) {
					off = len(l)
				}
			}
			if k := strings.Index(l[off:], s); k >= 0 {
				return ln, off + k + 1
			}
		}
	}
	return i.Line, i.Column
}

// Detect reports whether path names a Dockerfile or head (the start of
// the file) reads as one. By name, as Trivy and hadolint match them:
// Dockerfile, Containerfile, Dockerfile.* and Containerfile.*
// (Dockerfile.prod), *.Dockerfile and *.Containerfile, in any case. A name
// whose extension is that of source code, documentation or data
// (dockerfile.go, Dockerfile.md, Dockerfile.yaml) is never a Dockerfile,
// whatever its content. Other names are Dockerfiles when head reads as
// instructions: after comments, blank lines, parser directives and ARGs,
// the first instruction is FROM.
func Detect(path string, head []byte) bool {
	lb := strings.ToLower(filepath.Base(path))
	if notDockerfileExt[filepath.Ext(lb)] {
		return false
	}
	switch {
	case lb == "dockerfile" || lb == "containerfile":
		return true
	case strings.HasSuffix(lb, ".dockerfile") || strings.HasSuffix(lb, ".containerfile"):
		return true
	case strings.HasPrefix(lb, "dockerfile.") || strings.HasPrefix(lb, "containerfile."):
		return true
	}
	return looksLikeDockerfile(head)
}

// notDockerfileExt are extensions of source code, documentation, data and
// editor files: dockerfile.go (a Go source file about Dockerfiles) or
// Dockerfile.md is no Dockerfile.
var notDockerfileExt = extSet(`go py pyc js mjs cjs ts tsx jsx rb java kt kts scala groovy rs c h cc cpp cxx hpp cs fs php pl pm lua swift
		m mm r jl ex exs erl hs ml clj dart vb sh bash zsh fish ps1 psm1 bat cmd
		md markdown mdx rst txt text adoc asciidoc html htm xhtml pdf org tex rtf man 1 5 8
		json jsonc json5 yaml yml toml xml ini csv tsv lock sum mod proto sql
		png jpg jpeg gif svg ico webp
		patch diff swp swo orig rej`)

func extSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, e := range strings.Fields(list) {
		m["."+e] = true
	}
	return m
}

func looksLikeDockerfile(head []byte) bool {
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	cont := false
	for _, raw := range strings.Split(string(head), "\n") {
		l := strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff"))
		if cont {
			cont = strings.HasSuffix(l, "\\")
			continue
		}
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		word, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "ARG":
			if rest == "" {
				return false
			}
			cont = strings.HasSuffix(l, "\\")
			continue
		case "FROM":
			w := strings.Fields(rest)
			for len(w) > 0 && strings.HasPrefix(w[0], "--") {
				w = w[1:]
			}
			if len(w) == 0 || strings.ContainsAny(w[0], "\"'(),;<>") {
				return false
			}
			return len(w) == 1 || len(w) == 3 && strings.EqualFold(w[1], "as")
		}
		return false
	}
	return false
}
