package event

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Record format constants. See docs/runtime.md.
const (
	// Magic opens every event file.
	Magic = "WARDEVTS"
	// Version is the format version written by NewWriter. Readers accept
	// versions 1..Version.
	Version = 1
	// HeaderSize is the fixed size of a record header.
	HeaderSize = 32
	// MaxRecordSize bounds one record (header + parameters).
	MaxRecordSize = 1 << 20
	// MaxParamSize bounds one parameter value.
	MaxParamSize    = math.MaxUint16
	fileHeaderFixed = 26
)

// Parameter IDs. Part of the format: never renumber, only append.
const (
	ParamFD          = 1
	ParamPath        = 2
	ParamPath2       = 3
	ParamFlags       = 4
	ParamMode        = 5
	ParamArg         = 6
	ParamArg2        = 7
	ParamArg3        = 8
	ParamAddr        = 9
	ParamData        = 10
	ParamComm        = 16
	ParamArgs        = 17
	ParamEnv         = 18
	ParamCwd         = 19
	ParamCreds       = 20
	ParamCaps        = 21
	ParamTTY         = 22
	ParamIDs         = 23
	ParamExe         = 24
	ParamContainerID = 25
	ParamContainer   = 32
)

// Container sub-parameter IDs (inside ParamContainer).
const (
	cID = iota + 1
	cName
	cType
	cImage
	cImageID
	cImageRepo
	cImageTag
	cImageDigest
	cFlags
	cStartTS
	cMount
	cLabel
	cIP
	cPodName
	cPodUID
	cPodNamespace
	cPodLabel
)

const addrSize = 40

// FileHeader is the header of an event file.
type FileHeader struct {
	Version  uint16
	Flags    uint32
	Start    int64 // unix nanoseconds when recording started
	Hostname string
}

// Writer writes events in the record format.
type Writer struct {
	w   *bufio.Writer
	buf []byte
	hdr FileHeader
	n   uint64
	err error
}

// NewWriter returns a Writer that writes the file header (with the given
// hostname and start time) before the first event.
func NewWriter(w io.Writer, hostname string, start int64) *Writer {
	if len(hostname) > 255 {
		hostname = hostname[:255]
	}
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), hdr: FileHeader{Version: Version, Start: start, Hostname: hostname}}
}

func (w *Writer) writeHeader() error {
	b := make([]byte, fileHeaderFixed, fileHeaderFixed+len(w.hdr.Hostname))
	copy(b, Magic)
	binary.LittleEndian.PutUint16(b[8:], Version)
	binary.LittleEndian.PutUint16(b[10:], uint16(fileHeaderFixed+len(w.hdr.Hostname)))
	binary.LittleEndian.PutUint32(b[12:], w.hdr.Flags)
	binary.LittleEndian.PutUint64(b[16:], uint64(w.hdr.Start))
	binary.LittleEndian.PutUint16(b[24:], uint16(len(w.hdr.Hostname)))
	b = append(b, w.hdr.Hostname...)
	_, err := w.w.Write(b)
	return err
}

// Write appends one event. Values longer than MaxParamSize are truncated.
func (w *Writer) Write(ev *Event) error {
	if w.err != nil {
		return w.err
	}
	if w.n == 0 {
		if err := w.writeHeader(); err != nil {
			w.err = err
			return err
		}
	}
	b := AppendRecord(w.buf[:0], ev)
	w.buf = b
	if len(b) > MaxRecordSize {
		return fmt.Errorf("event %d (%s): record of %d bytes exceeds %d", ev.Num, ev.Type, len(b), MaxRecordSize)
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = err
		return err
	}
	w.n++
	return nil
}

// Flush writes buffered data (and the file header if nothing was written).
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.n == 0 {
		if err := w.writeHeader(); err != nil {
			return err
		}
		w.n = math.MaxUint64 // header written, no events; never rewrite it
	}
	return w.w.Flush()
}

