package inflate

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// The errors of compress/gzip, with the same messages.
var (
	ErrChecksum = errors.New("gzip: invalid checksum")
	ErrHeader   = errors.New("gzip: invalid header")
)

const (
	gzipFlagHdrCRC  = 1 << 1
	gzipFlagExtra   = 1 << 2
	gzipFlagName    = 1 << 3
	gzipFlagComment = 1 << 4

	// maxGzipString bounds FNAME and FCOMMENT (with their NUL), like
	// compress/gzip.
	maxGzipString = 512
)

// GzipReader decompresses a gzip stream: one or more members, each with
// its CRC-32 and size verified, like compress/gzip in its default
// multistream mode. Header fields are checked (and FHCRC verified) but not
// kept.
type GzipReader struct {
	d    Decompressor
	crc  uint32
	size uint32
	err  error
}

// NewGzipReader reads the first member's header from r. Like
// compress/gzip, an empty r gives io.EOF.
func NewGzipReader(r io.Reader) (*GzipReader, error) {
	z := &GzipReader{}
	if err := z.Reset(r); err != nil {
		return nil, err
	}
	return z, nil
}

// Reset starts reading a new gzip stream from r, reusing z's buffers, and
// reads the first member's header.
func (z *GzipReader) Reset(r io.Reader) error {
	z.d.Reset(r)
	z.crc, z.size = 0, 0
	z.err = z.readHeader()
	return z.err
}

// Close does not close the underlying reader. It returns the error that
// stopped reading, if any.
func (z *GzipReader) Close() error {
	if z.err == io.EOF {
		return nil
	}
	return z.err
}

// Read implements io.Reader. The last member's trailer is verified before
// io.EOF is returned.
func (z *GzipReader) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	for {
		n, err := z.d.Read(p)
		if n > 0 {
			z.crc = crc32.Update(z.crc, crc32.IEEETable, p[:n])
			z.size += uint32(n)
		}
		if err != io.EOF {
			z.err = err
			return n, err
		}
		// End of a member: verify its trailer.
		t, err := z.d.readBytes(8)
		if err != nil {
			z.err = noEOF(err)
			return n, z.err
		}
		if binary.LittleEndian.Uint32(t) != z.crc || binary.LittleEndian.Uint32(t[4:]) != z.size {
			z.err = ErrChecksum
			return n, z.err
		}
		z.crc, z.size = 0, 0
		if err := z.readHeader(); err != nil {
			z.err = err
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

// readHeader reads a member header (RFC 1952 2.3.1). At a clean end of
// input it returns io.EOF.
func (z *GzipReader) readHeader() error {
	d := &z.d
	h, err := d.readBytes(10)
	if err != nil {
		return err // io.EOF: no more members
	}
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return ErrHeader
	}
	flg := h[3]
	digest := crc32.ChecksumIEEE(h)
	if flg&gzipFlagExtra != 0 {
		b, err := d.readBytes(2)
		if err != nil {
			return noEOF(err)
		}
		digest = crc32.Update(digest, crc32.IEEETable, b)
		for n := int(binary.LittleEndian.Uint16(b)); n > 0; {
			b, err := d.readBytes(min(n, 4096))
			if err != nil {
				return noEOF(err)
			}
			digest = crc32.Update(digest, crc32.IEEETable, b)
			n -= len(b)
		}
	}
	for _, f := range []byte{gzipFlagName, gzipFlagComment} {
		if flg&f == 0 {
			continue
		}
		for i := 0; ; i++ {
			if i >= maxGzipString {
				return ErrHeader
			}
			b, err := d.readBytes(1)
			if err != nil {
				return noEOF(err)
			}
			digest = crc32.Update(digest, crc32.IEEETable, b)
			if b[0] == 0 {
				break
			}
		}
	}
	if flg&gzipFlagHdrCRC != 0 {
		b, err := d.readBytes(2)
		if err != nil {
			return noEOF(err)
		}
		if binary.LittleEndian.Uint16(b) != uint16(digest) {
			return ErrHeader
		}
	}
	d.resetStream()
	return nil
}

// readBytes returns the next n (≤ inBufSize/2) bytes of input, which stay
// valid until the next read. At the end of input it returns the error of
// the underlying reader (io.EOF); the bytes that were there are consumed.
// The bit buffer must be empty.
func (d *Decompressor) readBytes(n int) ([]byte, error) {
	for d.iend-d.ip < n {
		if d.rerr != nil {
			if d.iend > d.ip {
				d.ip = d.iend
				return nil, noEOF(d.rerr)
			}
			return nil, d.rerr
		}
		d.fill()
	}
	b := d.in[d.ip : d.ip+n]
	d.ip += n
	return b, nil
}
