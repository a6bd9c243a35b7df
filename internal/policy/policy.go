// Package policy loads user-defined misconfiguration checks written in CEL
// (the Common Expression Language of Kubernetes ValidatingAdmissionPolicy)
// and evaluates them over parsed documents: Kubernetes objects, Dockerfiles,
// Compose projects and Terraform modules. It is the only Ward package that
// imports cel-go.
//
// A check is a YAML document:
//
//	id: ACME-K8S-001
//	title: Deployments must carry an owner label
//	severity: MEDIUM
//	doc_type: kubernetes          # kubernetes | dockerfile | compose | terraform
//	kinds: [Deployment]            # kubernetes only, optional
//	match: object.spec.replicas > 1                # optional precondition
//	expression: has(object.metadata.labels) && "owner" in object.metadata.labels
//	field_path: metadata.labels    # optional: where a bool failure points
//	message: Deployment has no owner label
//	remediation: Add metadata.labels.owner.
//
// The expression follows ValidatingAdmissionPolicy semantics: it returns
// true when the document complies. It may instead return a list of field
// paths (strings), one per violation, so a finding can point at each
// offending element; an empty list complies. See docs/custom-checks.md for
// the input shape of every document type.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

// Limits.
const (
	// MaxFileSize is the largest policy file read.
	MaxFileSize = 1 << 20
	// MaxExpressionLen bounds one CEL expression (characters).
	MaxExpressionLen = 16 << 10
	// CostLimit bounds the runtime cost of one evaluation (CEL cost units),
	// like the API server's per-expression budget.
	CostLimit = 10_000_000
	// maxFiles bounds the policy files loaded from the given directories.
	maxFiles = 10_000
)

// Check is one loaded custom check.
type Check struct {
	Meta check.Meta
	// Kinds restricts a Kubernetes check to these object kinds.
	Kinds []string
	// FieldPath is where a failing bool expression points.
	FieldPath string
	Message   string
	// File and Line locate the check's definition.
	File string
	Line int

	match   cel.Program
	expr    cel.Program
	msgExpr cel.Program
	list    bool // expression returns list(string)
}

// Set is a loaded, compiled set of custom checks.
type Set struct {
	checks []*Check
}

// Checks returns the metadata of every loaded check, sorted by ID.
func (s *Set) Checks() []check.Meta {
	if s == nil {
		return nil
	}
	out := make([]check.Meta, len(s.checks))
	for i, c := range s.checks {
		out[i] = c.Meta
	}
	return out
}

// Len is the number of loaded checks.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.checks)
}

// Error is a policy file problem at file:line(:col).
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// spec is the YAML shape of one check.
type spec struct {
	ID                string   `yaml:"id"`
	Title             string   `yaml:"title"`
	Severity          string   `yaml:"severity"`
	DocType           string   `yaml:"doc_type"`
	Kinds             []string `yaml:"kinds"`
	Description       string   `yaml:"description"`
	Message           string   `yaml:"message"`
	MessageExpression string   `yaml:"message_expression"`
	Remediation       string   `yaml:"remediation"`
	References        []string `yaml:"references"`
	Match             string   `yaml:"match"`
	Expression        string   `yaml:"expression"`
	FieldPath         string   `yaml:"field_path"`
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Load reads every *.yaml / *.yml file in dirs (recursively; a path that is
// a file is read directly) and compiles its checks. Each YAML document is
// one check, or a mapping with a `checks:` list. The first problem is
// returned as an *Error naming the file and line (for a bad CEL expression,
// the line of the error inside the file).
func Load(dirs []string) (*Set, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("policy: CEL environment: %w", err)
	}
	var files []string
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, d)
			continue
		}
		err = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type().IsRegular() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
				if len(files) > maxFiles {
					return fmt.Errorf("more than %d policy files", maxFiles)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("policy: %s: %w", d, err)
		}
	}
	sort.Strings(files)
	s := &Set{}
	seen := map[string]string{}
	for _, f := range files {
		cs, err := loadFile(env, f)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if prev, dup := seen[c.Meta.ID]; dup {
				return nil, &Error{File: c.File, Line: c.Line, Msg: fmt.Sprintf("duplicate check ID %s (first defined at %s)", c.Meta.ID, prev)}
			}
			seen[c.Meta.ID] = fmt.Sprintf("%s:%d", c.File, c.Line)
			s.checks = append(s.checks, c)
		}
	}
	sort.Slice(s.checks, func(i, j int) bool { return s.checks[i].Meta.ID < s.checks[j].Meta.ID })
	return s, nil
}

