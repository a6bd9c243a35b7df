package cli

import (
	"os"
	"strconv"

	"golang.org/x/term"
)

// minTableWidth is the narrowest width the table is fitted to: narrower
// terminals (or a bogus COLUMNS) get unfitted rows rather than a table
// that is all line breaks.
const minTableWidth = 60

// tableWidth is the width the table is fitted into: $COLUMNS when set (as
// shells export it, and for tests), else the terminal's width when the
// report goes to a terminal. 0 (no fitting) for files and pipes.
func (g *Globals) tableWidth() int {
	if g.Output != "" {
		return 0
	}
	if c := g.Getenv("COLUMNS"); c != "" {
		if n, err := strconv.Atoi(c); err == nil && n >= minTableWidth {
			return n
		}
		return 0
	}
	if !g.StdoutTTY {
		return 0
	}
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w >= minTableWidth {
		return w
	}
	return 0
}
