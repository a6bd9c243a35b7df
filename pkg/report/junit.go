package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"

	"github.com/wardsec/ward/pkg/finding"
)

// JUnitWriter writes JUnit XML: one test suite per target, one test case
// per rule and target; a case fails with one failure entry per finding.
type JUnitWriter struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failures  []junitDetail `xml:"failure,omitempty"`
	Error     *junitDetail  `xml:"error,omitempty"`
	Skipped   *junitDetail  `xml:"skipped,omitempty"`
}

type junitDetail struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Write renders r.
func (JUnitWriter) Write(w io.Writer, r *Report) error {
	r.Finalize()
	type key struct{ target, rule string }
	cases := map[key]*junitCase{}
	var order []key
	add := func(k key) *junitCase {
		c, ok := cases[k]
		if !ok {
			c = &junitCase{Name: k.rule, Classname: k.target}
			cases[k] = c
			order = append(order, k)
		}
		return c
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		target := f.Target
		if target == "" {
			target = r.Artifact.Name
		}
		c := add(key{target, f.RuleID})
		switch {
		case f.Suppressed != nil:
			if c.Skipped == nil && len(c.Failures) == 0 {
				c.Skipped = &junitDetail{Message: "suppressed: " + f.Suppressed.Kind}
			}
		case f.Kind == finding.KindBenchmark && f.Benchmark != nil && f.Benchmark.Status != finding.StatusFail:
			if f.Benchmark.Status == finding.StatusError {
				c.Error = &junitDetail{Message: f.Message, Type: "error"}
			} else if f.Benchmark.Status != finding.StatusPass {
				c.Skipped = &junitDetail{Message: string(f.Benchmark.Status)}
			}
		default:
			c.Skipped = nil
			text := fmt.Sprintf("%s\n%s\nLocation: %s", f.Title, f.Message, location(f))
			if f.Remediation != "" {
				text += "\nRemediation: " + f.Remediation
			}
			c.Failures = append(c.Failures, junitDetail{
				Message: fmt.Sprintf("[%s] %s", f.Severity, f.Title),
				Type:    f.Severity.String(),
				Text:    text,
			})
		}
	}
	// Rules known to the run without findings are passing cases.
	var ruleIDs []string
	for id := range r.Rules {
		ruleIDs = append(ruleIDs, id)
	}
	sort.Strings(ruleIDs)
	for _, id := range ruleIDs {
		add(key{r.Artifact.Name, id})
	}
	suites := map[string]*junitSuite{}
	var suiteOrder []string
	out := junitSuites{Name: "ward"}
	for _, k := range order {
		s, ok := suites[k.target]
		if !ok {
			s = &junitSuite{Name: k.target}
			suites[k.target] = s
			suiteOrder = append(suiteOrder, k.target)
		}
		c := cases[k]
		s.Cases = append(s.Cases, *c)
		s.Tests++
		if len(c.Failures) > 0 {
			s.Failures++
		}
		if c.Error != nil {
			s.Errors++
		}
		if c.Skipped != nil {
			s.Skipped++
		}
	}
	// Scan errors are error cases of their own suite.
	if len(r.Errors) > 0 {
		s := &junitSuite{Name: "scan errors"}
		for _, e := range r.Errors {
			s.Cases = append(s.Cases, junitCase{Name: e.Path, Classname: "scan-error", Error: &junitDetail{Message: e.Message, Type: "scan-error", Text: e.Error()}})
			s.Tests++
			s.Errors++
		}
		suites[s.Name] = s
		suiteOrder = append(suiteOrder, s.Name)
	}
	for _, name := range suiteOrder {
		s := suites[name]
		out.Suites = append(out.Suites, *s)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
