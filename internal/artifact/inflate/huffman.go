package inflate

import "math/bits"

// Decode table entries are uint32s laid out so that one lookup yields
// everything the hot loop needs (after libdeflate's design):
//
//	bits  0-5   bits to consume: codeword length plus extra bits (for a
//	            subtable pointer: the primary table's bits)
//	bits  8-11  codeword length (for a subtable pointer: the subtable's bits)
//	bit  12     invalid symbol (or a hole in a degenerate code)
//	bit  13     end of block
//	bit  14     subtable pointer
//	bit  15     exceptional: any of bits 12-14 is set
//	bits 16-30  value: length base, distance base, precode symbol, or the
//	            subtable's start index
//
// Literal entries differ (bit 31 tells them apart):
//
//	bits  0-5   bits to consume: one or two codewords
//	bits  8-11  the first literal's codeword length
//	bits 12-19  the first literal
//	bits 20-27  the second literal, if bit 30 is set
//	bit  30     two literals: the primary table's bits held both codewords
//	bit  31     literal
//
// The extra bits of a length or distance are (bitbuf & mask(total)) >>
// codelen, taken from the bit buffer as it was before consuming the entry.
const (
	fInvalid     = 1 << 12
	fEOB         = 1 << 13
	fSub         = 1 << 14
	fExceptional = 1 << 15
	fLiteral     = 1 << 31
	fDouble      = 1 << 30

	litlenTableBits  = 11
	distTableBits    = 8
	precodeTableBits = 7

	// Worst-case table sizes (primary table plus all subtables) for
	// complete codes, as computed by zlib's "enough" program:
	// enough 288 11 15, enough 32 8 15, enough 19 7 7.
	litlenEnough  = 2342
	distEnough    = 402
	precodeEnough = 128

	maxCodeLen = 15
	numLitlen  = 288
	numDist    = 32
	numPrecode = 19
)

