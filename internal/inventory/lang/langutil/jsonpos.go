package langutil

import (
	"encoding/json"
	"errors"
	"strconv"
)

// JSONLines walks data, which must already be valid JSON (decode it with
// encoding/json first: that also bounds the nesting depth), and calls fn for
// every object member and array element no deeper than maxDepth, with its
// path (member names; array indexes in decimal) and 1-based line. The path
// slice is reused between calls: copy it to keep it.
func JSONLines(data []byte, maxDepth int, fn func(path []string, line int)) error {
	w := jsonWalker{data: data, line: 1, maxDepth: maxDepth, fn: fn}
	return w.value(0)
}

var errJSON = errors.New("malformed JSON")

type jsonWalker struct {
	data     []byte
	pos      int
	line     int
	maxDepth int
	path     []string
	fn       func([]string, int)
}

func (w *jsonWalker) ws() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case '\n':
			w.line++
		case ' ', '\t', '\r':
		default:
			return
		}
		w.pos++
	}
}

// str scans a string at w.pos (the opening quote) and returns its value
// when want is set.
func (w *jsonWalker) str(want bool) (string, error) {
	if w.pos >= len(w.data) || w.data[w.pos] != '"' {
		return "", errJSON
	}
	start := w.pos
	w.pos++
	esc := false
	for w.pos < len(w.data) {
		c := w.data[w.pos]
		w.pos++
		switch c {
		case '\\':
			esc = true
			w.pos++
		case '"':
			if !want {
				return "", nil
			}
			if !esc {
				return string(w.data[start+1 : w.pos-1]), nil
			}
			var s string
			if err := json.Unmarshal(w.data[start:w.pos], &s); err != nil {
				return "", errJSON
			}
			return s, nil
		}
	}
	return "", errJSON
}

func (w *jsonWalker) value(depth int) error {
	w.ws()
	if w.pos >= len(w.data) {
		return errJSON
	}
	want := depth < w.maxDepth
	switch w.data[w.pos] {
	case '{':
		w.pos++
		w.ws()
		if w.pos < len(w.data) && w.data[w.pos] == '}' {
			w.pos++
			return nil
		}
		for {
			w.ws()
			line := w.line
			key, err := w.str(want)
			if err != nil {
				return err
			}
			w.ws()
			if w.pos >= len(w.data) || w.data[w.pos] != ':' {
				return errJSON
			}
			w.pos++
			if want {
				w.path = append(w.path, key)
				w.fn(w.path, line)
			}
			if err := w.value(depth + 1); err != nil {
				return err
			}
			if want {
				w.path = w.path[:len(w.path)-1]
			}
			w.ws()
			if w.pos >= len(w.data) {
				return errJSON
			}
			switch w.data[w.pos] {
			case ',':
				w.pos++
			case '}':
				w.pos++
				return nil
			default:
				return errJSON
			}
		}
	case '[':
		w.pos++
		w.ws()
		if w.pos < len(w.data) && w.data[w.pos] == ']' {
			w.pos++
			return nil
		}
		for i := 0; ; i++ {
			w.ws()
			if want {
				w.path = append(w.path, strconv.Itoa(i))
				w.fn(w.path, w.line)
			}
			if err := w.value(depth + 1); err != nil {
				return err
			}
			if want {
				w.path = w.path[:len(w.path)-1]
			}
			w.ws()
			if w.pos >= len(w.data) {
				return errJSON
			}
			switch w.data[w.pos] {
			case ',':
				w.pos++
			case ']':
				w.pos++
				return nil
			default:
				return errJSON
			}
		}
	case '"':
		_, err := w.str(false)
		return err
	default:
		for w.pos < len(w.data) {
			switch w.data[w.pos] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return nil
			}
			w.pos++
		}
		return nil
	}
}
