package langutil

import "fmt"

// MaxTOMLDepth bounds array and inline-table nesting in TOML lockfiles.
// Real lockfiles nest three or four levels; the TOML decoder's time grows
// quadratically with depth (4,000 nested inline tables take seconds), so
// deeper input is refused before decoding.
const MaxTOMLDepth = 32

// CheckTOMLDepth scans data for '[' / '{' nesting outside strings and
// comments and returns an error and the line where it exceeds max.
func CheckTOMLDepth(data []byte, max int) (int, error) {
	depth, line := 0, 1
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\n':
			line++
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			multi := i+2 < len(data) && data[i+1] == c && data[i+2] == c
			if multi {
				i += 3
				for ; i < len(data); i++ {
					if data[i] == '\n' {
						line++
					}
					if c == '"' && data[i] == '\\' {
						i++
						continue
					}
					if i+2 < len(data) && data[i] == c && data[i+1] == c && data[i+2] == c {
						i += 2
						break
					}
				}
				continue
			}
			for i++; i < len(data) && data[i] != c && data[i] != '\n'; i++ {
				if c == '"' && data[i] == '\\' {
					i++
				}
			}
			if i < len(data) && data[i] == '\n' {
				line++
			}
		case '[', '{':
			depth++
			if depth > max {
				return line, fmt.Errorf("TOML nested deeper than %d levels", max)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return 0, nil
}
