package secret

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed (scripts/deps-secret.sh installs it)")
	}
}

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev One", "GIT_AUTHOR_EMAIL=dev@corp.invalid",
		"GIT_COMMITTER_NAME=Dev One", "GIT_COMMITTER_EMAIL=dev@corp.invalid",
		"GIT_AUTHOR_DATE=2024-03-01T10:00:00Z", "GIT_COMMITTER_DATE=2024-03-01T10:00:00Z", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newRepo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	return dir
}

func TestScanGitHistory(t *testing.T) {
	needGit(t)
	repo := newRepo(t)
	writeFile(t, filepath.Join(repo, "README.md"), "# app\n")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "init")
	writeFile(t, filepath.Join(repo, "config", "prod.env.txt"), "A=1\nB=2\nGH_TOKEN="+fakeGHP+"\n")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "add config")
	leak := git(t, repo, "rev-parse", "HEAD")
	// Remove the secret: history still has it.
	writeFile(t, filepath.Join(repo, "config", "prod.env.txt"), "A=1\nB=2\n")
	git(t, repo, "commit", "-q", "-am", "remove token")
	// Rename: not reported again.
	git(t, repo, "mv", "config", "conf")
	git(t, repo, "commit", "-q", "-m", "rename")
	// A branch with another secret.
	git(t, repo, "checkout", "-q", "-b", "feature")
	writeFile(t, filepath.Join(repo, "pay.py"), "STRIPE = '"+fakeStripe+"'\n")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "payments")
	git(t, repo, "checkout", "-q", "main")

	s := newTestScanner(t, Options{})
	fs, errs := s.ScanGit(context.Background(), "repo", repo, GitOptions{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	f := only(t, fs, "github-pat")
	c := f.Location.Commit
	if c == nil || c.SHA != leak || c.Author != "Dev One" || c.Email != "dev@corp.invalid" || !strings.HasPrefix(c.Date, "2024-03-01") {
		t.Fatalf("commit metadata: %+v", c)
	}
	if f.Location.Path != "config/prod.env.txt" || f.Location.StartLine != 3 {
		t.Errorf("position %s", f.Location.Position())
	}
	if !strings.Contains(f.Message, leak[:12]) {
		t.Errorf("message %q", f.Message)
	}
	if len(fs) != 1 {
		t.Errorf("main has one secret, got %v", ruleIDs(fs))
	}
	if st := s.Stats(); st.Commits != 4 {
		t.Errorf("commits %d", st.Commits)
	}
	// --all sees the branch.
	fs, _ = s.ScanGit(context.Background(), "repo", repo, GitOptions{All: true})
	if len(fs) != 2 {
		t.Errorf("--all: %v", ruleIDs(fs))
	}
	// --branch feature.
	fs, _ = s.ScanGit(context.Background(), "repo", repo, GitOptions{Branch: "feature"})
	if len(fs) != 2 {
		t.Errorf("--branch feature: %v", ruleIDs(fs))
	}
	// --since in the future: nothing.
	fs, _ = s.ScanGit(context.Background(), "repo", repo, GitOptions{All: true, Since: "2030-01-01"})
	if len(fs) != 0 {
		t.Errorf("--since: %v", ruleIDs(fs))
	}
	// A bad revision is a scan error naming git's complaint.
	_, errs = s.ScanGit(context.Background(), "repo", repo, GitOptions{Branch: "no-such-branch"})
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "no-such-branch") {
		t.Errorf("bad branch errors: %v", errs)
	}
	// Not a repository.
	_, errs = s.ScanGit(context.Background(), "repo", t.TempDir(), GitOptions{})
	if len(errs) != 1 {
		t.Errorf("non-repo: %v", errs)
	}
}

