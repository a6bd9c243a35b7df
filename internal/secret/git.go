package secret

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
)

// GitOptions select the history ScanGit reads.
type GitOptions struct {
	// Since limits history to commits after a date git understands
	// ("2024-01-01", "2 weeks ago").
	Since string
	// Branch is a revision (branch, tag, range like "main..feature");
	// default HEAD.
	Branch string
	// All scans every ref (git log --all).
	All bool
	// Staged scans the staged changes (git diff --cached) instead of
	// history: the pre-commit hook mode.
	Staged bool
}

// Fixed git arguments: never run anything from the scanned repository.
// Hooks, fsmonitor, external diff drivers and textconv filters are disabled;
// renames are detected so a moved file is not reported again.
var gitSafety = []string{
	"-c", "core.fsmonitor=",
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.quotePath=false",
	"-c", "diff.external=",
	"-c", "diff.noprefix=false",
	"-c", "diff.mnemonicPrefix=false",
	"-c", "log.showSignature=false",
	"-c", "color.ui=false",
}

const commitMarker = "\x1eWARD\x1f"

// gitArgs builds the argument list (exported for tests via the same name).
func gitArgs(repo string, o GitOptions) []string {
	args := append([]string{"-C", repo}, gitSafety...)
	if o.Staged {
		return append(args, "diff", "--cached", "-p", "-U0", "-M", "--no-ext-diff", "--no-textconv",
			"--no-color", "--src-prefix=a/", "--dst-prefix=b/")
	}
	args = append(args, "log", "-p", "-U0", "-M", "--no-ext-diff", "--no-textconv", "--no-color",
		"--src-prefix=a/", "--dst-prefix=b/", "--full-history",
		"--format="+commitMarker+"%H%x1f%an%x1f%ae%x1f%aI%x1f%s")
	if o.Since != "" {
		args = append(args, "--since="+o.Since)
	}
	if o.All {
		args = append(args, "--all")
	} else if o.Branch != "" {
		if strings.HasPrefix(o.Branch, "-") {
			// Never let a revision be read as an option.
			o.Branch = "refs/heads/" + o.Branch
		}
		args = append(args, o.Branch)
	}
	return append(args, "--")
}

