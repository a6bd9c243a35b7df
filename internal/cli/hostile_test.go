package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/vuln/db"
)

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

// A hostile bundle or OSV archive names sources, ecosystems and failing
// documents: 'ward db status' prints them escaped.
func TestDBStatusEscapesNames(t *testing.T) {
	st := db.Status{
		Ecosystems: map[string]int{"Go\x1b[2J": 1},
		Sources: []db.SourceStatus{{Name: "../x\x1b]0;T\a", Origin: "/o\x1b[2J", ParseFailures: 2,
			Failures: []db.Failure{{File: "a\x1b[1m.json", Error: "bad\x9b"}}}},
	}
	var b bytes.Buffer
	writeDBStatus(&b, st, time.Now())
	if strings.ContainsAny(b.String(), "\x1b\a") || strings.Contains(b.String(), "\x9b") {
		t.Errorf("raw control characters in:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `../x\x1b]0;T\x07`) {
		t.Errorf("source name not shown escaped:\n%s", b.String())
	}
}
