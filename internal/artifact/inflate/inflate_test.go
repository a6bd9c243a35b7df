package inflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
)

// corpus returns named inputs exercising literals, long runs, short and
// long overlapping matches, incompressible data and text.
func corpus() map[string][]byte {
	rng := rand.New(rand.NewSource(1))
	m := map[string][]byte{
		"empty":  {},
		"byte":   {'x'},
		"zeros":  make([]byte, 300000),
		"two":    []byte("ab"),
		"258run": bytes.Repeat([]byte{'a'}, 259),
	}
	random := make([]byte, 200000)
	rng.Read(random)
	m["random"] = random
	var overlaps []byte
	for i := 0; len(overlaps) < 200000; i++ {
		pat := make([]byte, 1+i%9)
		rng.Read(pat)
		for j := 0; j < 3+rng.Intn(100); j++ {
			overlaps = append(overlaps, pat...)
		}
	}
	m["overlaps"] = overlaps
	// Text: Go sources of this module, with far (32 KiB) matches.
	var text []byte
	files, _ := filepath.Glob(filepath.Join("..", "..", "*", "*.go"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			text = append(text, b...)
		}
		if len(text) > 400000 {
			break
		}
	}
	if len(text) == 0 {
		text = bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog; "), 5000)
	}
	m["text"] = text
	// Mixed: text with random islands, and a few bytes repeated far apart.
	var mixed []byte
	for i := 0; i < 40; i++ {
		off := rng.Intn(len(text) - 5000)
		mixed = append(mixed, text[off:off+rng.Intn(5000)]...)
		mixed = append(mixed, random[:rng.Intn(300)]...)
	}
	m["mixed"] = mixed
	// Skewed byte distribution: long Huffman codes (subtables).
	skew := make([]byte, 100000)
	for i := range skew {
		b := byte(0)
		for b < 255 && rng.Intn(3) != 0 {
			b++
		}
		skew[i] = b
	}
	m["skewed"] = skew
	return m
}

var levels = []int{flate.HuffmanOnly, flate.DefaultCompression, flate.NoCompression, 1, 2, 3, 4, 5, 6, 7, 8, 9}

func deflate(t testing.TB, data []byte, level int) []byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func gzipped(t testing.TB, data []byte, level int) []byte {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// refInflate decodes with compress/flate, stopping after limit bytes.
func refInflate(in []byte, limit int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(in)), limit))
}

func ourInflate(r io.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(NewReader(r), limit))
}

func refGunzip(in []byte, limit int64) ([]byte, error) {
	z, err := gzip.NewReader(bytes.NewReader(in))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(z, limit))
}

func ourGunzip(r io.Reader, limit int64) ([]byte, error) {
	z, err := NewGzipReader(r)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(z, limit))
}

// sameAsRef fails unless both decoders produced the same bytes and agree
// on whether an error followed.
func sameAsRef(t *testing.T, what string, want []byte, werr error, got []byte, gerr error) {
	t.Helper()
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%s: error %v, compress/flate says %v", what, gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from compress/flate's %d (first difference at %d)", what, len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestRoundTrip(t *testing.T) {
	for name, data := range corpus() {
		for _, level := range levels {
			comp := deflate(t, data, level)
			got, err := ourInflate(bytes.NewReader(comp), 1<<30)
			if err != nil {
				t.Fatalf("%s level %d: %v", name, level, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s level %d: output differs at %d (len %d, want %d)", name, level, firstDiff(got, data), len(got), len(data))
			}
			gz := gzipped(t, data, level)
			got, err = ourGunzip(bytes.NewReader(gz), 1<<30)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("gzip %s level %d: err %v, equal %v", name, level, err, bytes.Equal(got, data))
			}
		}
	}
}

// readWith reads everything from r with reads of size n.
func readWith(r io.Reader, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, n)
	for {
		k, err := r.Read(buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestReadSizesAndSlowReaders(t *testing.T) {
	c := corpus()
	data := append(append(append([]byte{}, c["text"]...), c["random"][:50000]...), c["overlaps"]...)
	comp := deflate(t, data, 6)
	gz := gzipped(t, data, 1)
	for _, size := range []int{1, 3, 7, 100, 511, 4096, 32 << 10, 1 << 20} {
		got, err := readWith(NewReader(bytes.NewReader(comp)), size)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read size %d: err %v, equal %v", size, err, bytes.Equal(got, data))
		}
		z, err := NewGzipReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		got, err = readWith(z, size)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("gzip read size %d: err %v, equal %v", size, err, bytes.Equal(got, data))
		}
	}
	wrappers := map[string]func(io.Reader) io.Reader{
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
	}
	for name, wrap := range wrappers {
		got, err := ourInflate(wrap(bytes.NewReader(comp)), 1<<30)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: err %v, equal %v", name, err, bytes.Equal(got, data))
		}
		got, err = ourGunzip(wrap(bytes.NewReader(gz)), 1<<30)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("gzip %s: err %v, equal %v", name, err, bytes.Equal(got, data))
		}
	}
	// A reader error other than EOF is passed on.
	boom := errors.New("boom")
	_, err := ourInflate(io.MultiReader(bytes.NewReader(comp[:len(comp)/2]), iotest.ErrReader(boom)), 1<<30)
	if !errors.Is(err, boom) {
		t.Fatalf("reader error: got %v", err)
	}
}