func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("object", cel.DynType),
		cel.Variable("path", cel.StringType),
		cel.Variable("doc_type", cel.StringType),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxExpressionLen),
	)
}

func loadFile(env *cel.Env, path string) ([]*Check, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("policy: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	lines := strings.Split(string(data), "\n")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Check
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{File: path, Line: yamlErrLine(err), Msg: err.Error()}
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return nil, &Error{File: path, Line: root.Line, Column: root.Column, Msg: "a check must be a mapping"}
		}
		nodes := []*yaml.Node{root}
		if list := field(root, "checks"); list != nil {
			if list.Kind != yaml.SequenceNode {
				return nil, &Error{File: path, Line: list.Line, Column: list.Column, Msg: "checks must be a list"}
			}
			nodes = list.Content
		}
		for _, n := range nodes {
			c, err := compile(env, path, lines, n)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return n
	}
	return 0
}

// field returns the value node of key in mapping m.
func field(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

var knownKeys = map[string]bool{"id": true, "title": true, "severity": true, "doc_type": true, "kinds": true, "description": true,
	"message": true, "message_expression": true, "remediation": true, "references": true, "match": true, "expression": true, "field_path": true}

func compile(env *cel.Env, path string, lines []string, n *yaml.Node) (*Check, error) {
	errAt := func(node *yaml.Node, format string, args ...any) error {
		if node == nil {
			node = n
		}
		return &Error{File: path, Line: node.Line, Column: node.Column, Msg: fmt.Sprintf(format, args...)}
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, "a check must be a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !knownKeys[k.Value] {
			return nil, errAt(k, "unknown field %q", k.Value)
		}
	}
	var sp spec
	if err := n.Decode(&sp); err != nil {
		return nil, errAt(n, "%v", err)
	}
	if !idRe.MatchString(sp.ID) {
		return nil, errAt(field(n, "id"), "id %q must be 1-64 letters, digits, '.', '_' or '-'", sp.ID)
	}
	if strings.HasPrefix(strings.ToUpper(sp.ID), "WARD-") {
		return nil, errAt(field(n, "id"), "check %s: the WARD- prefix is reserved for built-in checks", sp.ID)
	}
	sev, err := finding.ParseSeverity(sp.Severity)
	if err != nil || sev == finding.SeverityUnknown {
		return nil, errAt(field(n, "severity"), "check %s: severity must be LOW, MEDIUM, HIGH or CRITICAL", sp.ID)
	}
	dt := check.DocType(strings.ToLower(sp.DocType))
	switch dt {
	case check.Kubernetes, check.Dockerfile, check.Compose, check.Terraform:
	default:
		return nil, errAt(field(n, "doc_type"), "check %s: doc_type must be kubernetes, dockerfile, compose or terraform", sp.ID)
	}
	if len(sp.Kinds) > 0 && dt != check.Kubernetes {
		return nil, errAt(field(n, "kinds"), "check %s: kinds applies to kubernetes checks only", sp.ID)
	}
	if sp.Expression == "" {
		return nil, errAt(n, "check %s: expression is required", sp.ID)
	}
	if sp.Message == "" && sp.MessageExpression == "" {
		return nil, errAt(n, "check %s: message (or message_expression) is required", sp.ID)
	}
	if sp.Title == "" {
		sp.Title = sp.Message
	}
	c := &Check{
		Meta: check.Meta{ID: sp.ID, Title: sp.Title, Severity: sev, DocType: dt, Description: sp.Description,
			Remediation: sp.Remediation, References: sp.References},
		Kinds: sp.Kinds, FieldPath: sp.FieldPath, Message: sp.Message, File: path, Line: n.Line,
	}
	if c.Meta.Description == "" {
		c.Meta.Description = "Custom check defined in " + filepath.Base(path) + "."
	}
	var ok bool
	if c.expr, ok, err = program(env, path, lines, sp.ID, "expression", field(n, "expression"), true); err != nil {
		return nil, err
	}
	c.list = !ok
	if sp.Match != "" {
		if c.match, _, err = program(env, path, lines, sp.ID, "match", field(n, "match"), false); err != nil {
			return nil, err
		}
	}
	if sp.MessageExpression != "" {
		if c.msgExpr, _, err = program(env, path, lines, sp.ID, "message_expression", field(n, "message_expression"), false); err != nil {
			return nil, err
		}
	}
	return c, nil
}

