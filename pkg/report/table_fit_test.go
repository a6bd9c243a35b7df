package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wardsec/ward/pkg/finding"
)

func TestTableFitWrap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		width int
		in    string
		want  []string
	}{
		{"no limit", 0, "a long title that is not wrapped", []string{"a long title that is not wrapped"}},
		{"fits", 40, "short title", []string{"short title"}},
		{"at spaces", 10, "aaa bbb ccc ddd", []string{"aaa bbb", "ccc ddd"}},
		{"long word cut", 5, "abcdefghijkl mn", []string{"abcde", "fghij", "kl mn"}},
		{"exact", 7, "aaa bbb", []string{"aaa bbb"}},
		{"empty", 10, "", []string{""}},
		{"runes", 4, "ééé ééé", []string{"ééé", "ééé"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tableFit{title: tc.width}.wrap(tc.in)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("wrap(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
			}
		})
	}
}

func TestTableFitLocation(t *testing.T) {
	f := tableFit{loc: 16} // any width: location is independent of the constants
	if got := f.location("short.go:1:2"); got != "short.go:1:2" {
		t.Errorf("short location changed: %q", got)
	}
	got := f.location("very/long/path/to/some/file.yaml:12:3")
	if utf8.RuneCountInString(got) != 16 || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "file.yaml:12:3") {
		t.Errorf("location = %q, want 16 runes ending with the file name and position", got)
	}
}

// Every row of a fitted table is at most Width columns wide, and nothing
// is lost: the title's words all appear.
func TestTableWidthBound(t *testing.T) {
	long := strings.Repeat("word ", 40)
	r := &Report{Findings: []finding.Finding{
		{Kind: finding.KindMisconfiguration, RuleID: "K8S-001", Severity: finding.SeverityHigh, Title: long, Target: "t",
			Location: finding.Location{Path: strings.Repeat("dir/", 30) + "deploy.yaml", StartLine: 3, StartColumn: 1}},
	}}
	for _, width := range []int{90, 100, 120} { // from the fixed columns (39) + minLocation + minTitle up
		var buf bytes.Buffer
		if err := (&TableWriter{Width: width}).Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		words := 0
		for _, line := range strings.Split(buf.String(), "\n") {
			if n := utf8.RuneCountInString(strings.TrimRight(line, " ")); n > width {
				t.Errorf("width %d: line of %d runes: %q", width, n, line)
			}
			words += strings.Count(line, "word")
		}
		if words != 40 {
			t.Errorf("width %d: %d of 40 title words shown", width, words)
		}
		if !strings.Contains(buf.String(), "deploy.yaml:3:1") {
			t.Errorf("width %d: location lost its file name:\n%s", width, buf.String())
		}
	}
}

func TestTableSecretDetails(t *testing.T) {
	f := finding.Finding{Kind: finding.KindSecret, RuleID: "github-pat", Severity: finding.SeverityCritical,
		Title: "GitHub personal access token", Evidence: `token = "ghp_********"`,
		Location: finding.Location{Path: "b.txt", StartLine: 1, Commit: &finding.Commit{
			SHA: "f8ea4e1670d370826339e0adf78433b431c04e4f", Author: "Alice", Email: "a@x.io", Date: "2026-12-07T09:59:40+00:00"}}}
	got := strings.Join(detailLines(&f), "\n")
	for _, want := range []string{`match: token = "ghp_********"`, "commit f8ea4e1670d3 by Alice <a@x.io> on 2026-12-07"} {
		if !strings.Contains(got, want) {
			t.Errorf("details %q lack %q", got, want)
		}
	}
	// A misconfiguration's evidence is not printed as a "match".
	m := finding.Finding{Kind: finding.KindMisconfiguration, Title: "x", Evidence: "privileged: true"}
	if d := detailLines(&m); len(d) != 0 {
		t.Errorf("misconfig details = %q, want none", d)
	}
}
