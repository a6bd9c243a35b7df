package k8s

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDecodePodPruned requires the pruned pod decode (DecodePod) to give
// the same Pod Security results as decoding every field, on every upstream
// fixture (which set each field the checks read) and on Ward's own
// Kubernetes fixtures, at every policy version.
func TestDecodePodPruned(t *testing.T) {
	var files []string
	root := filepath.Join(psaModuleDir(t), "test", "testdata")
	for _, dir := range []string{root, "testdata"} {
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
			}
			return nil
		})
	}
	pss := map[string]*PSS{}
	for _, v := range []string{"latest", "v1.0", "v1.8", "v1.19", "v1.25"} {
		p, err := NewPSS(v)
		if err != nil {
			t.Fatal(err)
		}
		pss[v] = p
	}
	pods := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, _ := SplitDocuments(f, data, Limits{})
		for _, d := range docs {
			for _, o := range objectsOf(f, d) {
				ps, ok := o.PodSpec()
				if !ok {
					continue
				}
				m1, s1, err1 := decodePod(ps.Meta, ps.Node, 100000, true)
				m2, s2, err2 := decodePod(ps.Meta, ps.Node, 100000, false)
				if err2 != nil {
					continue // the full decode refuses it (a fixture of a bad type)
				}
				if err1 != nil {
					t.Fatalf("%s %s: pruned decode fails where the full one works: %v", f, o.Name, err1)
				}
				pods++
				for v, p := range pss {
					r1, r2 := p.Evaluate(m1, s1), p.Evaluate(m2, s2)
					if !reflect.DeepEqual(r1, r2) {
						t.Errorf("%s %s (%s): pruned %+v\nfull %+v", f, o.Name, v, r1, r2)
					}
				}
			}
		}
	}
	if pods < 1000 {
		t.Errorf("only %d pods compared", pods)
	}
	t.Logf("%d pods compared", pods)
}