func TestScanGitStaged(t *testing.T) {
	needGit(t)
	repo := newRepo(t)
	writeFile(t, filepath.Join(repo, "a.txt"), "hello\n")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "init")
	writeFile(t, filepath.Join(repo, "a.txt"), "hello\nkey="+fakeAWSID+"\n")
	writeFile(t, filepath.Join(repo, "unstaged.txt"), "t="+fakeGHP+"\n")
	git(t, repo, "add", "a.txt")
	s := newTestScanner(t, Options{})
	fs, errs := s.ScanGit(context.Background(), "repo", repo, GitOptions{Staged: true})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	f := only(t, fs, "aws-access-key-id")
	if f.Location.Commit != nil || f.Location.Path != "a.txt" || f.Location.StartLine != 2 {
		t.Errorf("staged finding: %+v", f.Location)
	}
	if len(fs) != 1 {
		t.Errorf("unstaged file scanned: %v", ruleIDs(fs))
	}
}

// TestScanGitRunsNothingFromRepo plants an fsmonitor hook, a textconv
// driver, an external diff and a pre-commit hook in the scanned repository;
// none may run.
func TestScanGitRunsNothingFromRepo(t *testing.T) {
	needGit(t)
	repo := newRepo(t)
	marker := filepath.Join(t.TempDir(), "pwned")
	script := filepath.Join(t.TempDir(), "evil.sh")
	writeFile(t, script, "#!/bin/sh\ntouch "+marker+"\ncat \"$1\" 2>/dev/null\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "config", "core.fsmonitor", script)
	git(t, repo, "config", "diff.evil.textconv", script)
	git(t, repo, "config", "diff.external", script)
	git(t, repo, "config", "core.pager", script)
	writeFile(t, filepath.Join(repo, ".gitattributes"), "*.txt diff=evil\n")
	writeFile(t, filepath.Join(repo, ".git", "hooks", "post-checkout"), "#!/bin/sh\ntouch "+marker+"\n")
	writeFile(t, filepath.Join(repo, "a.txt"), "t="+fakeGHP+"\n")
	cmd := exec.Command("git", "-C", repo, "-c", "core.fsmonitor=", "add", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	cmd = exec.Command("git", "-C", repo, "-c", "core.fsmonitor=", "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "--no-verify", "-m", "x")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	os.Remove(marker)
	writeFile(t, filepath.Join(repo, "a.txt"), "t="+fakeGHP+"\nu="+fakeStripe+"\n")
	exec.Command("git", "-C", repo, "-c", "core.fsmonitor=", "add", ".").Run()
	s := newTestScanner(t, Options{})
	fs, errs := s.ScanGit(context.Background(), "repo", repo, GitOptions{})
	fs2, errs2 := s.ScanGit(context.Background(), "repo", repo, GitOptions{Staged: true})
	if len(errs)+len(errs2) != 0 {
		t.Fatal(errs, errs2)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a program from the scanned repository ran")
	}
	if len(fs) != 1 || len(fs2) != 1 {
		t.Errorf("history %v staged %v (textconv must not hide content)", ruleIDs(fs), ruleIDs(fs2))
	}
}

// fastImportRepo builds a repository with n commits through git
// fast-import; every 100th commit adds a secret.
func fastImportRepo(t testing.TB, n int) (string, int) {
	t.Helper()
	repo := newRepo(t)
	var b bytes.Buffer
	secrets := 0
	for i := 1; i <= n; i++ {
		content := fmt.Sprintf("package p%d\n\n// change %d\nfunc F%d() int { return %d }\n", i%50, i, i, i*7)
		if i%100 == 0 {
			content += fmt.Sprintf("const token = \"ghp_%036d\"\n", i)
			content = strings.Replace(content, fmt.Sprintf("ghp_%036d", i), "ghp_"+randToken(i), 1)
			secrets++
		}
		fmt.Fprintf(&b, "commit refs/heads/main\nmark :%d\nauthor Dev <dev@corp.invalid> %d +0000\ncommitter Dev <dev@corp.invalid> %d +0000\ndata %d\n%s\n",
			i, 1700000000+i*60, 1700000000+i*60, len(fmt.Sprintf("c%d", i)), fmt.Sprintf("c%d", i))
		if i > 1 {
			fmt.Fprintf(&b, "from :%d\n", i-1)
		}
		fmt.Fprintf(&b, "M 644 inline pkg/f%d.go\ndata %d\n%s\n", i%500, len(content), content)
	}
	cmd := exec.Command("git", "-C", repo, "fast-import", "--quiet")
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v %s", err, out)
	}
	git(t, repo, "reset", "-q", "--hard", "main")
	return repo, secrets
}

// randToken derives a deterministic, high-entropy 36-character token.
func randToken(seed int) string {
	const al = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	x := uint64(seed)*2654435761 + 12345
	b := make([]byte, 36)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = al[x%uint64(len(al))]
	}
	return string(b)
}

// TestScanGitManyCommits streams a 10,000-commit history (1,000 with
// -short) and checks every planted secret is found with bounded memory.
func TestScanGitManyCommits(t *testing.T) {
	needGit(t)
	n := 10000
	if testing.Short() {
		n = 1000
	}
	repo, want := fastImportRepo(t, n)
	s := newTestScanner(t, Options{})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var max uint64
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				peak <- max
				return
			case <-tk.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > max {
					max = m.HeapInuse
				}
			}
		}
	}()
	start := time.Now()
	fs, errs := s.ScanGit(context.Background(), "repo", repo, GitOptions{})
	close(stop)
	max := <-peak
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(fs) != want {
		t.Errorf("%d findings, want %d", len(fs), want)
	}
	st := s.Stats()
	if st.Commits != int64(n) {
		t.Errorf("commits %d, want %d", st.Commits, n)
	}
	t.Logf("%d commits, %d findings in %s, peak heap in use %.1f MiB (before %.1f MiB)", n, len(fs), time.Since(start).Round(time.Millisecond), float64(max)/(1<<20), float64(before.HeapInuse)/(1<<20))
	if max > before.HeapInuse+64<<20 {
		t.Errorf("heap grew to %d bytes while streaming history", max)
	}
}

