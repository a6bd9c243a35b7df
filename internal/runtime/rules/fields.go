package rules

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/wardsec/ward/internal/runtime/event"
)

// ftype is the type of a field's values.
type ftype uint8

const (
	tStr ftype = iota + 1
	tInt
	tBool
	tIP
	tNet // an IP compared against CIDR values
	tBytes
)

func (t ftype) String() string {
	switch t {
	case tStr:
		return "string"
	case tInt:
		return "number"
	case tBool:
		return "bool"
	case tIP:
		return "ipaddr"
	case tNet:
		return "ipnet"
	case tBytes:
		return "bytebuf"
	}
	return "?"
}

type argMode uint8

const (
	argNone     argMode = iota
	argOptIndex         // field or field[N]
	argReqIndex         // field[N] required
	argReqKey           // field[key] required
	argOptKey           // field or field[key]
	argEvtArg           // evt.arg[N] / evt.arg.NAME
)

// farg is a compiled field argument.
type farg struct {
	has bool
	idx int
	key string
}

// ctx is the per-event evaluation context.
type ctx struct {
	ev   *event.Event
	st   *event.State
	p    *event.Process
	fd   *event.FD
	buf  []byte
	ips  []netip.Addr
	ss   []string
	ns   []int64
	args *argTable
}

// str makes a string from the tail of the scratch buffer starting at
// start. Valid until the next event.
func (c *ctx) str(start int) string {
	if len(c.buf) == start {
		return ""
	}
	return unsafe.String(&c.buf[start], len(c.buf)-start)
}

func (c *ctx) container() *event.Container {
	if c.p == nil {
		return nil
	}
	return c.st.Container(c.p.ContainerID)
}

// fieldDef describes a field. Exactly one extractor is set: str, num, ips
// (multi-valued IPs), strs (multi-valued strings) or bytes.
type fieldDef struct {
	name  string
	typ   ftype
	arg   argMode
	multi bool
	// list fields (fd.types) use all-values semantics for `in`.
	list  bool
	str   func(c *ctx, a *farg) (string, bool)
	num   func(c *ctx, a *farg) (int64, bool)
	ips   func(c *ctx, a *farg) []netip.Addr
	strs  func(c *ctx, a *farg) []string
	bytes func(c *ctx, a *farg) ([]byte, bool)
	nums  func(c *ctx, a *farg) []int64
}

type fieldTable map[string]*fieldDef

func (t fieldTable) add(d *fieldDef) { t[d.name] = d }

func (t fieldTable) s(name string, f func(c *ctx) (string, bool)) {
	t.add(&fieldDef{name: name, typ: tStr, str: func(c *ctx, _ *farg) (string, bool) { return f(c) }})
}

func (t fieldTable) i(name string, f func(c *ctx) (int64, bool)) {
	t.add(&fieldDef{name: name, typ: tInt, num: func(c *ctx, _ *farg) (int64, bool) { return f(c) }})
}

func (t fieldTable) b(name string, f func(c *ctx) (bool, bool)) {
	t.add(&fieldDef{name: name, typ: tBool, num: func(c *ctx, _ *farg) (int64, bool) {
		v, ok := f(c)
		if v {
			return 1, ok
		}
		return 0, ok
	}})
}

// proc helpers
func pf(f func(c *ctx, p *event.Process) (string, bool)) func(c *ctx) (string, bool) {
	return func(c *ctx) (string, bool) {
		if c.p == nil {
			return "", false
		}
		return f(c, c.p)
	}
}

func pi(f func(c *ctx, p *event.Process) (int64, bool)) func(c *ctx) (int64, bool) {
	return func(c *ctx) (int64, bool) {
		if c.p == nil {
			return 0, false
		}
		return f(c, c.p)
	}
}

func parentOf(c *ctx, p *event.Process) *event.Process { return c.st.Parent(p) }

func appendArgs(b []byte, args []string) []byte {
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, a...)
	}
	return b
}

func procArgs(c *ctx, p *event.Process) (string, bool) {
	if len(p.Args) <= 1 {
		return "", true
	}
	st := len(c.buf)
	c.buf = appendArgs(c.buf, p.Args[1:])
	return c.str(st), true
}

func procCmdline(c *ctx, p *event.Process) (string, bool) {
	st := len(c.buf)
	c.buf = append(c.buf, p.Comm...)
	if len(p.Args) > 1 {
		c.buf = append(c.buf, ' ')
		c.buf = appendArgs(c.buf, p.Args[1:])
	}
	return c.str(st), true
}

func procExeline(c *ctx, p *event.Process) (string, bool) {
	st := len(c.buf)
	c.buf = appendArgs(c.buf, p.Args)
	return c.str(st), true
}

func withTrailingSlash(c *ctx, s string) string {
	if s == "" || s[len(s)-1] == '/' {
		return s
	}
	st := len(c.buf)
	c.buf = append(c.buf, s...)
	c.buf = append(c.buf, '/')
	return c.str(st)
}

// ancestor fields: with an index N, the N-th ancestor (0 = self); without,
// every ancestor (parent first).
func ancestorField(t fieldTable, name string, typ ftype, get func(c *ctx, p *event.Process) (string, bool)) {
	d := &fieldDef{name: name, typ: typ, arg: argOptIndex, multi: true}
	d.str = func(c *ctx, a *farg) (string, bool) {
		p := c.st.Ancestor(c.p, a.idx)
		if p == nil {
			return "", false
		}
		return get(c, p)
	}
	d.strs = func(c *ctx, a *farg) []string {
		c.ss = c.ss[:0]
		if c.p == nil {
			return c.ss
		}
		for p, n := c.st.Parent(c.p), 0; p != nil && n < 64; p, n = c.st.Parent(p), n+1 {
			if v, ok := get(c, p); ok {
				c.ss = append(c.ss, v)
			}
		}
		return c.ss
	}
	t.add(d)
}

