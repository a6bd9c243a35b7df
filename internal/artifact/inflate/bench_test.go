package inflate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// The benchmarks report MB/s of compressed input.

type gunzipper struct {
	name string
	run  func(r io.Reader, buf []byte) error
}

func gunzippers() []gunzipper {
	ours := &GzipReader{}
	return []gunzipper{
		{"ward", func(r io.Reader, buf []byte) error {
			if err := ours.Reset(r); err != nil {
				return err
			}
			_, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{ours}, buf)
			return err
		}},
		{"klauspost", func(r io.Reader, buf []byte) error {
			z, err := kgzip.NewReader(r)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{z}, buf)
			return err
		}},
		{"std", func(r io.Reader, buf []byte) error {
			z, err := gzip.NewReader(bufio.NewReaderSize(r, 64<<10))
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{z}, buf)
			return err
		}},
	}
}

func benchGunzip(b *testing.B, inputs [][]byte) {
	var n int64
	for _, in := range inputs {
		n += int64(len(in))
	}
	buf := make([]byte, 32<<10)
	for _, g := range gunzippers() {
		b.Run(g.name, func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, in := range inputs {
					if err := g.run(bytes.NewReader(in), buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkInflate decodes four real layer blobs (WARD_BENCH_DIR, default
// /tmp/ward-bench, as made by the inventory benchmark; skipped when absent).
func BenchmarkInflate(b *testing.B) {
	blobs := benchBlobs(b)
	if len(blobs) > 4 {
		blobs = blobs[:4]
	}
	var inputs [][]byte
	for _, f := range blobs {
		in, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	benchGunzip(b, inputs)
}

// BenchmarkInflateCorpus decodes the generated test corpus at level 6.
func BenchmarkInflateCorpus(b *testing.B) {
	c := corpus()
	var all []byte
	for _, k := range []string{"text", "mixed", "overlaps", "skewed", "random", "zeros"} {
		all = append(all, c[k]...)
	}
	benchGunzip(b, [][]byte{gzipped(b, all, 6)})
}