var celPos = regexp.MustCompile(`(?m)^ERROR: <input>:(\d+):(\d+): (.*)$`)

// program compiles the CEL source in node. For "expression" the output may
// be bool or list(string) (isBool reports which); "match" must be bool and
// "message_expression" string.
func program(env *cel.Env, path string, lines []string, id, what string, node *yaml.Node, allowList bool) (cel.Program, bool, error) {
	src := node.Value
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		// Map the CEL position (line within the expression) to the file.
		line, col := node.Line, node.Column
		msg := iss.Err().Error()
		if m := celPos.FindStringSubmatch(msg); m != nil {
			var l, c int
			fmt.Sscan(m[1], &l)
			fmt.Sscan(m[2], &c)
			// An error at the end of input is reported past the last
			// line: point at the end of the last line instead.
			srcLines := strings.Split(strings.TrimRight(src, "\n"), "\n")
			if l > len(srcLines) {
				l = len(srcLines)
				c = len(srcLines[l-1]) + 1
			}
			if node.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				// block content starts on the next line, indented
				line = node.Line + l
				col = c
				if node.Line < len(lines) { // first content line sets the indentation
					raw := lines[node.Line]
					col = c + len(raw) - len(strings.TrimLeft(raw, " "))
				}
			} else {
				line = node.Line + l - 1
				if l == 1 {
					col = node.Column + c - 1
					if node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
						col++
					}
				} else {
					col = c
				}
			}
			msg = m[3]
		}
		return nil, false, &Error{File: path, Line: line, Column: col, Msg: fmt.Sprintf("check %s: %s: %s", id, what, strings.TrimSpace(msg))}
	}
	out := ast.OutputType()
	isBool := out.IsExactType(cel.BoolType)
	isList := out.IsExactType(cel.ListType(cel.StringType)) || out.IsExactType(cel.ListType(cel.DynType))
	dyn := out.IsExactType(cel.DynType)
	switch what {
	case "message_expression":
		if !out.IsExactType(cel.StringType) && !dyn {
			return nil, false, &Error{File: path, Line: node.Line, Column: node.Column, Msg: fmt.Sprintf("check %s: %s must return a string, not %s", id, what, out)}
		}
	default:
		if !isBool && !dyn && !(allowList && isList) {
			want := "bool"
			if allowList {
				want = "bool or list(string)"
			}
			return nil, false, &Error{File: path, Line: node.Line, Column: node.Column, Msg: fmt.Sprintf("check %s: %s must return %s, not %s", id, what, want, out)}
		}
	}
	prg, err := env.Program(ast, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, false, &Error{File: path, Line: node.Line, Column: node.Column, Msg: fmt.Sprintf("check %s: %s: %v", id, what, err)}
	}
	return prg, isBool || dyn, nil
}