func ip16(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }

func (c *ctx) sock() *event.FD {
	if c.fd == nil || (c.fd.Type != event.FDIPv4 && c.fd.Type != event.FDIPv6) {
		return nil
	}
	return c.fd
}

// local reports whether the client side is the local end.
func localIsClient(f *event.FD) bool { return f.Role != 's' }

func appendTuple(b []byte, f *event.FD) []byte {
	appendEnd := func(b []byte, ip [16]byte, port uint16) []byte {
		a := ip16(ip)
		if a.Is6() {
			b = append(b, '[')
			b = a.AppendTo(b)
			b = append(b, ']')
		} else {
			b = a.AppendTo(b)
		}
		b = append(b, ':')
		return strconv.AppendUint(b, uint64(port), 10)
	}
	b = appendEnd(b, f.Addr.SrcIP, f.Addr.SrcPort)
	b = append(b, "->"...)
	return appendEnd(b, f.Addr.DstIP, f.Addr.DstPort)
}

func fdName(c *ctx) (string, bool) {
	f := c.fd
	if f == nil {
		return "", false
	}
	if f.Type.IsSocket() {
		if f.Addr.Family == 0 && f.Addr.DstPort == 0 && f.Addr.SrcPort == 0 {
			return "", true
		}
		st := len(c.buf)
		c.buf = appendTuple(c.buf, f)
		return c.str(st), true
	}
	return f.Name, true
}

func dirOf(s string) string {
	i := strings.LastIndexByte(s, '/')
	switch {
	case i < 0:
		return ""
	case i == 0:
		return "/"
	}
	return s[:i]
}

