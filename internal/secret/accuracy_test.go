package secret

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

type corpusLabel struct {
	Path      string `json:"path"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
	Rule      string `json:"rule"`
}

// TestCorpusAccuracy scans the labelled corpus (rule samples planted in
// realistic files, plus decoys: placeholders, hashes, UUIDs, base64
// images, minified JS, templates) and asserts recall and precision >= 0.95.
// A finding is a true positive when it falls inside a label's line range
// in the same file; rule-exact figures are logged too.
func TestCorpusAccuracy(t *testing.T) {
	dir := filepath.Join("testdata", "corpus")
	b, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels []corpusLabel
	if err := json.Unmarshal(b, &labels); err != nil {
		t.Fatal(err)
	}
	s := newTestScanner(t, Options{})
	fs, errs := s.ScanDir(context.Background(), "corpus", dir)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	found := make([]bool, len(labels))
	exact := make([]bool, len(labels))
	var fp []string
	tp := 0
	for _, f := range fs {
		if f.Location.Path == "labels.json" {
			continue
		}
		hit := false
		for i, l := range labels {
			if l.Path == f.Location.Path && f.Location.StartLine >= l.StartLine && f.Location.StartLine <= l.EndLine {
				hit = true
				found[i] = true
				if f.RuleID == l.Rule {
					exact[i] = true
				}
			}
		}
		if hit {
			tp++
		} else {
			fp = append(fp, f.Location.Position()+" "+f.RuleID+" "+f.Evidence)
		}
	}
	var missed []string
	nFound, nExact := 0, 0
	for i, l := range labels {
		if found[i] {
			nFound++
		} else {
			missed = append(missed, l.Path+":"+l.Rule)
		}
		if exact[i] {
			nExact++
		}
	}
	total := tp + len(fp)
	recall := float64(nFound) / float64(len(labels))
	precision := float64(tp) / float64(total)
	t.Logf("corpus: %d labels, %d findings; recall %.4f (rule-exact %.4f), precision %.4f", len(labels), total, recall, float64(nExact)/float64(len(labels)), precision)
	sort.Strings(fp)
	for _, m := range missed {
		t.Logf("missed: %s", m)
	}
	for _, f := range fp {
		t.Logf("false positive: %s", f)
	}
	if recall < 0.95 || precision < 0.95 {
		t.Errorf("recall %.4f precision %.4f, want >= 0.95 both", recall, precision)
	}
}
