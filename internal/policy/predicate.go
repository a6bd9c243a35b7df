package policy

import (
	"errors"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
)

// Condition is a compiled CEL condition over an in-toto attestation, used
// by `ward verify-attestation --policy` and by the trusted-supply policy's
// required attestations. The expression sees:
//
//	predicate      the statement's predicate (JSON object as a map)
//	predicateType  the statement's predicate type URI
//	subject        the statement's subjects (list of {name, digest})
//
// and must return a bool: true when the attestation satisfies it.
type Condition struct {
	src string
	prg cel.Program
}

// CompileCondition compiles a predicate condition.
func CompileCondition(expr string) (*Condition, error) {
	if len(expr) > MaxExpressionLen {
		return nil, fmt.Errorf("condition: expression longer than %d characters", MaxExpressionLen)
	}
	env, err := cel.NewEnv(
		cel.Variable("predicate", cel.DynType),
		cel.Variable("predicateType", cel.StringType),
		cel.Variable("subject", cel.ListType(cel.DynType)),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
	)
	if err != nil {
		return nil, fmt.Errorf("condition: CEL environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("condition %q: %w", expr, iss.Err())
	}
	if t := ast.OutputType(); t != types.BoolType && t != types.DynType {
		return nil, fmt.Errorf("condition %q: returns %s, want bool", expr, t)
	}
	prg, err := env.Program(ast, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", expr, err)
	}
	return &Condition{src: expr, prg: prg}, nil
}

// String returns the expression.
func (c *Condition) String() string { return c.src }

// Eval evaluates the condition. predicate and subject are decoded JSON
// (maps, slices, strings, float64, bool, nil).
func (c *Condition) Eval(predicateType string, predicate any, subject []any) (bool, error) {
	if subject == nil {
		subject = []any{}
	}
	out, _, err := c.prg.Eval(map[string]any{
		"predicate":     predicate,
		"predicateType": predicateType,
		"subject":       subject,
	})
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", c.src, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition %q: %w (got %s)", c.src, errNotBool, out.Type())
	}
	return b, nil
}

var errNotBool = errors.New("result is not a bool")