func BenchmarkScanGit10k(b *testing.B) {
	needGit(b)
	repo, _ := fastImportRepo(b, 10000)
	s := newTestScanner(b, Options{})
	for b.Loop() {
		if _, errs := s.ScanGit(context.Background(), "repo", repo, GitOptions{}); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

func TestParseGitLogEdgeCases(t *testing.T) {
	log := commitMarker + "abc\x1fA\x1fa@x\x1f2024-01-01T00:00:00Z\x1fmsg\n" +
		"\n" +
		"diff --git a/x.txt b/x.txt\n" +
		"new file mode 100644\n" +
		"--- /dev/null\n" +
		"+++ b/x.txt\n" +
		"@@ -0,0 +1,3 @@\n" +
		"+one\n" +
		"++++ not a header\n" +
		"+three\n" +
		"diff --git a/b.bin b/b.bin\n" +
		"Binary files /dev/null and b/b.bin differ\n" +
		"diff --git \"a/sp ace\\303\\251.txt\" \"b/sp ace\\303\\251.txt\"\n" +
		"+++ \"b/sp ace\\303\\251.txt\"\n" +
		"@@ -1 +5,2 @@\n" +
		"-old\n" +
		"+new\n" +
		"\\ No newline at end of file\n" +
		"@@ -9 +20 @@ func x\n" +
		"+later\n"
	var got []string
	err := parseGitLog(strings.NewReader(log), 1<<20, func(h *gitHunk) error {
		if len(h.data) > 0 {
			got = append(got, fmt.Sprintf("%s@%d:%q", h.path, h.line, h.data))
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`x.txt@1:"one\n+++ not a header\nthree\n"`,
		`sp aceé.txt@5:"new\n"`,
		`sp aceé.txt@20:"later\n"`,
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