var (
	lengthBase  = [29]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint32{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	// The order in which precode lengths are stored (RFC 1951 3.2.7).
	precodeOrder = [numPrecode]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// Per-symbol entry templates: the value and flag bits plus the number of
// extra bits in bits 0-5. The builder adds the codeword length.
var (
	litlenSyms  = makeLitlenSyms()
	distSyms    = makeDistSyms()
	precodeSyms = makePrecodeSyms()
)

func makeLitlenSyms() (t [numLitlen]uint32) {
	for i := 0; i < 256; i++ {
		t[i] = fLiteral | uint32(i)<<12
	}
	t[256] = fExceptional | fEOB
	for i := 257; i < 286; i++ {
		t[i] = lengthBase[i-257]<<16 | lengthExtra[i-257]
	}
	t[286] = fExceptional | fInvalid
	t[287] = fExceptional | fInvalid
	return t
}

func makeDistSyms() (t [numDist]uint32) {
	for i := 0; i < 30; i++ {
		t[i] = distBase[i]<<16 | distExtra[i]
	}
	t[30] = fExceptional | fInvalid
	t[31] = fExceptional | fInvalid
	return t
}

func makePrecodeSyms() (t [numPrecode]uint32) {
	for i := range t {
		t[i] = uint32(i) << 16
	}
	return t
}

// holeEntry fills the table slots no codeword reaches (only in the
// degenerate one-code case and in empty codes).
const holeEntry = fExceptional | fInvalid

// buildTable fills table from the code lengths lens (lens[i] is the length
// of symbol i's codeword, 0 if unused) with primary table bits tableBits.
// It accepts what compress/flate accepts: complete codes, the empty code,
// and the degenerate code of a single codeword of length 1; it refuses
// over-subscribed and other incomplete codes (ok false). minLen is the
// shortest codeword length (0 for the empty code).
func buildTable(table []uint32, lens []uint8, syms []uint32, tableBits uint) (minLen uint, ok bool) {
	var count [maxCodeLen + 1]uint32
	for _, l := range lens {
		count[l&15]++ // lengths are < 16 by construction
	}
	count[0] = 0
	maxLen := uint(0)
	for l := uint(1); l <= maxCodeLen; l++ {
		if count[l] != 0 {
			if minLen == 0 {
				minLen = l
			}
			maxLen = l
		}
	}
	primary := table[:1<<tableBits]
	if maxLen == 0 {
		for i := range primary {
			primary[i] = holeEntry
		}
		return 0, true
	}
	// Kraft: the code must fill exactly 2^maxLen leaves.
	left := int64(1)
	for l := uint(1); l <= maxCodeLen; l++ {
		left = left<<1 - int64(count[l])
		if left < 0 {
			return 0, false // over-subscribed
		}
	}
	if left != 0 && !(maxLen == 1 && count[1] == 1) {
		return 0, false // incomplete
	}
	if left != 0 {
		// Degenerate: one codeword "0" of length 1; the rest are holes.
		for i := range primary {
			primary[i] = holeEntry
		}
	}

	var next [maxCodeLen + 2]uint32
	code := uint32(0)
	for l := uint(1); l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}

	// Reversed codes of the symbols too long for the primary table, and
	// the subtable size needed under each primary index.
	var subBits [1 << litlenTableBits]uint8
	var prefixes [numLitlen]uint16 // primary indices with a subtable
	nprefixes := 0
	for sym, l8 := range lens {
		l := uint(l8)
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		rev := uint32(bits.Reverse16(uint16(c))) >> (16 - l)
		if l <= tableBits {
			e := syms[sym] + uint32(l)<<8 + uint32(l)
			for i := rev; i < uint32(len(primary)); i += 1 << l {
				primary[i] = e
			}
			continue
		}
		p := rev & (1<<tableBits - 1)
		if subBits[p] == 0 {
			prefixes[nprefixes] = uint16(p)
			nprefixes++
		}
		if sb := uint8(l - tableBits); sb > subBits[p] {
			subBits[p] = sb
		}
	}
	if nprefixes == 0 {
		return minLen, true
	}
	// Lay out the subtables after the primary table.
	pos := uint32(len(primary))
	for _, p := range prefixes[:nprefixes] {
		sb := uint32(subBits[p])
		if int(pos+1<<sb) > len(table) {
			return 0, false // cannot happen for complete codes
		}
		primary[p] = fExceptional | fSub | pos<<16 | sb<<8 | uint32(tableBits)
		pos += 1 << sb
	}
	// Fill them: recompute the codes of the long symbols.
	code = 0
	for l := uint(1); l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for sym, l8 := range lens {
		l := uint(l8)
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if l <= tableBits {
			continue
		}
		rev := uint32(bits.Reverse16(uint16(c))) >> (16 - l)
		ptr := primary[rev&(1<<tableBits-1)]
		start := ptr >> 16
		sb := (ptr >> 8) & 15
		l2 := l - tableBits
		e := syms[sym] + uint32(l2)<<8 + uint32(l2)
		sub := table[start : start+1<<sb]
		for i := rev >> tableBits; i < uint32(len(sub)); i += 1 << l2 {
			sub[i] = e
		}
	}
	return minLen, true
}

// pairLiterals adds two-literal entries to a litlen table built from lens:
// wherever the primary table's bits hold a literal's codeword followed by
// another literal's whole codeword, one lookup yields both. Text-like data
// is mostly short literal codes, so this halves the decoding steps of
// literal runs.
func pairLiterals(table *[litlenEnough]uint32, lens []uint8) {
	// Canonical codes of the literals (RFC 1951 3.2.2): they come first
	// in symbol order among the codewords of each length.
	var count [maxCodeLen + 1]uint16
	for _, l := range lens {
		count[l&15]++
	}
	count[0] = 0
	var next [maxCodeLen + 1]uint16
	code := uint16(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	// The literals short enough to pair, sorted by length.
	var start [litlenTableBits + 2]uint16
	for s := 0; s < 256 && s < len(lens); s++ {
		if l := lens[s]; l != 0 && l < litlenTableBits {
			start[l+1]++
		}
	}
	for l := 1; l <= litlenTableBits; l++ {
		start[l] += start[l-1]
	}
	var syms [256]uint16
	var revs [256]uint16
	pos := start
	for s := 0; s < 256 && s < len(lens); s++ {
		l := lens[s]
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if l >= litlenTableBits {
			continue
		}
		syms[pos[l]] = uint16(s)
		revs[pos[l]] = bits.Reverse16(c) >> (16 - l)
		pos[l]++
	}
	for l1 := uint32(1); l1 < litlenTableBits; l1++ {
		for a := start[l1]; a < start[l1+1]; a++ {
			s1, r1 := uint32(syms[a]), uint32(revs[a])
			for l2 := uint32(1); l1+l2 <= litlenTableBits; l2++ {
				l := l1 + l2
				for b := start[l2]; b < start[l2+1]; b++ {
					e := fLiteral | fDouble | s1<<12 | uint32(syms[b])<<20 | l1<<8 | l
					for i := r1 | uint32(revs[b])<<l1; i < 1<<litlenTableBits; i += 1 << l {
						table[i] = e
					}
				}
			}
		}
	}
}
