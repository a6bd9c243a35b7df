package secret

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wardsec/ward/internal/secret/rules"
	"github.com/wardsec/ward/pkg/finding"
)

// Fake, well-formed secrets used across tests (random characters).
const (
	fakeGHP    = "ghp_Vx9KqTz3LmWp2RbYc7NdHs4FjGa8Ue1Qo5Ik"
	fakeAWSID  = "AKIAZ7QLMW3PXT5RBNYC"
	fakeStripe = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ2fR8sKm"
)

func scanText(t *testing.T, s *Scanner, path, text string) []finding.Finding {
	t.Helper()
	fs, err := s.ScanText(context.Background(), "t", finding.Location{Path: path}, text)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func only(t *testing.T, fs []finding.Finding, rule string) finding.Finding {
	t.Helper()
	var got []finding.Finding
	for _, f := range fs {
		if f.RuleID == rule {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want exactly one %s finding, got %d (all: %v)", rule, len(got), ruleIDs(fs))
	}
	return got[0]
}

func TestFindingShape(t *testing.T) {
	s := newTestScanner(t, Options{})
	text := "line one\n\n  token := \"" + fakeGHP + "\" // deploy\n"
	f := only(t, scanText(t, s, "cmd/main.go", text), "github-pat")
	if f.Kind != finding.KindSecret || f.Severity != finding.SeverityCritical {
		t.Errorf("kind/severity: %v %v", f.Kind, f.Severity)
	}
	if f.Location.Path != "cmd/main.go" || f.Location.StartLine != 3 || f.Location.StartColumn != 13 {
		t.Errorf("position %s, want cmd/main.go:3:13", f.Location.Position())
	}
	if f.Location.EndLine != 3 || f.Location.EndColumn != 13+len(fakeGHP) {
		t.Errorf("end %d:%d", f.Location.EndLine, f.Location.EndColumn)
	}
	if strings.Contains(f.Evidence, fakeGHP) || !strings.Contains(f.Evidence, "ghp_********") {
		t.Errorf("evidence not redacted: %q", f.Evidence)
	}
	if f.Secret.SHA256 != sha(fakeGHP) {
		t.Errorf("sha256 %s", f.Secret.SHA256)
	}
	if f.Fingerprint != finding.Fingerprint("secret", "github-pat", "cmd/main.go", sha(fakeGHP)) {
		t.Errorf("fingerprint %s", f.Fingerprint)
	}
	// --show-secrets reveals.
	s2 := newTestScanner(t, Options{ShowSecrets: true})
	f2 := only(t, scanText(t, s2, "cmd/main.go", text), "github-pat")
	if !strings.Contains(f2.Evidence, fakeGHP) {
		t.Errorf("show-secrets evidence: %q", f2.Evidence)
	}
}

func TestFingerprintStableAcrossLineMoves(t *testing.T) {
	s := newTestScanner(t, Options{})
	a := only(t, scanText(t, s, "a.env.txt", "X="+fakeStripe+"\n"), "stripe-secret-key")
	b := only(t, scanText(t, s, "a.env.txt", "# moved\n\n\n   X="+fakeStripe+"\n"), "stripe-secret-key")
	if a.Fingerprint != b.Fingerprint || a.Location.StartLine == b.Location.StartLine {
		t.Errorf("fingerprints %s/%s lines %d/%d", a.Fingerprint, b.Fingerprint, a.Location.StartLine, b.Location.StartLine)
	}
	c := only(t, scanText(t, s, "other.txt", "X="+fakeStripe+"\n"), "stripe-secret-key")
	if c.Fingerprint == a.Fingerprint {
		t.Error("fingerprint must depend on the path")
	}
}

func TestInlineAllow(t *testing.T) {
	s := newTestScanner(t, Options{})
	fs := scanText(t, s, "x.py", "key = '"+fakeGHP+"'  # ward:allow test fixture\nk2 = '"+fakeStripe+"'\n")
	gh := only(t, fs, "github-pat")
	if gh.Suppressed == nil || gh.Suppressed.Kind != "inline" {
		t.Errorf("ward:allow not honoured: %+v", gh.Suppressed)
	}
	st := only(t, fs, "stripe-secret-key")
	if st.Suppressed != nil {
		t.Errorf("next line suppressed too")
	}
}

func TestBaseline(t *testing.T) {
	s := newTestScanner(t, Options{})
	old := only(t, scanText(t, s, "app.txt", "t="+fakeGHP+"\n"), "github-pat")
	report := `{"schema_version":"1","findings":[{"rule_id":"github-pat","fingerprint":"` + old.Fingerprint + `"}]}`
	bl, err := ReadBaseline(strings.NewReader(report), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	s2 := newTestScanner(t, Options{Baseline: bl, BaselineSource: "old.json"})
	fs := scanText(t, s2, "app.txt", "moved\nt="+fakeGHP+"\nnew="+fakeStripe+"\n")
	if f := only(t, fs, "github-pat"); f.Suppressed == nil || f.Suppressed.Kind != "baseline" {
		t.Errorf("baseline finding not suppressed: %+v", f.Suppressed)
	}
	if f := only(t, fs, "stripe-secret-key"); f.Suppressed != nil {
		t.Errorf("new secret suppressed")
	}
	if _, err := ReadBaseline(strings.NewReader("not json"), "bad.json"); err == nil {
		t.Error("want error for a non-JSON baseline")
	}
	// Other JSON documents are not silently empty baselines.
	for _, doc := range []string{`{"bomFormat":"CycloneDX","components":[]}`, `{"findings":[]}`, `{"schema_version":"1.0"}`} {
		if _, err := ReadBaseline(strings.NewReader(doc), "other.json"); err == nil || !strings.Contains(err.Error(), "not a Ward JSON report") {
			t.Errorf("ReadBaseline(%s) = %v", doc, err)
		}
	}
	if _, err := ReadBaseline(strings.NewReader(`{"schema_version":"1.0","findings":[]}`), "empty.json"); err != nil {
		t.Errorf("an empty Ward report is a valid baseline: %v", err)
	}
}

func TestPlaceholdersAndExamples(t *testing.T) {
	s := newTestScanner(t, Options{})
	for _, text := range []string{
		"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		"password = \"changeme\"\n",
		"password: ${DB_PASSWORD}\n",
		"api_key = \"<your-api-key>\"\n",
		"secret = \"xxxxxxxxxxxxxxxxxxxxxxxx\"\n",
		"token = '{{ .Values.token }}'\n",
		"DATABASE_URL=postgres://app:${PGPASSWORD}@db/app\n",
		`"LNX-5.2-EMPTY-PASSWORDS": "etc/shadow",` + "\n",
		`passwordFile := "config/secrets/db_password"` + "\n",
	} {
		if fs := scanText(t, s, "config.txt", text); len(fs) != 0 {
			t.Errorf("%q: unexpected findings %v", text, ruleIDs(fs))
		}
	}
}

func TestGenericYieldsToProvider(t *testing.T) {
	s := newTestScanner(t, Options{})
	fs := scanText(t, s, "settings.py", "GITHUB_TOKEN = \""+fakeGHP+"\"\n")
	if len(fs) != 1 || fs[0].RuleID != "github-pat" {
		t.Errorf("want only github-pat, got %v", ruleIDs(fs))
	}
}

func TestDecoding(t *testing.T) {
	s := newTestScanner(t, Options{})
	b64 := base64.StdEncoding.EncodeToString([]byte("export GH=" + fakeGHP + "\n"))
	f := only(t, scanText(t, s, "ci.yaml", "env: "+b64+"\n"), "github-pat")
	if !strings.Contains(f.Message, "base64") || f.Location.StartColumn != 6 {
		t.Errorf("decoded finding: %q at %s", f.Message, f.Location.Position())
	}
	hx := hex.EncodeToString([]byte("key=" + fakeStripe))
	only(t, scanText(t, s, "a.txt", "blob "+hx+"\n"), "stripe-secret-key")
	pct := url.QueryEscape("{\"t\":\"" + fakeGHP + "\"}")
	only(t, scanText(t, s, "a.txt", "https://x.invalid/?q="+pct+"\n"), "github-pat")
	// Nested: base64 of base64 needs depth 2 (default) and fails at depth 1.
	nested := base64.StdEncoding.EncodeToString([]byte("v: " + base64.StdEncoding.EncodeToString([]byte("tok="+fakeGHP+"\n")) + "\n"))
	f = only(t, scanText(t, s, "a.txt", nested+"\n"), "github-pat")
	if !strings.Contains(f.Message, "base64>base64") {
		t.Errorf("nested chain missing: %q", f.Message)
	}
	s1 := newTestScanner(t, Options{MaxDecodeDepth: 1})
	if fs := scanText(t, s1, "a.txt", nested+"\n"); len(fs) != 0 {
		t.Errorf("depth 1 decoded two levels: %v", ruleIDs(fs))
	}
	sOff := newTestScanner(t, Options{MaxDecodeDepth: -1})
	if fs := scanText(t, sOff, "ci.yaml", "env: "+b64+"\n"); len(fs) != 0 {
		t.Errorf("decoding disabled but found %v", ruleIDs(fs))
	}
}

func TestUserRulesAndAllowlists(t *testing.T) {
	user := []byte(`
allowlist:
  paths: ['(^|/)fixtures/']
rules:
  - id: acme-internal-token
    title: ACME internal token
    description: ACME's internal service token.
    severity: MEDIUM
    keywords: [acme_]
    regex: '\b(acme_[a-z0-9]{24})\b'
    allowlist:
      stopwords: [deadbeef]
    tests:
      tp: ['acme_q8w7e6r5t4y3u2i1o9p8a7s6']
      fp: ['acme_deadbeef0000111122223333']
`)
	f, err := rules.ParseWard(user, "user.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := newTestScanner(t, Options{Rules: []*rules.File{f}})
	ff := only(t, scanText(t, s, "src/a.txt", "x acme_q8w7e6r5t4y3u2i1o9p8a7s6\n"), "acme-internal-token")
	if ff.Severity != finding.SeverityMedium {
		t.Errorf("severity %v", ff.Severity)
	}
	if fs := scanText(t, s, "src/a.txt", "x acme_deadbeef0000111122223333\n"); len(fs) != 0 {
		t.Errorf("stopword ignored: %v", ruleIDs(fs))
	}
	// Global path allowlist applies in ScanDir.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fixtures", "a.txt"), "acme_q8w7e6r5t4y3u2i1o9p8a7s6\n")
	writeFile(t, filepath.Join(dir, "src", "a.txt"), "acme_q8w7e6r5t4y3u2i1o9p8a7s6\n")
	fs, errs := s.ScanDir(context.Background(), "t", dir)
	if len(errs) != 0 || len(fs) != 1 || fs[0].Location.Path != "src/a.txt" {
		t.Errorf("ScanDir with path allowlist: %v %v", fs, errs)
	}
	// CLI-style extra allowlist (regex on the secret).
	s3 := newTestScanner(t, Options{Allowlist: rules.Allowlist{Regexes: []string{`^ghp_Vx9K`}}})
	if fs := scanText(t, s3, "a.txt", "t="+fakeGHP+"\n"); len(fs) != 0 {
		t.Errorf("--allowlist regex ignored: %v", ruleIDs(fs))
	}
	// Broken user rules are errors, not panics.
	for _, bad := range []string{
		"rules: [{id: x, regex: '('}]",
		"rules: [{id: 'Bad ID', regex: 'a'}]",
		"rules: [{id: a1, regex: 'a', secret_group: 3}]",
		"rules: [{id: a1}]",
		"a: &x [1]\nb: *x\n",
		"rules: [{id: a1, regex: 'a', unknown_field: 1}]",
	} {
		if _, err := rules.ParseWard([]byte(bad), "bad.yaml"); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestGitleaksConfig(t *testing.T) {
	cfg := `
title = "custom"
[allowlist]
paths = ['''(^|/)testdata/''']
stopwords = ["notreal"]

[[rules]]
id = "corp-api-key"
description = "Corp API key"
regex = '''corp_(?:live|test)_([a-zA-Z0-9]{32})'''
secretGroup = 1
entropy = 3.0
keywords = ["corp_live", "corp_test"]
  [[rules.allowlists]]
  regexTarget = "line"
  regexes = ['''# ok-to-commit''']
`
	f, err := rules.ParseGitleaks([]byte(cfg), "gitleaks.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := newTestScanner(t, Options{NoBuiltin: true, Rules: []*rules.File{f}})
	if s.RuleCount() != 1 {
		t.Fatalf("rules: %d", s.RuleCount())
	}
	fs := scanText(t, s, "app/x.txt", "k = corp_live_Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7\n")
	if len(fs) != 1 || fs[0].RuleID != "corp-api-key" {
		t.Fatalf("got %v", ruleIDs(fs))
	}
	if fs := scanText(t, s, "app/x.txt", "k = corp_live_Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7 # ok-to-commit\n"); len(fs) != 0 {
		t.Errorf("line allowlist ignored")
	}
	for _, bad := range []string{
		"[[rules]]\nid = \"x\"\nregex = '''('''\n",
		"[[rules]]\nid = \"x\"\nregex = 'a'\n[[rules.required]]\nid = \"y\"\n",
		"[extend]\npath = \"other.toml\"\n",
		"[[rules]]\nid = \"x\"\nregex = 'a'\nbogus = 1\n",
		"[allowlist]\ncommits = [\"abc\"]\n",
		"not toml ===",
	} {
		if _, err := rules.ParseGitleaks([]byte(bad), "bad.toml"); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanDirSkipsAndCounts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "t="+fakeGHP+"\n")
	writeFile(t, filepath.Join(dir, "bin.dat"), "\x00\x01\x02 t="+fakeGHP+"\n")
	writeFile(t, filepath.Join(dir, "big.txt"), strings.Repeat("x", 2048)+fakeGHP)
	writeFile(t, filepath.Join(dir, ".git", "config"), "t="+fakeGHP+"\n")
	writeFile(t, filepath.Join(dir, "ignored", "a.txt"), "t="+fakeGHP+"\n")
	writeFile(t, filepath.Join(dir, "logs", "x.log"), "t="+fakeGHP+"\n")
	writeFile(t, filepath.Join(dir, ".gitignore"), "ignored/\n*.log\n!keep.log\n")
	writeFile(t, filepath.Join(dir, "logs", "keep.log"), "t="+fakeGHP+"\n")
	writeFile(t, filepath.Join(dir, "keystore.p12"), "\x30\x82\x00\x00binary")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	s := newTestScanner(t, Options{MaxFileSize: 1024, SkipGitignored: true})
	fs, errs := s.ScanDir(context.Background(), "t", dir)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var paths []string
	for _, f := range fs {
		paths = append(paths, f.Location.Path+":"+f.RuleID)
	}
	want := []string{"a.txt:github-pat", "keystore.p12:pkcs12-file", "logs/keep.log:github-pat"}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", paths, want)
	}
	st := s.Stats()
	if st.SkippedBinary != 2 || st.SkippedLarge != 1 || st.SkippedIgnored != 2 {
		t.Errorf("stats %+v", st)
	}
	if len(st.Notes) == 0 || !strings.Contains(st.Notes[0], "big.txt") {
		t.Errorf("notes %v", st.Notes)
	}
	// Without --skip-gitignored the ignored files are scanned.
	s2 := newTestScanner(t, Options{MaxFileSize: 1024})
	fs, _ = s2.ScanDir(context.Background(), "t", dir)
	if len(fs) != 5 {
		t.Errorf("want 5 findings without gitignore, got %d", len(fs))
	}
}

func TestGitignoreGlobs(t *testing.T) {
	for _, c := range []struct {
		pat, name string
		want      bool
	}{
		{"*.log", "x.log", true},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"**/secret.txt", "d/e/secret.txt", true},
		{"a/*/b", "a/x/y/b", false},
		{"[", "[", false},
		{"a/**", "a", true},
		{"**/**/c", "c", true},
		{"a/**/b/**/c", "a/x/c", false},
		{"a/**/[", "a/[", false},
	} {
		if got := globMatch(c.pat, c.name); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.pat, c.name, got)
		}
	}
}

func TestScanReaderBinaryAndDeleted(t *testing.T) {
	s := newTestScanner(t, Options{})
	fs0, err := s.ScanReader(context.Background(), "img", finding.Location{Path: "/bin/x"}, bytes.NewReader([]byte("\x7fELF\x00\x00"+fakeGHP)))
	if err != nil || len(fs0) != 0 || s.Stats().SkippedBinary != 1 {
		t.Errorf("binary: %v %v %+v", fs0, err, s.Stats())
	}
	loc := finding.Location{Path: "/root/.env", LayerDigest: "sha256:abc"}
	fs, err := s.ScanReader(context.Background(), "img", loc, strings.NewReader("GH="+fakeGHP+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	MarkDeleted(fs)
	f := only(t, fs, "github-pat")
	if !f.Secret.Deleted || !strings.Contains(f.Message, "deleted") || f.Location.LayerDigest != "sha256:abc" {
		t.Errorf("deleted marking: %+v", f)
	}
}

// TestHugeSingleLine streams a 1 GiB line (64 MiB with -short) through
// ScanReader and checks that memory stays bounded and secrets near the
// start, middle and end are found.
func TestHugeSingleLine(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	s := newTestScanner(t, Options{})
	plant := map[int64]string{1000: fakeGHP, size / 2: fakeStripe, size - 200: fakeAWSID}
	r := &lineGen{size: size, plant: plant}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fs, err := s.ScanReader(context.Background(), "t", finding.Location{Path: "huge.txt"}, r)
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	got := map[string]bool{}
	for _, f := range fs {
		got[f.RuleID] = true
		if f.Location.StartLine != 1 {
			t.Errorf("line %d", f.Location.StartLine)
		}
	}
	for _, id := range []string{"github-pat", "stripe-secret-key", "aws-access-key-id"} {
		if !got[id] {
			t.Errorf("missing %s in a %d-byte line (got %v)", id, size, ruleIDs(fs))
		}
	}
	if after.HeapInuse > before.HeapInuse+64<<20 {
		t.Errorf("heap grew from %d to %d bytes", before.HeapInuse, after.HeapInuse)
	}
	for _, f := range fs {
		if f.RuleID == "aws-access-key-id" && int64(f.Location.StartColumn) != size-200+2 {
			t.Errorf("column %d, want %d", f.Location.StartColumn, size-200+2)
		}
	}
}

// lineGen generates a single line of size bytes (no newline) of
// prose-like text with " secret " planted at given offsets.
type lineGen struct {
	size  int64
	off   int64
	plant map[int64]string
	next  []int64 // sorted plant offsets still to write
	carry []byte  // rest of a planted secret
}

const filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit; sed do eiusmod tempor incididunt ut labore. "

func (g *lineGen) Read(p []byte) (int, error) {
	if g.next == nil {
		for o := range g.plant {
			g.next = append(g.next, o)
		}
		sort.Slice(g.next, func(i, j int) bool { return g.next[i] < g.next[j] })
	}
	if g.off >= g.size {
		return 0, io.EOF
	}
	if rem := g.size - g.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := 0
	for n < len(p) {
		if len(g.carry) > 0 {
			w := copy(p[n:], g.carry)
			g.carry = g.carry[w:]
			n += w
			g.off += int64(w)
			continue
		}
		if len(g.next) > 0 && g.next[0] == g.off {
			g.carry = []byte(" " + g.plant[g.off] + " ")
			g.next = g.next[1:]
			continue
		}
		limit := len(p)
		if len(g.next) > 0 && g.next[0]-g.off < int64(limit-n) {
			limit = n + int(g.next[0]-g.off)
		}
		for n < limit {
			fo := int(g.off % int64(len(filler)))
			w := copy(p[n:limit], filler[fo:])
			n += w
			g.off += int64(w)
		}
	}
	return n, nil
}

func TestInvalidUTF8AndControlChars(t *testing.T) {
	s := newTestScanner(t, Options{})
	text := "\xff\xfe bad utf8 \x1b[31m t=" + fakeGHP + " \xc3\x28\n"
	f := only(t, scanText(t, s, "a.txt", text), "github-pat")
	if strings.Contains(f.Evidence, "\x1b") || !utf8.ValidString(f.Evidence) {
		t.Errorf("evidence not sanitised: %q", f.Evidence)
	}
}

func TestContextCancel(t *testing.T) {
	s := newTestScanner(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ScanReader(ctx, "t", finding.Location{Path: "x"}, strings.NewReader("abc")); !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"short":                                 "********",
		"twelve-chars":                          "tw********",
		fakeGHP:                                 "ghp_********",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE": "-----BEGIN RSA PRIVATE KEY-----********",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestImageConfigEnv(t *testing.T) {
	s := newTestScanner(t, Options{})
	fs := scanText(t, s, "image config: Env[3]", "DB_PASSWORD=Tr0ub4dor&3xKq9")
	f := only(t, fs, "dotenv-secret")
	if f.Location.Path != "image config: Env[3]" {
		t.Errorf("path %q", f.Location.Path)
	}
	if fs := scanText(t, s, "image config: Env[4]", "PATH=/usr/local/sbin:/usr/local/bin"); len(fs) != 0 {
		t.Errorf("PATH flagged: %v", ruleIDs(fs))
	}
	if fs := scanText(t, s, "image config: Env[5]", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"); len(fs) != 0 {
		t.Errorf("GPG key fingerprint flagged: %v", ruleIDs(fs))
	}
}

func TestScanDirSymlinkRoot(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "real", "a.txt"), "t="+fakeGHP+"\n")
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "real", "a.txt"), filepath.Join(dir, "real", "inner-link.txt")); err != nil {
		t.Fatal(err)
	}
	s := newTestScanner(t, Options{})
	fs, errs := s.ScanDir(context.Background(), "t", filepath.Join(dir, "link"))
	if len(errs) != 0 || len(fs) != 1 || fs[0].Location.Path != "a.txt" {
		t.Errorf("symlinked root: %v %v", fs, errs)
	}
}

func TestJSONEscapedAssignments(t *testing.T) {
	s := newTestScanner(t, Options{})
	text := `{"source": ["cfg = {\"mailgun_key\": \"key-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e\"}\n"]}`
	only(t, scanText(t, s, "nb.ipynb", text), "mailgun-private-key")
	text = `{"source": ["{\"client_secret\": \"Q7vX2mK9pL4wR8tY1zB6nC3d\"}"]}`
	only(t, scanText(t, s, "nb.ipynb", text), "generic-api-key")
}
