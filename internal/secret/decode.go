package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
)

// Encoded-content discovery. One pass over the buffer classifies runs of
// base64/hex alphabet characters; candidate runs are decoded and, when the
// result is mostly printable text, scanned again one level deeper. Matches
// found in decoded content are reported at the encoded run's position.

const (
	cB64    = 1 << iota // base64 alphabet (std or URL)
	cHex                // hex digit
	cDigit              // 0-9
	cUpper              // A-Z
	cLower              // a-z
	cSym                // + / - _
	cNonHex             // base64 character that is not a hex digit
)

// inB64 is charClass&cB64 != 0 as a table of its own (the skip loop's
// only test).
var inB64 = func() (t [256]bool) {
	for c := range t {
		t[c] = charClass[c]&cB64 != 0
	}
	return t
}()

var charClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cB64 | cHex | cDigit
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cB64 | cLower
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = cB64 | cUpper
	}
	for _, c := range "abcdefABCDEF" {
		t[c] |= cHex
	}
	for _, c := range "+/-_" {
		t[c] = cB64 | cSym
	}
	for c := range t {
		if t[c]&cB64 != 0 && t[c]&cHex == 0 {
			t[c] |= cNonHex
		}
	}
	return t
}()

const (
	minBase64Run = 24
	minHexRun    = 32
	maxDecodeRun = 1 << 20 // longer runs (inline images) are not decoded
	probeLen     = 64      // characters probed before decoding a long run
)

// printable reports whether b looks like text: at least 95% printable ASCII
// or whitespace, and at least 8 bytes.
func printable(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	bad := 0
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f {
			bad++
		}
	}
	return bad*20 <= len(b)
}

// decodeBase64 decodes a base64 run (standard or URL alphabet, padding
// optional). The first probeLen characters are decoded first: a run whose
// start is not text is not decoded further.
func decodeBase64(s []byte) []byte {
	s = bytes.TrimRight(s, "=")
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	enc := base64.RawStdEncoding
	if bytes.ContainsAny(s, "-_") {
		if bytes.ContainsAny(s, "+/") {
			return nil
		}
		enc = base64.RawURLEncoding
	}
	if len(s) > probeLen {
		var probe [probeLen * 3 / 4]byte
		n, err := enc.Decode(probe[:], s[:probeLen])
		if err != nil || !printable(probe[:n]) {
			return nil
		}
	}
	out := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(out, s)
	if err != nil {
		return nil
	}
	return out[:n]
}

// decodeHex decodes an even-length hex run, probing its start first.
func decodeHex(s []byte) []byte {
	if len(s) > probeLen {
		var probe [probeLen / 2]byte
		if _, err := hex.Decode(probe[:], s[:probeLen]); err != nil || !printable(probe[:]) {
			return nil
		}
	}
	out := make([]byte, len(s)/2)
	if _, err := hex.Decode(out, s); err != nil {
		return nil
	}
	return out
}

// detectEncoded finds encoded runs in data, decodes them and scans the
// decoded text with depth+1.
func (e *engine) detectEncoded(data []byte, path string, sub *scratch, depth, maxDecode int, out []rawMatch) []rawMatch {
	emit := func(start, end int, kind string, decoded []byte) {
		if decoded == nil || !printable(decoded) {
			return
		}
		inner := e.detect(decoded, path, sub, depth+1, maxDecode, nil)
		for _, m := range inner {
			chain := kind
			if m.decoded != "" {
				chain = kind + ">" + m.decoded
			}
			out = append(out, rawMatch{
				rule: m.rule, start: start, end: end, sstart: start, send: end,
				secret: m.secret, match: m.match, line: m.line, decoded: chain,
			})
		}
	}
	// Skip loop (Horspool-like): a run of at least minBase64Run characters
	// that starts at or after i must cover data[i+minBase64Run-1]. When
	// that byte is not in the alphabet, jump past it; when the run holding
	// it starts at j > i, no run starting before j is long enough: probe
	// again from j. Invariant: i == 0 or data[i-1] is not in the alphabet.
	n := len(data)
	const L = minBase64Run
	for i := 0; i+L <= n; {
		p := i + L - 1
		if !inB64[data[p]] {
			i = p + 1
			continue
		}
		j := p
		for j > i && inB64[data[j-1]] {
			j--
		}
		if j > i {
			i = j
			continue
		}
		k := i + L
		for k < n && inB64[data[k]] {
			k++
		}
		j = i
		if k-j >= L {
			mask := uint8(0)
			for _, c := range data[j:k] {
				mask |= charClass[c]
			}
			end := k
			for end < n && end-k < 2 && data[end] == '=' {
				end++
			}
			run := k - j
			switch {
			case run > maxDecodeRun:
			case mask&cNonHex == 0 && run >= minHexRun && run%2 == 0:
				if d := decodeHex(data[j:k]); d != nil {
					emit(j, k, "hex", d)
				}
			case mask&cUpper != 0 && mask&cLower != 0 && mask&(cDigit|cSym) != 0:
				emit(j, end, "base64", decodeBase64(data[j:end]))
			}
		}
		i = k + 1
	}
	// Percent-encoding: tokens with at least two %XX escapes.
	for off := 0; off < n; {
		p := bytes.IndexByte(data[off:], '%')
		if p < 0 {
			break
		}
		p += off
		ts, te := p, p
		for ts > 0 && !tokenStop(data[ts-1]) {
			ts--
		}
		for te < n && !tokenStop(data[te]) {
			te++
		}
		off = te + 1
		tok := data[ts:te]
		if te-ts > maxDecodeRun || countEscapes(tok) < 2 {
			continue
		}
		d, err := url.PathUnescape(string(tok))
		if err != nil || d == string(tok) {
			continue
		}
		emit(ts, te, "percent", []byte(d))
	}
	return out
}

func tokenStop(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>', '(', ')', ',', ';':
		return true
	}
	return false
}

func countEscapes(b []byte) int {
	n := 0
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' && charClass[b[i+1]]&cHex != 0 && charClass[b[i+2]]&cHex != 0 {
			n++
		}
	}
	return n
}
