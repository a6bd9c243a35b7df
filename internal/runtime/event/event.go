// Package event is Ward's kernel-independent runtime event model: the typed
// Event a sensor (eBPF ring buffer, replay file, test scenario) produces,
// the compact versioned binary record format used by `ward runtime record`
// and `ward runtime replay` (NewWriter, NewReader), and the State engine that
// follows processes, file descriptors, users and containers from those
// events (State.Apply) and from a /proc snapshot (LoadProc).
//
// The model is shaped for an eBPF producer: every record starts with a
// fixed 32-byte little-endian header (length, type, parameter count,
// timestamp, pid, tid, result), followed by length-prefixed parameters with
// small numeric IDs, so a BPF program can write records straight into a
// ring buffer and user space can decode them without reflection. See
// docs/runtime.md for the byte layout.
//
// Hot-path rules: Event is a flat struct without maps; decoding reuses the
// Event and interns repeated strings; State keeps processes and fd tables
// in pooled, capped structures so steady-state Apply does not allocate.
// Neither Event nor State is safe for concurrent use.
package event

import "strings"

// Type is an event type. Its name (Type.String) is the one Falco rules use
// in evt.type comparisons.
type Type uint16

// The event types. Values are part of the record format: never renumber,
// only append.
const (
	TypeUnknown Type = iota
	TypeExecve
	TypeExecveat
	TypeClone
	TypeClone3
	TypeFork
	TypeVfork
	TypeProcExit
	TypeOpen
	TypeOpenat
	TypeOpenat2
	TypeCreat
	TypeClose
	TypeRead
	TypeWrite
	TypeConnect
	TypeAccept
	TypeAccept4
	TypeListen
	TypeBind
	TypeSendto
	TypeSendmsg
	TypeRecvfrom
	TypeRecvmsg
	TypeSocket
	TypeDup
	TypeDup2
	TypeDup3
	TypeSetuid
	TypeSetgid
	TypeSetresuid
	TypeSetresgid
	TypeSetns
	TypeUnshare
	TypeCapset
	TypePtrace
	TypeMount
	TypeUmount
	TypeUmount2
	TypeInitModule
	TypeFinitModule
	TypeBpf
	TypeMemfdCreate
	TypeChmod
	TypeFchmod
	TypeFchmodat
	TypeLink
	TypeLinkat
	TypeSymlink
	TypeSymlinkat
	TypeRename
	TypeRenameat
	TypeRenameat2
	TypeUnlink
	TypeUnlinkat
	TypeMkdir
	TypeMkdirat
	TypeRmdir
	TypeUserfaultfd
	TypeContainerStart
	TypeContainerStop
	TypeChown
	TypeFchown
	TypeFchownat
	TypeLchown
	TypePipe
	TypePipe2
	TypeSwitch
	TypeKill
	TypeChdir
	TypeFchdir
	TypePrctl
	TypeMmap
	TypeMprotect
	TypeIoctl
	TypeChroot
	TypePivotRoot
	TypeSetpgid
	TypeSetsid
	TypeShutdown
	TypeEventfd
	TypeSignalfd
	TypeInotifyInit
	TypeTimerfdCreate
	TypeEpollCreate
	TypeIoUringSetup
	TypePidfdOpen
	TypePidfdGetfd
	TypeSocketpair
	TypeTruncate
	TypeFtruncate
	// TypeDNS is a name-resolution hint from the sensor (Path = name,
	// Addr.DstIP = address); it feeds fd.*ip.name fields.
	TypeDNS
	numTypes
)

// NumTypes is one more than the largest known Type: the size of per-type
// tables.
const NumTypes = int(numTypes)

