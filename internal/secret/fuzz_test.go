package secret

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/secret/rules"
	"github.com/wardsec/ward/pkg/finding"
)

func FuzzParseWardRules(f *testing.F) {
	f.Add([]byte("rules:\n- id: a1\n  regex: 'a(b)'\n  keywords: [a]\n"))
	f.Add([]byte("rules:\n- id: x\n  assign: foo\n  value: '[a-z]{8}'\n"))
	f.Add([]byte("allowlist:\n  paths: ['x']\nrules: []\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add(rules.BuiltinYAML()[:2000])
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := rules.ParseWard(b, "fuzz.yaml")
		if err != nil {
			return
		}
		// A file that parses must compile and scan without panicking.
		s, err := New(Options{NoBuiltin: true, Rules: []*rules.File{file}, MaxDecodeDepth: -1})
		if err != nil {
			return
		}
		_, _ = s.ScanText(context.Background(), "t", finding.Location{Path: "x"}, "abc token=abcdefghijklmnop123 "+string(b[:min(len(b), 200)]))
	})
}

func FuzzParseGitleaks(f *testing.F) {
	f.Add([]byte("[[rules]]\nid = \"x\"\nregex = '''a(b)'''\nkeywords = [\"a\"]\n"))
	f.Add([]byte("[allowlist]\npaths = ['''x''']\nstopwords = [\"s\"]\n[[rules]]\nid = \"y\"\nregex = '''y'''\n[[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['''z''']\n"))
	f.Add([]byte("[extend]\nuseDefault = true\ndisabledRules = [\"x\"]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := rules.ParseGitleaks(b, "fuzz.toml")
		if err != nil {
			return
		}
		s, err := New(Options{NoBuiltin: true, Rules: []*rules.File{file}, MaxDecodeDepth: -1})
		if err != nil {
			return
		}
		_, _ = s.ScanText(context.Background(), "t", finding.Location{Path: "x"}, "y ab z")
	})
}

func FuzzScanBytes(f *testing.F) {
	f.Add([]byte("t=" + fakeGHP + "\n"))
	f.Add([]byte("\x00\x01binary"))
	f.Add([]byte(base64.StdEncoding.EncodeToString([]byte("k=" + fakeStripe))))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"))
	f.Add([]byte("kind: Secret\ndata:\n  a: aGVsbG8gd29ybGQgaGVsbG8=\n"))
	f.Add([]byte("%41%42%43 password=%73%65%63%72%65%74%31%32"))
	f.Add([]byte("\xff\xfe\xc3\x28 token: \"abc\xff\""))
	s := newTestScanner(f, Options{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := s.ScanReader(context.Background(), "t", finding.Location{Path: "f.env"}, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.Location.StartLine < 1 || f.Location.StartColumn < 1 || f.Secret == nil || len(f.Secret.SHA256) != 64 {
				t.Fatalf("bad finding %+v", f)
			}
		}
	})
}

func FuzzArchiveWalker(f *testing.F) {
	f.Add(zipOf(f, map[string][]byte{"a.txt": []byte("t=" + fakeGHP)}))
	f.Add(gzipOf(f, tarOf(f, map[string][]byte{"a/b.txt": []byte("x")})))
	f.Add(tarOf(f, map[string][]byte{"../../etc/passwd": []byte("t=" + fakeGHP)}))
	f.Add(gzipOf(f, []byte("plain")))
	f.Add([]byte("PK\x03\x04\x14\x00"))
	s := newTestScanner(f, Options{})
	f.Fuzz(func(t *testing.T, b []byte) {
		kind := archiveKind("x.tar", b)
		if kind == "" {
			return
		}
		bud := &budget{left: 64 << 20, entries: 1000}
		fs, _ := s.walkArchive(context.Background(), "t", "x", kind, bytes.NewReader(b), bytes.NewReader(b), int64(len(b)), 1, bud, s.eng.newScratch())
		for _, f := range fs {
			// A member path must not climb out of its archive: no ".."
			// component and no absolute path ("..000" is a name like any).
			for _, member := range strings.Split(f.Location.Path, "!")[1:] {
				if strings.HasPrefix(member, "/") || slices.Contains(strings.Split(member, "/"), "..") {
					t.Fatalf("path escapes: %q", f.Location.Path)
				}
			}
		}
	})
}

func FuzzParseGitLog(f *testing.F) {
	f.Add([]byte(commitMarker + "abc\x1fA\x1fa@x\x1f2024\x1fm\ndiff --git a/x b/x\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+b\n"))
	f.Add([]byte("diff --git \"a/\\303\" \"b/\\303\"\n+++ \"b/\\303\\\"\n@@ -1 +99999999999999999999 @@\n+x\n"))
	f.Add([]byte("@@ -1 +1 @@\n+\n\\ No newline\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var total int
		err := parseGitLog(bytes.NewReader(b), 4096, func(h *gitHunk) error {
			if len(h.data) > 4096+maxGitLine+1 {
				t.Fatalf("hunk of %d bytes exceeds the bound", len(h.data))
			}
			total += len(h.data)
			return nil
		}, func(string) {})
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if total > len(b) {
			t.Fatalf("emitted %d bytes from %d input bytes", total, len(b))
		}
	})
}
