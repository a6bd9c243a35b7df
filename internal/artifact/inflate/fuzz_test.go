package inflate

import (
	"bytes"
	"compress/gzip"
	"testing"
	"testing/iotest"
)

// fuzzLimit caps the output compared, bounding memory on bombs.
const fuzzLimit = 4 << 20

func fuzzSeeds(f *testing.F, wrap func([]byte) []byte) {
	c := corpus()
	for _, k := range []string{"text", "overlaps", "skewed", "mixed"} {
		for _, level := range []int{-2, 0, 1, 6, 9} {
			f.Add(wrap(deflateFuzz(c[k][:2000], level)))
		}
	}
	f.Add(wrap(deflateFuzz(nil, 6)))
	f.Add(wrap(deflateFuzz([]byte("hello hello hello"), 1)))
	f.Add(wrap(new(bitWriter).dynamic(1, lengths(258, map[int]uint8{97: 1, 256: 2, 257: 2}), lengths(1, map[int]uint8{0: 1})).code(0, 1).code(3, 2).code(0, 1).code(2, 2).bytes()))
}

func deflateFuzz(data []byte, level int) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, level)
	w.Write(data)
	w.Close()
	b := buf.Bytes()
	return b[10 : len(b)-8] // the raw DEFLATE stream inside
}

// FuzzInflate checks that any input gives the same output, and the same
// error-ness, as compress/flate, reading in one go and one byte at a time.
func FuzzInflate(f *testing.F) {
	fuzzSeeds(f, func(b []byte) []byte { return b })
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := refInflate(in, fuzzLimit)
		got, gerr := ourInflate(bytes.NewReader(in), fuzzLimit)
		sameAsRef(t, "inflate", want, werr, got, gerr)
		got, gerr = ourInflate(iotest.OneByteReader(bytes.NewReader(in)), fuzzLimit)
		sameAsRef(t, "inflate, one byte reads", want, werr, got, gerr)
	})
}

// FuzzGzip does the same against compress/gzip.
func FuzzGzip(f *testing.F) {
	fuzzSeeds(f, func(b []byte) []byte { return b }) // raw streams: header errors
	c := corpus()
	for _, level := range []int{-2, 0, 1, 9} {
		f.Add(gzipped(f, c["text"][:3000], level))
	}
	f.Add(append(gzipped(f, []byte("one"), 6), gzipped(f, []byte("two"), 6)...))
	f.Add(gzipMember(f, []byte("x"), gzip.Header{Name: "n", Comment: "c", Extra: []byte{1, 2}}))
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := refGunzip(in, fuzzLimit)
		got, gerr := ourGunzip(bytes.NewReader(in), fuzzLimit)
		sameAsRef(t, "gzip", want, werr, got, gerr)
	})
}
