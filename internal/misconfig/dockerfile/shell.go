package dockerfile

import (
	"path"
	"strings"
)

// shellCmd is one simple command of a shell line.
type shellCmd struct {
	// Words are the command's words, quotes removed.
	Words []string
	// Pipe is true when the command's output is piped into the next one.
	Pipe bool
}

// Name is the program run, after env assignments and wrappers (sudo, env,
// exec...), as a base name; empty if none.
func (c shellCmd) Name() string {
	w := c.Args()
	if len(w) == 0 {
		return ""
	}
	return path.Base(w[0])
}

// Args are the words from the program name on (wrappers dropped).
func (c shellCmd) Args() []string {
	w := c.Words
	for len(w) > 0 {
		switch {
		case isAssignment(w[0]):
			w = w[1:]
		case w[0] == "sudo" || w[0] == "env" || w[0] == "exec" || w[0] == "nohup" || w[0] == "time" || w[0] == "command" || w[0] == "doas":
			w = w[1:]
			for len(w) > 0 && strings.HasPrefix(w[0], "-") {
				// sudo -u user / -E ...: skip option and its value if any
				if (w[0] == "-u" || w[0] == "-g") && len(w) > 1 {
					w = w[1:]
				}
				w = w[1:]
			}
		default:
			return w
		}
	}
	return nil
}

// Has reports whether the command has an argument equal to one of opts.
func (c shellCmd) Has(opts ...string) bool {
	for _, a := range c.Words {
		for _, o := range opts {
			if a == o || strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"=") {
				return true
			}
		}
	}
	return false
}

// HasShort reports whether a short option letter appears in a clustered
// short option (-y, -qy, -yq).
func (c shellCmd) HasShort(letter byte) bool {
	for _, a := range c.Words {
		if len(a) >= 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], letter) >= 0 {
			return true
		}
	}
	return false
}

func isAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := w[j]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || j > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// maxShellLen bounds the text split into commands.
const maxShellLen = 1 << 20

// splitShell splits a shell line into simple commands on unquoted
// operators (&&, ||, ;, |, &, newlines, parentheses). It is not a full shell
// parser: it is enough to see which programs run with which options.
func splitShell(s string) []shellCmd {
	if len(s) > maxShellLen {
		s = s[:maxShellLen]
	}
	var (
		cmds  []shellCmd
		cur   shellCmd
		word  strings.Builder
		inW   bool
		quote byte
	)
	endWord := func() {
		if inW {
			cur.Words = append(cur.Words, word.String())
			word.Reset()
			inW = false
		}
	}
	endCmd := func(pipe bool) {
		endWord()
		if len(cur.Words) > 0 {
			cur.Pipe = pipe
			cmds = append(cmds, cur)
		}
		cur = shellCmd{}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if quote != 0 {
			switch {
			case ch == quote:
				quote = 0
			case ch == '\\' && quote == '"' && i+1 < len(s):
				i++
				word.WriteByte(s[i])
			default:
				word.WriteByte(ch)
			}
			continue
		}
		switch ch {
		case '\'', '"':
			quote = ch
			inW = true
		case '\\':
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					word.WriteByte(s[i])
					inW = true
				}
			}
		case ' ', '\t', '\r':
			endWord()
		case '\n', ';', '(', ')':
			endCmd(false)
		case '&':
			if i+1 < len(s) && s[i+1] == '&' {
				i++
			} else if i > 0 && (s[i-1] == '>' || s[i-1] == '<') || i+1 < len(s) && s[i+1] == '>' {
				word.WriteByte(ch) // redirection 2>&1, &>
				inW = true
				continue
			}
			endCmd(false)
		case '|':
			if i+1 < len(s) && s[i+1] == '|' {
				i++
				endCmd(false)
			} else {
				endCmd(true)
			}
		case '#':
			if !inW {
				for i < len(s) && s[i] != '\n' {
					i++
				}
				endCmd(false)
				continue
			}
			word.WriteByte(ch)
		case '$':
			if i+1 < len(s) && s[i+1] == '(' {
				// command substitution: keep it in the word, balanced.
				depth := 0
				for ; i < len(s); i++ {
					word.WriteByte(s[i])
					if s[i] == '(' {
						depth++
					} else if s[i] == ')' {
						depth--
						if depth == 0 {
							break
						}
					}
				}
				inW = true
				continue
			}
			word.WriteByte(ch)
			inW = true
		default:
			word.WriteByte(ch)
			inW = true
		}
	}
	endCmd(false)
	return cmds
}

// runCommands returns the simple commands a RUN instruction executes:
// its shell line, the -c script of an exec-form shell, and heredoc bodies.
func runCommands(i *Instruction) []shellCmd {
	if !i.split {
		i.cmds, i.split = splitRun(i), true
	}
	return i.cmds
}

func splitRun(i *Instruction) []shellCmd {
	var out []shellCmd
	switch {
	case i.JSON:
		if len(i.Args) >= 3 && isShell(i.Args[0]) && i.Args[1] == "-c" {
			out = append(out, splitShell(i.Args[2])...)
		} else if len(i.Args) > 0 {
			out = append(out, shellCmd{Words: i.Args})
		}
	case len(i.Args) > 0:
		out = append(out, splitShell(i.Args[0])...)
	}
	for _, h := range i.Heredocs {
		out = append(out, splitShell(h)...)
	}
	// sh -c "..." / bash -c '...' inside a shell line.
	var nested []shellCmd
	for _, c := range out {
		a := c.Args()
		if len(a) >= 3 && isShell(a[0]) && a[1] == "-c" {
			nested = append(nested, splitShell(a[2])...)
		}
	}
	return append(out, nested...)
}

func isShell(p string) bool {
	switch path.Base(p) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
		return true
	}
	return false
}