// TestTruncated cuts streams at every byte: output and error-ness must be
// those of compress/flate (and a cut stream is always an error).
func TestTruncated(t *testing.T) {
	c := corpus()
	samples := [][]byte{
		deflate(t, c["text"][:3000], 6),
		deflate(t, c["overlaps"][:2000], 9),
		deflate(t, c["random"][:700], 6),           // stored
		deflate(t, c["text"][:2000], -2),           // Huffman only
		deflate(t, []byte("hello hello hello"), 1), // fixed
		deflate(t, c["skewed"][:3000], 6),
	}
	for si, comp := range samples {
		for cut := 0; cut < len(comp); cut++ {
			want, werr := refInflate(comp[:cut], 1<<30)
			got, gerr := ourInflate(bytes.NewReader(comp[:cut]), 1<<30)
			sameAsRef(t, fmt.Sprintf("sample %d cut at %d", si, cut), want, werr, got, gerr)
			if gerr == nil {
				t.Fatalf("sample %d cut at %d: no error", si, cut)
			}
			if cut > 0 && !errors.Is(gerr, io.ErrUnexpectedEOF) {
				var ce CorruptInputError
				if !errors.As(gerr, &ce) {
					t.Fatalf("sample %d cut at %d: error %v", si, cut, gerr)
				}
			}
			// One byte at a time: the exact (slow) paths only.
			got, gerr = ourInflate(iotest.OneByteReader(bytes.NewReader(comp[:cut])), 1<<30)
			sameAsRef(t, fmt.Sprintf("sample %d cut at %d, one byte reads", si, cut), want, werr, got, gerr)
		}
	}
	gz := gzipped(t, c["text"][:5000], 6)
	for cut := 0; cut < len(gz); cut++ {
		got, err := ourGunzip(bytes.NewReader(gz[:cut]), 1<<30)
		want, werr := refGunzip(gz[:cut], 1<<30)
		sameAsRef(t, fmt.Sprintf("gzip cut at %d", cut), want, werr, got, err)
		if cut == 0 && err != io.EOF {
			t.Fatalf("empty gzip: got %v, want io.EOF", err)
		}
		if cut > 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("gzip cut at %d: %v", cut, err)
		}
	}
}

