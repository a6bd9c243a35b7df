package cli

import "testing"

// Names from a scanned artifact (tar entries, file names) reach standard
// error in scan errors and warnings: escape sequences in them must not
// reach the terminal.
func TestTermSafe(t *testing.T) {
	for _, c := range []struct {
		in   string
		keep bool
		want string
	}{
		{"plain text: ok\tü", false, "plain text: ok\tü"},
		{"../\x1b]0;T\a\x1b[2Jx: refused", false, `../\x1b]0;T\x07\x1b[2Jx: refused`},
		{"a\nfake line", false, `a\nfake line`},
		{"a\nb\u009bc\x7f", true, "a\nb\\x9bc\\x7f"},
		{"raw \x9b[2J byte", false, `raw \x9b[2J byte`},
	} {
		if got := termSafe(c.in, c.keep); got != c.want {
			t.Errorf("termSafe(%q, %v) = %q, want %q", c.in, c.keep, got, c.want)
		}
	}
}
