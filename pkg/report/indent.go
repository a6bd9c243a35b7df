package report

import "bytes"

// appendIndent appends src, compact JSON as encoding/json writes it, to
// dst indented the way json.Indent(dst, src, prefix, "  ") would indent it,
// with prefix also before the first line. It is several times faster than
// json.Indent, which validates its input with a full scanner: src comes
// from json.Marshal and is valid.
func appendIndent(dst, src []byte, prefix string) []byte {
	return appendIndentValue(append(dst, prefix...), src, prefix)
}

// appendIndentValue is appendIndent without the prefix before the first
// line: for a value that follows a key.
func appendIndentValue(dst, src []byte, prefix string) []byte {
	depth := 0
	newline := func(dst []byte) []byte {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for i := 0; i < depth; i++ {
			dst = append(dst, ' ', ' ')
		}
		return dst
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			// Copy the string up to its closing quote: the next quote
			// when there is no escape before it (the common case, found
			// with IndexByte), else byte by byte.
			j := i + 1
			if q := bytes.IndexByte(src[j:], '"'); q >= 0 && bytes.IndexByte(src[j:j+q], '\\') < 0 {
				j += q
			} else {
				for j < len(src) {
					if src[j] == '\\' {
						j += 2
						continue
					}
					if src[j] == '"' {
						break
					}
					j++
				}
			}
			if j >= len(src) {
				j = len(src) - 1
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			dst = newline(dst)
		case '}', ']':
			depth--
			dst = newline(dst)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
