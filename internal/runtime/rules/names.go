package rules

import (
	"strconv"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Renderings of numeric arguments the way Falco prints them.

type flagName struct {
	bit  uint64
	name string
}

var openFlagNames = []flagName{
	{event.OCreat, "O_CREAT"}, {event.OExcl, "O_EXCL"}, {event.ONoctty, "O_NOCTTY"}, {event.OTrunc, "O_TRUNC"},
	{event.OAppend, "O_APPEND"}, {event.ONonblock, "O_NONBLOCK"}, {event.ODsync, "O_DSYNC"}, {event.ODirect, "O_DIRECT"},
	{event.OLargefile, "O_LARGEFILE"}, {event.ODirectory, "O_DIRECTORY"}, {event.ONofollow, "O_NOFOLLOW"},
	{event.ONoatime, "O_NOATIME"}, {event.OCloexec, "O_CLOEXEC"}, {event.OPath, "O_PATH"},
}

func appendOpenFlags(b []byte, fl uint32) []byte {
	switch fl & event.OAccmode {
	case event.ORdonly:
		b = append(b, "O_RDONLY"...)
	case event.OWronly:
		b = append(b, "O_WRONLY"...)
	case event.ORdwr:
		b = append(b, "O_RDWR"...)
	}
	if fl&event.OTmpfile == event.OTmpfile {
		b = append(b, "|O_TMPFILE"...)
		fl &^= event.OTmpfile
	}
	for _, f := range openFlagNames {
		if uint64(fl)&f.bit != 0 {
			b = append(b, '|')
			b = append(b, f.name...)
		}
	}
	return b
}

func appendFlags(b []byte, v uint64, names []flagName) []byte {
	first := true
	for _, f := range names {
		if v&f.bit == f.bit && f.bit != 0 {
			if !first {
				b = append(b, '|')
			}
			b = append(b, f.name...)
			first = false
		}
	}
	if first {
		b = strconv.AppendUint(b, v, 10)
	}
	return b
}

var cloneFlagNames = []flagName{
	{0x100, "CLONE_VM"}, {0x200, "CLONE_FS"}, {0x400, "CLONE_FILES"}, {0x800, "CLONE_SIGHAND"},
	{0x2000, "CLONE_PTRACE"}, {0x4000, "CLONE_VFORK"}, {0x8000, "CLONE_PARENT"}, {0x10000, "CLONE_THREAD"},
	{0x20000, "CLONE_NEWNS"}, {0x40000, "CLONE_SYSVSEM"}, {0x80000, "CLONE_SETTLS"},
	{0x100000, "CLONE_PARENT_SETTID"}, {0x200000, "CLONE_CHILD_CLEARTID"}, {0x800000, "CLONE_UNTRACED"},
	{0x1000000, "CLONE_CHILD_SETTID"}, {0x2000000, "CLONE_NEWCGROUP"}, {0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"}, {0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"}, {0x80000000, "CLONE_IO"}, {0x80, "CLONE_NEWTIME"},
}

var exeFlagNames = []flagName{
	{event.ExeWritable, "EXE_WRITABLE"}, {event.ExeUpperLayer, "EXE_UPPER_LAYER"},
	{event.ExeFromMemfd, "EXE_FROM_MEMFD"}, {event.ExeLowerLayer, "EXE_LOWER_LAYER"},
}

var memfdFlagNames = []flagName{{1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"}}

var atFlagNames = []flagName{{0x200, "AT_REMOVEDIR"}, {0x400, "AT_SYMLINK_FOLLOW"}, {0x1000, "AT_EMPTY_PATH"}}

var uffdFlagNames = []flagName{{event.OCloexec, "O_CLOEXEC"}, {event.ONonblock, "O_NONBLOCK"}, {1, "UFFD_USER_MODE_ONLY"}}

var ptraceRequests = map[int64]string{
	0: "PTRACE_TRACEME", 1: "PTRACE_PEEKTEXT", 2: "PTRACE_PEEKDATA", 3: "PTRACE_PEEKUSR", 4: "PTRACE_POKETEXT",
	5: "PTRACE_POKEDATA", 6: "PTRACE_POKEUSR", 7: "PTRACE_CONT", 8: "PTRACE_KILL", 9: "PTRACE_SINGLESTEP",
	12: "PTRACE_GETREGS", 13: "PTRACE_SETREGS", 14: "PTRACE_GETFPREGS", 15: "PTRACE_SETFPREGS",
	16: "PTRACE_ATTACH", 17: "PTRACE_DETACH", 24: "PTRACE_SYSCALL", 0x4200: "PTRACE_SETOPTIONS",
	0x4201: "PTRACE_GETEVENTMSG", 0x4202: "PTRACE_GETSIGINFO", 0x4203: "PTRACE_SETSIGINFO",
	0x4204: "PTRACE_GETREGSET", 0x4205: "PTRACE_SETREGSET", 0x4206: "PTRACE_SEIZE", 0x4207: "PTRACE_INTERRUPT",
	0x4208: "PTRACE_LISTEN",
}

var socketDomains = map[int64]string{
	0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 3: "AF_AX25", 4: "AF_IPX", 5: "AF_APPLETALK", 9: "AF_X25",
	10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET", 31: "AF_BLUETOOTH", 38: "AF_ALG", 40: "AF_VSOCK", 44: "AF_XDP",
}

var bpfCmds = []string{"BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM",
	"BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET", "BPF_PROG_ATTACH", "BPF_PROG_DETACH",
	"BPF_PROG_TEST_RUN", "BPF_PROG_GET_NEXT_ID", "BPF_MAP_GET_NEXT_ID", "BPF_PROG_GET_FD_BY_ID",
	"BPF_MAP_GET_FD_BY_ID", "BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY", "BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD",
	"BPF_BTF_GET_FD_BY_ID", "BPF_TASK_FD_QUERY", "BPF_MAP_LOOKUP_AND_DELETE_ELEM", "BPF_MAP_FREEZE",
	"BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH", "BPF_MAP_LOOKUP_AND_DELETE_BATCH", "BPF_MAP_UPDATE_BATCH",
	"BPF_MAP_DELETE_BATCH", "BPF_LINK_CREATE", "BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
	"BPF_ENABLE_STATS", "BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP"}

var capNames = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}

// CapByName returns the bit of a capability name (CAP_SYS_ADMIN or sys_admin).
func CapByName(name string) (int, bool) {
	for i, n := range capNames {
		if equalFold(n, name) || equalFold(n[4:], name) {
			return i, true
		}
	}
	return 0, false
}

func appendCaps(b []byte, caps uint64) []byte {
	first := true
	for i, n := range capNames {
		if caps&(1<<uint(i)) != 0 {
			if !first {
				b = append(b, ' ')
			}
			b = append(b, n...)
			first = false
		}
	}
	return b
}

var errnoNames = map[int64]string{
	1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF",
	10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 15: "ENOTBLK", 16: "EBUSY", 17: "EEXIST",
	18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY",
	26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK", 32: "EPIPE", 33: "EDOM",
	34: "ERANGE", 35: "EDEADLK", 36: "ENAMETOOLONG", 37: "ENOLCK", 38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP",
	61: "ENODATA", 75: "EOVERFLOW", 88: "ENOTSOCK", 89: "EDESTADDRREQ", 90: "EMSGSIZE", 91: "EPROTOTYPE",
	92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT", 95: "EOPNOTSUPP", 97: "EAFNOSUPPORT", 98: "EADDRINUSE",
	99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH", 103: "ECONNABORTED", 104: "ECONNRESET",
	105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH",
	114: "EALREADY", 115: "EINPROGRESS", 116: "ESTALE", 122: "EDQUOT", 125: "ECANCELED",
}

var nsTypeNames = []flagName{
	{0x20000, "CLONE_NEWNS"}, {0x2000000, "CLONE_NEWCGROUP"}, {0x4000000, "CLONE_NEWUTS"}, {0x8000000, "CLONE_NEWIPC"},
	{0x10000000, "CLONE_NEWUSER"}, {0x20000000, "CLONE_NEWPID"}, {0x40000000, "CLONE_NEWNET"}, {0x80, "CLONE_NEWTIME"},
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 32
	}
	return c
}
