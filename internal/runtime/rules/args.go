package rules

import (
	"strconv"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Event arguments by type, for evt.arg.NAME, evt.arg[N], evt.rawarg.NAME
// and evt.args. Names and order follow Falco's exit-event parameters.

type argDef struct {
	name string
	str  func(c *ctx) (string, bool)
	num  func(c *ctx) (int64, bool)
}

type argTable [event.NumTypes][]argDef

func numStr(c *ctx, v int64) string {
	st := len(c.buf)
	c.buf = strconv.AppendInt(c.buf, v, 10)
	return c.str(st)
}

func aNum(name string, get func(ev *event.Event) int64) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) { return numStr(c, get(c.ev)), true },
		num: func(c *ctx) (int64, bool) { return get(c.ev), true }}
}

func aRes() argDef {
	return argDef{name: "res",
		str: func(c *ctx) (string, bool) {
			if c.ev.Res < 0 {
				if n, ok := errnoNames[-c.ev.Res]; ok {
					return n, true
				}
			}
			return numStr(c, c.ev.Res), true
		},
		num: func(c *ctx) (int64, bool) { return c.ev.Res, true }}
}

// aFD renders an fd as Falco does: 3(<f>/etc/passwd).
func aFD(name string, get func(ev *event.Event) int64) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) {
			n := get(c.ev)
			st := len(c.buf)
			c.buf = strconv.AppendInt(c.buf, n, 10)
			if c.p != nil {
				if f := c.p.FD(n); f != nil {
					c.buf = append(c.buf, "(<"...)
					c.buf = append(c.buf, f.Type.Char()...)
					c.buf = append(c.buf, '>')
					if f.Type.IsSocket() {
						c.buf = appendTuple(c.buf, f)
					} else {
						c.buf = append(c.buf, f.Name...)
					}
					c.buf = append(c.buf, ')')
				}
			}
			return c.str(st), true
		},
		num: func(c *ctx) (int64, bool) { return get(c.ev), true }}
}

func aStr(name string, get func(ev *event.Event) string) argDef {
	return argDef{name: name, str: func(c *ctx) (string, bool) { return get(c.ev), true }}
}

func aFlags(name string, get func(ev *event.Event) uint64, render func(b []byte, v uint64) []byte) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) {
			st := len(c.buf)
			c.buf = render(c.buf, get(c.ev))
			return c.str(st), true
		},
		num: func(c *ctx) (int64, bool) { return int64(get(c.ev)), true }}
}

func aMode(name string) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) {
			st := len(c.buf)
			c.buf = append(c.buf, '0')
			c.buf = strconv.AppendUint(c.buf, uint64(c.ev.Mode), 8)
			return c.str(st), true
		},
		num: func(c *ctx) (int64, bool) { return int64(c.ev.Mode), true }}
}

// chmodModeNames are Falco's chmod_mode flag names, in the driver table's
// order (other bits first, setuid last).
var chmodModeNames = []flagName{
	{0o1, "S_IXOTH"}, {0o2, "S_IWOTH"}, {0o4, "S_IROTH"},
	{0o10, "S_IXGRP"}, {0o20, "S_IWGRP"}, {0o40, "S_IRGRP"},
	{0o100, "S_IXUSR"}, {0o200, "S_IWUSR"}, {0o400, "S_IRUSR"},
	{0o1000, "S_ISVTX"}, {0o2000, "S_ISGID"}, {0o4000, "S_ISUID"},
}

// aChmodMode renders the mode of chmod, fchmod and fchmodat as Falco's
// PT_MODE parameter does: the permission bits by name (the resolved form
// that evt.arg.mode yields, e.g. "S_IXOTH|S_IROTH|...|S_ISUID"), or "0"
// when no permission bit is set. Rules therefore test the bits by name
// (evt.arg.mode contains "S_ISUID"), never by a prefix of the octal text,
// and evt.rawarg.mode gives the number.
func aChmodMode(name string) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) {
			st := len(c.buf)
			c.buf = appendChmodMode(c.buf, c.ev.Mode)
			return c.str(st), true
		},
		num: func(c *ctx) (int64, bool) { return int64(c.ev.Mode), true }}
}

