package rules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AppendOutput is one entry of Falco's append_output configuration: text
// and fields added to the output of the rules it matches, so that every
// alert names the same context without each rule spelling it out.
type AppendOutput struct {
	// Source, Rule and Tags select rules; an empty selector matches every
	// rule. Tags must all be carried by the rule.
	Source string
	Rule   string
	Tags   []string
	// ExtraOutput is appended to the text output after a space; its
	// %fields also go to the JSON output_fields.
	ExtraOutput string
	// ExtraFields go to output_fields only, not to the text.
	ExtraFields []string
}

// ContainerAppendOutput is what Falco's default configuration appends to
// every syscall alert (the container plugin's suggested output): the
// container's id, name, image repository and tag, and the pod's name and
// namespace, in the text and in output_fields. Host processes show
// container_id=host container_name=host; missing values show <NA>.
var ContainerAppendOutput = []AppendOutput{{
	Source: "syscall",
	ExtraOutput: "container_id=%container.id container_name=%container.name " +
		"container_image_repository=%container.image.repository container_image_tag=%container.image.tag " +
		"k8s_pod_name=%k8s.pod.name k8s_ns_name=%k8s.ns.name",
}}

func (a *AppendOutput) matches(r *Rule) bool {
	if a.Source != "" && a.Source != r.Source {
		return false
	}
	if a.Rule != "" && a.Rule != r.Name {
		return false
	}
	for _, t := range a.Tags {
		if !slices.Contains(r.Tags, t) {
			return false
		}
	}
	return true
}

// AppendOutputError is an AppendOutput entry that does not compile (an
// unknown field, a field name that is not one).
type AppendOutputError struct {
	Entry string
	Err   error
}

func (e *AppendOutputError) Error() string {
	return fmt.Sprintf("append_output %s: %v", e.Entry, e.Err)
}

func (e *AppendOutputError) Unwrap() error { return e.Err }

// compileAppend adds the matching entries' segments to a rule's output.
func (e *Engine) compileAppend(r *Rule, entries []AppendOutput) error {
	for i := range entries {
		a := &entries[i]
		if !a.matches(r) {
			continue
		}
		if a.ExtraOutput != "" {
			segs, err := e.compileOutput(a.ExtraOutput)
			if err != nil {
				return &AppendOutputError{Entry: strconv.Quote(a.ExtraOutput), Err: err}
			}
			if len(r.out) > 0 {
				r.out = append(r.out, outSeg{lit: " "})
			}
			r.out = append(r.out, segs...)
		}
		for _, f := range a.ExtraFields {
			segs, err := e.compileOutput("%" + f)
			if err != nil {
				return &AppendOutputError{Entry: "field " + strconv.Quote(f), Err: err}
			}
			if len(segs) != 1 || segs[0].x == nil {
				return &AppendOutputError{Entry: "field " + strconv.Quote(f), Err: errors.New("not a field name")}
			}
			segs[0].hidden = true
			r.out = append(r.out, segs[0])
		}
	}
	return nil
}

type outSeg struct {
	lit string
	x   *extractor
	// hidden fields go to the fields only, not to the text.
	hidden bool
}

func (e *Engine) compileOutput(s string) ([]outSeg, error) {
	var segs []outSeg
	var lit strings.Builder
	cp := &compiler{fields: e.fields, used: map[string]bool{}}
	for i := 0; i < len(s); {
		ch := s[i]
		if ch != '%' {
			lit.WriteByte(ch)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i += 2
			continue
		}
		j := i + 1
		paren := j < len(s) && s[j] == '('
		if paren {
			j++
		}
		k := j
		for k < len(s) && (isIdent(s[k]) || s[k] == '.') {
			k++
		}
		for k > j && s[k-1] == '.' {
			k--
		}
		if k < len(s) && s[k] == '[' {
			if end := strings.IndexByte(s[k:], ']'); end > 0 {
				k += end + 1
			}
		}
		name := s[j:k]
		if !validFieldName(strings.SplitN(name, "[", 2)[0]) {
			lit.WriteByte('%')
			i++
			continue
		}
		f, err := fieldRefOf(name)
		if err != nil {
			return nil, fmt.Errorf("col %d: %v", i+1, err)
		}
		x, err := cp.extractor(f, false)
		if err != nil {
			return nil, fmt.Errorf("col %d: %v", i+1, err)
		}
		if paren {
			if k < len(s) && s[k] == ')' {
				k++
			}
		}
		if lit.Len() > 0 {
			segs = append(segs, outSeg{lit: lit.String()})
			lit.Reset()
		}
		segs = append(segs, outSeg{x: x})
		i = k
	}
	if lit.Len() > 0 {
		segs = append(segs, outSeg{lit: lit.String()})
	}
	return segs, nil
}

func (e *Engine) render(segs []outSeg, c *ctx) (string, []FieldValue) {
	var b strings.Builder
	var fields []FieldValue
	for _, s := range segs {
		if s.x == nil {
			b.WriteString(s.lit)
			continue
		}
		v, txt := value(s.x, c)
		if !s.hidden {
			b.WriteString(txt)
		}
		dup := false
		for _, f := range fields {
			if f.Name == s.x.name {
				dup = true
			}
		}
		if !dup {
			fields = append(fields, FieldValue{Name: s.x.name, Value: v})
		}
	}
	return b.String(), fields
}

// value extracts a field for output: a typed value and its text.
func value(x *extractor, c *ctx) (any, string) {
	switch {
	case x.typ == tInt && x.def.nums == nil:
		if v, ok := x.num(c); ok {
			return v, strconv.FormatInt(v, 10)
		}
	case x.typ == tBool:
		if v, ok := x.num(c); ok {
			return v != 0, strconv.FormatBool(v != 0)
		}
	case x.def.ips != nil:
		ips := x.ipList(c)
		if len(ips) > 0 {
			s := ips[0].String()
			return s, s
		}
	case x.def.nums != nil:
		ns := x.def.nums(c, &x.a)
		if len(ns) > 0 {
			parts := make([]string, len(ns))
			for i, n := range ns {
				parts[i] = strconv.FormatInt(n, 10)
			}
			s := strings.Join(parts, ",")
			return s, s
		}
	case x.multi:
		vs := x.strs(c)
		if len(vs) > 0 {
			s := strings.Clone(strings.Join(vs, ","))
			return s, s
		}
	default:
		if s, ok := x.str(c); ok {
			s = strings.Clone(s)
			return s, s
		}
	}
	return nil, "<NA>"
}

// FormatTime renders an event time the way Falco prefixes its outputs.
func FormatTime(ts int64) string {
	return time.Unix(0, ts).UTC().Format("15:04:05.000000000")
}
