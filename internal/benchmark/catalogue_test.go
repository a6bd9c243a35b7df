package benchmark

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated control catalogue in docs/host-benchmarks.md")

const (
	catalogueBegin = "<!-- BEGIN CATALOGUE -->\n"
	catalogueEnd   = "<!-- END CATALOGUE -->"
)

// catalogue renders the shipped controls as Markdown: counts per section,
// then one table per benchmark.
func catalogue(cs []Control) string {
	var b strings.Builder
	type key struct{ bench, sec string }
	counts := map[key][2]int{}
	var order []key
	titles := map[key]string{}
	total := [2]int{}
	for _, c := range cs {
		k := key{c.Benchmark, c.Section}
		if _, ok := counts[k]; !ok {
			order = append(order, k)
			titles[k] = c.SectionTitle
		}
		n := counts[k]
		if c.Probe.Type == ProbeManual {
			n[1]++
			total[1]++
		} else {
			n[0]++
			total[0]++
		}
		counts[k] = n
	}
	fmt.Fprintf(&b, "%d controls: %d automated, %d manual.\n\n", len(cs), total[0], total[1])
	b.WriteString("| benchmark | section | title | automated | manual |\n|---|---|---|---|---|\n")
	for _, k := range order {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d |\n", k.bench, k.sec, titles[k], counts[k][0], counts[k][1])
	}
	bench := ""
	for _, c := range cs {
		if c.Benchmark != bench {
			bench = c.Benchmark
			fmt.Fprintf(&b, "\n### %s\n\n| ID | section | severity | probe | title |\n|---|---|---|---|---|\n", bench)
		}
		probe := c.Probe.Type
		if c.Probe.Check != "" {
			probe += " " + c.Probe.Check
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.ID, c.Section, c.Severity, probe, strings.ReplaceAll(c.Title, "|", `\|`))
	}
	return b.String()
}

// TestCatalogue keeps the catalogue in docs/host-benchmarks.md in step with
// the control files.
func TestCatalogue(t *testing.T) {
	cs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "host-benchmarks.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(doc, []byte(catalogueBegin))
	j := bytes.Index(doc, []byte(catalogueEnd))
	if i < 0 || j < i {
		t.Fatalf("%s: catalogue markers missing", path)
	}
	want := catalogue(cs)
	got := string(doc[i+len(catalogueBegin) : j])
	if got == want {
		return
	}
	if *update {
		out := append(append(append([]byte{}, doc[:i+len(catalogueBegin)]...), want...), doc[j:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: control catalogue is stale; run go test ./internal/benchmark -run TestCatalogue -update", path)
}