func appendChmodMode(b []byte, mode uint32) []byte {
	v := uint64(mode & 0o7777)
	if v == 0 {
		return append(b, '0') // Falco prints %#o: "0"
	}
	first := true
	for _, f := range chmodModeNames {
		if v&f.bit != 0 {
			if !first {
				b = append(b, '|')
			}
			b = append(b, f.name...)
			first = false
		}
	}
	return b
}

func aMap(name string, get func(ev *event.Event) int64, m map[int64]string) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) {
			v := get(c.ev)
			if s, ok := m[v]; ok {
				return s, true
			}
			return numStr(c, v), true
		},
		num: func(c *ctx) (int64, bool) { return get(c.ev), true }}
}

// aUser renders a uid as the user name when known (Falco's PT_UID).
func aUser(name string, get func(ev *event.Event) int64) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) {
			v := get(c.ev)
			if v >= 0 {
				if u, ok := c.st.User(uint32(v)); ok {
					return u.Name, true
				}
			}
			return numStr(c, v), true
		},
		num: func(c *ctx) (int64, bool) { return get(c.ev), true }}
}

func aGroup(name string, get func(ev *event.Event) int64) argDef {
	return argDef{name: name,
		str: func(c *ctx) (string, bool) {
			v := get(c.ev)
			if v >= 0 {
				if g, ok := c.st.Group(uint32(v)); ok {
					return g, true
				}
			}
			return numStr(c, v), true
		},
		num: func(c *ctx) (int64, bool) { return get(c.ev), true }}
}

func aTuple(name string) argDef {
	return argDef{name: name, str: func(c *ctx) (string, bool) {
		if c.ev.Addr.Family == event.AFUnix {
			return c.ev.Path, true
		}
		if c.ev.Addr.Family == 0 {
			return "", false
		}
		f := event.FD{Addr: c.ev.Addr}
		st := len(c.buf)
		c.buf = appendTuple(c.buf, &f)
		return c.str(st), true
	}}
}

func aData(name string) argDef {
	return argDef{name: name, str: func(c *ctx) (string, bool) {
		st := len(c.buf)
		for _, b := range c.ev.Data {
			if b >= 0x20 && b < 0x7f {
				c.buf = append(c.buf, b)
			} else {
				c.buf = append(c.buf, '.')
			}
		}
		return c.str(st), true
	}}
}

func aList(name string, get func(ev *event.Event) []string, sep byte) argDef {
	return argDef{name: name, str: func(c *ctx) (string, bool) {
		st := len(c.buf)
		for i, a := range get(c.ev) {
			if i > 0 {
				c.buf = append(c.buf, sep)
			}
			c.buf = append(c.buf, a...)
		}
		return c.str(st), true
	}}
}

var (
	evFD    = func(ev *event.Event) int64 { return ev.FD }
	evRes   = func(ev *event.Event) int64 { return ev.Res }
	evArg   = func(ev *event.Event) int64 { return ev.Arg }
	evArg2  = func(ev *event.Event) int64 { return ev.Arg2 }
	evArg3  = func(ev *event.Event) int64 { return ev.Arg3 }
	evPath  = func(ev *event.Event) string { return ev.Path }
	evPath2 = func(ev *event.Event) string { return ev.Path2 }
	evFlags = func(ev *event.Event) uint64 { return uint64(ev.Flags) }
)

func openFlagsR(b []byte, v uint64) []byte { return appendOpenFlags(b, uint32(v)) }
func flagsR(names []flagName) func(b []byte, v uint64) []byte {
	return func(b []byte, v uint64) []byte { return appendFlags(b, v, names) }
}