// AppendRecord appends the encoding of ev (header and parameters) to b.
func AppendRecord(b []byte, ev *Event) []byte {
	start := len(b)
	b = append(b, make([]byte, HeaderSize)...)
	h := b[start:]
	binary.LittleEndian.PutUint16(h[4:], uint16(ev.Type))
	binary.LittleEndian.PutUint64(h[8:], uint64(ev.TS))
	binary.LittleEndian.PutUint32(h[16:], uint32(ev.PID))
	binary.LittleEndian.PutUint32(h[20:], uint32(ev.TID))
	binary.LittleEndian.PutUint64(h[24:], uint64(ev.Res))
	n := 0
	num := func(id uint16, v int64, size int) {
		b = putParamHdr(b, id, size)
		switch size {
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		case 8:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		n++
	}
	str := func(id uint16, s string) {
		if s == "" {
			return
		}
		if len(s) > MaxParamSize {
			s = s[:MaxParamSize]
		}
		b = putParamHdr(b, id, len(s))
		b = append(b, s...)
		n++
	}
	if ev.FD != 0 {
		num(ParamFD, ev.FD, 8)
	}
	str(ParamPath, ev.Path)
	str(ParamPath2, ev.Path2)
	if ev.Flags != 0 {
		num(ParamFlags, int64(ev.Flags), 4)
	}
	if ev.Mode != 0 {
		num(ParamMode, int64(ev.Mode), 4)
	}
	if ev.Arg != 0 {
		num(ParamArg, ev.Arg, 8)
	}
	if ev.Arg2 != 0 {
		num(ParamArg2, ev.Arg2, 8)
	}
	if ev.Arg3 != 0 {
		num(ParamArg3, ev.Arg3, 8)
	}
	if ev.Addr != (Addr{}) {
		b = putParamHdr(b, ParamAddr, addrSize)
		b = binary.LittleEndian.AppendUint16(b, ev.Addr.Family)
		b = append(b, ev.Addr.L4, 0)
		b = append(b, ev.Addr.SrcIP[:]...)
		b = binary.LittleEndian.AppendUint16(b, ev.Addr.SrcPort)
		b = append(b, ev.Addr.DstIP[:]...)
		b = binary.LittleEndian.AppendUint16(b, ev.Addr.DstPort)
		n++
	}
	if len(ev.Data) > 0 {
		str(ParamData, string(ev.Data))
	}
	str(ParamComm, ev.Comm)
	if len(ev.Args) > 0 {
		b, n = appendList(b, n, ParamArgs, ev.Args)
	}
	if len(ev.Env) > 0 {
		b, n = appendList(b, n, ParamEnv, ev.Env)
	}
	str(ParamCwd, ev.Cwd)
	if ev.Type.IsExec() || ev.UID != 0 || ev.GID != 0 || ev.EUID != 0 || ev.EGID != 0 || (ev.LoginUID != 0 && ev.LoginUID != -1) {
		b = putParamHdr(b, ParamCreds, 24)
		b = binary.LittleEndian.AppendUint32(b, ev.UID)
		b = binary.LittleEndian.AppendUint32(b, ev.GID)
		b = binary.LittleEndian.AppendUint32(b, ev.EUID)
		b = binary.LittleEndian.AppendUint32(b, ev.EGID)
		b = binary.LittleEndian.AppendUint64(b, uint64(ev.LoginUID))
		n++
	}
	if ev.CapEff != 0 || ev.CapPrm != 0 || ev.CapInh != 0 {
		b = putParamHdr(b, ParamCaps, 24)
		b = binary.LittleEndian.AppendUint64(b, ev.CapEff)
		b = binary.LittleEndian.AppendUint64(b, ev.CapPrm)
		b = binary.LittleEndian.AppendUint64(b, ev.CapInh)
		n++
	}
	if ev.TTY != 0 {
		num(ParamTTY, int64(ev.TTY), 4)
	}
	if ev.PPID != 0 || ev.PGID != 0 || ev.SID != 0 || ev.VPID != 0 || ev.VTID != 0 || ev.VPGID != 0 {
		b = putParamHdr(b, ParamIDs, 24)
		for _, v := range [...]int32{ev.PPID, ev.PGID, ev.SID, ev.VPID, ev.VTID, ev.VPGID} {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
		n++
	}
	if ev.ExeFlags != 0 || ev.ExeIno != 0 || ev.ExeCtime != 0 || ev.ExeMtime != 0 {
		b = putParamHdr(b, ParamExe, 32)
		b = binary.LittleEndian.AppendUint32(b, ev.ExeFlags)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint64(b, ev.ExeIno)
		b = binary.LittleEndian.AppendUint64(b, uint64(ev.ExeCtime))
		b = binary.LittleEndian.AppendUint64(b, uint64(ev.ExeMtime))
		n++
	}
	str(ParamContainerID, ev.ContainerID)
	if ev.Container != nil {
		sub := appendContainer(nil, ev.Container)
		if len(sub) <= MaxParamSize {
			b = putParamHdr(b, ParamContainer, len(sub))
			b = append(b, sub...)
			n++
		}
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start))
	binary.LittleEndian.PutUint16(b[start+6:], uint16(n))
	return b
}

func putParamHdr(b []byte, id uint16, size int) []byte {
	b = binary.LittleEndian.AppendUint16(b, id)
	return binary.LittleEndian.AppendUint16(b, uint16(size))
}

// appendList writes NUL-terminated strings, the layout of /proc/PID/cmdline,
// truncated at MaxParamSize.
func appendList(b []byte, n int, id uint16, list []string) ([]byte, int) {
	size := 0
	for _, s := range list {
		if size+len(s)+1 > MaxParamSize {
			break
		}
		size += len(s) + 1
	}
	b = putParamHdr(b, id, size)
	left := size
	for _, s := range list {
		if len(s)+1 > left {
			break
		}
		b = append(b, s...)
		b = append(b, 0)
		left -= len(s) + 1
	}
	return b, n + 1
}

func appendContainer(b []byte, c *Container) []byte {
	s := func(id uint16, v string) {
		if v != "" && len(v) <= MaxParamSize {
			b = putParamHdr(b, id, len(v))
			b = append(b, v...)
		}
	}
	s(cID, c.ID)
	s(cName, c.Name)
	s(cType, c.Type)
	s(cImage, c.Image)
	s(cImageID, c.ImageID)
	s(cImageRepo, c.ImageRepo)
	s(cImageTag, c.ImageTag)
	s(cImageDigest, c.ImageDigest)
	var fl uint32
	if c.Privileged {
		fl |= 1
	}
	if c.HostPID {
		fl |= 2
	}
	if c.HostNetwork {
		fl |= 4
	}
	b = putParamHdr(b, cFlags, 4)
	b = binary.LittleEndian.AppendUint32(b, fl)
	b = putParamHdr(b, cStartTS, 8)
	b = binary.LittleEndian.AppendUint64(b, uint64(c.StartTS))
	for _, m := range c.Mounts {
		rw := "0"
		if m.RW {
			rw = "1"
		}
		s(cMount, m.Source+"\x00"+m.Dest+"\x00"+m.Mode+"\x00"+rw+"\x00"+m.Propagation)
	}
	for _, kv := range c.Labels {
		s(cLabel, kv.Key+"\x00"+kv.Value)
	}
	s(cIP, c.IP)
	s(cPodName, c.PodName)
	s(cPodUID, c.PodUID)
	s(cPodNamespace, c.PodNamespace)
	for _, kv := range c.PodLabels {
		s(cPodLabel, kv.Key+"\x00"+kv.Value)
	}
	return b
}

// ErrFormat is wrapped by every decoding error.
var ErrFormat = errors.New("malformed event file")

// FormatError locates a decoding error.
type FormatError struct {
	Offset int64  // byte offset of the record (or header)
	Record uint64 // 1-based record number, 0 for the file header
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Record == 0 {
		return fmt.Sprintf("event file header at offset %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("event record %d at offset %d: %s", e.Record, e.Offset, e.Msg)
}

func (e *FormatError) Unwrap() error { return ErrFormat }

// Reader decodes an event file.
type Reader struct {
	r       *bufio.Reader
	hdr     FileHeader
	off     int64
	n       uint64
	buf     []byte
	intern  *Interner
	hdrErr  error
	readHdr bool
	h       [HeaderSize]byte
}

// NewReader returns a Reader; the file header is read on the first call
// to Header or Read.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), intern: NewInterner(1 << 16)}
}

// Header returns the file header.
func (r *Reader) Header() (FileHeader, error) {
	if !r.readHdr {
		r.readHdr = true
		r.hdrErr = r.readHeader()
	}
	return r.hdr, r.hdrErr
}

func (r *Reader) readHeader() error {
	var fixed [fileHeaderFixed]byte
	if _, err := io.ReadFull(r.r, fixed[:]); err != nil {
		return &FormatError{Msg: "truncated file header: " + err.Error()}
	}
	if string(fixed[:8]) != Magic {
		return &FormatError{Msg: fmt.Sprintf("bad magic %q (want %q): not a Ward event file", fixed[:8], Magic)}
	}
	v := binary.LittleEndian.Uint16(fixed[8:])
	if v == 0 || v > Version {
		return &FormatError{Msg: fmt.Sprintf("unsupported version %d (this reader supports 1..%d)", v, Version)}
	}
	hsize := int(binary.LittleEndian.Uint16(fixed[10:]))
	hlen := int(binary.LittleEndian.Uint16(fixed[24:]))
	if hsize < fileHeaderFixed+hlen {
		return &FormatError{Msg: fmt.Sprintf("header size %d too small for hostname of %d bytes", hsize, hlen)}
	}
	rest := make([]byte, hsize-fileHeaderFixed)
	if _, err := io.ReadFull(r.r, rest); err != nil {
		return &FormatError{Msg: "truncated file header: " + err.Error()}
	}
	r.hdr = FileHeader{Version: v, Flags: binary.LittleEndian.Uint32(fixed[12:]),
		Start: int64(binary.LittleEndian.Uint64(fixed[16:])), Hostname: string(rest[:hlen])}
	r.off = int64(hsize)
	return nil
}

// Read decodes the next event into ev (which is reset first). It returns
// io.EOF at a clean end of file. Strings in ev may be shared with earlier
// events (interned); slices in ev are reused by the next Read.
func (r *Reader) Read(ev *Event) error {
	if _, err := r.Header(); err != nil {
		return err
	}
	h := r.h[:]
	n, err := io.ReadFull(r.r, h)
	if err == io.EOF {
		return io.EOF
	}
	r.n++
	if err != nil {
		return &FormatError{Offset: r.off, Record: r.n, Msg: fmt.Sprintf("truncated record header (%d of %d bytes)", n, HeaderSize)}
	}
	size := int(binary.LittleEndian.Uint32(h[0:]))
	if size < HeaderSize || size > MaxRecordSize {
		return &FormatError{Offset: r.off, Record: r.n, Msg: fmt.Sprintf("record length %d outside [%d, %d]", size, HeaderSize, MaxRecordSize)}
	}
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	copy(r.buf, h)
	if _, err := io.ReadFull(r.r, r.buf[HeaderSize:]); err != nil {
		return &FormatError{Offset: r.off, Record: r.n, Msg: "truncated record body"}
	}
	if err := decodeRecord(r.buf, ev, r.intern); err != nil {
		return &FormatError{Offset: r.off, Record: r.n, Msg: err.Error()}
	}
	r.off += int64(size)
	ev.Num = r.n
	return nil
}

// DecodeRecord decodes one complete record (as produced by AppendRecord or
// read from a BPF ring buffer) into ev. intern may be nil.
func DecodeRecord(b []byte, ev *Event, intern *Interner) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: record of %d bytes is shorter than the %d-byte header", ErrFormat, len(b), HeaderSize)
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size != len(b) {
		return fmt.Errorf("%w: record length field %d does not match %d bytes", ErrFormat, size, len(b))
	}
	if err := decodeRecord(b, ev, intern); err != nil {
		return fmt.Errorf("%w: %s", ErrFormat, err.Error())
	}
	return nil
}

type decodeError string

func (e decodeError) Error() string { return string(e) }

func decodeRecord(b []byte, ev *Event, in *Interner) error {
	ev.Reset()
	ev.Type = Type(binary.LittleEndian.Uint16(b[4:]))
	np := int(binary.LittleEndian.Uint16(b[6:]))
	ev.TS = int64(binary.LittleEndian.Uint64(b[8:]))
	ev.PID = int32(binary.LittleEndian.Uint32(b[16:]))
	ev.TID = int32(binary.LittleEndian.Uint32(b[20:]))
	ev.Res = int64(binary.LittleEndian.Uint64(b[24:]))
	p := b[HeaderSize:]
	for i := 0; i < np; i++ {
		if len(p) < 4 {
			return decodeError("truncated parameter header")
		}
		id := binary.LittleEndian.Uint16(p)
		sz := int(binary.LittleEndian.Uint16(p[2:]))
		p = p[4:]
		if sz > len(p) {
			return decodeError(fmt.Sprintf("parameter %d: length %d exceeds the %d bytes left", id, sz, len(p)))
		}
		v := p[:sz]
		p = p[sz:]
		if err := decodeParam(ev, id, v, in); err != nil {
			return decodeError(fmt.Sprintf("parameter %d: %s", id, err))
		}
	}
	if len(p) != 0 {
		return decodeError(fmt.Sprintf("%d trailing bytes after %d parameters", len(p), np))
	}
	return nil
}

func wantLen(v []byte, n int) error {
	if len(v) != n {
		return decodeError(fmt.Sprintf("length %d, want %d", len(v), n))
	}
	return nil
}

func decodeParam(ev *Event, id uint16, v []byte, in *Interner) error {
	le := binary.LittleEndian
	switch id {
	case ParamFD, ParamArg, ParamArg2, ParamArg3:
		if err := wantLen(v, 8); err != nil {
			return err
		}
		x := int64(le.Uint64(v))
		switch id {
		case ParamFD:
			ev.FD = x
		case ParamArg:
			ev.Arg = x
		case ParamArg2:
			ev.Arg2 = x
		default:
			ev.Arg3 = x
		}
	case ParamFlags, ParamMode, ParamTTY:
		if err := wantLen(v, 4); err != nil {
			return err
		}
		x := le.Uint32(v)
		switch id {
		case ParamFlags:
			ev.Flags = x
		case ParamMode:
			ev.Mode = x
		default:
			ev.TTY = x
		}
	case ParamPath:
		ev.Path = in.Bytes(v)
	case ParamPath2:
		ev.Path2 = in.Bytes(v)
	case ParamAddr:
		if err := wantLen(v, addrSize); err != nil {
			return err
		}
		ev.Addr.Family = le.Uint16(v)
		ev.Addr.L4 = v[2]
		copy(ev.Addr.SrcIP[:], v[4:20])
		ev.Addr.SrcPort = le.Uint16(v[20:])
		copy(ev.Addr.DstIP[:], v[22:38])
		ev.Addr.DstPort = le.Uint16(v[38:])
	case ParamData:
		ev.Data = append(ev.Data[:0], v...)
	case ParamComm:
		ev.Comm = in.Bytes(v)
	case ParamArgs:
		ev.Args = splitList(ev.Args[:0], v, in)
	case ParamEnv:
		ev.Env = splitList(ev.Env[:0], v, in)
	case ParamCwd:
		ev.Cwd = in.Bytes(v)
	case ParamCreds:
		if err := wantLen(v, 24); err != nil {
			return err
		}
		ev.UID, ev.GID, ev.EUID, ev.EGID = le.Uint32(v), le.Uint32(v[4:]), le.Uint32(v[8:]), le.Uint32(v[12:])
		ev.LoginUID = int64(le.Uint64(v[16:]))
	case ParamCaps:
		if err := wantLen(v, 24); err != nil {
			return err
		}
		ev.CapEff, ev.CapPrm, ev.CapInh = le.Uint64(v), le.Uint64(v[8:]), le.Uint64(v[16:])
	case ParamIDs:
		if err := wantLen(v, 24); err != nil {
			return err
		}
		ev.PPID, ev.PGID, ev.SID = int32(le.Uint32(v)), int32(le.Uint32(v[4:])), int32(le.Uint32(v[8:]))
		ev.VPID, ev.VTID, ev.VPGID = int32(le.Uint32(v[12:])), int32(le.Uint32(v[16:])), int32(le.Uint32(v[20:]))
	case ParamExe:
		if err := wantLen(v, 32); err != nil {
			return err
		}
		ev.ExeFlags = le.Uint32(v)
		ev.ExeIno = le.Uint64(v[8:])
		ev.ExeCtime = int64(le.Uint64(v[16:]))
		ev.ExeMtime = int64(le.Uint64(v[24:]))
	case ParamContainerID:
		ev.ContainerID = in.Bytes(v)
	case ParamContainer:
		c, err := decodeContainer(v)
		if err != nil {
			return err
		}
		ev.Container = c
	default:
		// Unknown parameters from newer writers are skipped.
	}
	return nil
}

// splitList splits NUL-terminated strings (a missing final NUL is
// tolerated, as in /proc/PID/cmdline of processes that rewrite argv).
func splitList(dst []string, v []byte, in *Interner) []string {
	for len(v) > 0 {
		i := bytes.IndexByte(v, 0)
		if i < 0 {
			dst = append(dst, in.Bytes(v))
			break
		}
		dst = append(dst, in.Bytes(v[:i]))
		v = v[i+1:]
	}
	return dst
}

func decodeContainer(v []byte) (*Container, error) {
	c := &Container{}
	le := binary.LittleEndian
	for len(v) > 0 {
		if len(v) < 4 {
			return nil, decodeError("container: truncated sub-parameter")
		}
		id := le.Uint16(v)
		sz := int(le.Uint16(v[2:]))
		v = v[4:]
		if sz > len(v) {
			return nil, decodeError("container: sub-parameter overruns")
		}
		x := v[:sz]
		v = v[sz:]
		s := string(x)
		switch id {
		case cID:
			c.ID = s
		case cName:
			c.Name = s
		case cType:
			c.Type = s
		case cImage:
			c.Image = s
		case cImageID:
			c.ImageID = s
		case cImageRepo:
			c.ImageRepo = s
		case cImageTag:
			c.ImageTag = s
		case cImageDigest:
			c.ImageDigest = s
		case cFlags:
			if len(x) != 4 {
				return nil, decodeError("container: bad flags length")
			}
			fl := le.Uint32(x)
			c.Privileged, c.HostPID, c.HostNetwork = fl&1 != 0, fl&2 != 0, fl&4 != 0
		case cStartTS:
			if len(x) != 8 {
				return nil, decodeError("container: bad start time length")
			}
			c.StartTS = int64(le.Uint64(x))
		case cMount:
			f := splitN(s, 5)
			c.Mounts = append(c.Mounts, Mount{Source: f[0], Dest: f[1], Mode: f[2], RW: f[3] == "1", Propagation: f[4]})
		case cLabel, cPodLabel:
			f := splitN(s, 2)
			if id == cLabel {
				c.Labels = append(c.Labels, KV{f[0], f[1]})
			} else {
				c.PodLabels = append(c.PodLabels, KV{f[0], f[1]})
			}
		case cIP:
			c.IP = s
		case cPodName:
			c.PodName = s
		case cPodUID:
			c.PodUID = s
		case cPodNamespace:
			c.PodNamespace = s
		}
	}
	return c, nil
}

func splitN(s string, n int) []string {
	out := make([]string, n)
	for i := 0; i < n; i++ {
		j := indexNUL(s)
		if j < 0 || i == n-1 {
			out[i] = s
			break
		}
		out[i] = s[:j]
		s = s[j+1:]
	}
	return out
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// Interner deduplicates strings decoded from byte slices so that repeated
// paths, names and arguments do not allocate. It holds at most a fixed
// number of entries; past that, strings are allocated normally.
type Interner struct {
	m   map[string]string
	max int
}

// NewInterner returns an Interner holding up to max strings.
func NewInterner(max int) *Interner {
	return &Interner{m: make(map[string]string, 1024), max: max}
}

// Bytes returns a string equal to b, shared when seen before.
func (in *Interner) Bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if in == nil || len(b) > 4096 {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < in.max {
		in.m[s] = s
	}
	return s
}