func baseOf(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func isFileLike(f *event.FD) bool {
	return f.Type == event.FDFile || f.Type == event.FDDirectory
}

func l4Name(p uint8) (string, bool) {
	switch p {
	case event.L4TCP:
		return "tcp", true
	case event.L4UDP:
		return "udp", true
	case event.L4ICMP:
		return "icmp", true
	case event.L4Raw:
		return "raw", true
	}
	return "", false
}

func (c *ctx) endpoint(which byte) (netip.Addr, uint16, bool) {
	f := c.sock()
	if f == nil {
		return netip.Addr{}, 0, false
	}
	client := true
	switch which {
	case 'c':
	case 's':
		client = false
	case 'l':
		client = localIsClient(f)
	case 'r':
		client = !localIsClient(f)
	}
	if client {
		return ip16(f.Addr.SrcIP), f.Addr.SrcPort, true
	}
	return ip16(f.Addr.DstIP), f.Addr.DstPort, true
}

func mountMatch(m *event.Mount, key string, bySource bool) bool {
	v := m.Dest
	if bySource {
		v = m.Source
	}
	return globMatch(key, v, false)
}

// mountField: container.mount.X[N] or [glob on the other end].
func mountField(t fieldTable, name string, bySource bool, get func(m *event.Mount) string) {
	t.add(&fieldDef{name: name, typ: tStr, arg: argReqKey, str: func(c *ctx, a *farg) (string, bool) {
		ct := c.container()
		if ct == nil {
			return "", false
		}
		if n, err := strconv.Atoi(a.key); err == nil {
			if n < 0 || n >= len(ct.Mounts) {
				return "", false
			}
			return get(&ct.Mounts[n]), true
		}
		for i := range ct.Mounts {
			if mountMatch(&ct.Mounts[i], a.key, bySource) {
				return get(&ct.Mounts[i]), true
			}
		}
		return "", false
	}})
}

func kvString(c *ctx, kvs []event.KV) string {
	st := len(c.buf)
	for i, kv := range kvs {
		if i > 0 {
			c.buf = append(c.buf, ", "...)
		}
		c.buf = append(c.buf, kv.Key...)
		c.buf = append(c.buf, ':')
		c.buf = append(c.buf, kv.Value...)
	}
	return c.str(st)
}

func cstr(f func(ct *event.Container) (string, bool)) func(c *ctx) (string, bool) {
	return func(c *ctx) (string, bool) {
		ct := c.container()
		if ct == nil {
			return "", false
		}
		return f(ct)
	}
}

func (c *ctx) userOf(uid uint32) (event.User, bool) { return c.st.User(uid) }

func envLookup(env []string, key string) (string, bool) {
	for _, e := range env {
		if len(e) > len(key) && e[len(key)] == '=' && e[:len(key)] == key {
			return e[len(key)+1:], true
		}
	}
	return "", false
}

func boolp(v bool) (bool, bool) { return v, true }

// newFieldTable builds the table of supported fields. See docs/runtime.md
// for the catalogue.
func newFieldTable() fieldTable {
	t := fieldTable{}
	// ---- evt ----
	t.i("evt.num", func(c *ctx) (int64, bool) { return int64(c.ev.Num), true })
	t.s("evt.type", func(c *ctx) (string, bool) { return c.ev.Type.String(), true })
	t.s("evt.dir", func(c *ctx) (string, bool) { return "<", true })
	t.s("evt.source", func(c *ctx) (string, bool) { return "syscall", true })
	t.i("evt.cpu", func(c *ctx) (int64, bool) { return 0, false })
	t.i("evt.rawtime", func(c *ctx) (int64, bool) { return c.ev.TS, true })
	t.i("evt.rawtime.s", func(c *ctx) (int64, bool) { return c.ev.TS / 1e9, true })
	t.i("evt.rawtime.ns", func(c *ctx) (int64, bool) { return c.ev.TS % 1e9, true })
	t.i("evt.reltime", func(c *ctx) (int64, bool) { return c.ev.TS - c.st.Now, true })
	t.s("evt.time", func(c *ctx) (string, bool) {
		st := len(c.buf)
		tm := time.Unix(0, c.ev.TS).UTC()
		c.buf = tm.AppendFormat(c.buf, "15:04:05.000000000")
		return c.str(st), true
	})
	t.s("evt.time.s", func(c *ctx) (string, bool) {
		st := len(c.buf)
		c.buf = time.Unix(0, c.ev.TS).UTC().AppendFormat(c.buf, "15:04:05")
		return c.str(st), true
	})
	t.s("evt.time.iso8601", func(c *ctx) (string, bool) {
		st := len(c.buf)
		c.buf = time.Unix(0, c.ev.TS).UTC().AppendFormat(c.buf, "2006-01-02T15:04:05.000000000Z")
		return c.str(st), true
	})
	t.s("evt.datetime", func(c *ctx) (string, bool) {
		st := len(c.buf)
		c.buf = time.Unix(0, c.ev.TS).UTC().AppendFormat(c.buf, "2006-01-02 15:04:05.000000000")
		return c.str(st), true
	})
	t.s("evt.datetime.s", func(c *ctx) (string, bool) {
		st := len(c.buf)
		c.buf = time.Unix(0, c.ev.TS).UTC().AppendFormat(c.buf, "2006-01-02 15:04:05")
		return c.str(st), true
	})
	t.s("evt.hostname", func(c *ctx) (string, bool) { return c.st.Hostname, c.st.Hostname != "" })
	t.s("evt.res", func(c *ctx) (string, bool) {
		if c.ev.Res >= 0 {
			return "SUCCESS", true
		}
		if n, ok := errnoNames[-c.ev.Res]; ok {
			return n, true
		}
		st := len(c.buf)
		c.buf = append(c.buf, 'E')
		c.buf = strconv.AppendInt(c.buf, -c.ev.Res, 10)
		return c.str(st), true
	})
	t.i("evt.rawres", func(c *ctx) (int64, bool) { return c.ev.Res, true })
	t.b("evt.failed", func(c *ctx) (bool, bool) { return boolp(c.ev.Res < 0) })
	t.i("evt.count", func(c *ctx) (int64, bool) { return 1, true })
	t.i("evt.latency", func(c *ctx) (int64, bool) { return 0, true })
	isOpen := func(c *ctx) bool { return c.ev.Type.IsOpen() }
	t.b("evt.is_open_read", func(c *ctx) (bool, bool) {
		a := c.ev.Flags & event.OAccmode
		return boolp(isOpen(c) && c.ev.Type != event.TypeCreat && (a == event.ORdonly || a == event.ORdwr))
	})
	t.b("evt.is_open_write", func(c *ctx) (bool, bool) {
		a := c.ev.Flags & event.OAccmode
		return boolp(isOpen(c) && (c.ev.Type == event.TypeCreat || a == event.OWronly || a == event.ORdwr))
	})
	t.b("evt.is_open_exec", func(c *ctx) (bool, bool) {
		return boolp(isOpen(c) && (c.ev.Flags&event.OCreat != 0 || c.ev.Type == event.TypeCreat) && c.ev.Mode&0o111 != 0)
	})
	t.b("evt.is_open_create", func(c *ctx) (bool, bool) {
		return boolp(isOpen(c) && (c.ev.Flags&event.OCreat != 0 || c.ev.Type == event.TypeCreat))
	})
	ioRead := func(t event.Type) bool {
		return t == event.TypeRead || t == event.TypeRecvfrom || t == event.TypeRecvmsg
	}
	ioWrite := func(t event.Type) bool {
		return t == event.TypeWrite || t == event.TypeSendto || t == event.TypeSendmsg
	}
	t.b("evt.is_io", func(c *ctx) (bool, bool) { return boolp(ioRead(c.ev.Type) || ioWrite(c.ev.Type)) })
	t.b("evt.is_io_read", func(c *ctx) (bool, bool) { return boolp(ioRead(c.ev.Type)) })
	t.b("evt.is_io_write", func(c *ctx) (bool, bool) { return boolp(ioWrite(c.ev.Type)) })
	t.b("evt.is_wait", func(c *ctx) (bool, bool) { return false, true })
	t.b("evt.is_syslog", func(c *ctx) (bool, bool) {
		return boolp(c.fd != nil && c.fd.Type == event.FDUnix && strings.HasSuffix(c.fd.Name, "/dev/log") && ioWrite(c.ev.Type))
	})
	t.s("evt.category", func(c *ctx) (string, bool) { return category(c.ev.Type), true })
	t.add(&fieldDef{name: "evt.buffer", typ: tBytes, bytes: func(c *ctx, _ *farg) ([]byte, bool) {
		return c.ev.Data, len(c.ev.Data) > 0 || ioRead(c.ev.Type) || ioWrite(c.ev.Type)
	}})
	t.i("evt.buflen", func(c *ctx) (int64, bool) { return int64(len(c.ev.Data)), true })
	t.s("evt.args", func(c *ctx) (string, bool) { return renderArgs(c), true })
	t.s("evt.info", func(c *ctx) (string, bool) { return renderArgs(c), true })
	t.add(&fieldDef{name: "evt.arg", typ: tStr, arg: argEvtArg, str: evtArg})
	t.add(&fieldDef{name: "evt.rawarg", typ: tInt, arg: argEvtArg, num: evtRawArg})
	abspath := func(which int) func(c *ctx) (string, bool) {
		return func(c *ctx) (string, bool) {
			p := c.ev.Path
			if which == 2 {
				p = c.ev.Path2
			}
			if p == "" || c.p == nil {
				return "", false
			}
			if p[0] == '/' {
				return p, true
			}
			base := c.p.Cwd
			if c.ev.FD != event.AtFDCWD && which == 1 {
				if f := c.p.FD(c.ev.FD); f != nil {
					base = f.Name
				}
			}
			st := len(c.buf)
			c.buf = append(c.buf, strings.TrimSuffix(base, "/")...)
			c.buf = append(c.buf, '/')
			c.buf = append(c.buf, p...)
			return c.str(st), true
		}
	}
	t.s("evt.abspath", abspath(1))
	t.s("evt.abspath.src", abspath(1))
	t.s("evt.abspath.dst", abspath(2))

	// ---- proc ----
	t.i("proc.pid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.PID), true }))
	t.i("proc.ppid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.PPID), p.PPID != 0 }))
	t.i("proc.vpid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.VPID), true }))
	t.i("proc.pvpid", pi(func(c *ctx, p *event.Process) (int64, bool) {
		if pp := parentOf(c, p); pp != nil {
			return int64(pp.VPID), true
		}
		return 0, false
	}))
	t.i("proc.sid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.SID), true }))
	t.i("proc.vpgid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.VPGID), true }))
	t.i("proc.pgid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.PGID), true }))
	t.i("proc.tty", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.TTY), true }))
	t.s("proc.name", pf(func(c *ctx, p *event.Process) (string, bool) { return p.Comm, p.Comm != "" }))
	t.s("proc.exe", pf(func(c *ctx, p *event.Process) (string, bool) { return p.Exe(), true }))
	t.s("proc.exepath", pf(func(c *ctx, p *event.Process) (string, bool) { return p.ExePath, p.ExePath != "" }))
	t.s("proc.args", pf(procArgs))
	t.s("proc.cmdline", pf(procCmdline))
	t.s("proc.exeline", pf(procExeline))
	t.i("proc.cmdnargs", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(max(len(p.Args)-1, 0)), true }))
	t.i("proc.cmdlenargs", pi(func(c *ctx, p *event.Process) (int64, bool) {
		n := 0
		for i, a := range p.Args {
			if i > 0 {
				n += len(a)
			}
		}
		return int64(n), true
	}))
	t.s("proc.cwd", pf(func(c *ctx, p *event.Process) (string, bool) { return withTrailingSlash(c, p.Cwd), p.Cwd != "" }))
	t.add(&fieldDef{name: "proc.env", typ: tStr, arg: argOptKey, str: func(c *ctx, a *farg) (string, bool) {
		if c.p == nil {
			return "", false
		}
		if a.has {
			return envLookup(c.p.Env, a.key)
		}
		st := len(c.buf)
		c.buf = appendArgs(c.buf, c.p.Env)
		return c.str(st), true
	}})
	t.add(&fieldDef{name: "proc.aenv", typ: tStr, arg: argOptKey, str: func(c *ctx, a *farg) (string, bool) {
		for p, n := c.p, 0; p != nil && n < 64; p, n = c.st.Parent(p), n+1 {
			if !a.has {
				st := len(c.buf)
				c.buf = appendArgs(c.buf, p.Env)
				return c.str(st), true
			}
			if v, ok := envLookup(p.Env, a.key); ok {
				return v, true
			}
		}
		return "", false
	}})
	parentStr := func(get func(c *ctx, p *event.Process) (string, bool)) func(c *ctx) (string, bool) {
		return func(c *ctx) (string, bool) {
			if c.p == nil {
				return "", false
			}
			pp := parentOf(c, c.p)
			if pp == nil {
				return "", false
			}
			return get(c, pp)
		}
	}
	name := func(c *ctx, p *event.Process) (string, bool) { return p.Comm, p.Comm != "" }
	exe := func(c *ctx, p *event.Process) (string, bool) { return p.Exe(), true }
	exepath := func(c *ctx, p *event.Process) (string, bool) { return p.ExePath, p.ExePath != "" }
	t.s("proc.pname", parentStr(name))
	t.s("proc.pexe", parentStr(exe))
	t.s("proc.pexepath", parentStr(exepath))
	t.s("proc.pcmdline", parentStr(procCmdline))
	ancestorField(t, "proc.aname", tStr, name)
	ancestorField(t, "proc.aexe", tStr, exe)
	ancestorField(t, "proc.aexepath", tStr, exepath)
	ancestorField(t, "proc.acmdline", tStr, procCmdline)
	t.add(&fieldDef{name: "proc.apid", typ: tInt, arg: argOptIndex, num: func(c *ctx, a *farg) (int64, bool) {
		p := c.st.Ancestor(c.p, a.idx)
		if p == nil {
			return 0, false
		}
		return int64(p.PID), true
	}})
	dur := func(p *event.Process, now int64) (int64, bool) {
		if p == nil || p.StartTS == 0 {
			return 0, false
		}
		return now - p.StartTS, true
	}
	t.i("proc.duration", func(c *ctx) (int64, bool) { return dur(c.p, c.st.Now) })
	t.i("proc.ppid.duration", func(c *ctx) (int64, bool) {
		if c.p == nil {
			return 0, false
		}
		return dur(parentOf(c, c.p), c.st.Now)
	})
	t.i("proc.pid.ts", pi(func(c *ctx, p *event.Process) (int64, bool) { return p.StartTS, p.StartTS != 0 }))
	t.i("proc.ppid.ts", func(c *ctx) (int64, bool) {
		if c.p == nil {
			return 0, false
		}
		if pp := parentOf(c, c.p); pp != nil {
			return pp.StartTS, true
		}
		return 0, false
	})
	exeFlag := func(bit uint32) func(c *ctx) (bool, bool) {
		return func(c *ctx) (bool, bool) {
			if c.p == nil {
				return false, false
			}
			return c.p.ExeFlags&bit != 0, true
		}
	}
	t.b("proc.is_exe_writable", exeFlag(event.ExeWritable))
	t.b("proc.is_exe_upper_layer", exeFlag(event.ExeUpperLayer))
	t.b("proc.is_exe_lower_layer", exeFlag(event.ExeLowerLayer))
	t.b("proc.is_exe_from_memfd", exeFlag(event.ExeFromMemfd))
	t.i("proc.exe_ino", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.ExeIno), p.ExeIno != 0 }))
	t.i("proc.exe_ino.ctime", pi(func(c *ctx, p *event.Process) (int64, bool) { return p.ExeCtime, p.ExeCtime != 0 }))
	t.i("proc.exe_ino.mtime", pi(func(c *ctx, p *event.Process) (int64, bool) { return p.ExeMtime, p.ExeMtime != 0 }))
	t.i("proc.exe_ino.ctime_duration_proc_start", pi(func(c *ctx, p *event.Process) (int64, bool) {
		if p.ExeCtime == 0 || p.StartTS == 0 {
			return 0, false
		}
		return p.StartTS - p.ExeCtime, true
	}))
	t.i("proc.exe_ino.ctime_duration_pidns_start", pi(func(c *ctx, p *event.Process) (int64, bool) { return 0, false }))
	sess := func(c *ctx, p *event.Process) *event.Process {
		for q, n := p, 0; q != nil && n < 64; q, n = c.st.Parent(q), n+1 {
			if q.PID == p.SID || (q.VPID != 0 && q.VPID == p.SID) {
				return q
			}
		}
		return c.st.Process(p.SID)
	}
	grp := func(c *ctx, p *event.Process) *event.Process {
		for q, n := p, 0; q != nil && n < 64; q, n = c.st.Parent(q), n+1 {
			if q.VPID == p.VPGID {
				return q
			}
		}
		return nil
	}
	via := func(find func(c *ctx, p *event.Process) *event.Process, get func(c *ctx, p *event.Process) (string, bool)) func(c *ctx) (string, bool) {
		return func(c *ctx) (string, bool) {
			if c.p == nil {
				return "", false
			}
			q := find(c, c.p)
			if q == nil {
				return "", false
			}
			return get(c, q)
		}
	}
	t.s("proc.sname", via(sess, name))
	t.s("proc.sid.exe", via(sess, exe))
	t.s("proc.sid.exepath", via(sess, exepath))
	t.s("proc.vpgid.name", via(grp, name))
	t.s("proc.vpgid.exe", via(grp, exe))
	t.s("proc.vpgid.exepath", via(grp, exepath))
	t.b("proc.is_vpgid_leader", func(c *ctx) (bool, bool) {
		if c.p == nil {
			return false, false
		}
		return c.p.VPID == c.p.VPGID, true
	})
	t.b("proc.is_sid_leader", func(c *ctx) (bool, bool) {
		if c.p == nil {
			return false, false
		}
		return c.p.VPID == c.p.SID || c.p.PID == c.p.SID, true
	})
	t.i("proc.loginshellid", pi(func(c *ctx, p *event.Process) (int64, bool) {
		var id int64 = -1
		for q, n := p, 0; q != nil && n < 64; q, n = c.st.Parent(q), n+1 {
			switch q.Comm {
			case "sh", "bash", "zsh", "ash", "dash", "ksh", "csh", "tcsh", "fish":
				id = int64(q.PID)
			}
		}
		return id, id >= 0
	}))
	t.i("proc.nchilds", pi(func(c *ctx, p *event.Process) (int64, bool) { return 0, false }))
	t.i("proc.fdopencount", pi(func(c *ctx, p *event.Process) (int64, bool) {
		n := int64(0)
		p.FDs(func(*event.FD) { n++ })
		return n, true
	}))
	for i, s := range []string{"stdin", "stdout", "stderr"} {
		num := int64(i)
		t.s("proc."+s+".type", pf(func(c *ctx, p *event.Process) (string, bool) {
			if f := p.FD(num); f != nil {
				return f.Type.String(), true
			}
			return "", false
		}))
		t.s("proc."+s+".name", pf(func(c *ctx, p *event.Process) (string, bool) {
			if f := p.FD(num); f != nil {
				return f.Name, true
			}
			return "", false
		}))
	}
	for _, s := range []string{"proc.is_container_healthcheck", "proc.is_container_liveness_probe", "proc.is_container_readiness_probe"} {
		t.b(s, func(c *ctx) (bool, bool) { return false, c.p != nil })
	}

	// ---- thread ----
	t.i("thread.tid", func(c *ctx) (int64, bool) { return int64(c.ev.TID), true })
	t.i("thread.vtid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.VTID), true }))
	t.b("thread.ismain", func(c *ctx) (bool, bool) { return boolp(c.ev.TID == c.ev.PID) })
	caps := func(get func(p *event.Process) uint64) func(c *ctx) (string, bool) {
		return pf(func(c *ctx, p *event.Process) (string, bool) {
			st := len(c.buf)
			c.buf = appendCaps(c.buf, get(p))
			return c.str(st), true
		})
	}
	t.s("thread.cap_effective", caps(func(p *event.Process) uint64 { return p.CapEff }))
	t.s("thread.cap_permitted", caps(func(p *event.Process) uint64 { return p.CapPrm }))
	t.s("thread.cap_inheritable", caps(func(p *event.Process) uint64 { return p.CapInh }))

	// ---- user / group ----
	t.i("user.uid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.EUID), true }))
	t.s("user.name", pf(func(c *ctx, p *event.Process) (string, bool) {
		u, ok := c.userOf(p.EUID)
		return u.Name, ok
	}))
	t.s("user.homedir", pf(func(c *ctx, p *event.Process) (string, bool) {
		u, ok := c.userOf(p.EUID)
		return u.Home, ok
	}))
	t.s("user.shell", pf(func(c *ctx, p *event.Process) (string, bool) {
		u, ok := c.userOf(p.EUID)
		return u.Shell, ok
	}))
	t.i("user.loginuid", pi(func(c *ctx, p *event.Process) (int64, bool) { return p.LoginUID, true }))
	t.s("user.loginname", pf(func(c *ctx, p *event.Process) (string, bool) {
		if p.LoginUID < 0 {
			return "", false
		}
		u, ok := c.userOf(uint32(p.LoginUID))
		return u.Name, ok
	}))
	t.i("group.gid", pi(func(c *ctx, p *event.Process) (int64, bool) { return int64(p.EGID), true }))
	t.s("group.name", pf(func(c *ctx, p *event.Process) (string, bool) { return c.st.Group(p.EGID) }))

	// ---- fd ----
	t.i("fd.num", func(c *ctx) (int64, bool) {
		if c.fd == nil {
			return 0, false
		}
		return int64(c.fd.Num), true
	})
	t.s("fd.type", func(c *ctx) (string, bool) {
		if c.fd == nil {
			return "", false
		}
		return c.fd.Type.String(), true
	})
	t.s("fd.typechar", func(c *ctx) (string, bool) {
		if c.fd == nil {
			return "", false
		}
		return c.fd.Type.Char(), true
	})
	t.s("fd.name", fdName)
	t.s("fd.nameraw", func(c *ctx) (string, bool) {
		if c.fd == nil {
			return "", false
		}
		if c.fd.NameRaw != "" {
			return c.fd.NameRaw, true
		}
		return fdName(c)
	})
	t.s("fd.directory", func(c *ctx) (string, bool) {
		if c.fd == nil || !isFileLike(c.fd) {
			return "", false
		}
		if c.fd.Type == event.FDDirectory {
			return c.fd.Name, true
		}
		return dirOf(c.fd.Name), true
	})
	t.s("fd.filename", func(c *ctx) (string, bool) {
		if c.fd == nil || c.fd.Type != event.FDFile {
			return "", false
		}
		return baseOf(c.fd.Name), true
	})
	t.s("fd.containername", func(c *ctx) (string, bool) {
		n, ok := fdName(c)
		if !ok || c.p == nil {
			return "", false
		}
		st := len(c.buf)
		c.buf = append(c.buf, containerID(c.p)...)
		c.buf = append(c.buf, ':')
		c.buf = append(c.buf, n...)
		return c.str(st), true
	})
	t.s("fd.containerdirectory", func(c *ctx) (string, bool) {
		if c.fd == nil || !isFileLike(c.fd) || c.p == nil {
			return "", false
		}
		st := len(c.buf)
		c.buf = append(c.buf, containerID(c.p)...)
		c.buf = append(c.buf, ':')
		c.buf = append(c.buf, dirOf(c.fd.Name)...)
		return c.str(st), true
	})
	ipEnd := func(name string, which byte, typ ftype) {
		t.add(&fieldDef{name: name, typ: typ, ips: func(c *ctx, _ *farg) []netip.Addr {
			c.ips = c.ips[:0]
			if a, _, ok := c.endpoint(which); ok {
				c.ips = append(c.ips, a)
			}
			return c.ips
		}})
	}
	for _, e := range []struct {
		p string
		w byte
	}{{"c", 'c'}, {"s", 's'}, {"l", 'l'}, {"r", 'r'}} {
		ipEnd("fd."+e.p+"ip", e.w, tIP)
		ipEnd("fd."+e.p+"net", e.w, tNet)
		w := e.w
		t.i("fd."+e.p+"port", func(c *ctx) (int64, bool) {
			_, port, ok := c.endpoint(w)
			return int64(port), ok
		})
		t.s("fd."+e.p+"proto", func(c *ctx) (string, bool) {
			_, port, ok := c.endpoint(w)
			if !ok {
				return "", false
			}
			return serviceName(port)
		})
		t.s("fd."+e.p+"ip.name", func(c *ctx) (string, bool) {
			a, _, ok := c.endpoint(w)
			if !ok {
				return "", false
			}
			return c.st.HostName(a.As16())
		})
	}
	both := func(c *ctx) []netip.Addr {
		c.ips = c.ips[:0]
		if f := c.sock(); f != nil {
			c.ips = append(c.ips, ip16(f.Addr.SrcIP), ip16(f.Addr.DstIP))
		}
		return c.ips
	}
	t.add(&fieldDef{name: "fd.ip", typ: tIP, ips: func(c *ctx, _ *farg) []netip.Addr { return both(c) }})
	t.add(&fieldDef{name: "fd.net", typ: tNet, ips: func(c *ctx, _ *farg) []netip.Addr { return both(c) }})
	t.add(&fieldDef{name: "fd.port", typ: tInt, nums: func(c *ctx, _ *farg) []int64 {
		c.ns = c.ns[:0]
		if f := c.sock(); f != nil {
			c.ns = append(c.ns, int64(f.Addr.SrcPort), int64(f.Addr.DstPort))
		}
		return c.ns
	}})
	t.s("fd.proto", func(c *ctx) (string, bool) {
		if f := c.sock(); f != nil {
			return serviceName(f.Addr.DstPort)
		}
		return "", false
	})
	t.s("fd.l4proto", func(c *ctx) (string, bool) {
		if c.fd == nil {
			return "", false
		}
		if c.fd.Type.IsSocket() {
			return l4Name(c.fd.Addr.L4)
		}
		return "", false
	})
	t.s("fd.sockfamily", func(c *ctx) (string, bool) {
		if c.fd == nil {
			return "", false
		}
		switch c.fd.Type {
		case event.FDIPv4, event.FDIPv6:
			return "ip", true
		case event.FDUnix:
			return "unix", true
		}
		return "", false
	})
	t.b("fd.is_server", func(c *ctx) (bool, bool) {
		if c.fd == nil {
			return false, false
		}
		return c.fd.Role == 's', true
	})
	t.b("fd.connected", func(c *ctx) (bool, bool) {
		if c.fd == nil {
			return false, false
		}
		return c.fd.Connected, true
	})
	t.b("fd.name_changed", func(c *ctx) (bool, bool) {
		if c.fd == nil {
			return false, false
		}
		return c.fd.NameChanged, true
	})
	t.add(&fieldDef{name: "fd.types", typ: tStr, arg: argOptIndex, multi: true, list: true,
		str: func(c *ctx, a *farg) (string, bool) {
			if c.p == nil {
				return "", false
			}
			if f := c.p.FD(int64(a.idx)); f != nil {
				return f.Type.String(), true
			}
			return "", false
		},
		strs: func(c *ctx, a *farg) []string {
			c.ss = c.ss[:0]
			if c.p != nil {
				c.p.FDs(func(f *event.FD) {
					s := f.Type.String()
					for _, x := range c.ss {
						if x == s {
							return
						}
					}
					c.ss = append(c.ss, s)
				})
			}
			return c.ss
		}})
	t.i("fd.dev", func(c *ctx) (int64, bool) { return 0, false })
	t.i("fd.ino", func(c *ctx) (int64, bool) { return 0, false })

	// ---- container ----
	t.s("container.id", func(c *ctx) (string, bool) {
		if c.p == nil {
			return "", false
		}
		return containerID(c.p), true
	})
	t.s("container.full_id", func(c *ctx) (string, bool) {
		if c.p == nil {
			return "", false
		}
		if ct := c.container(); ct != nil {
			return ct.ID, true
		}
		return containerID(c.p), true
	})
	t.s("container.name", func(c *ctx) (string, bool) {
		if c.p == nil {
			return "", false
		}
		if containerID(c.p) == "host" {
			return "host", true
		}
		if ct := c.container(); ct != nil {
			return ct.Name, true
		}
		return "", false
	})
	t.s("container.image", cstr(func(ct *event.Container) (string, bool) { return ct.Image, ct.Image != "" }))
	t.s("container.image.id", cstr(func(ct *event.Container) (string, bool) { return ct.ImageID, ct.ImageID != "" }))
	t.s("container.image.repository", cstr(func(ct *event.Container) (string, bool) { return ct.ImageRepo, ct.ImageRepo != "" }))
	t.s("container.image.tag", cstr(func(ct *event.Container) (string, bool) { return ct.ImageTag, ct.ImageTag != "" }))
	t.s("container.image.digest", cstr(func(ct *event.Container) (string, bool) { return ct.ImageDigest, ct.ImageDigest != "" }))
	t.s("container.type", cstr(func(ct *event.Container) (string, bool) { return ct.Type, ct.Type != "" }))
	t.s("container.ip", cstr(func(ct *event.Container) (string, bool) { return ct.IP, ct.IP != "" }))
	cbool := func(get func(ct *event.Container) bool) func(c *ctx) (bool, bool) {
		return func(c *ctx) (bool, bool) {
			ct := c.container()
			if ct == nil {
				return false, false
			}
			return get(ct), true
		}
	}
	t.b("container.privileged", cbool(func(ct *event.Container) bool { return ct.Privileged }))
	t.b("container.host_pid", cbool(func(ct *event.Container) bool { return ct.HostPID }))
	t.b("container.host_network", cbool(func(ct *event.Container) bool { return ct.HostNetwork }))
	t.i("container.start_ts", func(c *ctx) (int64, bool) {
		ct := c.container()
		if ct == nil {
			return 0, false
		}
		return ct.StartTS, true
	})
	t.i("container.duration", func(c *ctx) (int64, bool) {
		ct := c.container()
		if ct == nil || ct.StartTS == 0 {
			return 0, false
		}
		return c.st.Now - ct.StartTS, true
	})
	t.s("container.mounts", func(c *ctx) (string, bool) {
		ct := c.container()
		if ct == nil {
			return "", false
		}
		st := len(c.buf)
		for i, m := range ct.Mounts {
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			c.buf = append(c.buf, m.Source...)
			c.buf = append(c.buf, ':')
			c.buf = append(c.buf, m.Dest...)
			c.buf = append(c.buf, ':')
			c.buf = append(c.buf, m.Mode...)
			c.buf = append(c.buf, ':')
			c.buf = strconv.AppendBool(c.buf, m.RW)
			c.buf = append(c.buf, ':')
			c.buf = append(c.buf, m.Propagation...)
		}
		return c.str(st), true
	})
	t.add(&fieldDef{name: "container.mount", typ: tStr, arg: argReqKey, str: func(c *ctx, a *farg) (string, bool) {
		ct := c.container()
		if ct == nil {
			return "", false
		}
		for i := range ct.Mounts {
			m := &ct.Mounts[i]
			if n, err := strconv.Atoi(a.key); (err == nil && n == i) || (err != nil && globMatch(a.key, m.Source, false)) {
				st := len(c.buf)
				c.buf = append(c.buf, m.Source...)
				c.buf = append(c.buf, ':')
				c.buf = append(c.buf, m.Dest...)
				c.buf = append(c.buf, ':')
				c.buf = append(c.buf, m.Mode...)
				c.buf = append(c.buf, ':')
				c.buf = strconv.AppendBool(c.buf, m.RW)
				c.buf = append(c.buf, ':')
				c.buf = append(c.buf, m.Propagation...)
				return c.str(st), true
			}
		}
		return "", false
	}})
	mountField(t, "container.mount.source", false, func(m *event.Mount) string { return m.Source })
	mountField(t, "container.mount.dest", true, func(m *event.Mount) string { return m.Dest })
	mountField(t, "container.mount.mode", true, func(m *event.Mount) string { return m.Mode })
	mountField(t, "container.mount.rdwr", true, func(m *event.Mount) string { return strconv.FormatBool(m.RW) })
	mountField(t, "container.mount.propagation", true, func(m *event.Mount) string { return m.Propagation })
	t.add(&fieldDef{name: "container.label", typ: tStr, arg: argReqKey, str: func(c *ctx, a *farg) (string, bool) {
		ct := c.container()
		if ct == nil {
			return "", false
		}
		return ct.Label(a.key)
	}})
	t.s("container.labels", cstr(func(ct *event.Container) (string, bool) { return "", false }))
	t.fields()["container.labels"].str = func(c *ctx, _ *farg) (string, bool) {
		ct := c.container()
		if ct == nil {
			return "", false
		}
		return kvString(c, ct.Labels), true
	}

	// ---- k8s ----
	t.s("k8s.pod.name", cstr(func(ct *event.Container) (string, bool) { return ct.PodName, ct.PodName != "" }))
	t.s("k8s.pod.id", cstr(func(ct *event.Container) (string, bool) { return ct.PodUID, ct.PodUID != "" }))
	t.s("k8s.pod.uid", cstr(func(ct *event.Container) (string, bool) { return ct.PodUID, ct.PodUID != "" }))
	t.s("k8s.ns.name", cstr(func(ct *event.Container) (string, bool) { return ct.PodNamespace, ct.PodNamespace != "" }))
	t.s("k8s.pod.ip", cstr(func(ct *event.Container) (string, bool) { return ct.IP, ct.IP != "" && ct.PodName != "" }))
	t.add(&fieldDef{name: "k8s.pod.label", typ: tStr, arg: argReqKey, str: func(c *ctx, a *farg) (string, bool) {
		ct := c.container()
		if ct == nil {
			return "", false
		}
		return ct.PodLabel(a.key)
	}})
	t.add(&fieldDef{name: "k8s.pod.labels", typ: tStr, str: func(c *ctx, _ *farg) (string, bool) {
		ct := c.container()
		if ct == nil || ct.PodName == "" {
			return "", false
		}
		return kvString(c, ct.PodLabels), true
	}})
	return t
}

func (t fieldTable) fields() map[string]*fieldDef { return t }

func containerID(p *event.Process) string {
	id := p.ContainerID
	if id == "" || id == "host" {
		return "host"
	}
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func category(t event.Type) string {
	switch {
	case t.IsOpen(), t == event.TypeClose, t == event.TypeRead, t == event.TypeWrite, t == event.TypeChmod,
		t == event.TypeFchmod, t == event.TypeFchmodat, t == event.TypeUnlink, t == event.TypeUnlinkat,
		t == event.TypeRename, t == event.TypeRenameat, t == event.TypeRenameat2, t == event.TypeMkdir,
		t == event.TypeMkdirat, t == event.TypeRmdir, t == event.TypeLink, t == event.TypeLinkat,
		t == event.TypeSymlink, t == event.TypeSymlinkat, t.IsDup():
		return "file"
	case t == event.TypeConnect, t == event.TypeAccept, t == event.TypeAccept4, t == event.TypeListen,
		t == event.TypeBind, t == event.TypeSendto, t == event.TypeSendmsg, t == event.TypeRecvfrom,
		t == event.TypeRecvmsg, t == event.TypeSocket:
		return "net"
	case t.IsExec(), t.IsClone(), t == event.TypeProcExit, t == event.TypePtrace, t == event.TypeKill:
		return "process"
	case t == event.TypeContainerStart, t == event.TypeContainerStop:
		return "internal"
	}
	return "other"
}

var services = map[uint16]string{20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain",
	80: "http", 110: "pop3", 123: "ntp", 143: "imap", 161: "snmp", 389: "ldap", 443: "https", 445: "microsoft-ds",
	465: "submissions", 587: "submission", 636: "ldaps", 993: "imaps", 995: "pop3s", 1433: "ms-sql-s", 2049: "nfs",
	2379: "etcd-client", 3306: "mysql", 3389: "ms-wbt-server", 5432: "postgresql", 6379: "redis", 6443: "sun-sr-https",
	8080: "http-alt", 10250: "kubelet", 27017: "mongodb"}

func serviceName(port uint16) (string, bool) {
	if s, ok := services[port]; ok {
		return s, true
	}
	return "", false
}