func newArgTable() *argTable {
	var t argTable
	set := func(defs []argDef, types ...event.Type) {
		for _, ty := range types {
			t[ty] = defs
		}
	}
	execArgs := []argDef{aRes(), aStr("exe", func(ev *event.Event) string {
		if len(ev.Args) > 0 {
			return ev.Args[0]
		}
		return ev.Path
	}), aList("args", func(ev *event.Event) []string {
		if len(ev.Args) > 1 {
			return ev.Args[1:]
		}
		return nil
	}, ' '), aNum("tid", func(ev *event.Event) int64 { return int64(ev.TID) }),
		aNum("pid", func(ev *event.Event) int64 { return int64(ev.PID) }),
		aNum("ptid", func(ev *event.Event) int64 { return int64(ev.PPID) }),
		aStr("cwd", func(ev *event.Event) string { return ev.Cwd }),
		aStr("comm", func(ev *event.Event) string { return ev.Comm }),
		aList("env", func(ev *event.Event) []string { return ev.Env }, ' '),
		aNum("tty", func(ev *event.Event) int64 { return int64(ev.TTY) }),
		aNum("pgid", func(ev *event.Event) int64 { return int64(ev.PGID) }),
		aNum("loginuid", func(ev *event.Event) int64 { return ev.LoginUID }),
		aFlags("flags", func(ev *event.Event) uint64 { return uint64(ev.ExeFlags) }, flagsR(exeFlagNames)),
		aNum("cap_inheritable", func(ev *event.Event) int64 { return int64(ev.CapInh) }),
		aNum("cap_permitted", func(ev *event.Event) int64 { return int64(ev.CapPrm) }),
		aNum("cap_effective", func(ev *event.Event) int64 { return int64(ev.CapEff) }),
		aNum("exe_ino", func(ev *event.Event) int64 { return int64(ev.ExeIno) }),
		aNum("exe_ino_ctime", func(ev *event.Event) int64 { return ev.ExeCtime }),
		aNum("exe_ino_mtime", func(ev *event.Event) int64 { return ev.ExeMtime }),
		aUser("uid", func(ev *event.Event) int64 { return int64(ev.EUID) }),
		aStr("trusted_exepath", evPath), aStr("filename", evPath),
		aFD("dirfd", evFD)}
	set(execArgs, event.TypeExecve, event.TypeExecveat)
	set([]argDef{aRes(), aStr("exe", func(ev *event.Event) string {
		if len(ev.Args) > 0 {
			return ev.Args[0]
		}
		return ev.Comm
	}), aNum("tid", func(ev *event.Event) int64 { return int64(ev.TID) }),
		aNum("pid", func(ev *event.Event) int64 { return int64(ev.PID) }),
		aFlags("flags", evFlags, flagsR(cloneFlagNames)),
		aUser("uid", func(ev *event.Event) int64 { return int64(ev.EUID) })},
		event.TypeClone, event.TypeClone3, event.TypeFork, event.TypeVfork)
	set([]argDef{aNum("status", evArg), aNum("ret", evArg), aNum("sig", evArg2)}, event.TypeProcExit)
	openArgs := []argDef{aFD("fd", evRes), aFD("dirfd", evFD), aStr("name", evPath),
		aFlags("flags", evFlags, openFlagsR), aMode("mode"), aNum("dev", evArg), aNum("ino", evArg2)}
	set(openArgs, event.TypeOpenat, event.TypeOpenat2)
	set([]argDef{aFD("fd", evRes), aStr("name", evPath), aFlags("flags", evFlags, openFlagsR), aMode("mode"),
		aNum("dev", evArg), aNum("ino", evArg2)}, event.TypeOpen, event.TypeCreat)
	set([]argDef{aRes(), aFD("fd", evFD)}, event.TypeClose)
	set([]argDef{aRes(), aFD("fd", evFD), aNum("size", evArg), aData("data")}, event.TypeRead, event.TypeWrite)
	set([]argDef{aRes(), aFD("fd", evFD), aNum("size", evArg), aData("data"), aTuple("tuple")},
		event.TypeSendto, event.TypeSendmsg, event.TypeRecvfrom, event.TypeRecvmsg)
	set([]argDef{aRes(), aTuple("tuple"), aFD("fd", evFD), aTuple("addr")}, event.TypeConnect)
	set([]argDef{aFD("fd", evRes), aTuple("tuple"), aNum("queuepct", evArg), aNum("flags", evArg2)}, event.TypeAccept, event.TypeAccept4)
	set([]argDef{aRes(), aFD("fd", evFD), aTuple("addr")}, event.TypeBind)
	set([]argDef{aRes(), aFD("fd", evFD), aNum("backlog", evArg)}, event.TypeListen)
	set([]argDef{aFD("fd", evRes), aMap("domain", evArg, socketDomains), aNum("type", evArg2), aNum("proto", evArg3)}, event.TypeSocket)
	dupArgs := []argDef{aFD("res", evRes), aFD("oldfd", evFD), aFD("fd", evFD), aNum("newfd", evArg), aFlags("flags", evFlags, openFlagsR)}
	set(dupArgs, event.TypeDup, event.TypeDup2, event.TypeDup3)
	set([]argDef{aRes(), aUser("uid", evArg)}, event.TypeSetuid)
	set([]argDef{aRes(), aUser("ruid", evArg), aUser("euid", evArg2), aUser("suid", evArg3)}, event.TypeSetresuid)
	set([]argDef{aRes(), aGroup("gid", evArg)}, event.TypeSetgid)
	set([]argDef{aRes(), aGroup("rgid", evArg), aGroup("egid", evArg2), aGroup("sgid", evArg3)}, event.TypeSetresgid)
	set([]argDef{aRes(), aFD("fd", evFD), aFlags("nstype", evFlags, flagsR(nsTypeNames))}, event.TypeSetns)
	set([]argDef{aRes(), aFlags("flags", evFlags, flagsR(nsTypeNames))}, event.TypeUnshare)
	capArg := func(name string, get func(ev *event.Event) uint64) argDef {
		return aFlags(name, get, func(b []byte, v uint64) []byte { return appendCaps(b, v) })
	}
	set([]argDef{aRes(), capArg("cap_inheritable", func(ev *event.Event) uint64 { return ev.CapInh }),
		capArg("cap_permitted", func(ev *event.Event) uint64 { return ev.CapPrm }),
		capArg("cap_effective", func(ev *event.Event) uint64 { return ev.CapEff })}, event.TypeCapset)
	set([]argDef{aRes(), aMap("request", evArg, ptraceRequests), aNum("pid", evArg2), aNum("addr", evArg3)}, event.TypePtrace)
	set([]argDef{aRes(), aStr("dev", evPath), aStr("dir", evPath2), aStr("type", func(ev *event.Event) string { return string(ev.Data) }),
		aNum("flags", func(ev *event.Event) int64 { return int64(ev.Flags) })}, event.TypeMount)
	set([]argDef{aRes(), aStr("name", evPath), aNum("flags", func(ev *event.Event) int64 { return int64(ev.Flags) })}, event.TypeUmount, event.TypeUmount2)
	set([]argDef{aRes(), aNum("length", evArg), aStr("uargs", evPath)}, event.TypeInitModule)
	set([]argDef{aRes(), aFD("fd", evFD), aStr("uargs", evPath), aNum("flags", func(ev *event.Event) int64 { return int64(ev.Flags) })}, event.TypeFinitModule)
	bpfMap := map[int64]string{}
	for i, n := range bpfCmds {
		bpfMap[int64(i)] = n
	}
	set([]argDef{aFD("res_or_fd", evRes), aMap("cmd", evArg, bpfMap)}, event.TypeBpf)
	set([]argDef{aFD("fd", evRes), aStr("name", evPath), aFlags("flags", evFlags, flagsR(memfdFlagNames))}, event.TypeMemfdCreate)
	set([]argDef{aRes(), aStr("filename", evPath), aChmodMode("mode")}, event.TypeChmod)
	set([]argDef{aRes(), aFD("fd", evFD), aChmodMode("mode")}, event.TypeFchmod)
	set([]argDef{aRes(), aFD("dirfd", evFD), aStr("filename", evPath), aChmodMode("mode")}, event.TypeFchmodat)
	set([]argDef{aRes(), aStr("oldpath", evPath), aStr("newpath", evPath2)}, event.TypeLink, event.TypeRename)
	set([]argDef{aRes(), aFD("olddir", evFD), aStr("oldpath", evPath), aNum("newdir", evArg), aStr("newpath", evPath2),
		aFlags("flags", evFlags, flagsR(atFlagNames))}, event.TypeLinkat)
	set([]argDef{aRes(), aFD("olddirfd", evFD), aStr("oldpath", evPath), aNum("newdirfd", evArg), aStr("newpath", evPath2),
		aNum("flags", func(ev *event.Event) int64 { return int64(ev.Flags) })}, event.TypeRenameat, event.TypeRenameat2)
	set([]argDef{aRes(), aStr("target", evPath), aStr("linkpath", evPath2)}, event.TypeSymlink)
	set([]argDef{aRes(), aStr("target", evPath), aFD("linkdirfd", evFD), aStr("linkpath", evPath2)}, event.TypeSymlinkat)
	set([]argDef{aRes(), aStr("path", evPath)}, event.TypeUnlink, event.TypeRmdir, event.TypeChdir, event.TypeChroot)
	set([]argDef{aRes(), aFD("dirfd", evFD), aStr("name", evPath), aFlags("flags", evFlags, flagsR(atFlagNames))}, event.TypeUnlinkat)
	set([]argDef{aRes(), aStr("path", evPath), aMode("mode")}, event.TypeMkdir)
	set([]argDef{aRes(), aFD("dirfd", evFD), aStr("path", evPath), aMode("mode")}, event.TypeMkdirat)
	set([]argDef{aFD("res", evRes), aFlags("flags", evFlags, flagsR(uffdFlagNames))}, event.TypeUserfaultfd)
	set([]argDef{aRes(), aStr("path", evPath), aUser("uid", evArg), aGroup("gid", evArg2)}, event.TypeChown, event.TypeLchown)
	set([]argDef{aRes(), aFD("fd", evFD), aUser("uid", evArg), aGroup("gid", evArg2)}, event.TypeFchown)
	set([]argDef{aRes(), aFD("dirfd", evFD), aStr("pathname", evPath), aUser("uid", evArg), aGroup("gid", evArg2)}, event.TypeFchownat)
	set([]argDef{aRes(), aNum("pid", evArg), aNum("sig", evArg2)}, event.TypeKill)
	set([]argDef{aRes(), aNum("option", evArg), aStr("arg2_str", evPath), aNum("arg2_int", evArg2)}, event.TypePrctl)
	set([]argDef{aRes(), aFD("fd", evFD), aNum("request", evArg), aNum("argument", evArg2)}, event.TypeIoctl)
	set([]argDef{aRes(), aFD("fd", evFD)}, event.TypeFchdir, event.TypeFtruncate)
	set([]argDef{aRes(), aStr("path", evPath)}, event.TypeTruncate)
	set([]argDef{aRes(), aNum("fd1", evArg), aNum("fd2", evArg2)}, event.TypePipe, event.TypePipe2)
	set([]argDef{aStr("name", evPath), aTuple("addr")}, event.TypeDNS)
	return &t
}

