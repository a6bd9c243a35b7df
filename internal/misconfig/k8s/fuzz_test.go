package k8s

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzScanFile feeds arbitrary bytes through the loader and every check:
// it must never panic, and every finding must carry a position and object.
// Seeds are the check fixtures in testdata/checks.
func FuzzScanFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/checks/*/*.yaml")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: x}]}}\n"))
	f.Add([]byte("--- |\n  text\n...\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewScanner("fuzz", Options{Limits: Limits{MaxExpandedNodes: 20000}})
		if err != nil {
			t.Fatal(err)
		}
		fs, _ := s.ScanFile("fuzz.yaml", data)
		fs = append(fs, s.Finish()...)
		for _, x := range fs {
			if x.Location.Object == nil || x.Location.Path == "" || x.RuleID == "" {
				t.Fatalf("finding without location: %+v", x)
			}
		}
	})
}

// FuzzReadBounded checks the bounded reader never returns more than the
// limits allow.
func FuzzReadBounded(f *testing.F) {
	f.Add([]byte("a\nbb\nccc\n"), 2, 8)
	f.Add([]byte("0123456789"), 4, 100)
	f.Fuzz(func(t *testing.T, data []byte, maxLine, maxFile int) {
		if maxLine <= 0 || maxFile <= 0 || maxLine > 1<<20 || maxFile > 1<<20 {
			return
		}
		out, err := ReadBounded("f", bytesReader(data), Limits{MaxLineBytes: maxLine, MaxFileBytes: int64(maxFile)})
		if err != nil {
			return
		}
		if len(out) > maxFile || string(out) != string(data) {
			t.Fatalf("read %d bytes (limit %d), equal=%v", len(out), maxFile, string(out) == string(data))
		}
	})
}

// FuzzAppendJSON checks that every YAML document the loader accepts is
// written as valid JSON for the typed Pod Security decoding.
func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte("a: \"\\x00\\u2028<&>\"\nb: [1, 2.5, .inf, ~, yes]\n"))
	f.Add([]byte("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n"))
	f.Add([]byte("? [complex, key]\n: v\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _ := SplitDocuments("f.yaml", data, Limits{MaxExpandedNodes: 20000})
		for _, d := range docs {
			var buf bytes.Buffer
			budget := 20000
			if err := appendJSON(&buf, d.Root, &budget, 0); err != nil {
				continue
			}
			if !json.Valid(buf.Bytes()) {
				t.Fatalf("invalid JSON %q from %q", buf.Bytes(), data)
			}
		}
	})
}