// ScanGit scans the lines added by every commit of repoDir's history (or
// the staged changes), streaming `git log -p` output: memory stays bounded
// by one hunk (capped at MaxFileSize) whatever the history size. Findings
// carry the commit SHA, author, email and date. The system git binary runs
// with fixed arguments and repository hooks, fsmonitor, textconv and
// external diff drivers disabled.
func (s *Scanner) ScanGit(ctx context.Context, target, repoDir string, o GitOptions) ([]finding.Finding, []finding.ScanError) {
	scanErr := func(msg string) []finding.ScanError {
		return []finding.ScanError{{Target: target, Path: repoDir, Scanner: "secret", Message: msg}}
	}
	if o.Since != "" && strings.HasPrefix(o.Since, "-") {
		return nil, scanErr("invalid --since value")
	}
	cmd := exec.CommandContext(ctx, s.opts.Git, gitArgs(repoDir, o)...)
	cmd.Env = append(os.Environ(), "GIT_PAGER=cat", "GIT_TERMINAL_PROMPT=0", "GIT_EXTERNAL_DIFF=", "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 8 << 10}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, scanErr(err.Error())
	}
	if err := cmd.Start(); err != nil {
		return nil, scanErr(fmt.Sprintf("running git: %v", err))
	}
	var out []finding.Finding
	sc := s.eng.newScratch()
	perr := parseGitLog(stdout, s.opts.MaxFileSize, func(h *gitHunk) error {
		if h.commit != nil && h.newCommit {
			s.stats.commits.Add(1)
		}
		if h.path == "" || s.opts.Skip.File(h.path) || s.pathSkipped(h.path) {
			return nil
		}
		loc := finding.Location{Path: h.path}
		if h.commit != nil {
			c := *h.commit
			loc.Commit = &c
		}
		fs, err := s.scanChunk(ctx, h.data, source{target: target, loc: loc, rulePath: h.path, firstLine: h.line}, true, sc)
		if err != nil && !errors.Is(err, ErrBinary) {
			return err
		}
		out = append(out, fs...)
		return nil
	}, func(n string) { s.note("%s", n) })
	if perr != nil {
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	var errs []finding.ScanError
	switch {
	case perr != nil && ctx.Err() == nil:
		errs = scanErr(fmt.Sprintf("reading git log: %v", perr))
	case werr != nil && ctx.Err() == nil:
		errs = scanErr(fmt.Sprintf("git: %v: %s", werr, strings.TrimSpace(stderr.String())))
	case ctx.Err() != nil:
		errs = scanErr(ctx.Err().Error())
	}
	return out, errs
}

type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

// gitHunk is a run of consecutive added lines in one file of one commit.
type gitHunk struct {
	commit    *finding.Commit
	newCommit bool
	path      string
	line      int // line number of the first added line
	data      []byte
}

// maxGitLine caps one diff line; longer lines are cut (with a note).
const maxGitLine = 1 << 20

// parseGitLog reads `git log -p -U0` (or `git diff -p -U0`) output and
// calls fn for every run of added lines. Memory: one line (capped at
// maxGitLine) and one hunk (flushed at maxHunk bytes).
func parseGitLog(r io.Reader, maxHunk int64, fn func(*gitHunk) error, note func(string)) error {
	if maxHunk <= 0 {
		maxHunk = DefaultMaxFileSize
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		h         gitHunk
		inHunk    bool
		nextLine  int
		truncated int
	)
	flush := func() error {
		if len(h.data) == 0 {
			return nil
		}
		err := fn(&h)
		h.newCommit = false
		h.data = h.data[:0]
		return err
	}
	var line []byte
	for {
		line = line[:0]
		var err error
		cut := false
		for {
			frag, e := br.ReadSlice('\n')
			if len(line)+len(frag) <= maxGitLine {
				line = append(line, frag...)
			} else {
				cut = true
			}
			if e == bufio.ErrBufferFull {
				continue
			}
			err = e
			break
		}
		if cut {
			truncated++
		}
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return err
		}
		text := bytes.TrimSuffix(line, []byte("\n"))
		switch {
		case bytes.HasPrefix(text, []byte(commitMarker)):
			if err := flush(); err != nil {
				return err
			}
			parts := strings.SplitN(string(text[len(commitMarker):]), "\x1f", 5)
			c := &finding.Commit{SHA: parts[0]}
			if len(parts) > 1 {
				c.Author = parts[1]
			}
			if len(parts) > 2 {
				c.Email = parts[2]
			}
			if len(parts) > 3 {
				c.Date = parts[3]
			}
			if len(parts) > 4 {
				c.Message = parts[4]
			}
			h.commit, h.newCommit, h.path, inHunk = c, true, "", false
			// Signal the commit even when it adds nothing.
			if err := fn(&gitHunk{commit: c, newCommit: true}); err != nil {
				return err
			}
			h.newCommit = false
		case inHunk && len(text) > 0 && text[0] == '+':
			if len(h.data) == 0 {
				h.line = nextLine
			}
			h.data = append(h.data, text[1:]...)
			h.data = append(h.data, '\n')
			nextLine++
			if int64(len(h.data)) >= maxHunk {
				if err := flush(); err != nil {
					return err
				}
			}
		case inHunk && len(text) > 0 && (text[0] == '-' || text[0] == '\\'):
			// removed line or "\ No newline at end of file"
		case inHunk && len(text) > 0 && text[0] == ' ':
			if err := flush(); err != nil {
				return err
			}
			nextLine++
		case bytes.HasPrefix(text, []byte("@@ ")):
			if err := flush(); err != nil {
				return err
			}
			n, ok := parseHunkHeader(text)
			if !ok {
				inHunk = false
				continue
			}
			inHunk, nextLine = true, n
		case bytes.HasPrefix(text, []byte("diff --git ")):
			if err := flush(); err != nil {
				return err
			}
			inHunk, h.path = false, ""
		case !inHunk && bytes.HasPrefix(text, []byte("+++ ")):
			p := string(text[4:])
			switch {
			case p == "/dev/null":
				h.path = ""
			case strings.HasPrefix(p, `"`):
				if u, err := unquoteGitPath(p); err == nil {
					h.path = strings.TrimPrefix(u, "b/")
				}
			default:
				h.path = strings.TrimPrefix(p, "b/")
			}
		case inHunk:
			// Anything else ends the hunk (next file header, blank line).
			if err := flush(); err != nil {
				return err
			}
			inHunk = false
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if truncated > 0 && note != nil {
		note(fmt.Sprintf("git log: %d lines longer than %d bytes were cut", truncated, maxGitLine))
	}
	return flush()
}

// parseHunkHeader returns the new-file start line of "@@ -a,b +c,d @@".
func parseHunkHeader(b []byte) (int, bool) {
	s := string(b)
	i := strings.Index(s, " +")
	if i < 0 {
		return 0, false
	}
	s = s[i+2:]
	j := strings.IndexAny(s, ", ")
	if j < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:j])
	if err != nil || n < 0 {
		return 0, false
	}
	if n == 0 {
		n = 1
	}
	return n, true
}

// unquoteGitPath decodes git's C-style quoted paths ("a\303\251.txt").
func unquoteGitPath(q string) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", fmt.Errorf("bad quoted path")
	}
	q = q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c != '\\' || i+1 >= len(q) {
			b.WriteByte(c)
			continue
		}
		i++
		switch q[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '"', '\\':
			b.WriteByte(q[i])
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte(11)
		default:
			if i+2 < len(q) && q[i] >= '0' && q[i] <= '3' {
				v, err := strconv.ParseUint(q[i:i+3], 8, 8)
				if err != nil {
					return "", err
				}
				b.WriteByte(byte(v))
				i += 2
			} else {
				b.WriteByte(q[i])
			}
		}
	}
	return b.String(), nil
}