// TestCorrupted changes bytes of valid streams: both decoders must agree.
func TestCorrupted(t *testing.T) {
	c := corpus()
	rng := rand.New(rand.NewSource(2))
	samples := [][]byte{
		deflate(t, c["text"][:20000], 6),
		deflate(t, c["mixed"][:20000], 1),
		deflate(t, c["overlaps"][:20000], 9),
		deflate(t, c["text"][:5000], -2),
		deflate(t, []byte("hello hello hello, hello world"), 1),
	}
	for si, comp := range samples {
		for trial := 0; trial < 400; trial++ {
			bad := append([]byte{}, comp...)
			for k := 0; k <= trial%3; k++ {
				i := rng.Intn(len(bad))
				if trial%2 == 0 {
					bad[i] ^= 1 << rng.Intn(8)
				} else {
					bad[i] = byte(rng.Intn(256))
				}
			}
			want, werr := refInflate(bad, 1<<22)
			got, gerr := ourInflate(bytes.NewReader(bad), 1<<22)
			sameAsRef(t, fmt.Sprintf("sample %d trial %d", si, trial), want, werr, got, gerr)
		}
	}
	gz := gzipped(t, c["text"][:20000], 6)
	for trial := 0; trial < 300; trial++ {
		bad := append([]byte{}, gz...)
		bad[rng.Intn(len(bad))] ^= 1 << rng.Intn(8)
		want, werr := refGunzip(bad, 1<<22)
		got, gerr := ourGunzip(bytes.NewReader(bad), 1<<22)
		sameAsRef(t, fmt.Sprintf("gzip trial %d", trial), want, werr, got, gerr)
	}
}

// bitWriter builds hand-made DEFLATE streams, LSB first.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) *bitWriter {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
	return w
}

// code writes a Huffman codeword (MSB first).
func (w *bitWriter) code(c uint64, n uint) *bitWriter {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(c>>uint(i)&1, 1)
	}
	return w
}

func (w *bitWriter) bytes() []byte {
	if w.nacc > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}

// fixedLit writes a literal or length symbol with the fixed code.
func (w *bitWriter) fixedSym(s int) *bitWriter {
	switch {
	case s < 144:
		return w.code(uint64(0x30+s), 8)
	case s < 256:
		return w.code(uint64(0x190+s-144), 9)
	case s < 280:
		return w.code(uint64(s-256), 7)
	default:
		return w.code(uint64(0xc0+s-280), 8)
	}
}

// dynamicHeader writes a dynamic block header with the given litlen and
// distance code lengths, sending the lengths with a flat 5-bit precode.
func (w *bitWriter) dynamic(final uint64, lit, dist []uint8) *bitWriter {
	w.bits(final, 1).bits(2, 2)
	w.bits(uint64(len(lit)-257), 5).bits(uint64(len(dist)-1), 5).bits(19-4, 4)
	// Precode: symbols 0-15 length 4 plus 16, 17, 18 ... use lengths 5 for
	// all 19 symbols? 19 codes of length 5 is incomplete; use 16 codes of
	// length 4 (symbols 0-15), complete.
	for i := 0; i < 19; i++ {
		l := uint64(0)
		if precodeOrder[i] < 16 {
			l = 4
		}
		w.bits(l, 3)
	}
	for _, l := range append(append([]uint8{}, lit...), dist...) {
		w.code(uint64(l), 4)
	}
	return w
}

func lengths(n int, set map[int]uint8) []uint8 {
	l := make([]uint8, n)
	for k, v := range set {
		l[k] = v
	}
	return l
}

