package check

import (
	"strings"
	"testing"
)

func TestIgnores(t *testing.T) {
	src := `# ward:ignore WARD-X-001 owner accepted
resource "a" "b" {        // line 2: the owner
  x = 1 # ward:ignore WARD-X-002,WARD-X-003 trailing
  y = 2
  // ward:ignore * everything below
  z = 3
  url = "http://host/#ward:ignore WARD-X-009 not a comment"
}
`
	lines := strings.Split(src, "\n")
	ig := ParseIgnores(lines, "#", "//")
	tests := []struct {
		id          string
		line, owner int
		want        bool
	}{
		{"WARD-X-001", 4, 2, true},  // comment block above the owner
		{"WARD-X-002", 3, 2, true},  // same line
		{"ward-x-003", 3, 2, true},  // IDs are case-insensitive
		{"WARD-X-002", 4, 2, false}, // a trailing comment does not cover the next line
		{"WARD-X-007", 6, 2, true},  // "*" on the comment line above
		{"WARD-X-007", 4, 2, false},
		{"WARD-X-009", 7, 2, false}, // inside a string, not after whitespace
	}
	for _, tt := range tests {
		s := ig.Match(tt.id, tt.line, tt.owner)
		if (s != nil) != tt.want {
			t.Errorf("Match(%s, %d, %d) = %v, want %v", tt.id, tt.line, tt.owner, s, tt.want)
		}
		if s != nil && (s.Kind != "inline" || s.Reason == "") {
			t.Errorf("suppression = %+v", s)
		}
	}
	// With "#" only, "//" comments are not ignores.
	if ParseIgnores(lines, "#").Match("WARD-X-007", 6, 2) != nil {
		t.Error(`"//" comment honoured for a "#"-only format`)
	}
}
