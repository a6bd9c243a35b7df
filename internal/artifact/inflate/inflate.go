// Package inflate is a fast streaming DEFLATE (RFC 1951) decoder with a
// gzip (RFC 1952) member reader, in pure Go.
//
// The design follows libdeflate's decompressor: a 64-bit bit buffer
// refilled with unaligned 8-byte loads from a large input buffer, decode
// tables whose entries carry the symbol's value and the number of bits to
// consume (literal/length base and extra-bit counts included), a literal
// fast path that decodes several literals per refill (and two literals per
// lookup where both codewords fit the primary table), and word-at-a-time
// match copies. Unlike libdeflate it streams: input is read through a
// fixed buffer and output goes through a window (32 KiB of history plus an
// output chunk), so memory stays bounded (about 430 KiB per reader)
// whatever the stream's size.
//
// What it accepts and rejects matches compress/flate, including its output
// before an error: for any input, the bytes produced and whether an error
// follows are the same (the fuzz targets check this).
package inflate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	histSize   = 32 << 10  // DEFLATE window
	chunkSize  = 256 << 10 // output produced between window slides
	inBufSize  = 128 << 10 // input buffer
	inKeepBack = 8         // bytes kept before the read position when compacting

	// The fast loop runs while this many input bytes remain buffered (two
	// 8-byte refills per iteration, each consuming at most 7 bytes) ...
	fastInMargin = 32
	// ... and while this much window space remains: three literal pairs, a
	// 258-byte match and the 16-byte overrun of word copies.
	fastOutMargin = 6 + 258 + 16 + 8
	winSize       = histSize + chunkSize + fastOutMargin
)

// CorruptInputError reports invalid DEFLATE data at (about) the given
// input offset of the stream.
type CorruptInputError int64

func (e CorruptInputError) Error() string {
	return fmt.Sprintf("flate: corrupt input before offset %d", int64(e))
}

type blockState uint8

const (
	stateHeader  blockState = iota // next: a block header
	stateHuffman                   // inside a Huffman block
	stateStored                    // inside a stored block
	stateDone                      // the final block ended
)

// Decompressor reads a raw DEFLATE stream. The zero value is not usable;
// use NewReader or Reset.
type Decompressor struct {
	r      io.Reader
	ip     int   // read position in in
	iend   int   // end of buffered input
	inBase int64 // stream offset of in[0]
	rerr   error // sticky error from r (io.EOF once exhausted)

	bitbuf   uint64 // bits [0, bitsleft) are unread input; bits above are 0 or the input that follows
	bitsleft uint

	wpos     int // output written
	rpos     int // output returned by Read
	histBase int // start of this stream's output in win (distances may not reach before it)

	state      blockState
	final      bool
	storedLeft int
	err        error // sticky: decoding error or io.EOF, returned once the output is drained

	litlenMin uint // compress/flate reads at least this many bits for a litlen symbol
	distMin   uint
	fixed     bool // the tables hold the fixed code

	litlen  [litlenEnough]uint32
	dist    [distEnough]uint32
	precode [precodeEnough]uint32
	lens    [numLitlen + numDist]uint8

	// The buffers are arrays so that the hot loop indexes them with
	// constant bounds.
	in  [inBufSize]byte
	win [winSize]byte
}

// NewReader returns a decompressor for the raw DEFLATE stream r. It reads
// ahead: bytes after the end of the stream may be consumed from r.
func NewReader(r io.Reader) *Decompressor {
	d := &Decompressor{}
	d.Reset(r)
	return d
}

// Reset discards all state and starts decoding a new stream from r,
// reusing the buffers.
func (d *Decompressor) Reset(r io.Reader) {
	d.r = r
	d.ip, d.iend, d.inBase, d.rerr = 0, 0, 0, nil
	d.wpos, d.rpos, d.histBase = 0, 0, 0
	d.resetStream()
}