var typeNames = [...]string{
	TypeUnknown:        "unknown",
	TypeExecve:         "execve",
	TypeExecveat:       "execveat",
	TypeClone:          "clone",
	TypeClone3:         "clone3",
	TypeFork:           "fork",
	TypeVfork:          "vfork",
	TypeProcExit:       "procexit",
	TypeOpen:           "open",
	TypeOpenat:         "openat",
	TypeOpenat2:        "openat2",
	TypeCreat:          "creat",
	TypeClose:          "close",
	TypeRead:           "read",
	TypeWrite:          "write",
	TypeConnect:        "connect",
	TypeAccept:         "accept",
	TypeAccept4:        "accept4",
	TypeListen:         "listen",
	TypeBind:           "bind",
	TypeSendto:         "sendto",
	TypeSendmsg:        "sendmsg",
	TypeRecvfrom:       "recvfrom",
	TypeRecvmsg:        "recvmsg",
	TypeSocket:         "socket",
	TypeDup:            "dup",
	TypeDup2:           "dup2",
	TypeDup3:           "dup3",
	TypeSetuid:         "setuid",
	TypeSetgid:         "setgid",
	TypeSetresuid:      "setresuid",
	TypeSetresgid:      "setresgid",
	TypeSetns:          "setns",
	TypeUnshare:        "unshare",
	TypeCapset:         "capset",
	TypePtrace:         "ptrace",
	TypeMount:          "mount",
	TypeUmount:         "umount",
	TypeUmount2:        "umount2",
	TypeInitModule:     "init_module",
	TypeFinitModule:    "finit_module",
	TypeBpf:            "bpf",
	TypeMemfdCreate:    "memfd_create",
	TypeChmod:          "chmod",
	TypeFchmod:         "fchmod",
	TypeFchmodat:       "fchmodat",
	TypeLink:           "link",
	TypeLinkat:         "linkat",
	TypeSymlink:        "symlink",
	TypeSymlinkat:      "symlinkat",
	TypeRename:         "rename",
	TypeRenameat:       "renameat",
	TypeRenameat2:      "renameat2",
	TypeUnlink:         "unlink",
	TypeUnlinkat:       "unlinkat",
	TypeMkdir:          "mkdir",
	TypeMkdirat:        "mkdirat",
	TypeRmdir:          "rmdir",
	TypeUserfaultfd:    "userfaultfd",
	TypeContainerStart: "container",
	TypeContainerStop:  "container_stop",
	TypeChown:          "chown",
	TypeFchown:         "fchown",
	TypeFchownat:       "fchownat",
	TypeLchown:         "lchown",
	TypePipe:           "pipe",
	TypePipe2:          "pipe2",
	TypeSwitch:         "switch",
	TypeKill:           "kill",
	TypeChdir:          "chdir",
	TypeFchdir:         "fchdir",
	TypePrctl:          "prctl",
	TypeMmap:           "mmap",
	TypeMprotect:       "mprotect",
	TypeIoctl:          "ioctl",
	TypeChroot:         "chroot",
	TypePivotRoot:      "pivot_root",
	TypeSetpgid:        "setpgid",
	TypeSetsid:         "setsid",
	TypeShutdown:       "shutdown",
	TypeEventfd:        "eventfd",
	TypeSignalfd:       "signalfd",
	TypeInotifyInit:    "inotify_init",
	TypeTimerfdCreate:  "timerfd_create",
	TypeEpollCreate:    "epoll_create",
	TypeIoUringSetup:   "io_uring_setup",
	TypePidfdOpen:      "pidfd_open",
	TypePidfdGetfd:     "pidfd_getfd",
	TypeSocketpair:     "socketpair",
	TypeTruncate:       "truncate",
	TypeFtruncate:      "ftruncate",
	TypeDNS:            "dns",
}

// String returns the Falco name of the event type.
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "unknown"
}

// TypeByName returns the type with the given Falco name.
func TypeByName(name string) (Type, bool) {
	for i, n := range typeNames {
		if n == name && i != int(TypeUnknown) {
			return Type(i), true
		}
	}
	// Aliases Falco accepts for the same syscall family.
	switch strings.ToLower(name) {
	case "execve_exit":
		return TypeExecve, true
	case "umount2":
		return TypeUmount2, true
	}
	return TypeUnknown, false
}

// AllTypes lists every known type (except TypeUnknown) in numeric order.
func AllTypes() []Type {
	out := make([]Type, 0, NumTypes-1)
	for t := Type(1); t < numTypes; t++ {
		out = append(out, t)
	}
	return out
}

// IsOpen reports whether t opens a file (open, openat, openat2, creat).
func (t Type) IsOpen() bool {
	return t == TypeOpen || t == TypeOpenat || t == TypeOpenat2 || t == TypeCreat
}

// IsExec reports whether t replaces the process image.
func (t Type) IsExec() bool { return t == TypeExecve || t == TypeExecveat }

// IsClone reports whether t creates a process or thread.
func (t Type) IsClone() bool {
	return t == TypeClone || t == TypeClone3 || t == TypeFork || t == TypeVfork
}

// IsDup reports whether t duplicates a file descriptor.
func (t Type) IsDup() bool { return t == TypeDup || t == TypeDup2 || t == TypeDup3 }

// Socket address families (the Linux AF_* values).
const (
	AFUnspec  = 0
	AFUnix    = 1
	AFInet    = 2
	AFInet6   = 10
	AFNetlink = 16
	AFPacket  = 17
)

// L4 protocols (IPPROTO_* values).
const (
	L4Unknown = 0
	L4ICMP    = 1
	L4TCP     = 6
	L4UDP     = 17
	L4Raw     = 255
)

// Addr is a socket tuple. For connect and sendto the source is the local
// end; for accept the source is the remote (client) end, as the kernel
// reports it. Addresses are 16 bytes; IPv4 uses the IPv4-mapped form.
type Addr struct {
	Family  uint16
	L4      uint8
	SrcIP   [16]byte
	SrcPort uint16
	DstIP   [16]byte
	DstPort uint16
}

