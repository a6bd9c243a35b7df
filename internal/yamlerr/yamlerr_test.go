package yamlerr

import (
	"errors"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestPositionMatchesTheOffendingLine checks real yaml.v3 errors: the line
// returned is the one a user must look at.
func TestPositionMatchesTheOffendingLine(t *testing.T) {
	tests := []struct {
		in   string
		line int
	}{
		{"apiVersion: v1\nkind: Pod\nmetadata: [unclosed\n  name: x\n", 3},
		{"a: 1\nb: 2\nc: {x\n", 3},
		{"a: 1\nb: 2\nc: d: e\n", 3},
		{"a: 1\nb:\n\t- x\n", 3},
		// For an unfinished construct the line is where it starts.
		{"a:\n  - b\n  c: d\n", 2},
		{"- a\nb: c\n", 2},
	}
	for _, tt := range tests {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(tt.in), &n)
		if err == nil {
			t.Fatalf("%q parsed", tt.in)
		}
		line, msg, ok := Position(err)
		if !ok || line != tt.line || msg == "" {
			t.Errorf("Position(%q) = %d %q %v, want line %d", err, line, msg, ok, tt.line)
		}
	}
}

func TestPositionWithoutLine(t *testing.T) {
	if _, msg, ok := Position(errors.New("yaml: control characters are not allowed")); ok || msg != "control characters are not allowed" {
		t.Errorf("got %q %v", msg, ok)
	}
	if _, _, ok := Position(nil); ok {
		t.Error("nil error has a position")
	}
}
