package inflate

import (
	"math/bits"
	"math/rand"
	"testing"
)

// decodeWith looks a codeword up the way the fast loop does and returns the
// entry (subtables resolved) and the number of codeword bits used.
func decodeWith(table []uint32, tableBits uint, rev uint64) (uint32, uint) {
	e := table[rev&(1<<tableBits-1)]
	if e&fLiteral == 0 && e&fSub != 0 {
		sub := table[e>>16+uint32(rev>>tableBits)&(1<<((e>>8)&15)-1)]
		return sub, tableBits + uint(sub>>8)&15
	}
	return e, uint(e>>8) & 15
}

// randomComplete returns random complete code lengths for n symbols at
// most (some zero), no longer than maxLen: leaves are split at random.
func randomComplete(rng *rand.Rand, n int, maxLen uint8) []uint8 {
	leaves := []uint8{0}
	for len(leaves) < n && rng.Intn(n) != 0 || len(leaves) < 2 {
		i := rng.Intn(len(leaves))
		if leaves[i] >= maxLen {
			continue
		}
		leaves[i]++
		leaves = append(leaves, leaves[i])
	}
	lens := make([]uint8, n)
	perm := rng.Perm(n)
	for i, l := range leaves {
		lens[perm[i]] = l
	}
	return lens
}

func TestBuildTableDecodesEveryCodeword(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	type kind struct {
		name      string
		n         int
		syms      []uint32
		tableBits uint
		size      int
		maxLen    uint8
	}
	kinds := []kind{
		{"litlen", numLitlen, litlenSyms[:], litlenTableBits, litlenEnough, 15},
		{"dist", numDist, distSyms[:], distTableBits, distEnough, 15},
		{"precode", numPrecode, precodeSyms[:], precodeTableBits, precodeEnough, 7},
	}
	for _, k := range kinds {
		sawSub := false
		for trial := 0; trial < 300; trial++ {
			lens := randomComplete(rng, k.n, k.maxLen)
			if trial == 0 { // a deep chain: 1, 2, ..., maxLen, maxLen
				lens = make([]uint8, k.n)
				for i := 0; i < int(k.maxLen); i++ {
					lens[i] = uint8(i + 1)
				}
				lens[k.maxLen] = k.maxLen
			}
			table := make([]uint32, k.size)
			minLen, ok := buildTable(table, lens, k.syms, k.tableBits)
			if !ok {
				t.Fatalf("%s trial %d: complete code refused: %v", k.name, trial, lens)
			}
			// Canonical codes, as RFC 1951 3.2.2 assigns them.
			var count [16]int
			for _, l := range lens {
				count[l]++
			}
			count[0] = 0
			var next [17]int
			code := 0
			for l := 1; l <= 15; l++ {
				code = (code + count[l-1]) << 1
				next[l] = code
			}
			gotMin := uint(16)
			for sym, l := range lens {
				if l == 0 {
					continue
				}
				gotMin = min(gotMin, uint(l))
				c := next[l]
				next[l]++
				rev := uint64(bits.Reverse16(uint16(c)) >> (16 - l))
				// Random bits after the codeword must not matter.
				rev |= uint64(rng.Intn(1<<15)) << l
				e, n := decodeWith(table, k.tableBits, rev)
				if e&fSub != 0 && e&fLiteral == 0 || n != uint(l) {
					t.Fatalf("%s trial %d symbol %d: entry %#x, %d bits, want %d", k.name, trial, sym, e, n, l)
				}
				if e&fSub == 0 && uint(l) > k.tableBits {
					sawSub = true
				}
				want := k.syms[sym] &^ 63
				if got := e &^ (63 | 15<<8); got != want {
					t.Fatalf("%s trial %d symbol %d: entry %#x, want value %#x", k.name, trial, sym, e, want)
				}
			}
			if minLen != gotMin {
				t.Fatalf("%s trial %d: min length %d, want %d", k.name, trial, minLen, gotMin)
			}
		}
		if k.name != "precode" && !sawSub {
			t.Fatalf("%s: no codeword went through a subtable", k.name)
		}
	}
}

func TestBuildTableAcceptsWhatCompressFlateAccepts(t *testing.T) {
	cases := []struct {
		name string
		lens []uint8
		ok   bool
	}{
		{"empty", []uint8{0, 0, 0}, true},
		{"one code of length 1", []uint8{0, 1, 0}, true},
		{"two codes of length 1", []uint8{1, 1}, true},
		{"one code of length 2", []uint8{0, 2}, false},
		{"incomplete", []uint8{1, 2}, false},
		{"over-subscribed", []uint8{1, 1, 1}, false},
		{"over-subscribed deep", []uint8{1, 2, 3, 3, 3}, false},
		{"complete", []uint8{1, 2, 3, 3}, true},
	}
	for _, tc := range cases {
		var table [litlenEnough]uint32
		lens := append(make([]uint8, 0, numLitlen), tc.lens...)
		for len(lens) < 257 {
			lens = append(lens, 0)
		}
		_, ok := buildTable(table[:], lens, litlenSyms[:], litlenTableBits)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v", tc.name, ok, tc.ok)
		}
		if ok && tc.name == "one code of length 1" {
			// "0" decodes symbol 1; "1" is a hole.
			if e, _ := decodeWith(table[:], litlenTableBits, 0); e&fLiteral == 0 || e>>12&0xff != 1 {
				t.Errorf("degenerate code: 0 decodes to %#x", e)
			}
			if e, _ := decodeWith(table[:], litlenTableBits, 1); e&fInvalid == 0 {
				t.Errorf("degenerate code: 1 decodes to %#x, want a hole", e)
			}
		}
	}
}

// pairLiteralsRef is the obvious form of pairLiterals: an entry for a
// literal pairs with the entry its remaining bits index, if that is a
// literal whose codeword fits.
func pairLiteralsRef(table *[litlenEnough]uint32) {
	single := *table
	for i := range 1 << litlenTableBits {
		e := single[i]
		if e&fLiteral == 0 {
			continue
		}
		l1 := e & 63
		e2 := single[i>>l1]
		if e2&fLiteral != 0 && l1+e2&63 <= litlenTableBits {
			table[i] = e&^63 | fDouble | (e2>>12&0xff)<<20 | (l1 + e2&63)
		}
	}
}

func TestPairLiterals(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	pairs := 0
	for trial := 0; trial < 500; trial++ {
		maxLen := uint8(4 + rng.Intn(12))
		lens := randomComplete(rng, 257+rng.Intn(30), maxLen)
		var got, want [litlenEnough]uint32
		if _, ok := buildTable(got[:], lens, litlenSyms[:], litlenTableBits); !ok {
			t.Fatalf("trial %d: refused", trial)
		}
		want = got
		pairLiterals(&got, lens)
		pairLiteralsRef(&want)
		if got != want {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("trial %d: entry %d is %#x, want %#x (lens %v)", trial, i, got[i], want[i], lens)
				}
			}
		}
		for _, e := range got[:1<<litlenTableBits] {
			if e&fDouble != 0 {
				pairs++
			}
		}
	}
	if pairs == 0 {
		t.Fatal("no pairs made")
	}
}
