package terraform

import (
	"errors"
	"math/big"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Evaluation bounds. HCL has no evaluation budget, so a hostile module could
// build huge values (nested for expressions, string amplification through
// locals). Expressions and values past these bounds evaluate as unknown,
// which checks treat as "cannot tell".
const (
	// maxExprBytes: larger expressions are not evaluated (IAM and bucket
	// policies, the largest legitimate ones, stay far below).
	maxExprBytes = 32 << 10
	// maxForDepth bounds nested for expressions (template for-directives
	// count as one level more).
	maxForDepth = 2
	// maxValueBytes and maxValueElems bound a value kept in a variable or
	// local, or returned by an expression.
	maxValueBytes = 64 << 10
	maxValueElems = 10_000
	// maxFuncOutput bounds the estimated output of amplifying functions.
	maxFuncOutput = 1 << 20
)

var errTooLarge = errors.New("value too large to evaluate statically")

// evaluable reports whether e is small and shallow enough to evaluate.
func evaluable(e hcl.Expression) bool {
	r := e.Range()
	if r.End.Byte-r.Start.Byte > maxExprBytes {
		return false
	}
	se, ok := e.(hclsyntax.Expression)
	if !ok {
		return true
	}
	return forDepth(se) <= maxForDepth
}

// forDepth returns the deepest nesting of for expressions (and template
// for-directives) in e. A for expression's collection counts as nested too,
// which overestimates slightly and is safe.
func forDepth(e hclsyntax.Node) int {
	w := &depthWalker{}
	_ = hclsyntax.Walk(e, w)
	return w.max
}

type depthWalker struct{ cur, max int }

func isLoop(n hclsyntax.Node) bool {
	switch n.(type) {
	case *hclsyntax.ForExpr, *hclsyntax.TemplateJoinExpr:
		return true
	}
	return false
}

func (w *depthWalker) Enter(n hclsyntax.Node) hcl.Diagnostics {
	if isLoop(n) {
		w.cur++
		w.max = max(w.max, w.cur)
	}
	return nil
}

func (w *depthWalker) Exit(n hclsyntax.Node) hcl.Diagnostics {
	if isLoop(n) {
		w.cur--
	}
	return nil
}

// small reports whether v stays within maxValueBytes / maxValueElems.
func small(v cty.Value) bool {
	bytes, elems := 0, 0
	var walk func(v cty.Value, depth int) bool
	walk = func(v cty.Value, depth int) bool {
		if depth > 64 {
			return false
		}
		if !v.IsKnown() || v.IsNull() {
			return true
		}
		t := v.Type()
		switch {
		case t == cty.String:
			bytes += len(v.AsString())
			return bytes <= maxValueBytes
		case t.IsListType() || t.IsSetType() || t.IsTupleType() || t.IsMapType() || t.IsObjectType():
			elems += v.LengthInt()
			if elems > maxValueElems {
				return false
			}
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				if t.IsMapType() || t.IsObjectType() {
					bytes += len(k.AsString())
				}
				if !walk(e, depth+1) {
					return false
				}
			}
		}
		return true
	}
	return walk(v, 0)
}

// strLen is the length of a known string argument (0 otherwise).
func strLen(v cty.Value) int {
	if v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
		return len(v.AsString())
	}
	return 0
}

func listLen(v cty.Value) int {
	if v.IsKnown() && !v.IsNull() && (v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
		return v.LengthInt()
	}
	return 0
}

// hugeFormat matches a format verb with a width or precision of 4+ digits.
var hugeFormat = regexp.MustCompile(`%[-+ #0]*(\[\d+\])?\d{4,}|%[-+ #0]*(\[\d+\])?\d*\.\d{4,}`)

// guarded wraps a function with a pre-check that refuses arguments whose
// output could be huge.
func guarded(f function.Function, check func(args []cty.Value) bool) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        func(args []cty.Value) (cty.Type, error) { return f.ReturnTypeForValues(args) },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if !check(args) {
				return cty.NilVal, errTooLarge
			}
			return f.Call(args)
		},
	})
}

// guardFunctions wraps the functions that can amplify their input.
func guardFunctions(fs map[string]function.Function) {
	sumStrings := func(args []cty.Value) int {
		n := 0
		for _, a := range args {
			n += strLen(a)
			if a.IsKnown() && !a.IsNull() && listLen(a) > 0 {
				for it := a.ElementIterator(); it.Next(); {
					_, e := it.Element()
					n += strLen(e)
				}
			}
		}
		return n
	}
	fs["join"] = guarded(fs["join"], func(args []cty.Value) bool {
		elems := 0
		for _, a := range args[1:] {
			elems += listLen(a)
		}
		return sumStrings(args[1:])+elems*strLen(args[0]) <= maxFuncOutput
	})
	for _, name := range []string{"replace"} {
		fs[name] = guarded(fs[name], func(args []cty.Value) bool {
			// worst case: an empty search string inserts the replacement
			// between every byte.
			return (strLen(args[0])+1)*(strLen(args[2])+1) <= maxFuncOutput*4
		})
	}
	for _, name := range []string{"format", "formatlist"} {
		fs[name] = guarded(fs[name], func(args []cty.Value) bool {
			if len(args) == 0 || strLen(args[0]) == 0 {
				return true
			}
			if hugeFormat.MatchString(args[0].AsString()) {
				return false
			}
			n := sumStrings(args)
			if name == "formatlist" {
				for _, a := range args[1:] {
					if l := listLen(a); l > 0 {
						n += l * strLen(args[0])
					}
				}
			}
			return n <= maxFuncOutput
		})
	}
	fs["indent"] = guarded(fs["indent"], func(args []cty.Value) bool {
		if !args[0].IsKnown() || args[0].IsNull() || args[0].Type() != cty.Number {
			return true
		}
		n, acc := args[0].AsBigFloat().Int64()
		return acc == big.Exact && n >= 0 && n <= 1000
	})
	fs["setproduct"] = guarded(fs["setproduct"], func(args []cty.Value) bool {
		total := 1
		for _, a := range args {
			l := listLen(a)
			if l == 0 && a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
				l = a.LengthInt()
			}
			total *= max(l, 1)
			if total > maxValueElems {
				return false
			}
		}
		return true
	})
}