func TestHandMadeStreams(t *testing.T) {
	// Litlen code: 'a' (97) and EOB (256) and length 257 (3 bytes) with
	// lengths 1, 2, 2: a=0, 256=10, 257=11.
	lit := lengths(258, map[int]uint8{97: 1, 256: 2, 257: 2})
	oneDist := lengths(1, map[int]uint8{0: 1}) // degenerate single code
	cases := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"stored", []byte{1, 3, 0, 0xfc, 0xff, 'a', 'b', 'c'}, "abc", false},
		{"stored empty final", []byte{1, 0, 0, 0xff, 0xff}, "", false},
		{"stored nlen mismatch", []byte{1, 3, 0, 0xfc, 0xfe, 'a', 'b', 'c'}, "", true},
		{"reserved block type", new(bitWriter).bits(1, 1).bits(3, 2).bytes(), "", true},
		{"fixed literal", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym('x').fixedSym(256).bytes(), "x", false},
		{"fixed symbol 286", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym('x').fixedSym(286).bytes(), "x", true},
		{"fixed symbol 287", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym('x').fixedSym(287).bytes(), "x", true},
		{"fixed distance 30", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym('x').fixedSym(257).code(30, 5).fixedSym(256).bytes(), "x", true},
		{"fixed distance 31", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym('x').fixedSym(257).code(31, 5).fixedSym(256).bytes(), "x", true},
		{"fixed match", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym('x').fixedSym(257).code(0, 5).fixedSym(256).bytes(), "xxxx", false},
		{"distance too far", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym('x').fixedSym(257).code(1, 5).fixedSym(256).bytes(), "x", true},
		{"match first", new(bitWriter).bits(1, 1).bits(1, 2).fixedSym(257).code(0, 5).fixedSym(256).bytes(), "", true},
		{"no final block", new(bitWriter).bits(0, 1).bits(1, 2).fixedSym('x').fixedSym(256).bytes(), "x", true},
		{"dynamic single distance code", new(bitWriter).dynamic(1, lit, oneDist).code(0, 1).code(3, 2).code(0, 1).code(2, 2).bytes(), "aaaa", false},
		{"dynamic single distance code, unused codeword", new(bitWriter).dynamic(1, lit, oneDist).code(0, 1).code(3, 2).code(1, 1).code(2, 2).bytes(), "a", true},
		{"dynamic empty distance code, literals", new(bitWriter).dynamic(1, lit, lengths(1, nil)).code(0, 1).code(0, 1).code(2, 2).bytes(), "aa", false},
		{"dynamic empty distance code, match", new(bitWriter).dynamic(1, lit, lengths(1, nil)).code(0, 1).code(3, 2).code(0, 1).code(2, 2).bytes(), "a", true},
		{"dynamic oversubscribed litlen", new(bitWriter).dynamic(1, lengths(258, map[int]uint8{97: 1, 256: 1, 257: 1}), oneDist).bytes(), "", true},
		{"dynamic incomplete litlen", new(bitWriter).dynamic(1, lengths(258, map[int]uint8{97: 1, 256: 2}), oneDist).bytes(), "", true},
		{"dynamic incomplete distance", new(bitWriter).dynamic(1, lit, lengths(3, map[int]uint8{0: 1, 1: 2})).bytes(), "", true},
		{"dynamic degenerate litlen", new(bitWriter).dynamic(1, lengths(257, map[int]uint8{256: 1}), oneDist).code(0, 1).bytes(), "", false},
		{"dynamic hlit 287", new(bitWriter).bits(1, 1).bits(2, 2).bits(30, 5).bits(0, 5).bits(15, 4).bytes(), "", true},
		{"dynamic hdist 31", new(bitWriter).bits(1, 1).bits(2, 2).bits(0, 5).bits(30, 5).bits(15, 4).bytes(), "", true},
		{"repeat with no previous length", new(bitWriter).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4).
			bits(1, 3).bits(0, 3).bits(0, 3).bits(1, 3). // precode: 16 and 0 with length 1 ... 16→0, 0→1
			code(1, 1).bits(0, 2).bytes(), "", true},
		{"empty input", nil, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ourInflate(bytes.NewReader(tc.in), 1<<20)
			if string(got) != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("got %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
			want, werr := refInflate(tc.in, 1<<20)
			sameAsRef(t, tc.name, want, werr, got, err)
		})
	}
}