// resetStream starts a new DEFLATE stream on the same input, after the
// previous one (a gzip member boundary). The bit buffer must be empty.
func (d *Decompressor) resetStream() {
	d.bitbuf, d.bitsleft = 0, 0
	d.histBase = d.wpos
	d.state, d.final, d.storedLeft, d.err = stateHeader, false, 0, nil
	d.fixed = false
}

// Read implements io.Reader.
func (d *Decompressor) Read(p []byte) (int, error) {
	for {
		if d.rpos < d.wpos {
			n := copy(p, d.win[d.rpos:d.wpos])
			d.rpos += n
			return n, nil
		}
		if d.err != nil {
			return 0, d.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		d.decode()
	}
}

// Close is a no-op: it exists so a Decompressor is an io.ReadCloser.
func (d *Decompressor) Close() error { return nil }

// offset returns the stream offset of the next unread byte.
func (d *Decompressor) offset() int64 {
	return d.inBase + int64(d.ip) - int64(d.bitsleft/8)
}

func (d *Decompressor) corrupt() error { return CorruptInputError(d.offset()) }

// noEOF turns io.EOF into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fill reads more input after compacting the buffer. It reads at least one
// byte or sets d.rerr.
func (d *Decompressor) fill() {
	if d.rerr != nil {
		return
	}
	if keep := d.ip - inKeepBack; keep > 0 {
		n := copy(d.in[:], d.in[keep:d.iend])
		d.inBase += int64(keep)
		d.ip -= keep
		d.iend = n
	}
	for tries := 0; tries < 100; tries++ {
		n, err := d.r.Read(d.in[d.iend:])
		if n < 0 || n > inBufSize-d.iend {
			d.rerr = errors.New("inflate: reader returned an invalid count")
			return
		}
		d.iend += n
		if err != nil {
			d.rerr = err
			return
		}
		if n > 0 {
			return
		}
	}
	d.rerr = io.ErrNoProgress
}

// needBits makes at least n (≤ 56) bits available, byte by byte.
func (d *Decompressor) needBits(n uint) error {
	for d.bitsleft < n {
		if d.ip < d.iend {
			d.bitbuf |= uint64(d.in[d.ip]) << (d.bitsleft & 63)
			d.ip++
			d.bitsleft += 8
			continue
		}
		if d.rerr != nil {
			return noEOF(d.rerr)
		}
		d.fill()
	}
	return nil
}

// refill loads 8 bytes into the bit buffer, of which it consumes up to 7:
// afterwards bitsleft is in [56, 63]. It needs d.ip+8 <= d.iend.
func (d *Decompressor) refill() {
	d.bitbuf |= binary.LittleEndian.Uint64(d.in[d.ip:d.ip+8]) << (d.bitsleft & 63)
	d.ip += 7 - int((d.bitsleft>>3)&7)
	d.bitsleft |= 56
}

// bits consumes and returns n bits; they must be available.
func (d *Decompressor) bits(n uint) uint32 {
	v := uint32(d.bitbuf & (1<<(n&63) - 1))
	d.bitbuf >>= n & 63
	d.bitsleft -= n
	return v
}

// alignToByte drops the bits up to the next byte boundary and gives the
// whole bytes left in the bit buffer back to the input buffer.
func (d *Decompressor) alignToByte() {
	d.ip -= int(d.bitsleft / 8)
	d.bitbuf, d.bitsleft = 0, 0
}

// decode produces output into the window until it is nearly full, the
// stream ends or an error occurs (d.err is set then).
func (d *Decompressor) decode() {
	if winSize-d.wpos < fastOutMargin {
		d.slide()
	}
	for d.err == nil {
		switch d.state {
		case stateHeader:
			d.err = d.blockHeader()
		case stateHuffman:
			full, err := d.huffmanBlock()
			if err != nil {
				d.err = err
			}
			if full {
				return
			}
		case stateStored:
			full, err := d.storedBlock()
			if err != nil {
				d.err = err
			}
			if full {
				return
			}
		case stateDone:
			d.alignToByte()
			d.err = io.EOF
		}
	}
}

// slide moves the last histSize bytes of output to the start of the window.
// All output must have been read.
func (d *Decompressor) slide() {
	keep := min(d.wpos, histSize)
	shift := d.wpos - keep
	copy(d.win[:], d.win[shift:d.wpos])
	d.wpos -= shift
	d.rpos -= shift
	d.histBase = max(d.histBase-shift, 0)
}

func (d *Decompressor) endBlock() {
	if d.final {
		d.state = stateDone
	} else {
		d.state = stateHeader
	}
}

func (d *Decompressor) blockHeader() error {
	if err := d.needBits(3); err != nil {
		return err
	}
	d.final = d.bits(1) == 1
	switch d.bits(2) {
	case 0:
		return d.storedHeader()
	case 1:
		if !d.fixed {
			d.buildFixed()
		}
		d.litlenMin, d.distMin = 7, 5
	case 2:
		if err := d.dynamicHeader(); err != nil {
			return err
		}
	default:
		return d.corrupt()
	}
	d.state = stateHuffman
	return nil
}

func (d *Decompressor) storedHeader() error {
	d.alignToByte()
	for d.iend-d.ip < 4 {
		if d.rerr != nil {
			// compress/flate copies nothing of a block whose header is cut.
			d.ip = d.iend
			return noEOF(d.rerr)
		}
		d.fill()
	}
	n := int(binary.LittleEndian.Uint16(d.in[d.ip:]))
	nn := int(binary.LittleEndian.Uint16(d.in[d.ip+2:]))
	d.ip += 4
	if uint16(nn) != ^uint16(n) {
		return d.corrupt()
	}
	d.storedLeft = n
	d.state = stateStored
	return nil
}

// storedBlock copies stored bytes; full reports that the window is full.
func (d *Decompressor) storedBlock() (full bool, err error) {
	for d.storedLeft > 0 {
		if d.wpos == winSize {
			return true, nil
		}
		if d.ip == d.iend {
			if d.rerr != nil {
				return true, noEOF(d.rerr)
			}
			d.fill()
			continue
		}
		n := min(d.storedLeft, d.iend-d.ip, winSize-d.wpos)
		copy(d.win[d.wpos:d.wpos+n], d.in[d.ip:d.ip+n])
		d.ip += n
		d.wpos += n
		d.storedLeft -= n
	}
	d.endBlock()
	return winSize-d.wpos < fastOutMargin, nil
}

func (d *Decompressor) buildFixed() {
	l := d.lens[:numLitlen+numDist]
	for i := 0; i < 144; i++ {
		l[i] = 8
	}
	for i := 144; i < 256; i++ {
		l[i] = 9
	}
	for i := 256; i < 280; i++ {
		l[i] = 7
	}
	for i := 280; i < 288; i++ {
		l[i] = 8
	}
	for i := 288; i < 288+32; i++ {
		l[i] = 5
	}
	buildTable(d.litlen[:], l[:numLitlen], litlenSyms[:], litlenTableBits)
	buildTable(d.dist[:], l[numLitlen:], distSyms[:], distTableBits)
	d.fixed = true
}

func (d *Decompressor) dynamicHeader() error {
	d.fixed = false
	if err := d.needBits(14); err != nil {
		return err
	}
	nlit := int(d.bits(5)) + 257
	ndist := int(d.bits(5)) + 1
	nclen := int(d.bits(4)) + 4
	if nlit > 286 || ndist > 30 {
		return d.corrupt()
	}
	var plens [numPrecode]uint8
	for i := 0; i < nclen; i++ {
		if err := d.needBits(3); err != nil {
			return err
		}
		plens[precodeOrder[i]] = uint8(d.bits(3))
	}
	pmin, ok := buildTable(d.precode[:], plens[:], precodeSyms[:], precodeTableBits)
	if !ok {
		return d.corrupt()
	}
	lens := d.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		var e uint32
		if d.bitsleft < 14 && d.ip+8 <= d.iend {
			d.refill()
		}
		if e = d.precode[d.bitbuf&(1<<precodeTableBits-1)]; d.bitsleft >= 14 && e&fInvalid == 0 {
			// Enough real bits for any codeword and its extra bits.
			d.bits(uint(e & 63))
		} else {
			var err error
			if e, err = d.slowSym(d.precode[:], precodeTableBits, pmin); err != nil {
				return err
			}
		}
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep, nb int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return d.corrupt()
			}
			rep, nb, v = 3, 2, lens[i-1]
		case 17:
			rep, nb = 3, 3
		default:
			rep, nb = 11, 7
		}
		if err := d.needBits(uint(nb)); err != nil {
			return err
		}
		rep += int(d.bits(uint(nb)))
		if i+rep > len(lens) {
			return d.corrupt()
		}
		for j := 0; j < rep; j++ {
			lens[i+j] = v
		}
		i += rep
	}
	lmin, ok := buildTable(d.litlen[:], lens[:nlit], litlenSyms[:], litlenTableBits)
	if !ok {
		return d.corrupt()
	}
	pairLiterals(&d.litlen, lens[:nlit])
	dmin, ok := buildTable(d.dist[:], lens[nlit:], distSyms[:], distTableBits)
	if !ok {
		return d.corrupt()
	}
	// compress/flate reads at least as many bits as the end-of-block code
	// before decoding a litlen symbol; doing the same keeps the output of
	// truncated streams identical.
	d.litlenMin = max(lmin, uint(lens[256]))
	d.distMin = dmin
	return nil
}

