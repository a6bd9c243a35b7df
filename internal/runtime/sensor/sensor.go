// Package sensor is Ward's eBPF runtime sensor: it loads the programs of
// internal/runtime/bpf (raw tracepoints on sys_enter/sys_exit and the
// sched_process_* tracepoints, CO-RE), tells the kernel which system calls
// the loaded rules need (unused system calls cost a bitmap test), reads
// records from the ring buffer, decodes them into event.Event, resolves
// container IDs from cgroup names and container metadata from the
// runtimes' files, and hands each event to the caller.
//
// A full ring buffer drops records in the kernel and counts them; the
// sensor never blocks the host. Stats reports kernel and user-space
// counters.
//
// The sensor runs on Linux/amd64 with BTF (/sys/kernel/btf/vmlinux), raw
// tracepoint and ring buffer support, as root or with CAP_BPF, CAP_PERFMON
// and CAP_SYS_RESOURCE. Elsewhere New returns an error wrapping
// ErrNotSupported that says why.
package sensor

import (
	"log/slog"
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
)

// PollInterval bounds how long a record waits in the ring buffer before the
// reader looks at it when the kernel did not wake the reader (records are
// written without a wakeup until an eighth of the ring is full).
const PollInterval = 10 * time.Millisecond

// idleAfter is how long the ring must stay empty before the reader stops
// polling: it then asks the kernel to wake it for every record and sleeps
// until one comes (an idle host then costs no poll every PollInterval), and
// goes back to polling at the first record. idlePoll is its poll while
// idle: a safety net for a record written without a wakeup just as the
// reader went idle. Variables for the tests.
var (
	idleAfter = 200 * time.Millisecond
	idlePoll  = time.Second
)

// Options configure the sensor.
type Options struct {
	// Types are the event types to capture (typically the rule engine's
	// EventTypes). The types the state engine needs to follow processes
	// and file descriptors are always captured as well; exec, fork and exit
	// always are. Empty means every type the sensor knows.
	Types []event.Type
	// RingBufferBytes sizes the ring buffer (rounded up to a power of two,
	// at least one page). Default 8 MiB.
	RingBufferBytes int
	// OpenPaths, when set, drops in the kernel the opens no rule can match
	// (rules.Engine.OpenFilter): canonical absolute paths that start with
	// none of Prefixes, end with none of Suffixes and are not directories
	// on the way to a prefix. Relative and non-canonical paths and opens
	// of directories (O_DIRECTORY, O_PATH) are always delivered.
	OpenPaths *OpenPaths
	// LearnSyscalls loads and attaches the syscall and capability learner
	// (raw tracepoints sys_enter and cap_capable, and exec/fork/exit to
	// follow container processes): Sensor.Usage then reports, per
	// container, the system calls entered and the capabilities checked.
	// Off, those programs are not even loaded.
	LearnSyscalls bool
	// RawTracepoint hooks system call exits with the raw tracepoint
	// program. Off (the default), the tp_btf program is used, and the raw
	// one only when the kernel refuses tp_btf: tp_btf reads the saved
	// registers and the task in place, where the raw tracepoint needs a
	// helper call (bpf_probe_read_kernel) for every system call, wanted or
	// not. Measured on a 6.18 KVM guest (AMD EPYC, SRSO mitigation on),
	// that call is most of the cost of an unwanted system call: about 80 ns
	// with the raw tracepoint, about 0 above an empty program with tp_btf
	// (docs/runtime-sensor.md, "Where the cost is").
	RawTracepoint bool
	// Resolver finds container metadata; nil uses a Resolver on "/".
	Resolver *Resolver
	// Logger receives debug messages; nil is silent.
	Logger *slog.Logger
}

// OpenPaths are the patterns of the in-kernel open filter. At most
// MaxOpenPatterns of each; longer patterns are shortened (prefixes keep
// their start, suffixes their end), which only lets more through.
type OpenPaths struct {
	Prefixes []string
	Suffixes []string
}

// MaxOpenPatterns bounds each list of OpenPaths; with more, the filter is
// off (every open is delivered).
const MaxOpenPatterns = 32

// maxPattern is the longest pattern the kernel compares.
const maxPattern = 64

// Stats are the sensor's counters.
type Stats struct {
	// Events is the number of records the kernel wrote.
	Events uint64 `json:"events"`
	// KernelDrops counts records lost because the ring buffer was full.
	KernelDrops uint64 `json:"kernel_drops"`
	// Truncated counts records that lost parameters for lack of room.
	Truncated uint64 `json:"truncated"`
	// Delivered counts events handed to the caller.
	Delivered uint64 `json:"delivered"`
	// DecodeErrors counts records user space could not decode.
	DecodeErrors uint64 `json:"decode_errors"`
	// Containers counts distinct containers seen.
	Containers uint64 `json:"containers"`
}

// stateTypes are the event types the state engine needs to keep process
// and fd tables right, whatever the rules ask for.
var stateTypes = []event.Type{
	event.TypeExecve, event.TypeExecveat, event.TypeClone, event.TypeProcExit,
	event.TypeOpen, event.TypeOpenat, event.TypeOpenat2, event.TypeCreat, event.TypeClose,
	event.TypeSocket, event.TypeConnect, event.TypeAccept, event.TypeAccept4, event.TypeBind, event.TypeListen,
	event.TypeDup, event.TypeDup2, event.TypeDup3, event.TypePipe, event.TypePipe2, event.TypeMemfdCreate,
	event.TypeChdir, event.TypeFchdir, event.TypeSetuid, event.TypeSetgid, event.TypeSetresuid, event.TypeSetresgid,
	event.TypeCapset,
}

// wantedTypes is the union of the requested and the state types.
func wantedTypes(req []event.Type) map[event.Type]bool {
	want := map[event.Type]bool{}
	if len(req) == 0 {
		for _, t := range event.AllTypes() {
			want[t] = true
		}
		return want
	}
	for _, t := range req {
		want[t] = true
	}
	for _, t := range stateTypes {
		want[t] = true
	}
	return want
}