func gzipMember(t testing.TB, data []byte, hdr gzip.Header) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Header = hdr
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func TestGzip(t *testing.T) {
	text := corpus()["text"][:30000]
	plain := gzipMember(t, text, gzip.Header{})
	named := gzipMember(t, text, gzip.Header{Name: "a.tar", Comment: "c", Extra: []byte("xyz")})
	// FHCRC: set the flag by hand and insert the CRC-16 of the header.
	hcrc := func(b []byte, good bool) []byte {
		h := append([]byte{}, b[:10]...)
		h[3] |= gzipFlagHdrCRC
		c := crc32.ChecksumIEEE(h)
		if !good {
			c++
		}
		return append(append(h, byte(c), byte(c>>8)), b[10:]...)
	}
	badCRC := append([]byte{}, plain...)
	badCRC[len(badCRC)-8] ^= 1
	badSize := append([]byte{}, plain...)
	badSize[len(badSize)-1] ^= 1
	longName := gzipMember(t, text, gzip.Header{Name: string(bytes.Repeat([]byte{'n'}, 511))})
	tooLong := append(append([]byte{}, longName[:10]...), bytes.Repeat([]byte{'n'}, 600)...)
	// A second member whose first symbol is a match into the first
	// member's output: members do not share history.
	reach := append(append([]byte{}, plain[:10]...), new(bitWriter).bits(1, 1).bits(1, 2).fixedSym(257).code(0, 5).fixedSym(256).bytes()...)
	reach = append(append(append([]byte{}, plain...), reach...), 0, 0, 0, 0, 0, 0, 0, 0)
	cases := []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"plain", plain, text, nil},
		{"member refers to the previous one", reach, text, CorruptInputError(0)},
		{"name comment extra", named, text, nil},
		{"header crc", hcrc(plain, true), text, nil},
		{"bad header crc", hcrc(plain, false), nil, ErrHeader},
		{"two members", append(append([]byte{}, plain...), named...), append(append([]byte{}, text...), text...), nil},
		{"empty member", append(gzipMember(t, nil, gzip.Header{}), plain...), text, nil},
		{"bad checksum", badCRC, text, ErrChecksum},
		{"bad size", badSize, text, ErrChecksum},
		{"trailing garbage", append(append([]byte{}, plain...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), text, ErrHeader},
		{"trailing partial header", append(append([]byte{}, plain...), 0x1f, 0x8b), text, io.ErrUnexpectedEOF},
		{"not gzip", []byte("hello, world"), nil, ErrHeader},
		{"method 9", append([]byte{0x1f, 0x8b, 9}, plain[3:]...), nil, ErrHeader},
		{"name 511", longName, text, nil},
		{"name too long", tooLong, nil, ErrHeader},
		{"empty", nil, nil, io.EOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ourGunzip(bytes.NewReader(tc.in), 1<<30)
			var ce CorruptInputError
			if _, corrupt := tc.err.(CorruptInputError); corrupt && errors.As(err, &ce) {
				err = tc.err // any offset
			}
			if !errors.Is(err, tc.err) || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, %v; want %d bytes, %v", len(got), err, len(tc.want), tc.err)
			}
			want, werr := refGunzip(tc.in, 1<<30)
			if (werr == nil) != (tc.err == nil) || (werr != nil && werr.Error() != tc.err.Error() && !strings.HasPrefix(werr.Error(), "flate: corrupt input")) {
				t.Fatalf("compress/gzip disagrees with the test: %v", werr)
			}
			sameAsRef(t, tc.name, want, werr, got, err)
		})
	}
}

func TestGzipReset(t *testing.T) {
	c := corpus()
	a, b := gzipped(t, c["text"], 6), gzipped(t, c["mixed"], 1)
	z, err := NewGzipReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	// Abandon the first stream half way, then reuse the reader.
	if _, err := io.ReadFull(z, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	for i, in := range [][]byte{b, a, b} {
		if err := z.Reset(bytes.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(z)
		want := c["mixed"]
		if i == 1 {
			want = c["text"]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("after reset %d: err %v, equal %v", i, err, bytes.Equal(got, want))
		}
		if z.Close() != nil {
			t.Fatal("close after a clean end")
		}
	}
}

// TestBenchBlobs decodes two real layer blobs (when present) and compares
// with compress/gzip.
func TestBenchBlobs(t *testing.T) {
	blobs := benchBlobs(t)
	if len(blobs) > 2 {
		blobs = blobs[:2]
	}
	for _, f := range blobs {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := refGunzip(in, 1<<40)
		got, gerr := ourGunzip(bytes.NewReader(in), 1<<40)
		sameAsRef(t, filepath.Base(f), want, werr, got, gerr)
	}
}

func benchBlobs(t testing.TB) []string {
	dir := os.Getenv("WARD_BENCH_DIR")
	if dir == "" {
		dir = "/tmp/ward-bench"
	}
	m, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	var out []string
	for _, f := range m {
		st, err := os.Stat(f)
		if err != nil || st.Size() < 1<<20 {
			continue
		}
		b := make([]byte, 2)
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		io.ReadFull(fh, b)
		fh.Close()
		if b[0] == 0x1f && b[1] == 0x8b {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Skipf("no gzip layer blobs under %s (set WARD_BENCH_DIR to an image made by the inventory benchmark)", dir)
	}
	sort.Strings(out)
	return out
}