// slowSym decodes one symbol with exact bit accounting, reading input byte
// by byte. It reads at least minBits bits (compress/flate's rule) and the
// symbol's codeword, and returns the final entry (subtables resolved) with
// the codeword consumed but not its extra bits. An invalid entry is an
// error.
func (d *Decompressor) slowSym(table []uint32, tableBits uint, minBits uint) (uint32, error) {
	for {
		e := table[d.bitbuf&(1<<tableBits-1)]
		clen := uint(e>>8) & 15
		if e&fLiteral == 0 && e&fSub != 0 {
			sub := table[e>>16+uint32(d.bitbuf>>tableBits)&(1<<clen-1)]
			e = sub
			clen = tableBits + uint(sub>>8)&15
		}
		need := max(clen, minBits)
		if d.bitsleft < need {
			if err := d.needBits(need); err != nil {
				return 0, err
			}
			continue // look up again with the real bits
		}
		if e&fLiteral == 0 && e&fInvalid != 0 {
			return 0, d.corrupt()
		}
		d.bits(clen)
		return e, nil
	}
}

// slowStep decodes one literal, match or end of block near the end of the
// input, where the fast loop cannot run. The window has room for a match.
func (d *Decompressor) slowStep() error {
	e, err := d.slowSym(d.litlen[:], litlenTableBits, d.litlenMin)
	if err != nil {
		return err
	}
	if e&fLiteral != 0 {
		d.win[d.wpos] = byte(e >> 12)
		d.wpos++
		return nil
	}
	if e&fEOB != 0 {
		d.endBlock()
		return nil
	}
	extra := uint(e&63) - uint(e>>8)&15
	if err := d.needBits(extra); err != nil {
		return err
	}
	length := int(e>>16) + int(d.bits(extra))
	de, err := d.slowSym(d.dist[:], distTableBits, d.distMin)
	if err != nil {
		return err
	}
	extra = uint(de&63) - uint(de>>8)&15
	if err := d.needBits(extra); err != nil {
		return err
	}
	dist := int(de>>16) + int(d.bits(extra))
	if dist > d.wpos-d.histBase {
		return d.corrupt()
	}
	w := d.win[d.wpos : d.wpos+length]
	src := d.win[d.wpos-dist:]
	for i := range w {
		w[i] = src[i]
	}
	d.wpos += length
	return nil
}