// Evaluate runs the checks for docType over doc and returns their findings.
// doc is the document in the shape documented per type (see the package
// documentation and docs/custom-checks.md); locate maps a field path
// ("spec.containers[0].image", "instructions[3]", "services.web.ports[0]",
// "resources.aws_s3_bucket.logs.acl") to a location in the file and may be
// nil. Evaluation errors are dropped; use EvaluateAll to see them.
func (s *Set) Evaluate(target, path string, docType check.DocType, doc any, locate func(fieldPath string) finding.Location) []finding.Finding {
	fs, _ := s.EvaluateAll(target, path, docType, doc, locate)
	return fs
}

// EvaluateAll is Evaluate that also returns evaluation errors (a field
// that does not exist, a type mismatch, the cost limit) as scan errors
// naming the check and its definition.
func (s *Set) EvaluateAll(target, path string, docType check.DocType, doc any, locate func(fieldPath string) finding.Location) ([]finding.Finding, []finding.ScanError) {
	if s == nil || len(s.checks) == 0 {
		return nil, nil
	}
	if locate == nil {
		locate = func(string) finding.Location { return finding.Location{Path: path} }
	}
	vars := map[string]any{"object": doc, "path": path, "doc_type": string(docType)}
	var out []finding.Finding
	var errs []finding.ScanError
	fail := func(c *Check, what string, err error) {
		errs = append(errs, finding.ScanError{Target: target, Path: path, Scanner: "misconfig",
			Message: fmt.Sprintf("custom check %s (%s:%d): %s: %v", c.Meta.ID, c.File, c.Line, what, err)})
	}
	kind := ""
	if m, ok := doc.(map[string]any); ok {
		kind, _ = m["kind"].(string)
	}
	for _, c := range s.checks {
		if c.Meta.DocType != docType {
			continue
		}
		if len(c.Kinds) > 0 && !containsFold(c.Kinds, kind) {
			continue
		}
		if c.match != nil {
			v, _, err := c.match.Eval(vars)
			if err != nil {
				fail(c, "match", err)
				continue
			}
			if b, ok := v.Value().(bool); !ok || !b {
				continue
			}
		}
		v, _, err := c.expr.Eval(vars)
		if err != nil {
			fail(c, "expression", err)
			continue
		}
		paths, err := violations(v, c.FieldPath)
		if err != nil {
			fail(c, "expression", err)
			continue
		}
		msg := c.Message
		if c.msgExpr != nil {
			if mv, _, err := c.msgExpr.Eval(vars); err == nil {
				if s, ok := mv.Value().(string); ok && s != "" {
					msg = s
				}
			} else {
				fail(c, "message_expression", err)
			}
		}
		for _, p := range paths {
			loc := locate(p)
			if loc.Path == "" {
				loc.Path = path
			}
			if loc.Object != nil && loc.Object.FieldPath == "" {
				o := *loc.Object
				o.FieldPath = p
				loc.Object = &o
			}
			f := c.Meta.Finding(target, loc, msg, p)
			f.Tags = append(f.Tags, "custom")
			out = append(out, f)
		}
	}
	return out, errs
}

// violations turns an expression result into the field paths of the
// violations: a false bool gives the check's field_path; a list gives its
// strings.
func violations(v ref.Val, fieldPath string) ([]string, error) {
	switch x := v.(type) {
	case types.Bool:
		if bool(x) {
			return nil, nil
		}
		return []string{fieldPath}, nil
	}
	if types.IsError(v) {
		return nil, fmt.Errorf("%v", v)
	}
	native, err := v.ConvertToNative(reflectStrings)
	if err != nil {
		return nil, fmt.Errorf("result must be bool or list(string), got %s", v.Type().TypeName())
	}
	return native.([]string), nil
}

var reflectStrings = reflect.TypeOf([]string{})

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