func (c *ctx) argDefs(t *argTable) []argDef {
	if int(c.ev.Type) < len(t) {
		return t[c.ev.Type]
	}
	return nil
}

func lookupArg(c *ctx, t *argTable, a *farg) *argDef {
	defs := c.argDefs(t)
	if a.key != "" {
		for i := range defs {
			if defs[i].name == a.key {
				return &defs[i]
			}
		}
		return nil
	}
	if a.idx >= 0 && a.idx < len(defs) {
		return &defs[a.idx]
	}
	return nil
}

func renderArgs(c *ctx) string {
	st := len(c.buf)
	for i, d := range c.argDefs(c.args) {
		// each arg renders into the scratch buffer after our prefix; copy
		// its value behind "name=".
		if i > 0 {
			c.buf = append(c.buf, ' ')
		}
		c.buf = append(c.buf, d.name...)
		c.buf = append(c.buf, '=')
		mark := len(c.buf)
		v, ok := d.str(c)
		if !ok {
			continue
		}
		if len(c.buf) > mark && len(v) == len(c.buf)-mark {
			continue // rendered in place
		}
		c.buf = append(c.buf, v...)
	}
	return c.str(st)
}

func evtArg(c *ctx, a *farg) (string, bool) {
	d := lookupArg(c, c.args, a)
	if d == nil || d.str == nil {
		return "", false
	}
	return d.str(c)
}

func evtRawArg(c *ctx, a *farg) (int64, bool) {
	d := lookupArg(c, c.args, a)
	if d == nil || d.num == nil {
		return 0, false
	}
	return d.num(c)
}