// huffmanBlock decodes the current Huffman block until it ends, the
// window is nearly full (full is true) or an error occurs.
func (d *Decompressor) huffmanBlock() (full bool, err error) {
	for d.state == stateHuffman {
		if winSize-d.wpos < fastOutMargin {
			return true, nil
		}
		if d.iend-d.ip < fastInMargin+8 && d.rerr == nil {
			d.fill()
			continue
		}
		if d.iend-d.ip >= fastInMargin {
			if err := d.fastLoop(); err != nil {
				return false, err
			}
			continue
		}
		if err := d.slowStep(); err != nil {
			return false, err
		}
	}
	return winSize-d.wpos < fastOutMargin, nil
}

// fastLoop decodes symbols while at least fastInMargin input bytes are
// buffered and fastOutMargin bytes of window are free. It returns at the
// end of the block (state changed), at those limits, or on an error.
//
// Refills load 8 bytes at once: afterwards bitsleft is in [56, 63] and the
// bits above bitsleft hold the input that follows (so ORing the next load
// over them is harmless). An iteration refills at most twice, each
// consuming at most 7 bytes, hence fastInMargin.
//
// Only the low 6 bits of bitsleft are meaningful inside the loop: it is
// decremented by whole table entries (whose low 6 bits are the bits
// consumed), which saves masking them, as libdeflate does; every use
// masks it or looks only at bits 3-5.
func (d *Decompressor) fastLoop() error {
	in := &d.in
	win := &d.win
	if d.iend-d.ip < fastInMargin || d.wpos > winSize-fastOutMargin {
		return nil
	}
	// Unsigned positions let the compiler drop most bounds checks.
	ip := uint(d.ip)
	wpos := uint(d.wpos)
	bitbuf := d.bitbuf
	bitsleft := d.bitsleft
	ll := &d.litlen
	dt := &d.dist
	inLimit := min(uint(d.iend-fastInMargin), inBufSize-fastInMargin)
	const outLimit = winSize - fastOutMargin
	histBase := uint(d.histBase)
	var err error
	invalid := false

	bitbuf |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bitsleft & 63)
	ip += ^bitsleft >> 3 & 7
	bitsleft |= 56
	// e is always the primary litlen entry for the next bits, looked up
	// while at least 11 bits were available.
	e := ll[bitbuf&(1<<litlenTableBits-1)]

	for ip <= inLimit && wpos <= outLimit {
		bitbuf |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bitsleft & 63)
		ip += ^bitsleft >> 3 & 7
		bitsleft |= 56
		// All 64 bits of bitbuf are input now (the bits above bitsleft
		// belong to the next byte), so after consuming n bits, 64-n bits
		// remain valid for table lookups even where bitsleft is lower.

		if int32(e) < 0 { // literal
			// Up to three literal entries per refill (3 × 15 bits ≤ 56).
			bitbuf >>= e & 63
			bitsleft -= uint(e)
			// One or two literals: store both bytes, advance by the count.
			binary.LittleEndian.PutUint16(win[wpos:wpos+2], uint16(e>>12))
			wpos += 1 + uint(e>>30&1)
			e = ll[bitbuf&(1<<litlenTableBits-1)]
			if int32(e) < 0 {
				bitbuf >>= e & 63
				bitsleft -= uint(e)
				binary.LittleEndian.PutUint16(win[wpos:wpos+2], uint16(e>>12))
				wpos += 1 + uint(e>>30&1)
				e = ll[bitbuf&(1<<litlenTableBits-1)]
				if int32(e) < 0 {
					bitbuf >>= e & 63
					bitsleft -= uint(e)
					binary.LittleEndian.PutUint16(win[wpos:wpos+2], uint16(e>>12))
					wpos += 1 + uint(e>>30&1)
					e = ll[bitbuf&(1<<litlenTableBits-1)]
					continue
				}
			}
			// Refill so that the match below needs no refill (e stays
			// valid: refills only add bits above bitsleft).
			bitbuf |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bitsleft & 63)
			ip += ^bitsleft >> 3 & 7
			bitsleft |= 56
		}
		if e&fExceptional != 0 {
			if e&fSub != 0 {
				bitbuf >>= e & 63
				bitsleft -= uint(e)
				e = ll[e>>16+uint32(bitbuf)&(1<<((e>>8)&15)-1)]
				if int32(e) < 0 {
					bitbuf >>= e & 63
					bitsleft -= uint(e)
					win[wpos] = byte(e >> 12)
					wpos++
					e = ll[bitbuf&(1<<litlenTableBits-1)]
					continue
				}
			}
			if e&fExceptional != 0 {
				if e&fEOB != 0 {
					bitbuf >>= e & 63
					bitsleft -= uint(e)
					d.endBlock()
					break
				}
				// Invalid symbol: let the exact path report it.
				invalid = true
				break
			}
		}
		// Length: codeword and extra bits (at most 20 bits; with the
		// distance's 28 at most 48 bits since the refill).
		saved := bitbuf
		bitbuf >>= e & 63
		bitsleft -= uint(e)
		length := uint(e>>16) + uint((saved&(1<<(e&63)-1))>>((e>>8)&15))

		de := dt[bitbuf&(1<<distTableBits-1)]
		if de&fExceptional != 0 {
			if de&fSub != 0 {
				bitbuf >>= de & 63
				bitsleft -= uint(de)
				de = dt[de>>16+uint32(bitbuf)&(1<<((de>>8)&15)-1)]
			}
			if de&fExceptional != 0 {
				err = CorruptInputError(d.inBase + int64(ip) - int64(bitsleft&63/8))
				break
			}
		}
		saved = bitbuf
		bitbuf >>= de & 63
		bitsleft -= uint(de)
		dist := uint(de>>16) + uint((saved&(1<<(de&63)-1))>>((de>>8)&15))
		// Preload the next entry (at least 16 valid bits remain) so the
		// lookup overlaps the copy.
		e = ll[bitbuf&(1<<litlenTableBits-1)]
		if dist > wpos-histBase {
			err = CorruptInputError(d.inBase + int64(ip) - int64(bitsleft&63/8))
			break
		}

		// Copy the match. Word copies may write up to 15 bytes past its
		// end, which the output margin allows; those bytes are overwritten
		// later. Matches of up to 16 bytes (most of them) take two word
		// copies and one well-predicted branch.
		src := wpos - dist
		if wpos > outLimit+6 || src > wpos || length > 258 {
			// Cannot happen (at most three literal pairs since the loop
			// check, dist was checked above); stating it lets the
			// compiler drop the bounds checks of the first word copies.
			err = CorruptInputError(d.inBase + int64(ip) - int64(bitsleft&63/8))
			break
		}
		end := wpos + length
		if dist >= 8 {
			binary.LittleEndian.PutUint64(win[wpos:wpos+8], binary.LittleEndian.Uint64(win[src:src+8]))
			binary.LittleEndian.PutUint64(win[wpos+8:wpos+16], binary.LittleEndian.Uint64(win[src+8:src+16]))
			if length <= 16 {
				wpos = end
				continue
			}
			for wpos+16 < end {
				wpos += 16
				src += 16
				binary.LittleEndian.PutUint64(win[wpos:wpos+8], binary.LittleEndian.Uint64(win[src:src+8]))
				binary.LittleEndian.PutUint64(win[wpos+8:wpos+16], binary.LittleEndian.Uint64(win[src+8:src+16]))
			}
		} else if dist == 1 {
			v := uint64(win[src]) * 0x0101010101010101
			for wpos < end {
				binary.LittleEndian.PutUint64(win[wpos:wpos+8], v)
				wpos += 8
			}
		} else {
			for wpos < end {
				win[wpos] = win[src]
				wpos++
				src++
			}
		}
		wpos = end
	}
	d.ip = int(ip)
	d.wpos = int(wpos)
	d.bitbuf = bitbuf
	d.bitsleft = bitsleft & 63
	if invalid {
		return d.slowStep()
	}
	return err
}