// Exec-flag bits carried in Event.ExeFlags (and Process.ExeFlags).
const (
	ExeWritable   = 1 << 0 // the executable is writable by the caller
	ExeUpperLayer = 1 << 1 // the executable lives in an overlayfs upper layer
	ExeFromMemfd  = 1 << 2 // the executable is a memfd
	ExeLowerLayer = 1 << 3 // the executable lives in an overlayfs lower layer
)

// Clone flags used by the state engine.
const (
	CloneFiles  = 0x00000400
	CloneThread = 0x00010000
)

// Open flags (Linux values, x86-64/arm64 generic).
const (
	ORdonly    = 0x0
	OWronly    = 0x1
	ORdwr      = 0x2
	OAccmode   = 0x3
	OCreat     = 0x40
	OExcl      = 0x80
	ONoctty    = 0x100
	OTrunc     = 0x200
	OAppend    = 0x400
	ONonblock  = 0x800
	ODsync     = 0x1000
	ODirect    = 0x4000
	OLargefile = 0x8000
	ODirectory = 0x10000
	ONofollow  = 0x20000
	ONoatime   = 0x40000
	OCloexec   = 0x80000
	OPath      = 0x200000
	OTmpfile   = 0x410000
)

// Event is one system event. Which fields are set depends on Type (see
// docs/runtime.md, "Parameters by event type"). Strings may be shared with
// a decoder's intern table: treat them as immutable.
type Event struct {
	Num  uint64 // sequence number, set by the reader / sensor
	TS   int64  // unix nanoseconds
	Type Type
	PID  int32 // thread-group id (host namespace)
	TID  int32 // thread id (host namespace)
	Res  int64 // return value: fd, child pid, or -errno

	FD    int64  // fd argument (close, read, write, connect, dup oldfd, fchmod...)
	Path  string // path / name / filename / exe path / symlink target / link oldpath / mount source
	Path2 string // newpath / linkpath / mount target
	Flags uint32 // open, clone, mount, unshare, setns, memfd or exec flags
	Mode  uint32 // open / chmod / mkdir mode
	Arg   int64  // first numeric argument: uid/gid, ptrace request, socket domain, bpf cmd, module flags, newfd for dup2/3
	Arg2  int64  // second: socket type, ptrace target pid, euid/egid
	Arg3  int64  // third: socket protocol, suid/sgid
	Addr  Addr   // socket tuple for connect/accept/bind/sendto/recvfrom/...
	Data  []byte // captured I/O buffer (read/write/sendto/recvfrom), bounded by the sensor

	// Process image, set on execve/execveat (and on clone for the child
	// when the sensor knows it).
	Comm     string
	Args     []string // argv, argv[0] first
	Env      []string
	Cwd      string
	UID      uint32
	GID      uint32
	EUID     uint32
	EGID     uint32
	LoginUID int64 // -1 when unset
	CapEff   uint64
	CapPrm   uint64
	CapInh   uint64
	TTY      uint32
	PPID     int32
	PGID     int32
	SID      int32
	VPID     int32
	VTID     int32
	VPGID    int32
	ExeFlags uint32
	ExeIno   uint64
	ExeCtime int64
	ExeMtime int64

	// ContainerID is the container the thread runs in ("" or "host" for
	// the host), as the sensor resolved it from the cgroup.
	ContainerID string
	// Container carries the metadata of a TypeContainerStart event.
	Container *Container
}

// Reset clears ev for reuse, keeping slice capacity.
func (ev *Event) Reset() {
	args, env, data := ev.Args[:0], ev.Env[:0], ev.Data[:0]
	*ev = Event{}
	ev.Args, ev.Env, ev.Data = args, env, data
	ev.LoginUID = -1
}

// Container is the metadata a sensor attaches to a container (and the pod
// it belongs to).
type Container struct {
	ID          string // full id
	Name        string
	Type        string // docker, containerd, cri-o, podman...
	Image       string // as given (repository:tag)
	ImageID     string
	ImageRepo   string
	ImageTag    string
	ImageDigest string
	Privileged  bool
	HostPID     bool
	HostNetwork bool
	StartTS     int64 // unix nanoseconds
	Mounts      []Mount
	Labels      []KV
	IP          string

	PodName      string
	PodUID       string
	PodNamespace string
	PodLabels    []KV
}

// Mount is a container mount.
type Mount struct {
	Source      string
	Dest        string
	Mode        string
	RW          bool
	Propagation string
}

// KV is a label.
type KV struct{ Key, Value string }

// Label returns the value of a label and whether it is set.
func lookupKV(kvs []KV, key string) (string, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Label returns the container label with the given key.
func (c *Container) Label(key string) (string, bool) { return lookupKV(c.Labels, key) }

// PodLabel returns the pod label with the given key.
func (c *Container) PodLabel(key string) (string, bool) { return lookupKV(c.PodLabels, key) }
